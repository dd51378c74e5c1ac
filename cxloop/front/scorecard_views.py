"""Scorecards (issue #13, point 1): every person's and team's figures over the weigh-in's
thirteen weeks — their customers' NPS and CSAT, their touchpoints', the closed loop, what they
delivered, training, meetings with customers and the team's eNPS — each with its n and
interval, the change since the week before, a six-month trend, and a link to what is behind it.
What counts for whom is defined once (:mod:`cxloop.insights.accountability`) and shown on its
own page, linked from every scorecard.

Who sees which: an employee their own scorecard; a manager the people and teams of their part
of the hierarchy; administrators, executives and viewers everyone's
(:func:`cxloop.people.queries.scorecard_people`); anyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cxloop.cases.queries import case_tabs
from cxloop.front.people_views import WeighInFilters
from cxloop.insights import accountability
from cxloop.insights.accountability import METRICS, Figure, MetricDefinition
from cxloop.insights.pages import scorecard_figures
from cxloop.journeys.queries import touchpoints_owned, touchpoints_with_stage
from cxloop.lib.params import ParamError, parse_row_id
from cxloop.people.queries import employee_of, scorecard_people, scorecard_teams, team_paths


class ScorecardFilters(WeighInFilters):
    """The weigh-in's "week ending" day; a scorecard is always of one person or team."""

    by = None


@dataclass(frozen=True)
class Row:
    """One metric of a scorecard: its definition, the figure, the figure a week before, and
    the links to what is behind it (label, href)."""

    metric: MetricDefinition
    figure: Figure
    before: Figure
    links: tuple[tuple[str, str], ...]

    @property
    def change(self) -> float | None:
        if self.figure.value is None or self.before.value is None:
            return None
        return self.figure.value - self.before.value

    @property
    def better(self) -> bool | None:
        """Whether the change is for the better (None: no change)."""
        if not self.change:
            return None
        return (self.change > 0) == self.metric.higher_is_better


def _period(request: HttpRequest) -> tuple[ScorecardFilters, dt.date, dt.date]:
    filters = ScorecardFilters(request.GET, today=timezone.localdate())
    _by, until = filters.choice()
    return filters, accountability.weigh_in_scope(until).since, until


def _query(base: str, **params) -> str:
    return f"{reverse(base)}?{urlencode({k: v for k, v in params.items() if v is not None})}"


@dataclass(frozen=True)
class Behind:
    """Whose figures a scorecard shows, for the links to what is behind them: an employee's
    (``owner``) or a team's (``team``) over ``since``–``until``; ``case_tab`` the widest tab of
    the case list the reader has."""

    since: dt.date
    until: dt.date
    owner: int | None
    team: int | None
    case_tab: str


def _behind(request: HttpRequest, since, until, *, owner=None, team=None) -> Behind:
    return Behind(since, until, owner, team, (case_tabs(request.user) or [""])[-1])


def _links(key: str, behind: Behind) -> list[tuple[str, str]]:
    """Where each metric's figure comes from, as the list pages filter it."""
    owner, team = behind.owner, behind.team
    since, until = behind.since, behind.until
    days = {"since": since.isoformat(), "until": until.isoformat()}
    if key in ("own_nps", "own_csat"):
        kind = "nps" if key == "own_nps" else "csat"
        return [(_("Answers"), _query("response_list", owner=owner, team=team, kind=kind, **days))]
    if key in ("loop_in_sla", "first_contact_hours"):
        cases = _query("case_list", tab=behind.case_tab, state="", owner=owner, team=team, **days)
        return [(_("Cases"), cases)]
    if key == "initiatives_delivered":
        return [(_("Initiatives"), _query("initiative_list", state="done", owner=owner))]
    if key == "action_items_done":
        return [(_("Initiatives"), _query("initiative_list", state="", owner=owner))]
    if key == "training_done":
        return [(_("Training"), reverse("training_list"))]
    if key == "meetings_held":
        return [(_("Meetings"), _query("face_to_face_list", employee=owner, team=team, **days))]
    if key == "team_enps":
        return [(_("Pulse surveys"), f"{reverse('home')}#pulse")]
    return []


