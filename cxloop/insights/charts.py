"""Vega-Lite specifications for the journey map, dashboards and reports.

Each builder takes plain data — a sequence of mappings or dataclasses holding str, int, float,
bool and dates as ISO strings — and returns a Vega-Lite v6 specification as a plain dict: a page
puts it in ``front/includes/chart.html`` (drawn by the vendored vega-embed through
``front/charts.js``), a report can hand it to vl-convert.

Every string a reader sees (titles, axis, legend and tooltip titles, the accessible description)
goes through gettext, so a spec is in the language active when it is built. Numbers and dates
drawn inside a chart are formatted by the browser with the page's locale (``charts.js``); only
the numbers in the text description are formatted here. Data with nothing to draw gives a valid
spec that says "No data"; malformed data raises ``ValueError`` naming the argument, the item
and the value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from numbers import Integral, Real
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

__all__ = [
    "STATUSES",
    "comparison",
    "control_chart",
    "distribution",
    "emotion_curve",
    "portfolio",
    "quadrant",
    "sparkline",
    "trend",
]

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier; never fetched

# The Okabe–Ito colour-blind-safe palette, keeping only its colours with at least 3:1 contrast
# on white (WCAG 1.4.11, non-text contrast), and two greys that pass too.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREEN = "#009E73"
GREY = "#737373"
INK = "#1A1A1A"
PALETTE = [BLUE, VERMILLION, GREEN, GREY, INK]

STATUSES = ("promoter", "passive", "detractor", "silent")
NO_SCORE = -2  # the portfolio draws customers without a score on a row of their own, below 0
_MISSING = object()
# Vega-Lite gives error bars and bands a tooltip of their own, titled with raw field names
# ("low", "high") that no gettext reaches; the points beside them carry the translated one.
_NO_TIP = {"tooltip": None}
# Marks left out of the accessibility tree because the points (or bars) beside them are read
# out with the same numbers: a line would be read as its first point alone, and an error bar
# by Vega-Lite's own names for its fields ("upper_low").
_UNREAD = {"aria": False}
# A click on a mark opens its row's "href" (the responses behind it); rows without one do nothing.


def _href(item: Any, where: str) -> str | None:
    """An item's optional link: a path on this site, never another site's address."""
    href = _field(item, "href", where, None)
    if href is not None and (not isinstance(href, str) or not href.startswith("/")):
        raise ValueError(f"{where}.href is {href!r}; expected a path on this site ('/…')")
    return href


def _link(rows: list[dict[str, Any]]) -> dict:
    """The ``href`` channel when a row has a link (a click opens it; the title names it for
    screen readers); nothing otherwise, so that no mark announces a missing link."""
    if not any(row.get("href") for row in rows):
        return {}
    return {"href": {"field": "href", "type": "nominal", "title": _("Responses behind it")}}


def _known(tips: list[dict], rows: list[dict[str, Any]]) -> list[dict]:
    """The tooltip fields that some row fills: a tooltip (and what a screen reader says of a
    mark) never lists "n: null" or an empty note."""
    return [
        tip
        for tip in tips
        if tip["field"] not in ("n", "note") or any(row.get(tip["field"]) for row in rows)
    ]


# --- reading the input -------------------------------------------------------------------------


def _sequence(items: Any, where: str) -> list[Any]:
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
        raise ValueError(f"{where} must be a sequence, got {type(items).__name__}")
    return list(items)


def _field(item: Any, key: str, where: str, default: Any = _MISSING) -> Any:
    """``item[key]`` of a mapping or ``item.key`` of a dataclass."""
    value = item.get(key, default) if isinstance(item, Mapping) else getattr(item, key, default)
    if value is _MISSING:
        raise ValueError(f"{where} has no {key!r}")
    return value


def _number(value: Any, where: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        expected = "a finite number or None" if optional else "a finite number"
        raise ValueError(f"{where} is {value!r}; expected {expected}")
    return float(value)


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"{where} is {value!r}; expected a whole number, 0 or more")
    return int(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where} is {value!r}; expected a non-empty string")
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{where} is {value!r}; expected True or False")
    return value


def _period(value: Any, where: str) -> str:
    """The date a period starts on, as "YYYY-MM-DD": the form every browser parses alike."""
    if isinstance(value, date):  # a datetime too: the period is its day
        return value.isoformat()[:10]
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise ValueError(f"{where} is {value!r}; expected an ISO date such as '2025-01-31'")


def _distinct(names: list[str], where: str) -> None:
    # A nominal axis merges equal names into one mark, which would misreport both.
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{where} repeat {repeated}; each must be distinct")


def _estimate(item: Any, where: str) -> dict[str, Any]:
    """value, low, high and n of an item with an interval; a value of None leaves a gap."""
    value = _number(_field(item, "value", where), f"{where}.value", optional=True)
    low = _number(_field(item, "low", where, None), f"{where}.low", optional=True)
    high = _number(_field(item, "high", where, None), f"{where}.high", optional=True)
    n = _field(item, "n", where, None)
    if value is not None and (low is None or high is None):
        raise ValueError(f"{where} has a value but no interval (low and high)")
    if low is not None and high is not None and low > high:
        raise ValueError(f"{where} has low {low} above high {high}")
    return {"value": value, "low": low, "high": high, "n": None if n is None else _count(n, where)}


def _series(points: Any, where: str) -> list[dict[str, Any]]:
    """period and value of each point."""
    rows = []
    for i, point in enumerate(_sequence(points, where)):
        at = f"{where}[{i}]"
        value = _number(_field(point, "value", at), f"{at}.value", optional=True)
        rows.append(
            {"period": _period(_field(point, "period", at), f"{at}.period"), "value": value}
        )
    return rows


def _limit(limit: Any, count: int, where: str) -> list[float | None]:
    """A control limit: one number for all points, or one per point (None leaves a gap)."""
    if isinstance(limit, Real):
        return [_number(limit, where)] * count
    values = _sequence(limit, where)
    if len(values) != count:
        raise ValueError(f"{where} has {len(values)} values for {count} points")
    return [_number(v, f"{where}[{i}]", optional=True) for i, v in enumerate(values)]


def _y_scale(domain: Any, where: str) -> dict[str, Any]:
    if domain is None:
        return _fitted()
    bounds = [_number(v, where) for v in _sequence(domain, where)]
    if len(bounds) != 2 or not bounds[0] < bounds[1]:
        raise ValueError(f"{where} is {domain!r}; expected (low, high) with low < high")
    # Clamped: an interval of a month with two answers may reach past the scale's ends, and
    # would otherwise be drawn over the axes and the rest of the page.
    return {"domain": bounds, "nice": False, "clamp": True}


# --- words for the description ------------------------------------------------------------------


def _show(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return _("no data")
    return number_format(value, decimal_pos=decimals, force_grouping=decimals == 0)


def _periods(count: int) -> str:
    return ngettext("%(count)d period.", "%(count)d periods.", count) % {"count": count}


def _latest(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((row for row in reversed(rows) if row["value"] is not None), None)


def _with_interval(row: dict[str, Any]) -> str:
    if row["value"] is None:
        return _("no data")
    return _("%(value)s (interval %(low)s to %(high)s)") % {
        "value": _show(row["value"]),
        "low": _show(row["low"]),
        "high": _show(row["high"]),
    }


# --- building blocks of a spec ------------------------------------------------------------------


def _spec(description: str, values: list[dict[str, Any]], *, height: Any, **body: Any) -> dict:
    return {
        "$schema": SCHEMA,
        "description": description,
        "width": "container",
        "height": height,
        "data": {"values": values},
        **body,
        "config": {
            "range": {"category": PALETTE},
            "mark": {"color": BLUE},
            # Below the plot, not beside it: on a phone a legend at the side took half the
            # width of a chart whose labels took the other half; one entry a line, so that no
            # entry runs off its edge.
            "legend": {"orient": "bottom", "direction": "vertical"},
            # Dates read out with each mark: day first, as both languages write them.
            "timeFormat": "%-d %b %Y",
        },
    }


def _no_data(height: int, **body: Any) -> dict:
    return _spec(
        _("No data to show."),
        [{"text": _("No data")}],
        height=height,
        # Left out of the accessibility tree: the chart's description says the same.
        mark={"type": "text", "color": INK, "fontSize": 13, "aria": False},
        encoding={"text": {"field": "text", "type": "nominal"}},
        **body,
    )


def _alone() -> dict:
    # The data of a layer drawn once (a rule, a caption), not once per row of the chart's data.
    return {"values": [{}]}


def _monthly(rows: list[dict[str, Any]]) -> bool:
    """Every period starts on the first of a month: months or quarters, labelled by month."""
    return bool(rows) and all(row["period"].endswith("-01") for row in rows)


def _quarter_format() -> str:
    # d3's %q is the quarter 1–4; translated, as Russian writes "3 кв. 2026".
    return _("Q%q %Y")


def _period_x(count: int, *, monthly: bool = False, grain: str | None = None) -> dict:
    return {
        "field": "period",
        "type": "temporal",
        # UTC: the periods are calendar dates, which must not shift with the reader's time zone.
        "scale": {"type": "utc"},
        "title": _("Period"),  # read out with each point; the axis needs none
        "axis": {
            "title": None,
            # No more ticks than periods, so that monthly data is not labelled by the week.
            "tickCount": min(count, 8),
            # Months and quarters with their year, the full nominative month ("май 2026", not
            # the short genitive "мая" of a date); days before the month, which
            # reads right in Russian and English alike.
            "format": (
                _quarter_format()
                if grain == "quarter"
                else "%B %Y"
                if monthly
                else {"week": "%-d %b", "date": "%-d %b"}
            ),
            # Labels that would touch are left out rather than drawn over each other.
            "labelOverlap": "greedy",
            "labelSeparation": 6,
        },
    }


def _period_tip(*, monthly: bool = False, grain: str | None = None) -> dict:
    return {
        "field": "period",
        "type": "temporal",
        "timeUnit": "utcyearmonthdate",
        "format": _quarter_format() if grain == "quarter" else "%B %Y" if monthly else "%-d %b %Y",
        "title": _("Period"),
    }


def _extras(point: Any, where: str) -> dict[str, Any]:
    """The optional honesty fields of a point: ``low_n`` (too few answers: drawn hollow),
    ``partial`` (the period is not over: drawn hollow, joined by a dashed line, marked
    "partial"), ``href`` (a click opens the responses behind the point) and the ``note`` its
    tooltip shows."""
    low_n = _flag(_field(point, "low_n", where, False), f"{where}.low_n")
    partial = _flag(_field(point, "partial", where, False), f"{where}.partial")
    href = _href(point, where)
    if partial:
        note = _("Partial: the period is not over yet")
    elif low_n:
        note = _("Too few answers to read a change")
    else:
        note = ""
    return {"low_n": low_n, "partial": partial, "solid": not (low_n or partial), "href": href,
            "note": note}  # fmt: skip


def _joined(rows: list[dict[str, Any]]) -> None:
    """Mark the last complete point before a partial one (``joins``): the dashed segment to
    the partial point starts there."""
    for i, row in enumerate(rows):
        row["joins"] = row["partial"] or (
            i + 1 < len(rows) and rows[i + 1]["partial"] and row["value"] is not None
        )


def _drawn(rows: list[dict[str, Any]], flag: str) -> bool:
    """Some row with a value has ``flag``: a layer filtered to it has something to draw (an
    empty layer makes Vega warn of an infinite extent)."""
    return any(row[flag] and row["value"] is not None for row in rows)


def _honest_layers(
    y: dict, tips: list[dict], rows: list[dict[str, Any]], *, size: int = 60, caption: bool = True
) -> list[dict]:
    """The line and points of a series: solid between complete periods, dashed to the partial
    one; filled points where the period counts, hollow where it has too few answers or is not
    over, with a "partial" caption above the partial point; a click opens a point's ``href``."""
    link = _link(rows)
    tips = _known(tips, rows)
    for row in rows:
        row["complete"] = not row["partial"]
        row["hollow"] = not row["solid"]
    layers = []
    if _drawn(rows, "complete"):
        layers.append(
            {
                "transform": [{"filter": "!datum.partial"}],
                "mark": {"type": "line", **_UNREAD},
                "encoding": {"y": y},
            }
        )
    if _drawn(rows, "partial"):
        layers.append(
            {
                "transform": [{"filter": "datum.joins"}],
                "mark": {"type": "line", "strokeDash": [4, 3], **_UNREAD},
                "encoding": {"y": y},
            }
        )
    if _drawn(rows, "solid"):
        layers.append(
            {
                "transform": [{"filter": "datum.solid"}],
                "mark": {**_dot(size), "cursor": "pointer"},
                "encoding": {"y": y, "tooltip": tips, **link},
            }
        )
    if _drawn(rows, "hollow"):
        layers.append(
            {
                "transform": [{"filter": "!datum.solid"}],
                "mark": {
                    "type": "point",
                    "filled": False,
                    "size": size,
                    "opacity": 1,
                    "strokeWidth": 2,
                    "cursor": "pointer",
                },
                "encoding": {"y": y, "tooltip": tips, **link},
            }  # fmt: skip
        )
    if caption and _drawn(rows, "partial"):
        layers.append(
            {
                "transform": [{"filter": "datum.partial"}],
                "mark": {"type": "text", "dy": -12, "fontSize": 11, "color": INK, **_UNREAD},
                "encoding": {"y": y, "text": {"datum": _("partial")}},
            }
        )
    return layers


