"""Reward plan arithmetic: a person's payout as a share of their target bonus, line by line.

Pure Python, no Django: a plan (:class:`Plan`) is a basket of metric lines, each with a weight, a
threshold, a target and a maximum; :func:`payout` turns what was measured (:class:`Measured`)
into a :class:`Payout` whose every line can be checked by hand.

The payout curve of a line (the practitioners' usual "threshold – target – stretch" curve)::

    value below the threshold              → 0
    threshold → target, linearly           → threshold_payout (say 50 %) → 100 %
    target → maximum, linearly             → 100 % → max_payout (say 150 %)
    at or above the maximum                → max_payout (flat)

For a metric where lower is better (hours to first contact) the same curve runs the other way:
the threshold is the highest value that still pays and the maximum the lowest.

A line whose figure is missing, or rests on fewer survey answers than the plan's ``min_n``,
takes the team's figure (``fallback="team"``) where the team has enough, else it is dropped; a
dropped line's weight goes to the others in proportion to theirs (weights are always divided by
the sum of the weights of the lines that count). The total is the sum of the weighted lines,
capped at ``cap`` where the plan has one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FALLBACKS = ("team", "drop")
BASES = ("raw", "shrunk", "lower_bound")
SOURCES = ("own", "team", "dropped")


@dataclass(frozen=True)
class Line:
    """One metric of a plan: ``weight`` > 0 (any unit: they are divided by their sum);
    ``threshold``, ``target`` and ``maximum`` in the metric's own unit, in the order of the
    metric's direction (``higher_is_better``: threshold ≤ target ≤ maximum; else ≥). ``survey``:
    the figure is an estimate from answers, so the plan's ``min_n`` and ``basis`` apply."""

    key: str
    weight: float
    threshold: float
    target: float
    maximum: float
    higher_is_better: bool = True
    survey: bool = False

    def __post_init__(self) -> None:
        for name in ("weight", "threshold", "target", "maximum"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{self.key}: {name} must be a finite number, got {value!r}")
        if self.weight <= 0:
            raise ValueError(f"{self.key}: weight must be above 0, got {self.weight}")
        sign = 1 if self.higher_is_better else -1
        if not sign * self.threshold <= sign * self.target <= sign * self.maximum:
            order = "≤" if self.higher_is_better else "≥"
            raise ValueError(
                f"{self.key}: threshold {order} target {order} maximum is needed, got "
                f"{self.threshold}, {self.target}, {self.maximum}"
            )


@dataclass(frozen=True)
class Plan:
    """The arithmetic of a reward plan. ``threshold_payout`` and ``max_payout``: the share of a
    line paid at its threshold and at its maximum (0.5 and 1.5: 50 % and 150 %); ``cap``: the
    highest total share (None: no cap); ``min_n``: fewer survey answers than this and the own
    figure is not used; ``fallback``: "team" (use the team's figure) or "drop" (drop the line,
    rescale the others); ``basis``: which figure of a survey metric counts — "raw", "shrunk"
    (empirical Bayes) or "lower_bound" (the cautious end of the 95 % interval)."""

    lines: tuple[Line, ...]
    threshold_payout: float = 0.5
    max_payout: float = 1.5
    cap: float | None = None
    min_n: int = 10
    fallback: str = "team"
    basis: str = "raw"

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError("a plan needs at least one metric")
        keys = [line.key for line in self.lines]
        if len(set(keys)) != len(keys):
            raise ValueError(f"a metric appears twice in the plan: {', '.join(keys)}")
        if not 0 <= self.threshold_payout <= 1:
            raise ValueError(f"threshold_payout must be from 0 to 1, got {self.threshold_payout}")
        if self.max_payout < 1:
            raise ValueError(f"max_payout must be at least 1, got {self.max_payout}")
        if self.cap is not None and self.cap < 0:
            raise ValueError(f"cap must be 0 or more, got {self.cap}")
        if self.min_n < 0:
            raise ValueError(f"min_n must be 0 or more, got {self.min_n}")
        if self.fallback not in FALLBACKS:
            raise ValueError(
                f"fallback must be one of {', '.join(FALLBACKS)}, got {self.fallback!r}"
            )
        if self.basis not in BASES:
            raise ValueError(f"basis must be one of {', '.join(BASES)}, got {self.basis!r}")


@dataclass(frozen=True)
class Figure:
    """A measured figure: ``value`` (None: no data), the answers or cases behind it ``n``, and
    for survey metrics the shrunk value and the 95 % interval (None where not estimated)."""

    value: float | None
    n: int = 0
    shrunk: float | None = None
    low: float | None = None
    high: float | None = None

    def on(self, basis: str, *, higher_is_better: bool) -> float | None:
        """The figure on ``basis``: the raw value, the shrunk one, or the interval's end that
        is least flattering (the low end where higher is better)."""
        if basis == "shrunk":
            return self.shrunk
        if basis == "lower_bound":
            return self.low if higher_is_better else self.high
        return self.value


def pooled(figures, *, additive: bool) -> Figure:
    """One figure for a whole organisation from its teams' ``figures``: the sum where the
    metric is a count (``additive``), else the mean of the teams' values weighted by the
    answers or cases each rests on, which is the pooled figure for an NPS or a per cent (both
    are means over answers or cases) and an approximation for a median. Teams without a value
    are left out; nothing to shrink toward and no interval at this level, so ``shrunk`` is the
    value and ``low``/``high`` are None."""
    found = [f for f in figures if f.value is not None and (additive or f.n > 0)]
    if not found:
        return Figure(None, 0)
    n = sum(f.n for f in found)
    value = sum(f.value for f in found) if additive else sum(f.value * f.n for f in found) / n
    return Figure(value, n, shrunk=value)


@dataclass(frozen=True)
class Measured:
    """What was measured for one person: their own figure and their team's, by metric key."""

    own: dict[str, Figure]
    team: dict[str, Figure]


@dataclass(frozen=True)
class LineResult:
    """One line of a payout. ``source``: "own", "team" or "dropped"; ``value``: the figure used
    (None when dropped); ``achievement``: the line's share paid (0 … max_payout);
    ``weight``: as on the plan; ``share``: the weight after rescaling (the lines that count sum
    to 1); ``weighted`` = achievement × share."""

    key: str
    source: str
    value: float | None
    n: int
    achievement: float
    weight: float
    share: float
    weighted: float

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "source": self.source,
            "value": self.value,
            "n": self.n,
            "achievement": self.achievement,
            "weight": self.weight,
            "share": self.share,
            "weighted": self.weighted,
        }

    @classmethod
    def from_dict(cls, data: dict) -> LineResult:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Payout:
    """A person's payout as a share of their target bonus: ``uncapped`` (the sum of the weighted
    lines) and ``total`` (after the cap); ``capped`` and ``rescaled`` (a line was dropped) say
    why they differ from a plain sum of weights."""

    lines: tuple[LineResult, ...]
    uncapped: float
    total: float
    capped: bool
    rescaled: bool


