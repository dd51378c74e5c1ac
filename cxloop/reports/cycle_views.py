"""The cycle review printed (issue #12, point 5): the page's figures (cxloop.front.cycle_views)
as a PDF a CX lead hands to the board, in the request's language, named by its period.

Same people and period as the page (:func:`cxloop.insights.cycle.allowed_reviewer`,
:func:`cxloop.insights.cycle.period_of`); a period the page would refuse is refused here with
400 naming the field, never a 500."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from cxloop.insights.cycle import allowed_reviewer, review_context
from cxloop.reports.periods import period_pdf


@login_required
def cycle_review_pdf(request: HttpRequest) -> HttpResponse:
    if not allowed_reviewer(request.user):
        raise PermissionDenied
    return period_pdf(
        request,
        context_of=review_context,
        template="reports/cycle_review.html",
        name="cycle-review",
    )
