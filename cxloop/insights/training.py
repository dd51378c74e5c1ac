"""Did a course work? The ratings of the touchpoints a course covers, given by the customers of
the people who took it, before and after they took it, against the customers of colleagues who
had not taken it yet (a staggered difference-in-differences:
:func:`cxloop.analytics.staggered_did`).

Whose answers: a person's are those of the customers they own now (the store's
``customers.owner_id``, as the weigh-in counts them: :mod:`cxloop.insights.dashboards.
leaderboard`). The answers are the touchpoints' ratings (1–5), by person and month over the
:data:`MONTHS` months to the course page's day. A person is trained from the month after the
day they said they completed the course, once their manager confirmed it; the month they did
it in is left out (partly before, partly after), and people waiting for confirmation are left
out of the comparison altogether.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from cxloop.analytics import StaggeredDid, staggered_did
from cxloop.analytics.results import to_plain
from cxloop.facts.store import FactStoreError
from cxloop.improvements.training_queries import course_completions
from cxloop.insights.store import FactStore, FactTables, Scope, get_store, run_cached

__all__ = ["MONTHS", "PRE_MONTHS", "CourseEffect", "CourseScoresQuery", "course_effect"]

# Over two years: the quarterly relationship waves give eight points of each person's series.
MONTHS = 30
# Each trained cohort's level before is that of the six months before it was trained (two
# relationship waves).
PRE_MONTHS = 6


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_key(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class CourseScoresQuery:
    """Ratings of ``touchpoint_ids`` by the customers' owner and month, ``since``..``until``
    (months, inclusive): columns ``owner``, ``month``, ``n`` and ``total`` (sum of scores)."""

    touchpoint_ids: tuple[int, ...]
    since: str
    until: str
    scope: Scope = Scope()

    def to_query(self, tables: FactTables):
        a = tables.answers
        a = a.filter(
            a.month >= self.since,
            a.month <= self.until,
            a.kind == "rating",
            a.touchpoint_id.isin(list(self.touchpoint_ids)),
            a.customer_id.notnull(),
        )
        owners = tables.customers.select("customer_id", "owner_id")
        joined = a.join(owners, a.customer_id == owners.customer_id)
        joined = joined.filter(joined.owner_id.notnull())
        return joined.group_by([joined.owner_id.name("owner"), "month"]).agg(
            n=joined.count(), total=joined.score.cast("int64").sum()
        )

    def calculate(self, tables: FactTables | None) -> dict[str, np.ndarray]:
        if tables is None:
            return {"owner": np.zeros(0, np.int64), "month": np.zeros(0, str),
                    "n": np.zeros(0, np.int64), "total": np.zeros(0, np.int64)}  # fmt: skip
        table = self.to_query(tables).to_pyarrow()
        return {
            name: np.asarray(table[name].to_numpy(zero_copy_only=False))
            for name in ("owner", "month", "n", "total")
        }


@dataclass(frozen=True)
class CourseEffect:
    """The course page's "Did it work": ``status`` "measured", "not_trained" (nobody has
    taken it yet), "no_data" (no ratings of its touchpoints by customers of anyone),
    "too_few" (no cohort with a before, an after and not-yet-trained colleagues) or
    "unavailable" (the fact store cannot be read now). ``did``: the estimate, in rating
    points; ``trained``: people who took it; ``months``: the first and last month read."""

    status: str
    trained: int = 0
    first_month: str | None = None
    last_month: str | None = None
    did: StaggeredDid | None = None

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)


def _panel(
    data: dict[str, np.ndarray], first: int, last: int, trained: dict[int, dt.date], waiting
):
    """Person × month means and counts, and each person's first trained month (index)."""
    months = last - first + 1
    owners = sorted({int(o) for o in data["owner"]} - set(waiting))
    row = {owner: i for i, owner in enumerate(owners)}
    n = np.zeros((len(owners), months))
    total = np.zeros((len(owners), months))
    for owner, month, count, score_sum in zip(
        data["owner"], data["month"], data["n"], data["total"], strict=True
    ):
        if int(owner) in row:
            year, mon = (int(part) for part in str(month).split("-"))
            column = year * 12 + mon - 1 - first
            n[row[int(owner)], column] += count
            total[row[int(owner)], column] += score_sum
    first_treated = np.full(len(owners), -1, dtype=np.int64)
    for owner, day in trained.items():
        if owner not in row:
            continue
        done_in = _month_index(day) - first
        if 0 <= done_in < months:
            n[row[owner], done_in] = total[row[owner], done_in] = 0  # partly before, partly after
        if done_in + 1 < months:
            first_treated[row[owner]] = max(done_in + 1, 0)
    mean = np.divide(total, n, out=np.zeros_like(total), where=n > 0)
    return mean, n, first_treated


def course_effect(
    course, *, today: dt.date, store: FactStore | None = None, cache: bool = True
) -> CourseEffect:
    """Whether ``course`` (a :class:`~cxloop.improvements.training.Course`) moved the ratings
    of its touchpoints, as of ``today``: see the module's docstring."""
    trained, waiting = course_completions(course)
    if not trained:
        return CourseEffect(status="not_trained")
    last = _month_index(today)
    first = last - MONTHS + 1
    query = CourseScoresQuery(
        touchpoint_ids=tuple(sorted(course.touchpoints.values_list("pk", flat=True))),
        since=_month_key(first),
        until=_month_key(last),
    )
    common = {"trained": len(trained), "first_month": query.since, "last_month": query.until}
    try:
        data = run_cached(query, store=store or get_store(), cache=cache)
    except FactStoreError:
        return CourseEffect(status="unavailable", **common)
    if not len(data["n"]):
        return CourseEffect(status="no_data", **common)
    mean, n, first_treated = _panel(data, first, last, trained, waiting)
    did = staggered_did(mean, n, first_treated, pre_periods=PRE_MONTHS, seed=course.pk)
    if did is None:
        return CourseEffect(status="too_few", **common)
    return CourseEffect(status="measured", did=did, **common)
