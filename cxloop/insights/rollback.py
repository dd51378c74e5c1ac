"""The roll-back watch: holding the gain of the improvement cycle (issue #12, point 4).

After each refresh of the fact store (:data:`cxloop.facts.signals.facts_refreshed`), every
touchpoint's mean rating is watched for a real drop below the level it held, by a lower
one-sided CUSUM (:func:`cxloop.analytics.control.rollback_watch`):

- **What is watched.** Answers of kind ``rating`` at the touchpoint (the fact store's
  ``answers.kind``/``touchpoint_id``/``score``), per period: their count, mean and standard
  deviation (of individual answers, pooled over the baseline by the watch).
- **Periods.** At the rhythm of the touchpoint's data (:func:`cxloop.insights.signals.rhythm`):
  calendar months, or quarters for ratings that arrive in survey waves. Months rather than
  weeks: the watch's benchmark (bench/README.md) measured both, and the journey map's control
  charts, the touchpoint page and the initiative's effect all read months; a month of a
  B2B touchpoint holds tens of answers where a week holds a handful, so the monthly watch
  keeps its normal approximation, and one false alarm per 460–580 watched months is about one
  per touchpoint in forty years. Only complete periods are watched (the one not over on
  ``today`` is left out), so an alert names a whole month. Quarterly data use the monthly
  design scaled to quarters: a baseline of :data:`QUARTER_BASELINE` quarters and a nominal
  in-control run length of :data:`QUARTER_ARL0` quarters (twenty years, as for months).
  A period with fewer than :data:`~cxloop.analytics.MIN_N` answers is skipped,
  as the control charts never let one signal: on the demo, whose ratings come in quarterly
  waves (about 950 answers in a wave month, 1–7 in the others), a monthly watch over every
  month alarmed on deadlines and invoice clarity in months of two to seven answers.
- **Baseline.** A touchpoint changed by a done initiative holds the level after the latest
  such initiative's ``effective_from`` (the first complete period from that day on), among
  the customers or teams of its scope (a segment; scope teams with the teams below them).
  A touchpoint without one whose standard changed (a version after its first, in force by
  ``today``: :class:`~cxloop.journeys.models.Standard`) holds the level after the latest
  change, among all customers: that is a recorded change to the touchpoint too, and against
  its whole history a touchpoint that rose would look like a drop in the periods before the
  rise (on the demo, the kick-off meeting's planted +0.7 in April 2025 alarmed in its first
  quarter, 2024-04, when watched against the whole history). Any other touchpoint is watched
  against its whole history.
- **The drop to catch** is :data:`SHIFT` rating points (ratings run 1–5): the same share of the
  scale as the half point on 0–10 that the watch was designed and benchmarked for.

An alarm is recorded once (:func:`cxloop.improvements.services.record_rollback_alert`) and
opens a high-priority closed-loop case (origin "roll-back alert") for the initiative's owner,
or, for a touchpoint without an initiative, for the touchpoint's team (its queue: no one
person owns a touchpoint, and the team's managers see and assign its cases).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cxloop.analytics.control import RollbackWatch, rollback_watch
from cxloop.cases.choices import Origin, Priority
from cxloop.cases.services import open_case
from cxloop.improvements.queries import watched_initiatives
from cxloop.improvements.services import (
    NewRollbackAlert,
    attach_rollback_case,
    record_rollback_alert,
)
from cxloop.insights.signals import MIN_N, QUARTER, Period, periods, rhythm
from cxloop.insights.store import FactStore, FactTables, Scope, get_store
from cxloop.journeys.models import Standard, Touchpoint
from cxloop.people.queries import subtree_ids

log = logging.getLogger(__name__)

__all__ = [
    "QUARTER_ARL0",
    "QUARTER_BASELINE",
    "SHIFT",
    "Alarm",
    "TouchpointWatch",
    "on_facts_refreshed",
    "record_alarms",
    "run_watch",
    "watch_touchpoints",
    "watches",
]

#: The drop in rating points (1–5) the watch is designed to catch.
SHIFT = 0.2
#: Quarterly data: quarters after a change that set the baseline, and the nominal in-control
#: average run length in quarters (the monthly design's six periods and twenty years).
QUARTER_BASELINE, QUARTER_ARL0 = 4, 80.0


@dataclass(frozen=True)
class TouchpointWatch:
    """One touchpoint's watch: the initiative whose level it holds (None: whole history), its
    periods and the :class:`~cxloop.analytics.control.RollbackWatch` over them."""

    touchpoint_id: int
    initiative_id: int | None
    change_from: dt.date | None  # the day of the change whose level is held (None: history)
    grain: str
    periods: tuple[Period, ...]
    means: np.ndarray
    counts: np.ndarray
    watch: RollbackWatch

    @property
    def alarm(self) -> Alarm | None:
        w = self.watch
        if w.alarm is None:
            return None
        i = w.alarm
        return Alarm(
            touchpoint_id=self.touchpoint_id,
            initiative_id=self.initiative_id,
            grain=self.grain,
            period=self.periods[i],
            episode=tuple(self.periods[j] for j in w.signals),
            baseline_since=dt.date.fromisoformat(self.periods[w.baseline[0]].start),
            baseline_until=dt.date.fromisoformat(self.periods[w.baseline[-1]].end),
            center=float(w.center),
            level=float(self.means[i]),
            answers=int(self.counts[i]),
            statistic=float(w.statistic[i]),
            limit=float(w.h),
        )


@dataclass(frozen=True)
class Alarm:
    """A watch's first alarming period and what it was compared with."""

    touchpoint_id: int
    initiative_id: int | None
    grain: str
    period: Period
    episode: tuple[Period, ...]
    baseline_since: dt.date
    baseline_until: dt.date
    center: float
    level: float
    answers: int
    statistic: float
    limit: float

    @property
    def month(self) -> str:
        """ "YYYY-MM" of the first month of the alarming period."""
        return self.period.start[:7]

    def to_new_alert(self) -> NewRollbackAlert:
        return NewRollbackAlert(
            touchpoint_id=self.touchpoint_id,
            initiative_id=self.initiative_id,
            grain=self.grain,
            period_start=dt.date.fromisoformat(self.period.start),
            period_end=dt.date.fromisoformat(self.period.end),
            baseline_since=self.baseline_since,
            baseline_until=self.baseline_until,
            center=self.center,
            level=self.level,
            answers=self.answers,
            statistic=self.statistic,
            limit=self.limit,
            episode=tuple(dt.date.fromisoformat(p.start) for p in self.episode),
        )