def _tip(field: str, title: str, number: str = ",.1f") -> dict:
    return {"field": field, "type": "quantitative", "format": number, "title": title}


def _dot(size: int = 60) -> dict:
    # Opaque: Vega-Lite draws filled points at 0.7 opacity, which would fade the palette's contrast.
    return {"type": "point", "filled": True, "size": size, "opacity": 1}


def _fitted(padding: int = 12) -> dict:
    # Not from zero: scores move within a narrow range. The padding (in pixels) keeps the
    # extreme points clear of the axes.
    return {"zero": False, "padding": padding}


def _label_tip(field: str, title: str) -> dict:
    return {"field": field, "type": "nominal", "title": title}


def _interval_tips() -> list[dict]:
    return [
        _tip("low", _("Interval low")),
        _tip("high", _("Interval high")),
        _tip("n", _("Responses"), ",d"),
    ]


def _note_tip() -> dict:
    return _label_tip("note", _("Note"))


def _legend(
    field: str, title: str, domain: list[str], range_: list[str], *, titled: bool = True
) -> dict:
    """A colour or shape for each of ``domain``; ``title`` is read out with each mark even where
    the legend shows none."""
    legend = {} if titled else {"legend": {"title": None}}
    return {
        "field": field,
        "type": "nominal",
        "title": title,
        "scale": {"domain": domain, "range": range_},
        **legend,
    }