def _touchpoint_links(team_id: int) -> list[tuple[str, str]]:
    ids = touchpoints_owned().get(team_id, [])
    return [
        (str(tp), reverse("touchpoint_detail", args=[tp.pk]))
        for tp in touchpoints_with_stage().filter(pk__in=ids).order_by("stage__order", "order")
    ]


def _rows(now: dict, before: dict, behind: Behind, team_of_touchpoints: int) -> list[Row]:
    touchpoints = _touchpoint_links(team_of_touchpoints)
    rows = []
    for definition in METRICS:
        key = definition.key
        links = touchpoints if key.startswith("touchpoint_") else _links(key, behind)
        rows.append(Row(definition, now[key], before[key], tuple(links)))
    return rows


def _trend(pk: int, until: dt.date, *, person: bool) -> dict:
    """The trend chart of a person's (``person``) or a team's customers' NPS by month up to
    ``until``; a point opens the answers behind it."""
    of = accountability.person_figures if person else accountability.team_figures
    responses = {"owner": pk} if person else {"team": pk}

    def href(month: dt.date) -> str:
        return _query("response_list", kind="nps", period=f"{month:%Y-%m}", **responses)

    monthly = accountability.monthly_figures(
        of, [pk], months=accountability.TREND_MONTHS, until=until
    )
    return accountability.trend_chart(monthly, pk, href=href)


def _render(request, template: str, **context) -> HttpResponse:
    return render(request, f"front/scorecards/{template}", context)


@login_required
def scorecard_me(request: HttpRequest) -> HttpResponse:
    """One's own scorecard; someone without an employee record is shown the list."""
    me = employee_of(request.user)
    if me is None:
        return redirect("scorecard_list")
    return redirect("person_scorecard", pk=me.pk)


@login_required
def scorecard_list(request: HttpRequest) -> HttpResponse:
    """The teams and people whose scorecards the user sees, with the headline figures; an
    employee goes straight to their own."""
    teams = list(scorecard_teams(request.user))
    people = list(scorecard_people(request.user))
    if not teams and len(people) == 1:
        return redirect("person_scorecard", pk=people[0].pk)
    filters, since, until = _period(request)
    by_team = accountability.team_figures([t.pk for t in teams], since=since, until=until)
    by_person = accountability.person_figures([p.pk for p in people], since=since, until=until)
    paths = team_paths([t.pk for t in teams] + [p.team_id for p in people])
    headline = [m for m in METRICS if m.key in HEADLINE]

    def cells(figures: dict) -> list[tuple[MetricDefinition, Figure]]:
        return [(m, figures[m.key]) for m in headline]

    return _render(
        request,
        "list.html",
        filters=filters,
        since=since,
        until=until,
        headline=headline,
        teams=sorted(((paths[t.pk], t, cells(by_team[t.pk])) for t in teams), key=lambda r: r[0]),
        people=sorted(
            ((p, paths[p.team_id], cells(by_person[p.pk])) for p in people),
            key=lambda r: (r[1], str(r[0])),
        ),
        query=urlencode({"until": until.isoformat()}),
    )


# The list's columns: the weigh-in's figure, the loop, and what was delivered.
HEADLINE = ("own_nps", "own_csat", "loop_in_sla", "initiatives_delivered", "meetings_held")


@login_required
def person_scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    person = scorecard_people(request.user).filter(pk=pk).first()
    if person is None:
        raise Http404
    team_href = None
    if scorecard_teams(request.user).filter(pk=person.team_id).exists():
        team_href = reverse("team_scorecard", args=[person.team_id])
    return _scorecard(
        request,
        pk,
        team_id=person.team_id,
        owner=pk,
        subject=person,
        team_path=team_paths([person.team_id]).get(person.team_id, ""),
        team_href=team_href,
    )


