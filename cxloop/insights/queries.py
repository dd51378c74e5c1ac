"""Typed queries that read the records and hand small aggregates to cxloop.analytics."""

import datetime as dt
from dataclasses import dataclass, replace

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from cxloop.analytics import Estimate, nps_from_counts, wilson_interval
from cxloop.i18n import pick
from cxloop.insights import charts
from cxloop.lib.scales import NPS_DETRACTORS, NPS_PROMOTERS
from cxloop.people.queries import team_paths
from cxloop.surveys.choices import SurveyKind
from cxloop.surveys.models import Answer, QuestionKind, Survey
from cxloop.surveys.queries import invitation_counts

MIN_GROUP_SIZE = 5  # no result is shown for fewer answers than this: answers stay anonymous


@dataclass(frozen=True)
class GroupScore:
    name: str  # a team's path from the top ("Firm › Sales"), "" overall, "—" for no team
    n: int
    enps: Estimate | None  # None when the group is smaller than MIN_GROUP_SIZE
    team_id: int | None = None


@dataclass(frozen=True)
class PulseResults:
    survey: Survey
    overall: GroupScore
    teams: list[GroupScore]


def _group(name: str, promoters: int, detractors: int, n: int) -> GroupScore:
    shown = n >= MIN_GROUP_SIZE
    return GroupScore(name, n, nps_from_counts(promoters, detractors, n) if shown else None)


def pulse_results(survey: Survey) -> PulseResults:
    """eNPS of a pulse survey, overall and by team, each with its interval; a group with fewer
    than MIN_GROUP_SIZE answers (or one that would give such a group away) shows its count
    only.

    Groups are teams by id, not by name: two teams called "Sales" under different parents are
    two groups, each of which must reach MIN_GROUP_SIZE on its own; each is named by its
    path."""
    rows = _enps_counts(Answer.objects.filter(response__survey=survey))
    paths = team_paths([row[0] for row in rows if row[0] is not None])
    total = [sum(r[i] for r in rows) for i in (1, 2, 3)]
    hidden = _suppressed(rows)
    teams = []
    for team_id, promoters, detractors, n in rows:
        name = paths.get(team_id, "—") if team_id is not None else "—"
        group = (
            GroupScore(name, n, None)
            if team_id in hidden
            else _group(name, promoters, detractors, n)
        )
        teams.append(replace(group, team_id=team_id))
    teams.sort(key=lambda group: (group.team_id is None, group.name))
    return PulseResults(survey=survey, overall=_group("", *total), teams=teams)


def _enps_counts(answers) -> list[tuple[int | None, int, int, int]]:
    """(team id, promoters, detractors, answers) of the NPS ``answers`` per team."""
    counts = (
        answers.filter(kind=QuestionKind.NPS)
        .values("response__team_id")
        .annotate(
            promoters=Count("id", filter=Q(score__gte=NPS_PROMOTERS[0])),
            detractors=Count("id", filter=Q(score__lte=NPS_DETRACTORS[1])),
            n=Count("id"),
        )
        .order_by("response__team_id")
    )
    return [(c["response__team_id"], c["promoters"], c["detractors"], c["n"]) for c in counts]


def _pulse_answers(since: dt.date, until: dt.date):
    """The answers to the pulse surveys submitted from ``since`` to ``until`` (days in the
    site's time zone). Moments rather than __date lookups, and the pulse surveys' ids first, so
    that the responses' (survey, submitted_at) index finds them (0.4 s to 0.1 s on the demo)."""
    start, end = (
        timezone.make_aware(dt.datetime.combine(day, dt.time()))
        for day in (since, until + dt.timedelta(days=1))
    )
    pulses = list(Survey.objects.filter(kind=SurveyKind.PULSE).values_list("pk", flat=True))
    return Answer.objects.filter(
        response__survey_id__in=pulses,
        response__submitted_at__gte=start,
        response__submitted_at__lt=end,
    )


def team_enps(since: dt.date, until: dt.date) -> dict[int, GroupScore]:
    """Each team's eNPS from the pulse surveys answered from ``since`` to ``until`` (days in
    the site's time zone), by team id; withheld (``enps`` None) as :func:`pulse_results`
    withholds it: under MIN_GROUP_SIZE answers, or where it would give a small team away."""
    rows = _enps_counts(_pulse_answers(since, until))
    hidden = _suppressed(rows)
    return {
        team_id: GroupScore("", n, None, team_id)
        if team_id in hidden
        else replace(_group("", promoters, detractors, n), team_id=team_id)
        for team_id, promoters, detractors, n in rows
        if team_id is not None
    }


def enps_between(since: dt.date, until: dt.date) -> GroupScore:
    """The organisation's eNPS from the pulse surveys answered from ``since`` to ``until``;
    withheld under MIN_GROUP_SIZE answers."""
    rows = _enps_counts(_pulse_answers(since, until))
    return _group("", *(sum(row[i] for row in rows) for i in (1, 2, 3)))