def achievement(value: float, line: Line, *, threshold_payout: float, max_payout: float) -> float:
    """The share of a line paid for ``value`` on the threshold–target–maximum curve (see the
    module); lower-is-better metrics are mirrored."""
    sign = 1 if line.higher_is_better else -1
    v, threshold, target, maximum = (
        sign * value,
        sign * line.threshold,
        sign * line.target,
        sign * line.maximum,
    )
    if v < threshold:
        return 0.0
    if v < target:
        return threshold_payout + (1 - threshold_payout) * (v - threshold) / (target - threshold)
    if maximum == target:
        return 1.0
    return min(max_payout, 1 + (max_payout - 1) * (v - target) / (maximum - target))


def _usable(figure: Figure | None, line: Line, plan: Plan) -> float | None:
    if figure is None:
        return None
    if line.survey:
        if figure.n < plan.min_n:
            return None
        return figure.on(plan.basis, higher_is_better=line.higher_is_better)
    return figure.value


def _choose(line: Line, plan: Plan, measured: Measured) -> tuple[str, float | None, int]:
    own = measured.own.get(line.key)
    value = _usable(own, line, plan)
    if value is not None:
        return "own", value, own.n
    if plan.fallback == "team":
        team = measured.team.get(line.key)
        value = _usable(team, line, plan)
        if value is not None:
            return "team", value, team.n
    return "dropped", None, own.n if own is not None else 0


def payout(plan: Plan, measured: Measured) -> Payout:
    """The payout of one person under ``plan`` for what was ``measured``.

    Each line takes the own figure, else (fallback "team") the team's, else is dropped; its
    achievement comes from :func:`achievement`; its share is its weight over the sum of the
    weights of the lines not dropped; the total is Σ achievement × share, capped at
    ``plan.cap``. With every line dropped the total is 0.
    """
    chosen = [(line, *_choose(line, plan, measured)) for line in plan.lines]
    counted = sum(line.weight for line, source, _, _ in chosen if source != "dropped")
    results = []
    for line, source, value, n in chosen:
        if source == "dropped":
            results.append(LineResult(line.key, source, None, n, 0.0, line.weight, 0.0, 0.0))
            continue
        paid = achievement(
            value, line, threshold_payout=plan.threshold_payout, max_payout=plan.max_payout
        )
        share = line.weight / counted
        results.append(
            LineResult(line.key, source, value, n, paid, line.weight, share, paid * share)
        )
    uncapped = sum(result.weighted for result in results)
    total = uncapped if plan.cap is None else min(uncapped, plan.cap)
    return Payout(
        lines=tuple(results),
        uncapped=uncapped,
        total=total,
        capped=total < uncapped,
        rescaled=any(result.source == "dropped" for result in results),
    )