# --- reading the store ----------------------------------------------------------------------

# (touchpoint id, month) → (answers, sum of scores, sum of squared scores)
Moments = dict[tuple[int, str], tuple[int, float, float]]


def _moments(tables: FactTables, scope: Scope, touchpoint_ids: Sequence[int] | None) -> Moments:
    a = tables.answers
    a = a.filter(a.kind == "rating", a.touchpoint_id.notnull())
    if touchpoint_ids is not None:
        a = a.filter(a.touchpoint_id.isin(list(touchpoint_ids)))
    a = scope.filter(a, tables.segments)
    score = a.score.cast("float64")
    grouped = a.group_by([a.touchpoint_id, a.month]).aggregate(
        n=a.count(), s1=score.sum(), s2=(score * score).sum()
    )
    frame = grouped.to_pyarrow().to_pydict()
    return {
        (int(t), str(m)): (int(n), float(s1), float(s2))
        for t, m, n, s1, s2 in zip(
            frame["touchpoint_id"], frame["month"], frame["n"], frame["s1"], frame["s2"],
            strict=True,
        )
    }  # fmt: skip


def _scope_of(initiative) -> Scope:
    if initiative.scope == "segment" and initiative.segment_id is not None:
        return Scope(segment_id=initiative.segment_id)
    if initiative.scope == "teams":
        teams = {t for root in initiative.scope_teams.all() for t in subtree_ids(root.pk)}
        return Scope(team_ids=tuple(sorted(teams)))
    return Scope()


def _series(
    by_month: dict[str, tuple[int, float, float]], today: dt.date
) -> tuple[str, tuple[Period, ...], np.ndarray, np.ndarray, np.ndarray]:
    """Complete periods at the data's rhythm from the first month with answers up to
    ``today``: grain, periods, means, counts and sds (NaN where fewer than two answers)."""
    grain = rhythm({m: v[0] for m, v in by_month.items()})
    cut = [p for p in periods(min(by_month), f"{today:%Y-%m}", grain, as_of=today)]
    cut = tuple(p for p in cut if not p.partial)
    n = np.zeros(len(cut))
    s1 = np.zeros(len(cut))
    s2 = np.zeros(len(cut))
    for i, p in enumerate(cut):
        for m in p.months:
            if m in by_month:
                c, a, b = by_month[m]
                n[i] += c
                s1[i] += a
                s2[i] += b
    # As on the control charts, a period with fewer than MIN_N answers never signals:
    # it is left out (the CUSUM skips it) rather than read through a normal approximation
    # that a handful of answers does not support.
    few = n < MIN_N
    n[few], s1[few], s2[few] = 0.0, 0.0, 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(n > 0, s1 / n, np.nan)
        var = np.where(n >= 2, (s2 - s1 * s1 / np.where(n > 0, n, 1)) / (n - 1), np.nan)
    sds = np.sqrt(np.clip(var, 0.0, None))
    return grain, cut, means, n, sds


