"""The cycle review printed (issue #12, point 5): the page's figures (cxloop.front.cycle_views)
as a PDF a CX lead hands to the board, in the request's language, named by its period.

Same people and period as the page (:func:`cxloop.insights.cycle.allowed_reviewer`,
:func:`cxloop.insights.cycle.period_of`); a period the page would refuse is refused here with
400 naming the field, never a 500."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone, translation

from cxloop.insights.cycle import allowed_reviewer, period_of, review_context
from cxloop.reports.pdf import render_pdf


@login_required
def cycle_review_pdf(request: HttpRequest) -> HttpResponse:
    if not allowed_reviewer(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    since, until, errors = period_of(request.GET, today)
    if errors:
        text = "; ".join(f"{name}: {message}" for name, message in errors.items())
        return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
    language = "ru" if (translation.get_language() or "ru").startswith("ru") else "en"
    with translation.override(language):
        context = review_context(
            request.user, since=since, until=until, today=today, now=timezone.now()
        )
    document = render_pdf("reports/cycle_review.html", context, language=language)
    name = f"cycle-review-{since.isoformat()}-{until.isoformat()}.pdf"
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