@dataclass(frozen=True)
class PulseWave:
    """One pulse survey (a wave) with its eNPS overall and by team, as :func:`pulse_results`
    withholds them; ``period`` is the day its first answer came (None: none yet)."""

    survey_id: int
    name: str
    period: dt.date | None
    overall: GroupScore
    teams: dict[int | None, GroupScore]


def pulse_trend(team_ids: list[int] | None = None) -> list[PulseWave]:
    """eNPS by team over time: every pulse survey with answers, oldest first, by its first
    answer's day; each team's figure withheld as on the survey's own results (``team_ids``:
    only these teams are kept, None every team; withholding counts every team)."""
    waves = []
    for survey in Survey.objects.filter(kind=SurveyKind.PULSE).order_by("pk"):
        first = survey.responses.order_by("submitted_at").values_list("submitted_at", flat=True)
        started = first.first()
        if started is None:
            continue
        results = pulse_results(survey)
        waves.append(
            PulseWave(
                survey_id=survey.pk,
                name=survey.name,
                period=timezone.localdate(started),
                overall=results.overall,
                teams={
                    group.team_id: group
                    for group in results.teams
                    if team_ids is None or group.team_id in team_ids
                },
            )
        )
    waves.sort(key=lambda wave: (wave.period, wave.survey_id))
    return waves


# The chart tells apart as many lines as the palette has colours: everyone and four teams.
CHARTED_TEAMS = len(charts.PALETTE) - 1


def pulse_trend_chart(waves: list[PulseWave]) -> dict:
    """eNPS by pulse wave: everyone's line and those of the CHARTED_TEAMS teams with the most
    answers (the page's table has every team); a withheld figure leaves a gap."""

    def point(wave: PulseWave, group: GroupScore | None) -> dict:
        estimate = None if group is None else group.enps
        return {
            "period": wave.period.isoformat(),
            "value": None if estimate is None else estimate.value,
            "low": None if estimate is None else estimate.low,
            "high": None if estimate is None else estimate.high,
            "n": 0 if group is None else group.n,
        }

    answers: dict[int | None, int] = {}
    names: dict[int | None, str] = {}
    for wave in waves:
        for team_id, group in wave.teams.items():
            if team_id is not None:  # answers of no team: in everyone's line only
                answers[team_id] = answers.get(team_id, 0) + group.n
                names[team_id] = group.name
    largest = sorted(answers, key=lambda t: (-answers[t], names[t]))[:CHARTED_TEAMS]
    # A legend has room for a team's own name, not its path; the path where two share a name.
    short = {t: names[t].rsplit(" › ", 1)[-1] for t in largest}
    labels = {t: short[t] if list(short.values()).count(short[t]) == 1 else names[t] for t in short}
    series = [{"label": gettext("Everyone"), "points": [point(w, w.overall) for w in waves]}]
    series += [
        {"label": labels[t], "points": [point(w, w.teams.get(t)) for w in waves]}
        for t in sorted(largest, key=lambda t: names[t])
    ]
    return charts.series_trend(
        series if waves else [],
        title=gettext("eNPS by pulse survey"),
        y_title="eNPS",
        domain=(-100, 100),
    )


def _suppressed(rows: list[tuple[int | None, int, int, int]]) -> set[int | None]:
    """Groups (by team id) whose result is withheld: those under MIN_GROUP_SIZE and, when those
    add up to fewer than MIN_GROUP_SIZE answers, the next smallest too — otherwise the overall
    result minus the shown groups would give the small groups' result away (complementary
    suppression)."""
    by_size = sorted(rows, key=lambda row: row[3])
    hidden = {row[0] for row in by_size if row[3] < MIN_GROUP_SIZE}
    hidden_n = sum(row[3] for row in by_size if row[0] in hidden)
    for key, *_, n in by_size:
        if not 0 < hidden_n < MIN_GROUP_SIZE:
            break
        if key not in hidden:
            hidden.add(key)
            hidden_n += n
    return hidden


@dataclass(frozen=True)
class ResponseRate:
    survey_id: int
    name: str
    delivered: int
    completed: int
    rate: Estimate | None  # per cent of delivered invitations completed, Wilson interval


def response_rates(
    team_ids: list[int] | None, *, since: dt.date | None = None, until: dt.date | None = None
) -> list[ResponseRate]:
    """Response rate of each survey's invitations made in the period, with its interval."""
    rates = []
    for row in invitation_counts(team_ids, since=since, until=until):
        delivered, completed = row["delivered"], row["completed"]
        rate = None
        if delivered:
            interval = wilson_interval(completed, delivered)
            rate = Estimate(
                100 * completed / delivered, 100 * interval.low, 100 * interval.high, delivered
            )
        name = pick({"ru": row["survey__name_ru"], "en": row["survey__name_en"]})
        rates.append(ResponseRate(row["survey_id"], name, delivered, completed, rate))
    return rates