def _watch(
    touchpoint_id: int,
    initiative_id: int | None,
    by_month: dict[str, tuple[int, float, float]],
    today: dt.date,
    change_from: dt.date | None,
) -> TouchpointWatch | None:
    if not by_month:
        return None
    grain, cut, means, counts, sds = _series(by_month, today)
    if not cut or not (counts > 0).any():
        return None
    change = None
    if change_from is not None:
        after = [i for i, p in enumerate(cut) if dt.date.fromisoformat(p.start) >= change_from]
        if not after:
            return None  # no complete period after the change yet
        change = after[0]
    design = {}
    if grain == QUARTER:
        design = {"baseline": QUARTER_BASELINE, "arl0": QUARTER_ARL0}
    try:
        watch = rollback_watch(
            means, counts, sd=sds, change=change, rhythm="monthly", shift=SHIFT, **design
        )
    except ValueError as error:
        # E.g. every answer of the baseline the same score (no spread to judge a drop by).
        log.info("roll-back watch: touchpoint %s not watched: %s", touchpoint_id, error)
        return None
    return TouchpointWatch(
        touchpoint_id, initiative_id, change_from, grain, cut, means, counts, watch
    )


def watches(today: dt.date, *, store: FactStore | None = None) -> list[TouchpointWatch]:
    """Every touchpoint's watch as of ``today`` (see the module's docstring); touchpoints
    without rating answers, or whose baseline has no complete period yet, are left out."""
    store = store if store is not None else get_store()
    tables = store.tables()
    if tables is None:
        return []
    latest: dict[int, object] = {}
    for initiative in watched_initiatives():
        for touchpoint in initiative.touchpoints.all():
            latest[touchpoint.pk] = initiative  # ordered by effective_from: the last one wins
    everyone = _moments(tables, Scope(), None)
    grouped: dict[int, dict[str, tuple[int, float, float]]] = {}
    for (tp, month), value in everyone.items():
        grouped.setdefault(tp, {})[month] = value
    out: list[TouchpointWatch] = []
    known = set(Touchpoint.objects.values_list("pk", flat=True))
    changed = dict(
        Standard.objects.filter(version__gt=1, effective_from__lte=today)
        .values("touchpoint_id")
        .annotate(last=Max("effective_from"))
        .values_list("touchpoint_id", "last")
    )
    for tp in sorted(known - set(latest)):
        watch = _watch(tp, None, grouped.get(tp, {}), today, changed.get(tp))
        if watch is not None:
            out.append(watch)
    by_initiative: dict[int, tuple[object, list[int]]] = {}
    for tp, initiative in latest.items():
        by_initiative.setdefault(initiative.pk, (initiative, []))[1].append(tp)
    for initiative, tps in by_initiative.values():
        scope = _scope_of(initiative)
        scoped = everyone if scope == Scope() else _moments(tables, scope, tps)
        for tp in sorted(tps):
            by_month = {m: v for (t, m), v in scoped.items() if t == tp}
            watch = _watch(tp, initiative.pk, by_month, today, initiative.effective_from)
            if watch is not None:
                out.append(watch)
    return out


def watch_touchpoints(today: dt.date, *, store: FactStore | None = None) -> list[Alarm]:
    """The alarms of :func:`watches` as of ``today``: one per touchpoint whose watch alarmed
    (its first alarming period), by touchpoint."""
    found = [w.alarm for w in watches(today, store=store)]
    return sorted((a for a in found if a is not None), key=lambda a: a.touchpoint_id)


# --- recording -----------------------------------------------------------------------------


def _number(value: float, language: str) -> str:
    with translation.override(language):
        return formats.number_format(round(value, 2), 2)


def _title(alarm: Alarm, touchpoint: Touchpoint, language: str) -> str:
    with translation.override(language):
        return _("Roll-back: %(touchpoint)s fell from %(before)s to %(after)s") % {
            "touchpoint": touchpoint.name_en if language == "en" else touchpoint.name_ru,
            "before": _number(alarm.center, language),
            "after": _number(alarm.level, language),
        }