@login_required
def team_scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    team = scorecard_teams(request.user).filter(pk=pk).first()
    if team is None:
        raise Http404
    subject = team_paths([pk]).get(pk, str(team))
    return _scorecard(request, pk, team_id=pk, subject=subject)


@dataclass(frozen=True)
class Named:
    """The scorecard a query string names: a person's (``person``) or a team's, by ``pk``, its
    ``team_id`` (the person's team, or the team) and the page's period."""

    person: bool
    pk: int
    team_id: int
    since: dt.date
    until: dt.date


def named_scorecard(request: HttpRequest) -> Named:
    """The scorecard the query string names — ``person`` or ``team``, an id, with the page's
    period — among those the user sees; Http404 naming the parameter for one they may not see,
    when neither or both are named, or for a period the page's form refuses."""
    named = {name: request.GET.get(name, "") for name in ("person", "team")}
    if bool(named["person"]) == bool(named["team"]):
        raise Http404(_("Scorecard: name a person or a team"))
    name = "person" if named["person"] else "team"
    try:
        pk = parse_row_id(name, named[name])
    except ParamError:
        raise Http404(
            _("%(field)s: no such record among those you see") % {"field": name}
        ) from None
    visible = scorecard_people if name == "person" else scorecard_teams
    subject = visible(request.user).filter(pk=pk).first()
    if subject is None:
        raise Http404(_("%(field)s: no such record among those you see") % {"field": name})
    filters, since, until = _period(request)
    if filters.is_bound and not filters.is_valid():
        raise Http404(
            "; ".join(
                f"{filters.fields[field].label if field in filters.fields else field}: {error}"
                for field, errors in filters.errors.items()
                for error in errors
            )
        )
    team_id = subject.team_id if name == "person" else pk
    return Named(name == "person", pk, team_id, since, until)


def scorecard_rows(request: HttpRequest, named: Named) -> list[Row]:
    """The rows of the ``named`` scorecard (:func:`named_scorecard` of ``request``) as its page
    shows them to the user."""
    pk, since, until = named.pk, named.since, named.until
    figures = scorecard_figures(
        until=until, **({"employee_id": pk} if named.person else {"team_id": pk})
    )
    owner, team = (pk, None) if named.person else (None, pk)
    behind = _behind(request, since, until, owner=owner, team=team)
    return _rows(figures.now, figures.before, behind, named.team_id)


def scorecard_chart(named: Named) -> dict:
    """The trend chart the page of the ``named`` scorecard draws."""
    return _trend(named.pk, named.until, person=named.person)


def _scorecard(
    request: HttpRequest, pk: int, *, team_id: int, owner: int | None = None, **context
) -> HttpResponse:
    """A person's (``owner``) or a team's scorecard: their figures now and a week before,
    where they stand, the trend; ``team_id`` is theirs (the touchpoints it owns)."""
    filters, since, until = _period(request)
    figures = scorecard_figures(
        until=until,
        **({"employee_id": pk} if owner is not None else {"team_id": pk}),
    )
    now, before = figures.now, figures.before
    team = None if owner is not None else pk
    behind = _behind(request, since, until, owner=owner, team=team)
    if owner is not None:
        context["place"] = accountability.weigh_in_place(owner, team_id, until=until)
    subject = {"person" if owner is not None else "team": pk}
    context["export_query"] = urlencode({**request.GET.dict(), **subject})
    return _render(
        request,
        "scorecard.html",
        filters=filters,
        since=since,
        until=until,
        is_person=owner is not None,
        rows=_rows(now, before, behind, team_id),
        chart=_trend(pk, until, person=owner is not None),
        **context,
    )


@login_required
def metric_definitions(request: HttpRequest) -> HttpResponse:
    """What counts for whom: every metric's definition for a person and for a team."""
    return _render(
        request, "definitions.html", metrics=METRICS, window_days=accountability.WINDOW_DAYS
    )
