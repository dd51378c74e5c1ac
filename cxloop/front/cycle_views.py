"""The cycle review (issue #12, point 5): a page and its printed copy of what one period of the
improvement cycle did and what comes next, and the form that starts the next cycle.

Composition only: the review's data and chart come from
:func:`cxloop.insights.cycle.review_context`; the printed copy is cxloop.reports.cycle_views'
(``/cycle/review.pdf``, the same period and people). Who sees it:
the CX lead, executives and viewers the whole organisation, managers their part (the
initiatives and cases they see); employees and people without an employee record nothing
(403): a review of the cycle is the leads' document, not a work list.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from cxloop.improvements.choices import ACTIVE_STATES, Scope, StartedFrom
from cxloop.improvements.queries import may_propose, visible_initiatives
from cxloop.improvements.services import InitiativeError, create_initiative
from cxloop.insights.cycle import (
    TOP_OPPORTUNITIES,
    allowed_reviewer,
    period_of,
    quarter_key,
    quarter_of,
    recent_quarters,
    review_context,
)
from cxloop.journeys.queries import journey_touchpoints
from cxloop.people.queries import employee_of


class CycleFilters(forms.Form):
    """The review's period: a quarter (the last complete one unless chosen) or, given both
    ``since`` and ``until``, those days (:func:`cxloop.insights.cycle.period_of`)."""

    quarter = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Quarter"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    since = forms.CharField(
        required=False,
        label=pgettext_lazy("date", "From"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    until = forms.CharField(
        required=False,
        label=pgettext_lazy("date", "To"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )

    def __init__(self, data, *, today: dt.date):
        data = data.copy()
        self.since_day, self.until_day, self.period_errors = period_of(data, today)
        if not any(data.get(name) for name in ("since", "until", "quarter")):
            data["quarter"] = quarter_key(self.since_day)
        super().__init__(data)
        self.fields["quarter"].choices = [
            ("", "—"),
            *(
                (quarter_key(s), f"{s.year} Q{(s.month - 1) // 3 + 1}")
                for s, _u in recent_quarters(today)
            ),
        ]

    def full_clean(self):
        super().full_clean()
        for name, message in self.period_errors.items():
            if name not in self.errors:
                self.add_error(name, message)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-describedby"] = f"{self[name].auto_id}-error"
                attrs["aria-invalid"] = "true"

    def period(self) -> tuple[dt.date, dt.date]:
        return self.since_day, self.until_day


def require_reviewer(user) -> None:
    """403 for whoever may not see a cycle review (employees, people without an employee
    record)."""
    if not allowed_reviewer(user):
        raise PermissionDenied


def _period_params(since: dt.date, until: dt.date) -> str:
    return urlencode({"since": since.isoformat(), "until": until.isoformat()})


def _start_href(review, opportunity) -> str:
    """The new-initiative page for an opportunity: its touchpoint, and the target segment the
    review ranks for as its scope."""
    params = {"from": StartedFrom.CYCLE_REVIEW, "touchpoint": opportunity.touchpoint_id}
    if review.target_segment is not None:
        params["segment"] = review.target_segment.pk
    return f"{reverse('initiative_new')}?{urlencode(params)}"


def review_page_context(request: HttpRequest, filters: CycleFilters) -> dict:
    """What the review's page shows for the period of ``filters`` (the last complete quarter
    when they are invalid): :func:`cxloop.insights.cycle.review_context` with the page's
    links. The page, the next cycle's form and the export of its opportunities
    (cxloop.exports.loop_kinds) read it."""
    since, until = filters.period()
    context = review_context(
        request.user, since=since, until=until, today=timezone.localdate(), now=timezone.now()
    )
    proposing = may_propose(request.user)
    review = context["review"]
    for entry in context["opportunities"]:
        entry["start_href"] = _start_href(review, entry["item"]) if proposing else ""
    period = _period_params(since, until)
    context.update(
        {
            "filters": filters,
            "pdf_href": f"{reverse('cycle_review_pdf')}?{period}",
            "next_href": f"{reverse('cycle_next')}?{period}"
            if proposing and context["opportunities"]
            else "",
        }
    )
    return context


@login_required
def cycle_review_page(request: HttpRequest) -> HttpResponse:
    require_reviewer(request.user)
    filters = CycleFilters(request.GET, today=timezone.localdate())
    return render(request, "front/cycle/cycle_review.html", review_page_context(request, filters))


def _title(touchpoint) -> str:
    return _("Improve “%(touchpoint)s”") % {"touchpoint": touchpoint.name}


def _proposal(opportunity, touchpoint, since: dt.date, until: dt.date) -> dict:
    """What a proposed initiative for an opportunity says: its title in the firm's language
    (``settings.LANGUAGE_CODE``) and in English, its problem and hypothesis in the firm's
    language, with the dates and figures written as that language writes them. Whoever starts
    the cycle, in whichever language, the record reads the same."""
    with translation.override("en"):
        title_en = _title(touchpoint)
    with translation.override(settings.LANGUAGE_CODE):
        problem = _(
            "The cycle review of %(since)s to %(until)s ranks “%(touchpoint)s” at %(rank)s "
            "among the opportunities for the target segment: rated %(performance)s against "
            "a target of %(target)s."
        ) % {
            "since": date_format(since, "SHORT_DATE_FORMAT"),
            "until": date_format(until, "SHORT_DATE_FORMAT"),
            "touchpoint": touchpoint.name,
            "rank": opportunity.rank,
            "performance": number_format(opportunity.performance, decimal_pos=2),
            "target": number_format(opportunity.target, decimal_pos=2),
        }
        return {
            "title": _title(touchpoint),
            "title_en": title_en,
            "problem": problem,
            "hypothesis": _("To be worked out by the owner before approval."),
        }


@login_required
def cycle_next(request: HttpRequest) -> HttpResponse:
    """Start the next cycle: propose an initiative for each of the top opportunities chosen.
    A touchpoint that already has an active initiative (proposed, approved or in progress) is
    skipped and named, so a repeated submission proposes nothing twice."""
    require_reviewer(request.user)
    owner = employee_of(request.user)
    if not may_propose(request.user) or owner is None:
        raise PermissionDenied
    today = timezone.localdate()
    filters = CycleFilters(request.GET, today=today)
    context = review_page_context(request, filters)
    active = set(
        visible_initiatives(request.user)
        .filter(state__in=ACTIVE_STATES)
        .values_list("touchpoints", flat=True)
    )
    for entry in context["opportunities"]:
        entry["active"] = entry["item"].touchpoint_id in active
    created, skipped, errors = [], [], []
    if request.method == "POST":
        chosen = set(request.POST.getlist("touchpoint"))
        _next_since, next_until = quarter_of(quarter_of(today)[1] + dt.timedelta(days=1))
        by_id = {tp.pk: tp for tp in journey_touchpoints()}
        for entry in context["opportunities"]:
            o = entry["item"]
            if str(o.touchpoint_id) not in chosen:
                continue
            if o.touchpoint_id in active:
                skipped.append(entry["touchpoint"])
                continue
            review = context["review"]
            scope = (
                {"scope": Scope.SEGMENT, "segment": review.target_segment}
                if review.target_segment is not None
                else {}
            )
            try:
                initiative = create_initiative(
                    **_proposal(o, by_id[o.touchpoint_id], context["since"], context["until"]),
                    **scope,
                    touchpoints=[by_id[o.touchpoint_id]],
                    metric="rating",
                    target_value=Decimal(f"{min(5.0, o.target):.2f}"),
                    target_date=next_until,
                    owner=owner,
                    by=owner,
                    now=timezone.now(),
                    started_from=StartedFrom.CYCLE_REVIEW,
                )
            except InitiativeError as error:
                errors.append(f"{entry['touchpoint']}: {error}")
                continue
            active.add(o.touchpoint_id)
            entry["active"] = True
            created.append(initiative)
    context.update(
        {"created": created, "skipped": skipped, "errors": errors, "top": TOP_OPPORTUNITIES}
    )
    return render(request, "front/cycle/cycle_next.html", context)