def _text(alarm: Alarm, touchpoint: Touchpoint, initiative, language: str) -> str:
    with translation.override(language):
        text = _(
            "The mean rating of %(touchpoint)s in the period from %(start)s to %(end)s was "
            "%(after)s (%(answers)s answers), below the level of %(before)s held from "
            "%(since)s to %(until)s: the roll-back watch found a real drop."
        ) % {
            "touchpoint": touchpoint.name,
            "start": formats.date_format(dt.date.fromisoformat(alarm.period.start)),
            "end": formats.date_format(dt.date.fromisoformat(alarm.period.end)),
            "after": _number(alarm.level, language),
            "answers": alarm.answers,
            "before": _number(alarm.center, language),
            "since": formats.date_format(alarm.baseline_since),
            "until": formats.date_format(alarm.baseline_until),
        }
        if initiative is not None:
            text += " " + _("The level was set by initiative %(initiative)s.") % {
                "initiative": str(initiative)
            }
    return text


def record_alarms(alarms: Iterable[Alarm], *, now: dt.datetime) -> list:
    """Record each alarm once and open its case, in one transaction: the
    :class:`~cxloop.improvements.models.RollbackAlert` records created now (none for an alarm
    already recorded, so a rerun after every refresh adds nothing)."""
    alarms = list(alarms)
    if not alarms:
        return []
    touchpoints = Touchpoint.objects.select_related("team").in_bulk(
        [a.touchpoint_id for a in alarms]
    )
    initiatives = {
        i.pk: i
        for i in watched_initiatives().select_related("owner", "team")
        if i.pk in {a.initiative_id for a in alarms}
    }
    created = []
    with transaction.atomic():
        for alarm in alarms:
            touchpoint = touchpoints.get(alarm.touchpoint_id)
            if touchpoint is None:
                continue
            alert = record_rollback_alert(alarm.to_new_alert(), now=now)
            if alert is None:
                continue
            initiative = initiatives.get(alarm.initiative_id)
            if initiative is not None:
                owner, team = initiative.owner, initiative.team
            else:
                owner, team = None, touchpoint.team
            case = open_case(
                origin=Origin.ROLLBACK,
                title=_title(alarm, touchpoint, "ru"),
                title_en=_title(alarm, touchpoint, "en"),
                owner=owner,
                team=team,
                touchpoints=[touchpoint],
                priority=Priority.HIGH,
                text=_text(alarm, touchpoint, initiative, settings.LANGUAGE_CODE),
                text_en=_text(alarm, touchpoint, initiative, "en"),
                now=now,
            )
            attach_rollback_case(alert, case)
            created.append(alert)
    return created


def run_watch(*, today: dt.date | None = None, now: dt.datetime | None = None, store=None) -> dict:
    """Watch every touchpoint and record new alarms; what it did, with its time in seconds."""
    started = time.perf_counter()
    now = now or timezone.now()
    today = today or now.astimezone(dt.UTC).date()
    alarms = watch_touchpoints(today, store=store)
    created = record_alarms(alarms, now=now)
    return {
        "alarms": len(alarms),
        "recorded": [a.pk for a in created],
        "seconds": round(time.perf_counter() - started, 3),
    }


# The UTC day of this process's last watch after a refresh (see on_facts_refreshed).
_watched_on: dt.date | None = None


def on_facts_refreshed(sender, *, written=None, **kwargs) -> None:
    """Receiver of :data:`cxloop.facts.signals.facts_refreshed`: run the watch on the new
    version of the store (``settings.ROLLBACK_WATCH`` False turns it off).

    Under a steady stream of answers the store is refreshed every few seconds, each time for
    the current month alone; the watch reads complete periods only, so such a refresh cannot
    change what it finds. It is skipped then, except for the first refresh of a UTC day in this
    process (a month that has just ended, a standard that took effect today)."""
    global _watched_on
    if not getattr(settings, "ROLLBACK_WATCH", True):
        return
    now = timezone.now()
    today = now.astimezone(dt.UTC).date()
    if _watched_on == today and written is not None and _only_open_months(written, today):
        return
    _watched_on = today
    result = run_watch(today=today, now=now)
    log.info("roll-back watch: %s", result)


def _only_open_months(written, today: dt.date) -> bool:
    """Whether a refresh wrote and removed only months not over on ``today``."""
    current = f"{today:%Y-%m}"
    return all(month >= current for month in (*written.months, *written.removed))
