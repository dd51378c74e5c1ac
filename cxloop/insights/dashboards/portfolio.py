"""The value × experience portfolio: each customer's value and latest NPS answer, and the
revenue held by detractors and by silent customers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from cxloop.insights.store import FactTables, Scope
from cxloop.lib.scales import nps_category

from ._base import DashboardQuery, Rows, Scoped, check_id, check_whole
from ._scores import Plain

__all__ = ["CustomerRow", "PortfolioQuery", "PortfolioResult", "RevenueAtRisk", "STATUSES"]

STATUSES = ("promoter", "passive", "detractor", "silent")


def status_of(score: int | None) -> str:
    """The NPS group of a 0–10 answer (9–10 promoter, 7–8 passive, 0–6 detractor); silent
    without one."""
    if score is None:
        return "silent"
    return nps_category(score)


@dataclass(frozen=True)
class CustomerRow(Plain):
    """A customer of the portfolio. ``score``: the latest NPS answer when it was given within
    the query's ``silent_after_days`` up to ``today``, else None (the customer is silent);
    ``answered_at``: the UTC day of the latest NPS answer up to ``today``, however old (None if
    the customer never answered). ``target``: in the target segment now."""

    customer_id: int
    team_id: int | None
    annual_value: float | None
    currency: str
    tier: str
    lifecycle_stage: str
    target: bool
    status: str
    score: int | None
    answered_at: dt.date | None


@dataclass(frozen=True)
class RevenueAtRisk(Plain):
    """Customers of one currency by status, and the annual value at risk: that of detractors
    plus that of silent customers. Values are summed within a currency only; customers without
    an annual value are counted (``unknown_value``) but add nothing. ``share`` is ``at_risk``
    over ``value`` (None when ``value`` is 0)."""

    currency: str
    customers: int
    value: float
    promoters: int
    passives: int
    detractors: int
    silent: int
    detractor_value: float
    silent_value: float
    at_risk: float
    share: float | None
    unknown_value: int


@dataclass(frozen=True)
class PortfolioResult(Plain):
    """The portfolio on ``today``: every customer of the scope (``customers``, by value, largest
    first) and the revenue at risk per currency for all of them (``overall``) and, when a target
    segment was given, for its customers (``target``) and for the others (``rest``)."""

    version: str | None
    today: dt.date
    silent_after_days: int
    target_segment_id: int | None
    customers: tuple[CustomerRow, ...]
    overall: tuple[RevenueAtRisk, ...]
    target: tuple[RevenueAtRisk, ...]
    rest: tuple[RevenueAtRisk, ...]


@dataclass(frozen=True)
class PortfolioQuery(DashboardQuery):
    """Per customer: annual value, latest NPS answer and status; revenue at risk overall and for
    the target segment against the rest.

    Parameters
    ----------
    scope : Scope
        Its teams and segment choose the customers (by their current owner's team and their
        membership now). Its period does not apply: the portfolio is a picture on ``today``.
    today : datetime.date
        The day the picture is taken on; answers after it are not seen.
    silent_after_days : int
        A customer whose latest NPS answer is older than this many days (or who never answered)
        is silent.
    target_segment_id : int, optional
        The target segment, for the target-versus-rest split.
    """

    scope: Scope
    today: dt.date
    silent_after_days: int = 365
    target_segment_id: int | None = None

    def __post_init__(self) -> None:
        self.check_scope()
        if isinstance(self.today, dt.datetime) or not isinstance(self.today, dt.date):
            raise ValueError(f"today must be a date; got {self.today!r}")
        check_whole("silent_after_days", self.silent_after_days)
        check_id("target_segment_id", self.target_segment_id)

    def to_query(self, tables: FactTables) -> dict[str, ir.Table]:
        customers = Scoped.of(tables, self.scope).customers
        responses = tables.responses  # every period: the latest answer may predate the scope
        end = dt.datetime.combine(self.today + dt.timedelta(days=1), dt.time(), dt.UTC)
        answered = responses.filter(
            responses.nps.notnull(),
            responses.customer_id.notnull(),
            responses.submitted_at < ibis.timestamp(end),
        )
        # The latest answer per customer (the larger response id breaks a tie in time).
        window = ibis.window(
            group_by=answered.customer_id,
            order_by=[answered.submitted_at.desc(), answered.response_id.desc()],
        )
        ranked = answered.mutate(position=ibis.row_number().over(window))
        latest = ranked.filter(ranked.position == 0).select(
            latest_customer=ranked.customer_id,
            answered_at=ranked.submitted_at,
            score=ranked.nps,
        )
        joined = customers.left_join(latest, customers.customer_id == latest.latest_customer)
        columns = {
            "customer_id": joined.customer_id,
            "team_id": joined.team_id,
            "annual_value": joined.annual_value,
            "currency": joined.currency,
            "tier": joined.tier,
            "lifecycle_stage": joined.lifecycle_stage,
            "answered_at": joined.answered_at,
            "score": joined.score,
        }
        rows = joined.select(**columns)
        if self.target_segment_id is not None:
            segments = tables.segments
            members = (
                segments.filter(
                    segments.segment_id == ibis.literal(self.target_segment_id, "int32")
                )
                .select(member=segments.customer_id)
                .distinct()
            )
            rows = rows.left_join(members, rows.customer_id == members.member)
            rows = rows.select(*columns, target=rows.member.notnull())
        else:
            rows = rows.mutate(target=ibis.literal(False))
        return {"customers": rows}

    def assemble(self, version: str | None, rows: Rows) -> PortfolioResult:
        since = self.today - dt.timedelta(days=self.silent_after_days)
        customers = []
        for r in rows.get("customers", []):
            day = _utc_day(r["answered_at"])
            score = int(r["score"]) if day is not None and day >= since else None
            customers.append(
                CustomerRow(
                    customer_id=int(r["customer_id"]),
                    team_id=r["team_id"],
                    annual_value=r["annual_value"],
                    currency=r["currency"],
                    tier=r["tier"],
                    lifecycle_stage=r["lifecycle_stage"],
                    target=bool(r["target"]),
                    status=status_of(score),
                    score=score,
                    answered_at=day,
                )
            )
        customers.sort(key=lambda c: (-(c.annual_value or 0.0), c.customer_id))
        split = self.target_segment_id is not None
        return PortfolioResult(
            version=version,
            today=self.today,
            silent_after_days=self.silent_after_days,
            target_segment_id=self.target_segment_id,
            customers=tuple(customers),
            overall=_at_risk(customers),
            target=_at_risk([c for c in customers if c.target]) if split else (),
            rest=_at_risk([c for c in customers if not c.target]) if split else (),
        )


def _at_risk(customers: list[CustomerRow]) -> tuple[RevenueAtRisk, ...]:
    by_currency: dict[str, list[CustomerRow]] = defaultdict(list)
    for c in customers:
        by_currency[c.currency].append(c)
    out = []
    for currency in sorted(by_currency):
        group = by_currency[currency]
        counts = {s: sum(1 for c in group if c.status == s) for s in STATUSES}
        value = {
            s: sum((c.annual_value or 0.0 for c in group if c.status == s), 0.0) for s in STATUSES
        }
        total = sum(value.values())
        at_risk = value["detractor"] + value["silent"]
        out.append(
            RevenueAtRisk(
                currency=currency,
                customers=len(group),
                value=total,
                promoters=counts["promoter"],
                passives=counts["passive"],
                detractors=counts["detractor"],
                silent=counts["silent"],
                detractor_value=value["detractor"],
                silent_value=value["silent"],
                at_risk=at_risk,
                share=at_risk / total if total > 0 else None,
                unknown_value=sum(1 for c in group if c.annual_value is None),
            )
        )
    return tuple(out)


def _utc_day(moment: dt.datetime | None) -> dt.date | None:
    """The UTC day of a stored moment. Engines differ in what they hand back: DuckDB an aware
    time, Spark a naive one in UTC (the session's zone), which ``astimezone`` would take for
    local time."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(dt.UTC).date()