# --- the charts ---------------------------------------------------------------------------------


def sparkline(points: Sequence[Any], *, grain: str | None = None) -> dict:
    """A tiny trend line with no axes, its latest value marked.

    ``points``: items with ``period`` (the ISO date a period starts) and ``value`` (a number,
    or None for a period without data), optionally ``n``, ``low_n``, ``partial`` and ``href``
    as for :func:`trend` (hollow points, a dashed last segment, a link per point).
    ``grain="quarter"`` labels the periods as quarters (a survey in quarterly waves).
    """
    rows = []
    for i, point in enumerate(_sequence(points, "sparkline: points")):
        at = f"sparkline: points[{i}]"
        rows.append(
            {
                "period": _period(_field(point, "period", at), f"{at}.period"),
                "value": _number(_field(point, "value", at), f"{at}.value", optional=True),
                "n": _field(point, "n", at, None),
                **_extras(point, at),
            }
        )
    _joined(rows)
    latest = _latest([row for row in rows if not row["partial"]]) or _latest(rows)
    if latest is None:
        return _no_data(32)
    description = " ".join(
        [_periods(len(rows)), _("Latest value %(value)s.") % {"value": _show(latest["value"])}]
    )
    monthly = _monthly(rows)
    x = {**_period_x(len(rows), monthly=monthly, grain=grain), "axis": None}
    y = {
        "field": "value",
        "type": "quantitative",
        "scale": {"zero": False},
        "axis": None,
        "title": _("Value"),  # read out with the points, though no axis shows it
    }
    tips = [_period_tip(monthly=monthly, grain=grain), _tip("value", _("Value"), ",.2f"),
            _tip("n", _("Responses"), ",d"), _note_tip()]  # fmt: skip
    layers = _honest_layers(y, tips, rows, size=24, caption=False)  # no room in 32 pixels
    return _spec(
        description,
        rows,
        height=32,
        padding=3,
        view={"stroke": None},
        encoding={"x": x},
        layer=layers,
    )


def trend(
    points: Sequence[Any],
    *,
    title: str,
    y_title: str,
    domain: Sequence[float] | None = None,
    grain: str | None = None,
) -> dict:
    """A score per period: a line with a point per period and its interval as a band.

    ``points``: items with ``period`` (ISO date the period starts), ``value``, ``low``,
    ``high`` (numbers; value None for a period without data), optionally ``n`` and the
    honesty fields ``low_n`` (too few answers: a hollow point), ``partial`` (the current,
    incomplete period: hollow, joined by a dashed line and marked "partial") and ``href`` (a
    click on the point opens the responses behind it). Periods that start on the first of a
    month are labelled by month and year. ``title`` and ``y_title`` come translated from the
    caller; ``domain`` fixes the y scale, e.g. ``(-100, 100)`` for NPS; ``grain="quarter"``
    labels the periods as quarters (a survey in quarterly waves).
    """
    scale = _y_scale(domain, "trend: domain")
    rows = []
    for i, point in enumerate(_sequence(points, "trend: points")):
        where = f"trend: points[{i}]"
        period = _period(_field(point, "period", where), f"{where}.period")
        rows.append({"period": period, **_estimate(point, where), **_extras(point, where)})
    _joined(rows)
    complete = [row for row in rows if not row["partial"]]
    latest = _latest(complete) or _latest(rows)
    if latest is None:
        return _no_data(240, title=title)
    description = " ".join(
        [
            f"{title}.",
            _periods(len(rows)),
            _("Latest value %(value)s.") % {"value": _with_interval(latest)},
        ]
    )
    if any(row["partial"] for row in rows):
        description += " " + _("The last period is not over yet.")
    monthly = _monthly(rows)
    y = {"field": "value", "type": "quantitative", "scale": scale, "title": y_title}
    tips = [
        _period_tip(monthly=monthly, grain=grain),
        _tip("value", y_title),
        *_interval_tips(),
        _note_tip(),
    ]
    return _spec(
        description,
        rows,
        height=240,
        title=title,
        encoding={"x": _period_x(len(rows), monthly=monthly, grain=grain)},
        layer=[
            *(
                [
                    {
                        "transform": [{"filter": "!datum.low_n"}],
                        "mark": {
                            "type": "errorband",
                            "band": _UNREAD,
                            "borders": {"strokeDash": [3, 2], **_UNREAD},
                        },
                        "encoding": {
                            "y": {**y, "field": "low"},
                            "y2": {"field": "high"},
                            **_NO_TIP,
                        },
                    }
                ]
                if any(not row["low_n"] and row["value"] is not None for row in rows)
                else []
            ),
            *_honest_layers(y, tips, rows),
        ],
    )


def control_chart(
    points: Sequence[Any],
    centre: float,
    lower: float | Sequence[float | None],
    upper: float | Sequence[float | None],
    signals: Sequence[int],
    *,
    title: str | None = None,
    y_title: str | None = None,
    grain: str | None = None,
) -> dict:
    """A control chart: the statistic per period, the centre line, the control limits, and the
    points that signal drawn apart (another colour and shape).

    ``points``: items with ``period`` (ISO date) and ``value`` (the plotted statistic; None for
    a period without data), optionally ``n`` and ``low_n``, ``partial``, ``href`` as for
    :func:`trend` (a period with too few answers or not over yet is hollow and never a signal).
    ``lower``, ``upper``: one number, or one per point (the limits of a p-chart vary with n).
    ``signals``: 0-based indices of the points that signal, as in
    ``cxloop.analytics.control.ControlChart.signals``; ``grain="quarter"`` labels quarters.
    ``title``, ``y_title``: translated by the caller; generic ones by default.
    """
    title = title or _("Control chart")
    y_title = y_title or _("Value")
    rows = _series(points, "control_chart: points")
    for i, (row, point) in enumerate(
        zip(rows, _sequence(points, "control_chart: points"), strict=True)
    ):
        where = f"control_chart: points[{i}]"
        n = _field(point, "n", where, None)
        row.update(n=None if n is None else _count(n, f"{where}.n"), **_extras(point, where))
    _joined(rows)
    centre = _number(centre, "control_chart: centre")
    lows = _limit(lower, len(rows), "control_chart: lower")
    highs = _limit(upper, len(rows), "control_chart: upper")
    flagged = sorted(
        {
            _count(index, f"control_chart: signals[{k}]")
            for k, index in enumerate(_sequence(signals, "control_chart: signals"))
        }
    )
    stray = [
        i for i in flagged if i >= len(rows) or rows[i]["value"] is None or not rows[i]["solid"]
    ]
    if stray:
        raise ValueError(f"control_chart: signals {stray} point at no plotted value")
    if _latest(rows) is None:
        return _no_data(240, title=title)
    signal, no_signal, status = _("Signal"), _("No signal"), _("Status")
    for i, row in enumerate(rows):
        flag = i in flagged
        state = signal if flag else no_signal
        row.update(centre=centre, lower=lows[i], upper=highs[i], signal=flag, state=state)
    y = {"type": "quantitative", "scale": _fitted(), "title": y_title}
    limit = {"type": "line", "interpolate": "step", "color": GREY, "strokeDash": [4, 3], **_UNREAD}
    tips = [
        _period_tip(),
        _tip("value", y_title, ",.3~f"),
        _tip("centre", _("Centre line"), ",.3~f"),
        _tip("lower", _("Lower control limit"), ",.3~f"),
        _tip("upper", _("Upper control limit"), ",.3~f"),
        _tip("n", _("Responses"), ",d"),
        _label_tip("state", status),
        _note_tip(),
    ]
    states = [no_signal, signal]
    monthly = _monthly(rows)
    tips[0] = _period_tip(monthly=monthly, grain=grain)
    tips = _known(tips, rows)
    return _spec(
        " ".join([f"{title}.", _periods(len(rows)), _signals(rows, flagged)]),
        rows,
        height=240,
        title=title,
        encoding={"x": _period_x(len(rows), monthly=monthly, grain=grain)},
        layer=[
            {
                "mark": {"type": "line", "color": GREY, **_UNREAD},
                "encoding": {"y": {**y, "field": "centre"}},
            },
            {"mark": limit, "encoding": {"y": {**y, "field": "lower"}}},
            {"mark": limit, "encoding": {"y": {**y, "field": "upper"}}},
            *_control_points(rows, y, tips, status, states),
        ],
    )


