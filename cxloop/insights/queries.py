"""Typed queries that read the records and hand small aggregates to cxloop.analytics."""

import datetime as dt
from dataclasses import dataclass, replace

from django.db.models import Count, Q

from cxloop.analytics import Estimate, nps_from_counts, wilson_interval
from cxloop.i18n import pick
from cxloop.people.queries import team_paths
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
    counts = (
        Answer.objects.filter(response__survey=survey, kind=QuestionKind.NPS)
        .values("response__team_id")
        .annotate(
            promoters=Count("id", filter=Q(score__gte=9)),
            detractors=Count("id", filter=Q(score__lte=6)),
            n=Count("id"),
        )
        .order_by("response__team_id")
    )
    rows = [(c["response__team_id"], c["promoters"], c["detractors"], c["n"]) for c in counts]
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
