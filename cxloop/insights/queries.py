"""Typed queries that read the records and hand small aggregates to cxloop.analytics."""

from dataclasses import dataclass

from django.db.models import Count, Q

from cxloop.analytics import Estimate, nps_from_counts
from cxloop.surveys.models import Answer, QuestionKind, Survey

MIN_GROUP_SIZE = 5  # no result is shown for fewer answers than this: answers stay anonymous


@dataclass(frozen=True)
class GroupScore:
    name: str
    n: int
    enps: Estimate | None  # None when the group is smaller than MIN_GROUP_SIZE


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
    than MIN_GROUP_SIZE answers shows its count only."""
    counts = (
        Answer.objects.filter(response__survey=survey, kind=QuestionKind.NPS)
        .values("response__team__name")
        .annotate(
            promoters=Count("id", filter=Q(score__gte=9)),
            detractors=Count("id", filter=Q(score__lte=6)),
            n=Count("id"),
        )
        .order_by("response__team__name")
    )
    rows = [
        (c["response__team__name"] or "—", c["promoters"], c["detractors"], c["n"]) for c in counts
    ]
    total = [sum(r[i] for r in rows) for i in (1, 2, 3)]
    return PulseResults(
        survey=survey,
        overall=_group("", *total),
        teams=[_group(*row) for row in rows],
    )