def _control_points(
    rows: list[dict[str, Any]], y: dict, tips: list[dict], status: str, states: list[str]
) -> list[dict]:
    """The control chart's series: as :func:`_honest_layers`, with the points that signal in
    another colour and shape."""
    layers = _honest_layers({**y, "field": "value"}, tips, rows)
    link = _link(rows)
    for layer in layers:
        mark = layer["mark"]
        if mark["type"] == "line":
            mark["color"] = BLUE
        elif mark["type"] == "point" and mark.get("filled"):
            layer["encoding"] = {
                "y": {**y, "field": "value"},
                "color": _legend("state", status, states, [BLUE, VERMILLION], titled=False),
                "shape": _legend("state", status, states, ["circle", "diamond"], titled=False),
                "size": {"condition": {"test": "datum.signal", "value": 120}, "value": 50},
                "tooltip": _known(tips, rows),
                **link,
            }
        elif mark["type"] == "point":
            mark["color"] = BLUE
    return layers


def _signals(rows: list[dict[str, Any]], flagged: list[int]) -> str:
    if not flagged:
        return _("No signals.")
    periods = ", ".join(rows[i]["period"] for i in flagged)
    return ngettext(
        "%(count)d signal: %(periods)s.", "%(count)d signals: %(periods)s.", len(flagged)
    ) % {"count": len(flagged), "periods": periods}


def distribution(counts: Sequence[int], *, labels: Sequence[str]) -> dict:
    """How many gave each score: a bar per score, in the order given.

    ``counts``: the number of answers with each score; ``labels``: the name of each score
    (``"0"`` … ``"10"``, or ``"1 — very dissatisfied"`` …), one per count.
    """
    numbers = [
        _count(c, f"distribution: counts[{i}]")
        for i, c in enumerate(_sequence(counts, "distribution: counts"))
    ]
    names = [
        _text(label, f"distribution: labels[{i}]")
        for i, label in enumerate(_sequence(labels, "distribution: labels"))
    ]
    if len(names) != len(numbers):
        raise ValueError(f"distribution: {len(numbers)} counts but {len(names)} labels")
    _distinct(names, "distribution: labels")
    total = sum(numbers)
    if total == 0:
        return _no_data(200)
    rows = [
        {"score": name, "count": count, "share": count / total}
        for name, count in zip(names, numbers, strict=True)
    ]
    listed = ", ".join(f"{row['score']} — {row['count']}" for row in rows)
    score = {"field": "score", "type": "ordinal", "sort": None, "title": _("Score")}
    return _spec(
        _("Responses by score: %(counts)s.") % {"counts": listed},
        rows,
        height=200,
        mark={"type": "bar", "color": BLUE},
        encoding={
            "x": {**score, "axis": {"labelAngle": 0}},
            # Whole ticks only: "0.5 responses" on an axis would mean nothing.
            "y": {
                "field": "count",
                "type": "quantitative",
                "title": _("Responses"),
                "axis": {"format": "d", "tickMinStep": 1},
            },
            "tooltip": [
                _label_tip("score", _("Score")),
                _tip("count", _("Responses"), ",d"),
                _tip("share", _("Share"), ".0%"),
            ],
        },
    )


def _corner(text: str, *, right: bool, top: bool) -> dict:
    return {
        "data": _alone(),
        "mark": {
            "type": "text",
            "text": text,
            "color": GREY,
            "fontStyle": "italic",
            "align": "right" if right else "left",
            "baseline": "top" if top else "bottom",
        },
        "encoding": {
            "x": {"value": "width"} if right else {"value": 0},
            "y": {"value": 0} if top else {"value": "height"},
        },
    }


def quadrant_label(quadrant: str) -> str:
    """A quadrant of ``cxloop.analytics.QUADRANTS`` as pages and charts name it."""
    return {
        "concentrate here": _("Concentrate here"),
        "keep up the good work": _("Keep up the good work"),
        "low priority": _("Low priority"),
        "possible overkill": _("Possible overkill"),
    }[quadrant]


def status_label(status: str) -> str:
    """One of :data:`STATUSES` as pages and charts name it."""
    return {
        "promoter": _("Promoter"),
        "passive": _("Passive"),
        "detractor": _("Detractor"),
        "silent": _("Silent"),
    }[status]


