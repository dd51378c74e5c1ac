"""The quarterly review pack (issue #13, point 7): the executive dashboard's figures and charts
(cxloop.front.executive_views) as a PDF for the executive sponsor, in the request's language,
named by its period. Same people and period as the page; a period the page would refuse is
refused here with 400 naming the field, never a 500."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from cxloop.insights.executive import allowed_executive, executive_context
from cxloop.reports.periods import period_pdf


@login_required
def executive_review_pdf(request: HttpRequest) -> HttpResponse:
    if not allowed_executive(request.user):
        raise PermissionDenied
    return period_pdf(
        request,
        context_of=executive_context,
        template="reports/executive_review.html",
        name="executive-review",
    )
