"""The people pages (issue #13), which everyone signed in sees: standing in front of the same
people each week is the point.

- The weekly weigh-in: every team (and the people of teams that agreed to it) on their
  customers' NPS over the last 13 weeks, ranked fairly (cxloop.insights.dashboards.leaderboard),
  with the change since the week before and a funnel plot.
- The CX champions: who they are per team, what they did in the last year, and which teams
  have none (cxloop.insights.champions)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.insights import charts
from cxloop.insights.champions import champions_report
from cxloop.insights.dashboards import MIN_RANKED, LeaderboardQuery
from cxloop.insights.store import Scope
from cxloop.people.queries import employee_of, employees_named, team_paths, teams_ranking_people

# Thirteen weeks: enough answers for most teams, recent enough to be this quarter's news.
WINDOW_DAYS = 91
EARLIEST = dt.date(2000, 1, 1)

BY_CHOICES = [("team", gettext_lazy("Teams")), ("person", gettext_lazy("People"))]


class WeighInFilters(forms.Form):
    by = forms.ChoiceField(
        label=gettext_lazy("Show"),
        choices=BY_CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    until = forms.DateField(
        label=gettext_lazy("Week ending"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )

    def __init__(self, data, *, today: dt.date):
        super().__init__(data)
        self.today = today

    def clean_until(self):
        day = self.cleaned_data.get("until")
        if day is not None and not EARLIEST <= day <= self.today:
            raise forms.ValidationError(
                _("Choose a day from %(first)s to today.") % {"first": EARLIEST.isoformat()}
            )
        return day

    def choice(self) -> tuple[str, dt.date]:
        """What to show: the form's choices where valid, else teams as of today."""
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("by") or "team", data.get("until") or self.today


def _window(until: dt.date, team_ids) -> Scope:
    return Scope(
        since=until - dt.timedelta(days=WINDOW_DAYS - 1),
        until=until,
        team_ids=None if team_ids is None else tuple(team_ids),
    )


def _names(by: str, keys: list[int]) -> dict[int, str]:
    """Each key's name: a team's path, a person's full name."""
    if by == "team":
        return team_paths(keys)
    people = employees_named(keys)
    return {k: str(people[k]) if k in people else "—" for k in keys}


def _rows(result, previous, names: dict[int, str], mine: set[int]) -> list[dict]:
    before = {s.key: s for s in previous.standings}
    rows = []
    for standing in result.standings:
        earlier = before.get(standing.key)
        change = None
        if earlier is not None and earlier.rank is not None and standing.rank is not None:
            change = standing.score.value - earlier.score.value
        rows.append(
            {
                "name": names.get(standing.key, "—"),
                "standing": standing,
                "change": change,
                "mine": standing.key in mine,
            }
        )
    return rows


def _mine(user, by: str) -> set[int]:
    """The viewer's own team's id, or their own employee id, to mark on the table."""
    me = employee_of(user)
    if me is None:
        return set()
    return {me.team_id} if by == "team" else {me.pk}


def _funnel_chart(result, rows: list[dict]) -> dict | None:
    if result.funnel is None:
        return None
    points = [
        {
            "name": row["name"],
            "value": row["standing"].raw.value,
            "n": row["standing"].n,
            "position": row["standing"].funnel,
        }
        for row in rows
    ]
    return charts.funnel(points, result.funnel, y_title=_("NPS of the answers"))


@login_required
def weigh_in(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    filters = WeighInFilters(request.GET, today=today)
    by, until = filters.choice()
    ranking_teams = teams_ranking_people() if by == "person" else None
    result, rows, chart = None, [], None
    if by == "team" or ranking_teams:
        result = LeaderboardQuery(_window(until, ranking_teams), by).run()
        previous = LeaderboardQuery(_window(until - dt.timedelta(days=7), ranking_teams), by).run()
        names = _names(by, [s.key for s in result.standings])
        rows = _rows(result, previous, names, _mine(request.user, by))
        chart = _funnel_chart(result, rows)
    return render(
        request,
        "front/people/weigh_in.html",
        {
            "filters": filters,
            "by": by,
            "since": until - dt.timedelta(days=WINDOW_DAYS - 1),
            "until": until,
            "result": result,
            "rows": rows,
            "chart": chart,
            "min_n": MIN_RANKED,
            "no_people": by == "person" and not ranking_teams,
        },
    )


# The champions' record: the last year, as a year of meetings and cases shows a habit.
CHAMPION_DAYS = 365


@login_required
def champion_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    report = champions_report(today - dt.timedelta(days=CHAMPION_DAYS - 1), today)
    return render(request, "front/people/champions.html", {"report": report})