def quadrant(
    items: Sequence[Any],
    *,
    x_title: str,
    y_title: str,
    x_split: float,
    y_split: float,
    labels: int = 5,
) -> dict:
    """The importance–performance grid of Martilla & James (1977): performance across,
    importance up, the two splitting rules, the advice in every quadrant ("Concentrate here"
    top left: important and below target) and a name beside the ``labels`` most important
    points only — twenty names in a crowd of low-importance points would overlap; every point
    names itself in its tooltip, and an item's ``href`` makes its point a link.

    ``items``: with ``name``, ``performance`` and ``importance`` (numbers), e.g. an
    ``Opportunity`` of ``cxloop.analytics.opportunities``. ``x_title``, ``y_title``: the
    performance and importance measures, translated by the caller. ``x_split``: the performance
    target; ``y_split``: where importance counts as high (the mean importance).
    """
    x_split = _number(x_split, "quadrant: x_split")
    y_split = _number(y_split, "quadrant: y_split")
    rows = []
    for i, item in enumerate(_sequence(items, "quadrant: items")):
        where = f"quadrant: items[{i}]"
        href = _href(item, where)
        rows.append(
            {
                "name": _text(_field(item, "name", where), f"{where}.name"),
                "performance": _number(_field(item, "performance", where), f"{where}.performance"),
                "importance": _number(_field(item, "importance", where), f"{where}.importance"),
                "href": href,
            }
        )
    _distinct([row["name"] for row in rows], "quadrant: item names")
    named = sorted(range(len(rows)), key=lambda i: -rows[i]["importance"])[: max(labels, 0)]
    for i, row in enumerate(rows):
        row["label"] = i in named
    if not rows:
        return _no_data(320)
    focus = [r["name"] for r in rows if r["importance"] > y_split and r["performance"] < x_split]
    description = ngettext(
        "%(count)d item by %(x)s and %(y)s.", "%(count)d items by %(x)s and %(y)s.", len(rows)
    ) % {"count": len(rows), "x": x_title, "y": y_title}
    if focus:
        description += " " + _("Concentrate on: %(names)s.") % {"names": ", ".join(focus)}
    # Padding keeps the points off the corners, where the advice is written.
    x = {"type": "quantitative", "scale": _fitted(24), "title": x_title}
    y = {"type": "quantitative", "scale": _fitted(24), "title": y_title}
    # Hidden from screen readers, which would announce lines with no name: the description
    # says in words which items fall in the quadrant that matters.
    split = {"type": "rule", "color": GREY, "strokeDash": [4, 3], "aria": False}
    point = {"x": {**x, "field": "performance"}, "y": {**y, "field": "importance"}}
    tips = [
        _label_tip("name", _("Name")),
        _tip("performance", x_title, ",.2~f"),
        _tip("importance", y_title, ",.2~f"),
    ]
    return _spec(
        description,
        rows,
        height=320,
        layer=[
            {"data": _alone(), "mark": split, "encoding": {"x": {**x, "datum": x_split}}},
            {"data": _alone(), "mark": split, "encoding": {"y": {**y, "datum": y_split}}},
            {
                "mark": {**_dot(70), "cursor": "pointer"},
                "encoding": {**point, "tooltip": tips, **_link(rows)},
            },
            {
                "transform": [{"filter": "datum.label"}],
                "mark": {"type": "text", "align": "left", "dx": 7, "color": INK},
                "encoding": {
                    **point,
                    "text": {"field": "name", "type": "nominal", "title": _("Name")},
                },
            },
            _corner(quadrant_label("concentrate here"), right=False, top=True),
            _corner(quadrant_label("keep up the good work"), right=True, top=True),
            _corner(quadrant_label("low priority"), right=False, top=False),
            _corner(quadrant_label("possible overkill"), right=True, top=False),
        ],
    )


def emotion_curve(stages: Sequence[Any]) -> dict:
    """The mean score across the stages of a journey, in their order, with intervals.

    ``stages``: items with ``stage`` (its name), ``value``, ``low``, ``high`` (numbers; all None
    for a stage without answers) and optionally ``n``.
    """
    rows = []
    for i, item in enumerate(_sequence(stages, "emotion_curve: stages")):
        where = f"emotion_curve: stages[{i}]"
        stage = _text(_field(item, "stage", where), f"{where}.stage")
        rows.append({"stage": stage, **_estimate(item, where)})
    _distinct([row["stage"] for row in rows], "emotion_curve: stage names")
    if _latest(rows) is None:
        return _no_data(240)
    listed = "; ".join(f"{row['stage']}: {_with_interval(row)}" for row in rows)
    stage = {"field": "stage", "type": "ordinal", "sort": None, "title": _("Journey stage")}
    y = {
        "field": "value",
        "type": "quantitative",
        "scale": _fitted(),
        "title": _("Mean score"),
    }
    tips = [
        _label_tip("stage", _("Journey stage")),
        _tip("value", _("Mean score"), ",.2f"),
        *_interval_tips(),
    ]
    return _spec(
        _("Mean score by journey stage: %(stages)s.") % {"stages": listed},
        rows,
        height=240,
        encoding={"x": {**stage, "axis": {"labelAngle": 0}}},
        layer=[
            {
                "mark": {
                    "type": "errorbar",
                    "color": BLUE,
                    "rule": _UNREAD,
                    "ticks": {"size": 10, **_UNREAD},
                },
                "encoding": {"y": {**y, "field": "low"}, "y2": {"field": "high"}, **_NO_TIP},
            },
            {"mark": {"type": "line", **_UNREAD}, "encoding": {"y": y}},
            {"mark": _dot(), "encoding": {"y": y, "tooltip": tips}},
        ],
    )


def comparison(groups: Sequence[Any], *, x_title: str | None = None) -> dict:
    """Groups side by side: a horizontal bar per group with its interval, the groups that differ
    significantly in another colour and marked with an asterisk.

    ``groups``: items with ``name``, ``value``, ``low``, ``high`` (numbers), ``significant``
    (bool: the difference from the rest holds after correction, as in
    ``cxloop.analytics.comparisons.SegmentComparison``) and optionally ``n``. ``x_title``: the
    measure, translated by the caller; "Score" by default.
    """
    x_title = x_title or _("Score")
    significant, not_significant = _("Significant difference (*)"), _("No significant difference")
    rows = []
    for i, group in enumerate(_sequence(groups, "comparison: groups")):
        where = f"comparison: groups[{i}]"
        row = {
            "name": _text(_field(group, "name", where), f"{where}.name"),
            **_estimate(group, where),
        }
        if row["value"] is None:
            raise ValueError(f"{where}.value is None; expected a finite number")
        flag = _flag(_field(group, "significant", where), f"{where}.significant")
        rows.append(
            {
                **row,
                "significant": flag,
                "verdict": significant if flag else not_significant,
                "href": _href(group, where),
            }
        )
    _distinct([row["name"] for row in rows], "comparison: group names")
    if not rows:
        return _no_data(80)
    listed = "; ".join(
        f"{row['name']}: {_with_interval(row)}"
        + (f", {_('significant difference')}" if row["significant"] else "")
        for row in rows
    )
    group, difference = _("Group"), _("Difference")
    name = {
        "field": "name",
        "type": "nominal",
        "sort": None,
        "title": group,
        "axis": {"title": None},
    }
    x = {"field": "value", "type": "quantitative", "title": x_title}
    tips = [
        _label_tip("name", group),
        _tip("value", x_title),
        *_interval_tips(),
        _label_tip("verdict", difference),
    ]
    verdicts = [significant, not_significant]
    return _spec(
        _("%(measure)s by group: %(groups)s.") % {"measure": x_title, "groups": listed},
        rows,
        height=28 * len(rows),
        encoding={"y": name},
        layer=[
            {
                "mark": {"type": "bar", "height": {"band": 0.7}},
                "encoding": {
                    "x": x,
                    "color": _legend("verdict", difference, verdicts, [BLUE, GREY], titled=False),
                    "tooltip": tips,
                    **_link(rows),
                },
            },
            {
                "mark": {"type": "errorbar", "color": INK, "rule": _UNREAD, "ticks": _UNREAD},
                "encoding": {"x": {**x, "field": "low"}, "x2": {"field": "high"}, **_NO_TIP},
            },
            {
                "transform": [{"filter": "datum.significant"}],
                "mark": {
                    "type": "text",
                    "text": "*",
                    "align": "left",
                    "dx": 4,
                    "fontSize": 16,
                    **_UNREAD,
                },
                "encoding": {"x": {**x, "field": "high"}},
            },
        ],
    )


