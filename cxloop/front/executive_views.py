"""The executive sponsor's dashboard (issue #13, point 7): one page of the quarter's figures —
customers' NPS of the target segment against the rest and its trend, the revenue held by
detractors and silent customers, the closed loop, initiatives and their measured effects,
roll-back alerts, the next opportunities, eNPS, training coverage and reward payouts — and the
link to its printed review pack (cxloop.reports.executive_views).

Composition only (:func:`cxloop.insights.executive.executive_context`). Who sees it:
executives, the CX lead and viewers (:func:`cxloop.insights.executive.allowed_executive`);
managers and employees get 403.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from cxloop.front.cycle_views import CycleFilters
from cxloop.insights.executive import allowed_executive, executive_context


def executive_figures(request: HttpRequest) -> tuple[CycleFilters, dict]:
    """The dashboard's period (its filters; the last complete quarter unless chosen) and what
    it shows for ``request``'s user; PermissionDenied for a role that does not see it."""
    if not allowed_executive(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    filters = CycleFilters(request.GET, today=today)
    since, until = filters.period()
    context = executive_context(
        request.user, since=since, until=until, today=today, now=timezone.now()
    )
    return filters, context


@login_required
def executive_dashboard(request: HttpRequest) -> HttpResponse:
    filters, context = executive_figures(request)
    context["filters"] = filters
    period = urlencode(
        {"since": context["since"].isoformat(), "until": context["until"].isoformat()}
    )
    context["pdf_href"] = f"{reverse('executive_review_pdf')}?{period}"
    return render(request, "front/executive/executive_dashboard.html", context)
