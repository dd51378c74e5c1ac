"""One customer's (or contact's) NPS history: a few dozen answers, by calendar quarter, each
quarter with its interval — small enough to read from the database on the customer's page."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from cxloop.analytics.results import Estimate
from cxloop.analytics.scores import nps_from_counts
from cxloop.insights import charts
from cxloop.surveys.bands import band_of
from cxloop.surveys.queries import nps_answers


@dataclass(frozen=True)
class QuarterNps:
    """NPS of the answers given in one quarter (``year``, ``quarter`` 1–4), with its 95 %
    adjusted-Wald interval; ``since`` and ``until`` are its first and last days (ISO dates),
    as the response list's filters take them, for a link to the responses behind it."""

    year: int
    quarter: int
    estimate: Estimate
    since: str
    until: str

    @property
    def label(self) -> str:
        return f"{self.year} Q{self.quarter}"


def nps_history(*, customer_id: int | None = None, contact_id: int | None = None) -> list:
    """:class:`QuarterNps` per quarter with at least one NPS answer, oldest first."""
    counts: dict[tuple[int, int], list[int]] = {}
    for submitted_at, score in nps_answers(customer_id=customer_id, contact_id=contact_id):
        day = timezone.localtime(submitted_at).date()
        key = (day.year, (day.month - 1) // 3 + 1)
        promoters, detractors, n = counts.setdefault(key, [0, 0, 0])
        band = band_of("nps", score)
        counts[key] = [
            promoters + (band == "promoter"),
            detractors + (band == "detractor"),
            n + 1,
        ]
    history = []
    for (year, quarter), (promoters, detractors, n) in sorted(counts.items()):
        first_month = 3 * quarter - 2
        end_year, end_month = (year + 1, 1) if quarter == 4 else (year, first_month + 3)
        history.append(
            QuarterNps(
                year=year,
                quarter=quarter,
                estimate=nps_from_counts(promoters, detractors, n),
                since=f"{year:04d}-{first_month:02d}-01",
                until=(dt.date(end_year, end_month, 1) - dt.timedelta(days=1)).isoformat(),
            )
        )
    return history


FEW = 5  # answers in a quarter under which its point is drawn hollow: the interval is too wide


def nps_history_chart(history: list[QuarterNps], *, href: str, today: dt.date) -> dict:
    """The quarters of :func:`nps_history` as a trend chart: a point per quarter with its
    interval; a quarter with fewer than :data:`FEW` answers, or not over on ``today``, hollow;
    a click on a point opens the responses behind it (``href`` is the response list's path
    with the customer's or contact's filter, to which the scale and the quarter are added)."""
    points = [
        {
            "period": point.since,
            "value": point.estimate.value,
            "low": point.estimate.low,
            "high": point.estimate.high,
            "n": point.estimate.n,
            "low_n": point.estimate.n < FEW,
            "partial": point.until >= today.isoformat(),
            "href": f"{href}&kind=nps&since={point.since}&until={point.until}",
        }
        for point in history
    ]
    return charts.trend(points, title=_("NPS by quarter"), y_title=_("NPS"), domain=(-100, 100))