def portfolio(customers: Sequence[Any]) -> dict:
    """Customers by annual value (log scale) and latest score, coloured by status and shaped by
    segment; customers without a score sit on a row of their own at the bottom.

    ``customers``: items with ``name``, ``value`` (annual value, > 0), ``score`` (latest score
    0–10, or None), ``status`` (one of :data:`STATUSES`) and ``target`` (bool: in a target
    segment).
    """
    labels = {status: status_label(status) for status in STATUSES}
    target, other = _("Target segment"), _("Other customers")
    rows = []
    for i, customer in enumerate(_sequence(customers, "portfolio: customers")):
        where = f"portfolio: customers[{i}]"
        value = _number(_field(customer, "value", where), f"{where}.value")
        if value <= 0:
            raise ValueError(f"{where}.value is {value!r}; a log scale needs an annual value > 0")
        score = _number(_field(customer, "score", where), f"{where}.score", optional=True)
        if score is not None and not 0 <= score <= 10:
            raise ValueError(f"{where}.score is {score!r}; expected 0 to 10 or None")
        status = _field(customer, "status", where)
        if status not in labels:
            raise ValueError(f"{where}.status is {status!r}; expected one of {list(STATUSES)}")
        in_target = _flag(_field(customer, "target", where), f"{where}.target")
        rows.append(
            {
                "name": _text(_field(customer, "name", where), f"{where}.name"),
                "value": value,
                "score": score,
                "plotted": NO_SCORE if score is None else score,
                "status": labels[status],
                "segment": target if in_target else other,
                "href": _href(customer, where),
            }
        )
    if not rows:
        return _no_data(320)
    for row in rows:
        # What a screen reader says of each point; Vega-Lite's own words would give the
        # plotted position, and so a score for a customer who has none.
        row["said"] = _(
            "%(name)s: annual value %(value)s; latest score: %(score)s; %(status)s; %(segment)s."
        ) % {**row, "value": _show(row["value"], 0), "score": _show(row["score"])}
    # The row of customers without a score is labelled in words; Vega reads a JSON string
    # literal as an expression string, whatever the translation holds.
    no_score = json.dumps(_("No score"), ensure_ascii=False)
    y = {
        "field": "plotted",
        "type": "quantitative",
        "scale": {"domain": [NO_SCORE - 0.5, 10.5], "nice": False},
        "title": _("Latest score"),
        "axis": {
            "values": [NO_SCORE, 0, 2, 4, 6, 8, 10],
            "labelExpr": f"datum.value < 0 ? {no_score} : datum.label",
        },
    }
    x = {
        "field": "value",
        "type": "quantitative",
        "scale": {"type": "log", "padding": 12, "nice": False},
        "title": _("Annual value"),
        "axis": {"tickCount": 4},  # a log axis labels every 2×, 3×, 5× otherwise, overlapping
    }
    tips = [
        _label_tip("name", _("Customer")),
        _tip("value", _("Annual value"), ",.0f"),
        _tip("score", _("Latest score"), ",.1~f"),
        _label_tip("status", _("Status")),
        _label_tip("segment", _("Segment")),
    ]
    point = {
        "x": x,
        "y": y,
        "color": _legend(
            "status", _("Status"), list(labels.values()), [GREEN, GREY, VERMILLION, INK]
        ),
        "shape": _legend("segment", _("Segment"), [target, other], ["diamond", "circle"]),
        "description": {"field": "said", "type": "nominal"},
        **_link(rows),
    }
    # A white outline tells apart customers whose points overlap.
    mark = {**_dot(80), "stroke": "white", "strokeWidth": 1}
    # Two layers only for their tooltips: a missing score must not read as 0. A layer without
    # points is left out: Vega would draw an empty mark group that screen readers announce.
    layers = []
    if any(row["score"] is not None for row in rows):
        layers.append(
            {
                "transform": [{"filter": "isValid(datum.score)"}],
                "mark": mark,
                "encoding": {**point, "tooltip": tips},
            }
        )
    if any(row["score"] is None for row in rows):
        layers.append(
            {
                "transform": [{"filter": "!isValid(datum.score)"}],
                "mark": mark,
                "encoding": {**point, "tooltip": [tip for tip in tips if tip["field"] != "score"]},
            }
        )
    return _spec(
        _portfolio_description(rows, list(labels.values())), rows, height=320, layer=layers
    )


def _portfolio_description(rows: list[dict[str, Any]], statuses: list[str]) -> str:
    parts = [
        ngettext(
            "%(count)d customer by annual value and latest score.",
            "%(count)d customers by annual value and latest score.",
            len(rows),
        )
        % {"count": len(rows)}
    ]
    for status in statuses:
        held = [row["value"] for row in rows if row["status"] == status]
        if held:
            parts.append(
                _("%(status)s: %(count)d, annual value %(value)s.")
                % {"status": status, "count": len(held), "value": _show(sum(held), 0)}
            )
    return " ".join(parts)


# --- the measured effect of an initiative ----------------------------------------------------


def _change_rule(change: Any, where: str) -> list[dict]:
    """A vertical dashed rule at the change, labelled, drawn once (its own one-row data)."""
    day = _period(change, where)
    x = {"field": "change", "type": "temporal", "scale": {"type": "utc"}}
    return [
        {
            "data": {"values": [{"change": day}]},
            "mark": {"type": "rule", "color": INK, "strokeDash": [6, 4], **_UNREAD},
            "encoding": {"x": x},
        },
        {
            "data": {"values": [{"change": day}]},
            "mark": {
                "type": "text",
                "align": "left",
                "dx": 4,
                "dy": 4,
                "baseline": "top",
                "color": INK,
                "fontSize": 11,
                "y": 0,
                **_UNREAD,
            },
            "encoding": {"x": x, "text": {"value": _("change")}},
        },  # fmt: skip
    ]


def _two_series(
    points: Any, where: str, pairs: Sequence[tuple[str, str, str]]
) -> list[dict[str, Any]]:
    """Long rows (period, series, value, n) of the ``(value key, n key, label)`` pairs."""
    rows = []
    for i, point in enumerate(_sequence(points, where)):
        at = f"{where}[{i}]"
        period = _period(_field(point, "period", at), f"{at}.period")
        for key, n_key, label in pairs:
            value = _number(_field(point, key, at, None), f"{at}.{key}", optional=True)
            n = _field(point, n_key, at, None) if n_key else None
            if value is None:
                continue
            rows.append(
                {"period": period, "series": label, "value": value,
                 "n": None if n is None else _count(n, f"{at}.{n_key}")}
            )  # fmt: skip
    return rows


def _series_description(title: str, rows: list[dict], labels: list[str], change: str) -> str:
    parts = [f"{title}.", _periods(len({row["period"] for row in rows}))]
    parts.append(
        _("The change: %(day)s.")
        % {"day": date_format(date.fromisoformat(change), "SHORT_DATE_FORMAT")}
    )
    for label in labels:
        mine = [row for row in rows if row["series"] == label]
        if not mine:
            continue
        before = [row["value"] for row in mine if row["period"] < change]
        after = [row["value"] for row in mine if row["period"] >= change]
        mean_after = _show(sum(after) / len(after) if after else None, 2)
        if not before:  # the counterfactual exists only after the change
            parts.append(
                _("%(series)s: %(after)s on average after the change.")
                % {"series": label, "after": mean_after}
            )
            continue
        parts.append(
            _("%(series)s: %(before)s on average before, %(after)s after.")
            % {"series": label, "before": _show(sum(before) / len(before), 2), "after": mean_after}
        )
    return " ".join(parts)


