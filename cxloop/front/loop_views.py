"""The closed-loop dashboard: how the loop itself is doing, by team and touchpoint, and why
customers were unhappy (root causes ranked per touchpoint, each leading to its cases).

Composition only: the figures come from :class:`cxloop.insights.loop.LoopQuery`, scoped to the
cases the viewer sees (CX lead, executives and viewers: all; managers: their part of the
hierarchy; employees: their own and their customers')."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from cxloop.cases.queries import case_tabs
from cxloop.front.forms import DateField
from cxloop.improvements.choices import StartedFrom
from cxloop.improvements.queries import may_propose
from cxloop.insights.loop import DEFAULT_PERIOD, MEDIAN_MIN_N, MIN_N, LoopQuery, LoopRow
from cxloop.journeys.queries import journey_touchpoints
from cxloop.people.queries import subtree_ids, team_paths, visible_team_ids, visible_teams


class LoopFilters(forms.Form):
    """The dashboard's period (cases opened from/to; the last 90 days unless chosen), team
    (with the teams under it) and touchpoint."""

    since = DateField(
        required=False,
        label=_("Opened from"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    until = DateField(
        required=False,
        label=_("Opened to"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    team = forms.ChoiceField(
        required=False, label=_("Team"), widget=forms.Select(attrs={"class": "form-select"})
    )
    touchpoint = forms.ChoiceField(
        required=False,
        label=_("Touchpoint"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, data, *, teams, touchpoints, today: dt.date):
        data = data.copy()
        data.setdefault("since", (today - DEFAULT_PERIOD).isoformat())
        data.setdefault("until", today.isoformat())
        super().__init__(data)
        self.touchpoints = touchpoints  # the dashboard names its rows with them
        self.fields["team"].choices = [
            ("", _("All teams I may see")),
            *((str(t.pk), t.label) for t in teams),
        ]
        self.fields["touchpoint"].choices = [
            ("", _("All touchpoints")),
            *((str(tp.pk), tp.name) for tp in touchpoints),
        ]

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-describedby"] = f"{self[name].auto_id}-error"
                attrs["aria-invalid"] = "true"

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise ValidationError(_("The period ends before it starts."))
        return data


def _query(filters: LoopFilters, user, today: dt.date) -> LoopQuery:
    """The query the filters ask for; invalid filters show the default period, all teams."""
    now = timezone.now()
    if not filters.is_valid():
        return LoopQuery(since=today - DEFAULT_PERIOD, until=today, now=now)
    data = filters.cleaned_data
    team_ids = None
    if data["team"]:
        visible = visible_team_ids(user)
        team_ids = tuple(
            t for t in subtree_ids(int(data["team"])) if visible is None or t in visible
        )
    return LoopQuery(
        since=data["since"] or today - DEFAULT_PERIOD,
        until=data["until"] or today,
        now=now,
        team_ids=team_ids,
        touchpoint_id=int(data["touchpoint"]) if data["touchpoint"] else None,
    )


def _named(rows: tuple[LoopRow, ...], names: dict, fallback: str, href=None) -> list[dict]:
    """Rows with their names and, given ``href`` (a key's case-list link), the link of each
    row's count of cases."""
    return [
        {"name": names.get(row.key, fallback), "row": row, "href": href(row.key) if href else ""}
        for row in rows
    ]


def narrowed_to(filters: LoopFilters, query: LoopQuery) -> dict[str, str]:
    """The dashboard's own period and team as the case list's parameters (``since``, ``until``:
    the same inclusive days in the site's time zone; ``team``: the same team with those under
    it), so that a figure's link lists exactly the cases the figure counted."""
    params = {"since": query.since.isoformat(), "until": query.until.isoformat()}
    if filters.is_valid() and filters.cleaned_data["team"]:
        params["team"] = filters.cleaned_data["team"]
    return params


def widest_case_tab(user) -> str:
    """The case list's tab that holds every case the user sees (all, their team's, their own):
    the figures count those, not only the user's own (the list's first tab)."""
    tabs = case_tabs(user)
    return tabs[-1] if tabs else ""


def case_list_href(user, **params) -> str:
    """The case list narrowed by ``params`` (its query-string contract: touchpoint, root_cause,
    state — empty for every state —, overdue, since, until, team, …) on the user's widest tab:
    the cases behind a figure."""
    return f"{reverse('case_list')}?{urlencode({'tab': widest_case_tab(user), **params})}"


def loop_filters(request: HttpRequest) -> LoopFilters:
    """The dashboard's filters from the query string, with the teams the user sees."""
    return LoopFilters(
        request.GET,
        teams=visible_teams(request.user).order_by("name"),
        touchpoints=journey_touchpoints(),
        today=timezone.localdate(),
    )


def loop_context(request: HttpRequest, filters: LoopFilters) -> dict:
    """What the dashboard shows for the request's user and ``filters`` (invalid ones: the
    default period, every team): the ``query`` run, its ``result`` and the ``teams``,
    ``touchpoints`` and ``causes`` rows with their names and links. The page and its export
    (cxloop.exports.loop_kinds) both read it."""
    query = _query(filters, request.user, timezone.localdate())
    result = query.run(request.user)
    touchpoint_names = {tp.pk: tp.name for tp in filters.touchpoints}
    # The figures of cases opened in the period link to those cases; those of cases open now
    # (open, overdue) to the cases open now, of the dashboard's team and touchpoint.
    period = narrowed_to(filters, query)
    now_params = {k: v for k, v in period.items() if k == "team"}
    if query.touchpoint_id is not None:
        now_params["touchpoint"] = query.touchpoint_id
    team_names = team_paths([row.key for row in result.by_team if row.key is not None])
    # A root cause is where an improvement starts: those who may propose one start it here.
    improve_href = reverse("initiative_new") if may_propose(request.user) else ""
    causes = [
        {
            "touchpoint": touchpoint_names.get(item.touchpoint_id, "—"),
            "item": item,
            "causes": [
                {
                    "cause": cause,
                    "percent": 100.0 * cause.share,
                    "href": case_list_href(
                        request.user,
                        state="",
                        touchpoint=item.touchpoint_id,
                        root_cause=cause.root_cause_id,
                        **period,
                    ),
                    "improve_href": improve_href
                    and improve_href
                    + "?"
                    + urlencode(
                        {
                            "from": StartedFrom.ROOT_CAUSE,
                            "touchpoint": item.touchpoint_id,
                            "root_cause": cause.root_cause_id,
                        }
                    ),
                }
                for cause in item.causes
            ],
        }
        for item in result.root_causes
    ]
    return {
        "filters": filters,
        "query": query,
        "result": result,
        "total": result.total,
        "teams": _named(result.by_team, team_names, _("No team")),
        "touchpoints": _named(
            result.by_touchpoint,
            touchpoint_names,
            "—",
            # Narrowed to a touchpoint, another touchpoint's row counts the cases on both,
            # which the list (one touchpoint) cannot show: that row has no link.
            lambda key: (
                case_list_href(request.user, state="", touchpoint=key, **period)
                if query.touchpoint_id in (None, key)
                else ""
            ),
        ),
        "causes": causes,
        "overdue_href": case_list_href(request.user, state="open", overdue="1", **now_params),
        "min_n": MIN_N,
        "median_min_n": MEDIAN_MIN_N,
    }


@login_required
def loop_dashboard(request: HttpRequest) -> HttpResponse:
    """The loop's figures for the period, overall, by team and by touchpoint, and the root
    causes ranked per touchpoint."""
    context = loop_context(request, loop_filters(request))
    return render(request, "front/loop/loop_dashboard.html", context)
