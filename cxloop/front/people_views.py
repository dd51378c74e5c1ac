"""The people pages (issue #13), which everyone signed in sees: standing in front of the same
people each week is the point.

- The weekly weigh-in: every team (and the people of teams that agreed to it) on their
  customers' NPS over the last 13 weeks, ranked fairly (cxloop.insights.dashboards.leaderboard),
  with the change since the week before and a funnel plot.
- The CX champions: who they are per team, what they did in the last year, and which teams
  have none (cxloop.insights.champions)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.insights import charts
from cxloop.insights.accountability import weigh_in_scope
from cxloop.insights.champions import ChampionsReport, champions_report
from cxloop.insights.dashboards import MIN_RANKED, LeaderboardQuery, LeaderboardResult
from cxloop.people.queries import (
    employee_of,
    employees_named,
    scorecard_people,
    scorecard_teams,
    team_paths,
    teams_ranking_people,
)

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


def _names(by: str, keys: list[int]) -> dict[int, str]:
    """Each key's name: a team's path, a person's full name."""
    if by == "team":
        return team_paths(keys)
    people = employees_named(keys)
    return {k: str(people[k]) if k in people else "—" for k in keys}


def _rows(
    result, previous, names: dict[int, str], mine: set[int], links: dict[int, str]
) -> list[dict]:
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
                "href": links.get(standing.key),
            }
        )
    return rows


def _scorecard_links(user, by: str, keys: list[int]) -> dict[int, str]:
    """The scorecards of the rows that the viewer may open, by key."""
    if by == "team":
        found, name = scorecard_teams(user), "team_scorecard"
    else:
        found, name = scorecard_people(user), "person_scorecard"
    seen = found.filter(pk__in=keys).values_list("pk", flat=True)
    return {key: reverse(name, args=[key]) for key in seen}


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


@dataclass(frozen=True)
class WeighIn:
    """What the weigh-in shows for a query string: its form, teams or people (``by``) as of
    the week ending ``until``, the leaderboard (None when no team shows its people) and its
    table's rows; ``no_people`` when people were asked for and no team agreed to it."""

    filters: WeighInFilters
    by: str
    until: dt.date
    result: LeaderboardResult | None
    rows: list[dict]
    no_people: bool

    def chart(self) -> dict | None:
        """The funnel plot of the rows; None without one."""
        return None if self.result is None else _funnel_chart(self.result, self.rows)


def weigh_in_board(request: HttpRequest) -> WeighIn:
    """The weigh-in for ``request``'s query string and viewer (their own row marked, the
    scorecards they may open linked): everyone sees every team."""
    filters = WeighInFilters(request.GET, today=timezone.localdate())
    by, until = filters.choice()
    ranking_teams = teams_ranking_people() if by == "person" else None
    result, rows = None, []
    if by == "team" or ranking_teams:
        result = LeaderboardQuery(weigh_in_scope(until, ranking_teams), by).run()
        week_before = until - dt.timedelta(days=7)
        previous = LeaderboardQuery(weigh_in_scope(week_before, ranking_teams), by).run()
        keys = [s.key for s in result.standings]
        links = _scorecard_links(request.user, by, keys)
        rows = _rows(result, previous, _names(by, keys), _mine(request.user, by), links)
    no_people = by == "person" and not ranking_teams
    return WeighIn(filters, by, until, result, rows, no_people)


@login_required
def weigh_in(request: HttpRequest) -> HttpResponse:
    board = weigh_in_board(request)
    return render(
        request,
        "front/people/weigh_in.html",
        {
            "filters": board.filters,
            "by": board.by,
            "since": weigh_in_scope(board.until).since,
            "until": board.until,
            "result": board.result,
            "rows": board.rows,
            "chart": board.chart(),
            "min_n": MIN_RANKED,
            "no_people": board.no_people,
        },
    )


# The champions' record: the last year, as a year of meetings and cases shows a habit.
CHAMPION_DAYS = 365


def champions_of_the_year() -> ChampionsReport:
    """The champions and what each did in the last :data:`CHAMPION_DAYS` days, to today."""
    today = timezone.localdate()
    return champions_report(today - dt.timedelta(days=CHAMPION_DAYS - 1), today)


@login_required
def champion_list(request: HttpRequest) -> HttpResponse:
    return render(request, "front/people/champions.html", {"report": champions_of_the_year()})