def did_chart(
    points: Sequence[Any],
    *,
    change: Any,
    title: str,
    y_title: str,
    treated_label: str,
    control_label: str,
    grain: str | None = None,
) -> dict:
    """Two series over periods, the initiative's and its comparison group's, with a dashed
    vertical rule at the change: the plot on which parallel trends before the change are judged.

    ``points``: items with ``period`` (ISO first day), ``value`` and ``n`` (the initiative's
    mean and answers), ``control`` and ``control_n`` (the comparison group's); a value of None
    leaves a gap. ``change``: the first day of the first period after the change. Titles and
    labels come translated from the caller; ``grain="quarter"`` labels quarters.
    """
    rows = _two_series(
        points, "did_chart: points",
        [("value", "n", treated_label), ("control", "control_n", control_label)],
    )  # fmt: skip
    _distinct([treated_label, control_label], "did_chart: labels")
    day = _period(change, "did_chart: change")
    if not rows:
        return _no_data(260, title=title)
    labels = [treated_label, control_label]
    y = {"field": "value", "type": "quantitative", "scale": _fitted(), "title": y_title}
    # The legend below the plot: beside it, it takes half the width of a phone.
    below = {"legend": {"orient": "bottom", "direction": "vertical"}}
    colour = {**_legend("series", _("Group"), labels, [BLUE, VERMILLION]), **below}
    shape = {**_legend("series", _("Group"), labels, ["circle", "square"]), **below}
    tips = [
        _period_tip(monthly=_monthly(rows), grain=grain),
        _label_tip("series", _("Group")),
        _tip("value", y_title, ",.2f"),
        _tip("n", _("Responses"), ",d"),
    ]
    return _spec(
        _series_description(title, rows, labels, day),
        rows,
        height=260,
        title=title,
        encoding={
            "x": _period_x(len({r["period"] for r in rows}), monthly=_monthly(rows), grain=grain)
        },  # fmt: skip
        layer=[
            {"mark": {"type": "line", **_UNREAD}, "encoding": {"y": y, "color": colour}},
            {
                "mark": _dot(),
                "encoding": {"y": y, "color": colour, "shape": shape, "tooltip": tips},
            },
            *_change_rule(day, "did_chart: change"),
        ],
    )


def its_chart(
    points: Sequence[Any],
    *,
    change: Any,
    title: str,
    y_title: str,
    grain: str | None = None,
) -> dict:
    """An interrupted time series: the value per period (points), the segmented regression's
    fitted line, and after the change the counterfactual (the pre-change line carried on,
    dashed), with a vertical rule at the change.

    ``points``: items with ``period`` (ISO first day), ``value``, ``n``, ``fitted``,
    ``counterfactual`` and ``after`` (on or after the change). Titles come translated.
    """
    actual, fitted, counterfactual = _("Measured"), _("Fitted"), _("Had nothing changed")
    rows = []
    for i, point in enumerate(_sequence(points, "its_chart: points")):
        at = f"its_chart: points[{i}]"
        after = _flag(_field(point, "after", at), f"{at}.after")
        keys = [("value", "n", actual), ("fitted", None, fitted)]
        if after:
            keys.append(("counterfactual", None, counterfactual))
        for row in _two_series([point], at, keys):
            # The fitted line breaks at the change (its jump): one line a side.
            row["part"] = "after" if after else "before"
            rows.append(row)
    day = _period(change, "its_chart: change")
    if not rows:
        return _no_data(260, title=title)
    labels = [actual, fitted, counterfactual]
    y = {"field": "value", "type": "quantitative", "scale": _fitted(), "title": y_title}
    colour = {
        **_legend("series", _("Series"), labels, [BLUE, INK, GREY]),
        "legend": {"orient": "bottom", "direction": "vertical"},
    }
    dash = {"field": "series", "type": "nominal", "legend": None,
            "scale": {"domain": labels, "range": [[1, 0], [1, 0], [5, 4]]}}  # fmt: skip
    tips = [
        _period_tip(monthly=_monthly(rows), grain=grain),
        _label_tip("series", _("Series")),
        _tip("value", y_title, ",.2f"),
        _tip("n", _("Responses"), ",d"),
    ]
    return _spec(
        _series_description(title, rows, [actual, counterfactual], day),
        rows,
        height=260,
        title=title,
        encoding={
            "x": _period_x(len({r["period"] for r in rows}), monthly=_monthly(rows), grain=grain)
        },  # fmt: skip
        layer=[
            {
                "transform": [{"filter": {"field": "series", "oneOf": [fitted, counterfactual]}}],
                "mark": {"type": "line", **_UNREAD},
                "encoding": {
                    "y": y,
                    "color": colour,
                    "strokeDash": dash,
                    "detail": {"field": "part", "type": "nominal"},
                },
            },
            {
                "transform": [{"filter": {"field": "series", "equal": actual}}],
                "mark": _dot(),
                "encoding": {"y": y, "color": colour, "tooltip": tips},
            },
            *_change_rule(day, "its_chart: change"),
        ],
    )


