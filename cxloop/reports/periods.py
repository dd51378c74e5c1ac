"""A printed review of a period (the cycle review, the executive review pack): the period the
query string names, refused with 400 naming the field (never a 500), the context built in the
request's language, and the PDF named by its period."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone, translation

from cxloop.insights.cycle import period_of
from cxloop.reports.pdf import render_pdf


def period_pdf(
    request: HttpRequest, *, context_of: Callable[..., dict[str, Any]], template: str, name: str
) -> HttpResponse:
    """The PDF of ``template`` for the period of ``request``'s query string;
    ``context_of(user, since=, until=, today=, now=)`` gives its context; the file is called
    "<name>-<since>-<until>.pdf"."""
    today = timezone.localdate()
    since, until, errors = period_of(request.GET, today)
    if errors:
        text = "; ".join(f"{field}: {message}" for field, message in errors.items())
        return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
    language = "ru" if (translation.get_language() or "ru").startswith("ru") else "en"
    with translation.override(language):
        context = context_of(
            request.user, since=since, until=until, today=today, now=timezone.now()
        )
    document = render_pdf(template, context, language=language)
    filename = f"{name}-{since.isoformat()}-{until.isoformat()}.pdf"
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