def funnel(groups: Sequence[Any], limits: Any, *, y_title: str) -> dict:
    """Each group's score against its number of answers, inside the funnel of control limits
    around the centre (Spiegelhalter 2005): a point outside the inner (95 %) lines differs
    from the rest beyond chance, outside the outer (99.8 %) ones almost surely; inside, its
    place on a league table says nothing.

    ``groups``: items with ``name``, ``value``, ``n`` (positive) and ``position`` (−2…2, as
    :class:`cxloop.analytics.Funnel` gives it), optionally ``href``. ``limits``: a
    :class:`~cxloop.analytics.Funnel` (``center``, ``n`` and the four limit arrays).
    """
    above, within, below = _("Above the limits"), _("Within chance"), _("Below the limits")
    rows = []
    for i, group in enumerate(_sequence(groups, "funnel: groups")):
        where = f"funnel: groups[{i}]"
        position = int(_number(_field(group, "position", where), f"{where}.position"))
        rows.append(
            {
                "name": _text(_field(group, "name", where), f"{where}.name"),
                "value": _number(_field(group, "value", where), f"{where}.value"),
                "n": _count(_field(group, "n", where), f"{where}.n"),
                "verdict": above if position > 0 else below if position < 0 else within,
                "href": _href(group, where),
            }
        )
    if not rows:
        return _no_data(80)
    # xgettext:no-python-format
    inner = _("95 % limits")
    # xgettext:no-python-format
    outer = _("99.8 % limits")
    lines = [
        {"n": float(n), "line": label, "side": side, "value": float(value)}
        for label, side, values in (
            (inner, "low", limits.inner_low),
            (inner, "high", limits.inner_high),
            (outer, "low", limits.outer_low),
            (outer, "high", limits.outer_high),
        )
        for n, value in zip(limits.n, values, strict=True)
    ]
    answers = _("Answers")
    x = {
        "field": "n",
        "type": "quantitative",
        "title": answers,
        "scale": {"type": "log", "nice": False},
    }
    y = {"field": "value", "type": "quantitative", "title": y_title}
    outside = sum(row["verdict"] != within for row in rows)
    return _spec(
        _(
            "%(measure)s of %(groups)s groups against their number of answers, with the limits "
            "chance allows around %(center)s; %(outside)s outside them."
        )
        % {
            "measure": y_title,
            "groups": len(rows),
            "center": _show(limits.center),
            "outside": outside,
        },
        rows,
        height=280,
        layer=[
            {
                "data": {"values": lines},
                "mark": {"type": "line", "color": GREY, "strokeWidth": 1, **_UNREAD},
                "encoding": {
                    "x": x,
                    "y": y,
                    "detail": {"field": "side", "type": "nominal"},
                    "strokeDash": {
                        "field": "line",
                        "type": "nominal",
                        "title": None,
                        "scale": {"domain": [inner, outer], "range": [[5, 3], [1, 3]]},
                    },
                    **_NO_TIP,
                },
            },
            {
                "data": _alone(),
                "mark": {"type": "rule", "color": INK, "strokeWidth": 1, **_UNREAD},
                "encoding": {"y": {"datum": float(limits.center)}},
            },
            {
                "mark": _dot(70),
                "encoding": {
                    "x": x,
                    "y": y,
                    "color": _legend(
                        "verdict",
                        _("Against the rest"),
                        [above, within, below],
                        [GREEN, GREY, VERMILLION],
                        titled=False,
                    ),
                    "tooltip": [
                        _label_tip("name", _("Name")),
                        _tip("value", y_title),
                        _tip("n", answers, ",d"),
                        _label_tip("verdict", _("Against the rest")),
                    ],
                    **_link(rows),
                },
            },
        ],
    )


def series_trend(
    series: Sequence[Any],
    *,
    title: str,
    y_title: str,
    domain: Sequence[float] | None = None,
    grain: str | None = None,
) -> dict:
    """Several scores per period side by side, one line each in its own colour and shape: the
    target segment against the other customers, or each team's eNPS by pulse wave.

    ``series``: items with ``label`` (translated, distinct; at most five, the palette's
    colours) and ``points`` as :func:`trend` takes them (``period``, ``value``, ``low``,
    ``high``, ``n``; a value of None leaves a gap). ``domain`` fixes the y scale, e.g.
    ``(-100, 100)`` for NPS; ``grain="quarter"`` labels the periods as quarters.
    """
    items = _sequence(series, "series_trend: series")
    if len(items) > len(PALETTE):
        raise ValueError(
            f"series_trend: {len(items)} series; at most {len(PALETTE)} are told apart"
        )
    labels, rows = [], []
    for i, item in enumerate(items):
        at = f"series_trend: series[{i}]"
        label = _text(_field(item, "label", at), f"{at}.label")
        labels.append(label)
        for j, point in enumerate(_sequence(_field(item, "points", at), f"{at}.points")):
            where = f"{at}.points[{j}]"
            period = _period(_field(point, "period", where), f"{where}.period")
            # A period without a value stays, so that the line breaks there instead of
            # joining its neighbours as if the months between had been measured.
            rows.append({"period": period, "series": label, **_estimate(point, where)})
    _distinct(labels, "series_trend: labels")
    valued = [row for row in rows if row["value"] is not None]
    if not valued:
        return _no_data(260, title=title)
    parts = [f"{title}.", _periods(len({row["period"] for row in valued}))]
    for label in labels:
        latest = _latest([row for row in valued if row["series"] == label])
        if latest is not None:
            parts.append(
                _("%(series)s: latest value %(value)s.")
                % {"series": label, "value": _with_interval(latest)}
            )
    monthly = _monthly(rows)
    scale = _y_scale(domain, "series_trend: domain")
    y = {"field": "value", "type": "quantitative", "scale": scale, "title": y_title}
    colour = _legend("series", _("Group"), labels, PALETTE[: len(labels)])
    shapes = ["circle", "square", "triangle-up", "diamond", "cross"][: len(labels)]
    tips = [
        _period_tip(monthly=monthly, grain=grain),
        _label_tip("series", _("Group")),
        _tip("value", y_title),
        *_interval_tips(),
    ]
    return _spec(
        " ".join(parts),
        rows,
        height=260,
        title=title,
        encoding={
            "x": _period_x(len({r["period"] for r in rows}), monthly=monthly, grain=grain)
        },  # fmt: skip
        layer=[
            {"mark": {"type": "line", **_UNREAD}, "encoding": {"y": y, "color": colour}},
            {
                "mark": _dot(),
                "encoding": {
                    "y": y,
                    "color": colour,
                    "shape": _legend("series", _("Group"), labels, shapes),
                    "tooltip": tips,
                },
            },
        ],
    )


def effect_by_time(effects: Sequence[Any], *, x_title: str, y_title: str) -> dict:
    """An effect by the periods since a treatment (a course taken): a point for each with its
    interval, and a dashed rule at no effect.

    ``effects``: items with ``since`` (whole periods since the treatment, 0 the first),
    ``value``, ``low`` and ``high`` (as :class:`cxloop.analytics.EventTimeEffect`);
    ``x_title`` and ``y_title`` translated by the caller.
    """
    rows = []
    for i, effect in enumerate(_sequence(effects, "effect_by_time: effects")):
        where = f"effect_by_time: effects[{i}]"
        row = {"since": _count(_field(effect, "since", where), f"{where}.since")}
        row.update(_estimate(effect, where))
        if row["value"] is None:
            raise ValueError(f"{where}.value is None; expected a finite number")
        rows.append(row)
    if not rows:
        return _no_data(120)
    listed = "; ".join(
        f"{row['since']}: "
        + _("%(value)s (interval %(low)s to %(high)s)")
        % {key: _show(row[key], 2) for key in ("value", "low", "high")}
        for row in rows
    )
    x = {
        "field": "since",
        "type": "quantitative",
        "title": x_title,
        "axis": {"tickMinStep": 1, "format": "d"},
    }
    y = {"field": "value", "type": "quantitative", "title": y_title, "scale": _fitted()}
    tips = [
        _tip("since", x_title, "d"),
        _tip("value", y_title, ",.2f"),
        _tip("low", _("Interval low"), ",.2f"),
        _tip("high", _("Interval high"), ",.2f"),
    ]
    return _spec(
        _("%(measure)s by %(time)s: %(points)s.")
        % {"measure": y_title, "time": x_title, "points": listed},
        rows,
        height=220,
        layer=[
            {
                "data": _alone(),
                "mark": {"type": "rule", "color": GREY, "strokeDash": [4, 4], **_UNREAD},
                "encoding": {"y": {"datum": 0}},
            },
            {
                "mark": {"type": "errorbar", "color": INK, "rule": _UNREAD, "ticks": _UNREAD},
                "encoding": {"x": x, "y": {**y, "field": "low"}, "y2": {"field": "high"}},
            },
            {"mark": _dot(), "encoding": {"x": x, "y": y, "tooltip": tips}},
        ],
    )
