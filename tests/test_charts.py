"""The chart specs of cxloop.insights.charts: valid Vega-Lite by the vendored schema, every
visible string through gettext, empty data drawn as "No data", bad data refused by name; and the
vendored chart libraries: the files their README names, fetching nothing from a CDN."""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from django.utils import translation

from cxloop.analytics import nps_funnel
from cxloop.insights import charts

ROOT = Path(__file__).parents[1]
SCHEMA = ROOT / "tests" / "vendor" / "vega-lite" / "vega-lite-schema.json"
VENDOR = ROOT / "cxloop" / "front" / "static" / "front" / "vendor" / "vega"
MONTHS = [f"2025-{month:02d}-01" for month in range(1, 7)]
KINDS = [
    "sparkline",
    "trend",
    "control_chart",
    "distribution",
    "quadrant",
    "emotion_curve",
    "comparison",
    "funnel",
    "portfolio",
    "series_trend",
    "effect_by_time",
]


@dataclass(frozen=True)
class Point:
    """A period's estimate as a page passes it: a dataclass rather than a mapping."""

    period: str
    value: float | None
    low: float | None
    high: float | None
    n: int


def examples(said: Callable[[str], str] = str) -> dict[str, dict]:
    """One chart of each kind, on data like the demo's; ``said`` stands for the caller's own
    gettext of the titles it passes in."""
    nps = [31, 35, 33, 28, 40, 42]
    share = [0.52, 0.55, 0.50, 0.31, 0.51, 0.54]
    return {
        "sparkline": charts.sparkline(
            [
                {"period": p, "value": v}
                for p, v in zip(MONTHS, [31, 35, None, 28, 40, 42], strict=True)
            ]
        ),
        "trend": charts.trend(
            [Point(p, v, v - 9.5, v + 9.5, 120) for p, v in zip(MONTHS[:-1], nps[:-1], strict=True)]
            + [
                # The current month after four days: hollow, dashed, "partial" — no plunge.
                {
                    "period": MONTHS[-1],
                    "value": -33,
                    "low": -90,
                    "high": 40,
                    "n": 3,
                    "partial": True,
                    "low_n": True,
                    "href": "/responses/?period=2025-06",
                },
            ],  # fmt: skip
            title=said("NPS by month"),
            y_title=said("NPS"),
            domain=(-100, 100),
        ),
        "control_chart": charts.control_chart(
            [{"period": p, "value": v} for p, v in zip(MONTHS, share, strict=True)],
            0.5,
            [0.40, 0.41, 0.39, 0.40, 0.40, 0.41],
            [0.60, 0.59, 0.61, 0.60, 0.60, 0.59],
            [3],
            title=said("Share of promoters"),
            y_title=said("Share"),
        ),
        "distribution": charts.distribution(
            [2, 0, 1, 3, 4, 9, 11, 25, 30, 21, 14], labels=[str(score) for score in range(11)]
        ),
        "quadrant": charts.quadrant(
            [
                {"name": "Billing", "importance": 0.31, "performance": 3.9},
                {"name": "Onboarding", "importance": 0.12, "performance": 4.5},
                {"name": "Proposal", "importance": 0.22, "performance": 4.1},
                {"name": "Review", "importance": 0.35, "performance": 4.4},
            ],
            x_title=said("Mean rating"),
            y_title=said("Importance"),
            x_split=4.2,
            y_split=0.25,
        ),
        "emotion_curve": charts.emotion_curve(
            [
                {"stage": "First contact", "value": 4.1, "low": 3.9, "high": 4.3, "n": 80},
                {"stage": "Proposal", "value": 3.6, "low": 3.3, "high": 3.9, "n": 45},
                {"stage": "Onboarding", "value": None, "low": None, "high": None, "n": 0},
                {"stage": "Billing", "value": 3.9, "low": 3.6, "high": 4.2},
            ]
        ),
        "comparison": charts.comparison(
            [
                {"name": "Target", "value": 45, "low": 35, "high": 55, "significant": True},
                {"name": "Other", "value": 20, "low": 10, "high": 30, "significant": False},
                {"name": "New", "value": -5, "low": -25, "high": 15, "significant": False},
            ]
        ),
        "funnel": charts.funnel(
            [
                {"name": "Tax", "value": 45, "n": 200, "position": 2},
                {"name": "Audit", "value": 28, "n": 150, "position": 0},
                {"name": "Pair", "value": 100, "n": 2, "position": 0},
                {"name": "Law", "value": 5, "n": 120, "position": -1},
            ],
            nps_funnel([90, 60, 2, 30], [0, 18, 0, 24], [200, 150, 2, 120]),
            y_title=said("NPS"),
        ),
        "portfolio": charts.portfolio(
            [
                {"name": "Acme", "value": 1.2e6, "score": 9, "status": "promoter", "target": True},
                {"name": "Beta", "value": 2e5, "score": 7, "status": "passive", "target": True},
                {"name": "Gamma", "value": 5e4, "score": 3, "status": "detractor", "target": False},
                {"name": "Delta", "value": 8e5, "score": None, "status": "silent", "target": True},
            ]
        ),
        "series_trend": charts.series_trend(
            [
                {
                    "label": said("Target segment"),
                    "points": [
                        {"period": MONTHS[0], "value": 40, "low": 30, "high": 50, "n": 80},
                        {"period": MONTHS[1], "value": None, "low": None, "high": None, "n": 0},
                        {"period": MONTHS[2], "value": 45, "low": 36, "high": 54, "n": 90},
                    ],
                },
                {
                    "label": said("Other customers"),
                    "points": [
                        {"period": MONTHS[0], "value": 20, "low": 12, "high": 28, "n": 150},
                        {"period": MONTHS[2], "value": 18, "low": 10, "high": 26, "n": 140},
                    ],
                },
            ],
            title=said("NPS by month"),
            y_title=said("NPS"),
            domain=(-100, 100),
        ),
        "effect_by_time": charts.effect_by_time(
            [
                {"since": 0, "value": 0.45, "low": 0.3, "high": 0.6},
                {"since": 1, "value": 0.5, "low": 0.32, "high": 0.7},
                {"since": 3, "value": -0.05, "low": -0.3, "high": 0.2},
            ],
            x_title=said("Months since the course"),
            y_title=said("Change in the rating"),
        ),
    }


def nothing_to_draw(said: Callable[[str], str] = str) -> dict[str, dict]:
    return {
        "sparkline": charts.sparkline([]),
        "sparkline of gaps": charts.sparkline([{"period": "2025-01-01", "value": None}]),
        "trend": charts.trend([], title=said("NPS by month"), y_title=said("NPS")),
        "control_chart": charts.control_chart([], 0.5, 0.4, 0.6, []),
        "distribution": charts.distribution([], labels=[]),
        "distribution of zeros": charts.distribution([0, 0], labels=["yes", "no"]),
        "quadrant": charts.quadrant([], x_title="x", y_title="y", x_split=0, y_split=0),
        "emotion_curve": charts.emotion_curve([]),
        "comparison": charts.comparison([]),
        "portfolio": charts.portfolio([]),
        "series_trend": charts.series_trend(
            [{"label": said("Team"), "points": []}], title=said("eNPS"), y_title="eNPS"
        ),
        "effect_by_time": charts.effect_by_time(
            [], x_title=said("Months since"), y_title=said("Effect")
        ),
    }


@cache
def validator():
    schema = json.loads(SCHEMA.read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def schema_error(spec: dict) -> str | None:
    error = jsonschema.exceptions.best_match(validator().iter_errors(spec))
    return None if error is None else f"{error.message[:500]} at {list(error.absolute_path)}"


def visible_strings(spec: dict) -> list[tuple[str, str]]:
    """(key, string) for every string of a spec a reader sees: titles, the description, text
    written on the chart, axis label expressions and the names in legends (scale domains)."""
    found = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "data":
                    continue  # the caller's names and numbers
                if key == "domain" and isinstance(value, list):
                    found.extend((key, v) for v in value if isinstance(v, str))
                elif key in {"title", "description", "text", "labelExpr"} and isinstance(
                    value, str
                ):
                    found.append((key, value))
                else:
                    walk(value)

    walk(spec)
    return found


@pytest.fixture
def marked(monkeypatch):
    """gettext and ngettext as charts sees them, wrapping what they return in ⟦ ⟧ and recording
    every message asked for."""
    asked = set()

    def gettext(message):
        asked.add(message)
        return f"⟦{message}⟧"

    def ngettext(singular, plural, number):
        asked.add((singular, plural))
        return f"⟦{singular if number == 1 else plural}⟧"

    monkeypatch.setattr(charts, "_", gettext)
    monkeypatch.setattr(charts, "ngettext", ngettext)
    return asked


def mark(text: str) -> str:
    return f"⟦{text}⟧"


# The English strings the charts show, for the Russian catalogue.
MESSAGES = {
    "%(measure)s by group: %(groups)s.",
    "%(name)s: annual value %(value)s; latest score: %(score)s; %(status)s; %(segment)s.",
    "%(status)s: %(count)d, annual value %(value)s.",
    "%(value)s (interval %(low)s to %(high)s)",
    "%(series)s: latest value %(value)s.",
    "Annual value",
    "Centre line",
    "Concentrate here",
    "Concentrate on: %(names)s.",
    "Control chart",
    "Customer",
    "Detractor",
    "Difference",
    "Group",
    "Interval high",
    "Interval low",
    "Journey stage",
    "Keep up the good work",
    "Latest score",
    "Latest value %(value)s.",
    "Note",
    "Responses behind it",
    "partial",
    "Partial: the period is not over yet",
    "The last period is not over yet.",
    "Low priority",
    "Lower control limit",
    "Mean score",
    "Mean score by journey stage: %(stages)s.",
    "Name",
    "No data",
    "No data to show.",
    "No score",
    "No signal",
    "No signals.",
    "No significant difference",
    "Other customers",
    "Passive",
    "Period",
    "Possible overkill",
    "Promoter",
    "Responses",
    "Responses by score: %(counts)s.",
    "Score",
    "Segment",
    "Share",
    "Signal",
    "Significant difference (*)",
    "%(measure)s by %(time)s: %(points)s.",
    # the funnel
    "%(measure)s of %(groups)s groups against their number of answers, with the limits chance "
    "allows around %(center)s; %(outside)s outside them.",
    "95 % limits",
    "99.8 % limits",
    "Above the limits",
    "Within chance",
    "Below the limits",
    "Against the rest",
    "Answers",
    "Silent",
    "Status",
    "Target segment",
    "Upper control limit",
    "Value",
    "no data",
    "significant difference",
    (
        "%(count)d customer by annual value and latest score.",
        "%(count)d customers by annual value and latest score.",
    ),
    ("%(count)d item by %(x)s and %(y)s.", "%(count)d items by %(x)s and %(y)s."),
    ("%(count)d period.", "%(count)d periods."),
    ("%(count)d signal: %(periods)s.", "%(count)d signals: %(periods)s."),
}


@pytest.mark.parametrize("kind", KINDS)
def test_it_builds_valid_vega_lite(kind):
    spec = examples()[kind]
    assert schema_error(spec) is None
    assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v6.json"
    assert spec["width"] == "container"
    assert spec["description"]


@pytest.mark.parametrize("case", list(nothing_to_draw()))
def test_it_says_no_data_when_there_is_nothing_to_draw(case):
    with translation.override("en"):
        spec = nothing_to_draw()[case]
    assert schema_error(spec) is None
    assert spec["data"]["values"] == [{"text": "No data"}]
    assert spec["mark"]["type"] == "text"
    assert spec["description"] == "No data to show."


def test_it_passes_every_visible_string_through_gettext(marked):
    specs = [*examples(mark).items(), *nothing_to_draw(mark).items()]
    for name, spec in specs:
        for key, text in visible_strings(spec):
            if key in {"description", "labelExpr"}:  # sentences put together from pieces
                assert "⟦" in text, f"{name}: {key} {text!r} is not translated"
            else:
                # An asterisk marks significant groups; the legend says so in words.
                assert text == "*" or re.fullmatch("⟦.*⟧", text), f"{name}: {key} {text!r}"


def test_it_asks_gettext_for_these_strings(marked):
    examples(mark)
    nothing_to_draw(mark)
    charts.control_chart([{"period": "2025-01-01", "value": 1}], 1, 0, 2, [])
    charts.comparison([{"name": "A", "value": 1, "low": 0, "high": 2, "significant": True}])
    assert marked == MESSAGES


def test_it_builds_the_spec_in_the_active_language():
    data = [{"period": "2025-01-01", "value": 38, "low": 28.25, "high": 48, "n": 9}]
    with translation.override("en"):
        english = charts.distribution([1, 2], labels=["1", "2"])
        described = charts.trend(data, title="NPS", y_title="NPS")["description"]
    with translation.override("ru"):
        russian = charts.distribution([1, 2], labels=["1", "2"])
        described_ru = charts.trend(data, title="NPS", y_title="NPS")["description"]
    assert english["encoding"]["x"]["title"] == "Score"
    assert russian["encoding"]["x"]["title"] == "Оценка"  # already in the catalogue
    assert "38.0 (interval 28.2 to 48.0)" in described
    assert "38,0" in described_ru and "28,2" in described_ru  # numbers in the Russian manner


def test_it_describes_the_chart_in_words():
    with translation.override("en"):
        built = examples()
    assert built["control_chart"]["description"] == (
        "Share of promoters. 6 periods. 1 signal: 2025-04-01."
    )
    assert built["quadrant"]["description"] == (
        "4 items by Mean rating and Importance. Concentrate on: Billing."
    )
    assert "Onboarding: no data" in built["emotion_curve"]["description"]
    assert (
        "Target: 45.0 (interval 35.0 to 55.0), significant difference"
        in (built["comparison"]["description"])
    )
    assert "Silent: 1, annual value 800,000." in built["portfolio"]["description"]


def test_it_reads_dates_and_datetimes_as_the_day_a_period_starts():
    spec = charts.sparkline(
        [{"period": date(2025, 1, 6), "value": 1}, {"period": "2025-01-13", "value": 2}]
    )
    assert [row["period"] for row in spec["data"]["values"]] == ["2025-01-06", "2025-01-13"]


def test_it_marks_the_signals_of_a_control_chart():
    rows = examples()["control_chart"]["data"]["values"]
    assert [row["signal"] for row in rows] == [False, False, False, True, False, False]
    assert [row["lower"] for row in rows][:2] == [0.40, 0.41]  # limits per period
    assert {row["centre"] for row in rows} == {0.5}


def test_a_line_breaks_at_a_period_without_a_value():
    """The month between two measured ones keeps its row with no value, which Vega-Lite's
    default for lines ("break-paths-and-show-path-domains") draws as a gap, not a joining line."""
    with translation.override("en"):
        spec = examples()["series_trend"]
    target = [row for row in spec["data"]["values"] if row["series"] == "Target segment"]
    assert [(row["period"], row["value"]) for row in target] == [
        (MONTHS[0], 40),
        (MONTHS[1], None),
        (MONTHS[2], 45),
    ]
    line = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "line")
    assert "invalid" not in line["mark"]
    assert "NPS by month. 2 periods." in spec["description"]


def test_it_puts_customers_without_a_score_on_their_own_row():
    with translation.override("en"):
        rows = examples()["portfolio"]["data"]["values"]
    delta = next(row for row in rows if row["name"] == "Delta")
    assert delta["score"] is None
    assert delta["plotted"] == charts.NO_SCORE < 0
    assert delta["said"] == (
        "Delta: annual value 800,000; latest score: no data; Silent; Target segment."
    )


def contrast_with_white(colour: str) -> float:
    """WCAG 2.1 contrast ratio of an sRGB colour against white."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_it_draws_in_colours_that_stand_out_on_white():
    text = json.dumps(examples())
    colours = set(re.findall(r'"(#[0-9A-Fa-f]{6})"', text))
    assert len(colours) >= 4
    for colour in colours:  # WCAG 1.4.11: 3:1 for the graphics that carry meaning
        assert contrast_with_white(colour) >= 3, colour


POINT = {"period": "2025-01-01", "value": 1, "low": 0, "high": 2}
CUSTOMER = {"name": "Acme", "value": 100, "score": 9, "status": "promoter", "target": True}
GROUP = {"name": "A", "value": 1, "low": 0, "high": 2, "significant": False}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: charts.sparkline("12"), "sparkline: points must be a sequence, got st"),
        (
            lambda: charts.sparkline([{"period": "2025-13-01", "value": 1}]),
            "sparkline: points[0].period is '2025-13-01'; expected an ISO date",
        ),
        (lambda: charts.sparkline([{"value": 1}]), "sparkline: points[0] has no 'period'"),
        (
            lambda: charts.trend([{**POINT, "value": "high"}], title="t", y_title="y"),
            "trend: points[0].value is 'high'; expected a finite number or None",
        ),
        (
            lambda: charts.trend([{**POINT, "value": float("nan")}], title="t", y_title="y"),
            "trend: points[0].value is nan",
        ),
        (
            lambda: charts.trend([{"period": "2025-01-01", "value": 1}], title="t", y_title="y"),
            "trend: points[0] has a value but no interval",
        ),
        (
            lambda: charts.trend([{**POINT, "low": 3}], title="t", y_title="y"),
            "trend: points[0] has low 3.0 above high 2.0",
        ),
        (
            lambda: charts.trend([POINT], title="t", y_title="y", domain=(1, 1)),
            "trend: domain is (1, 1); expected (low, high)",
        ),
        (
            lambda: charts.control_chart([POINT, POINT], 1, [0], 2, []),
            "control_chart: lower has 1 values for 2 points",
        ),
        (
            lambda: charts.control_chart([POINT], 1, 0, 2, [1]),
            "control_chart: signals [1] point at no plotted value",
        ),
        (
            lambda: charts.control_chart([POINT], 1, 0, 2, [-1]),
            "control_chart: signals[0] is -1; expected a whole numbe",
        ),
        (
            lambda: charts.distribution([1, -1], labels=["a", "b"]),
            "distribution: counts[1] is -1",
        ),
        (
            lambda: charts.distribution([1, True], labels=["a", "b"]),
            "distribution: counts[1] is True",
        ),
        (
            lambda: charts.distribution([1, 2], labels=["a"]),
            "distribution: 2 counts but 1 labels",
        ),
        (
            lambda: charts.distribution([1, 2], labels=["a", "a"]),
            "distribution: labels repeat ['a']",
        ),
        (
            lambda: charts.quadrant(
                [{"name": "A", "importance": 1}], x_title="x", y_title="y", x_split=0, y_split=0
            ),
            "quadrant: items[0] has no 'performance'",
        ),
        (
            lambda: charts.emotion_curve([{**POINT, "stage": "S"}, {**POINT, "stage": "S"}]),
            "emotion_curve: stage names repeat ['S']",
        ),
        (
            lambda: charts.comparison([{**GROUP, "significant": "yes"}]),
            "comparison: groups[0].significant is 'yes'; expected True or False",
        ),
        (
            lambda: charts.portfolio([{**CUSTOMER, "value": 0}]),
            "portfolio: customers[0].value is 0.0; a log scale needs an annual value > 0",
        ),
        (
            lambda: charts.portfolio([{**CUSTOMER, "score": 11}]),
            "portfolio: customers[0].score is 11.0; expected 0 to 10 or None",
        ),
        (
            lambda: charts.portfolio([{**CUSTOMER, "status": "happy"}]),
            "portfolio: customers[0].status is 'happy'; expected one of ['promoter'",
        ),
    ],
)
def test_it_refuses_bad_data_naming_it(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


def test_it_vendors_the_files_its_readme_names():
    readme = (VENDOR / "README.md").read_text()
    sums = re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.MULTILINE)
    named = {name for _, name in sums}
    assert named == {p.name for p in VENDOR.iterdir() if p.name != "README.md"} | {
        "tests/vendor/vega-lite/vega-lite-schema.json"
    }
    for expected, name in sums:
        path = ROOT / name if name.startswith("tests/") else VENDOR / name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == expected, name


def test_it_vendors_libraries_that_fetch_nothing_from_a_cdn():
    addresses = {
        address
        for script in VENDOR.glob("*.js")
        for address in re.findall(r"https?://[^\s\"'`)\\]*", script.read_text())
    }
    assert addresses == {
        "http://www.w3.org/1999/xlink",  # XML namespaces, never fetched
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/2000/xmlns/",
        "https://vega.github.io/schema/vega/v6.json",  # the compiled spec's $schema identifier
        "https://github.com/vega/vega-lite/issues/2415",  # in an error message
        "http://",  # vega-embed asking whether a spec is a URL; charts.js passes objects
        "https://",
        "https://github.com/Starcounter-Jack/JSON-Patch",  # in an error message
        "https://vega.github.io/editor/",  # the editor action, which charts.js turns off
    }


def test_it_draws_the_current_period_partial_and_thin_periods_hollow():
    """A month with three answers after four days is no plunge: hollow, joined by a dashed
    line, captioned "partial", its note in the tooltip; a click opens its responses."""
    with translation.override("en"):
        spec = examples()["trend"]
    rows = spec["data"]["values"]
    assert [row["partial"] for row in rows] == [False] * 5 + [True]
    assert [row["joins"] for row in rows] == [False] * 4 + [True, True]
    layers = spec["layer"]
    dashed = [layer for layer in layers if layer["mark"].get("strokeDash") == [4, 3]]
    assert [layer["transform"] for layer in dashed] == [[{"filter": "datum.joins"}]]
    hollow = next(layer for layer in layers if layer["mark"].get("filled") is False)
    assert hollow["encoding"]["href"]["field"] == "href"
    assert any(layer["mark"]["type"] == "text" for layer in layers)
    assert rows[-1]["note"] and rows[-1]["href"] == "/responses/?period=2025-06"
    assert "not over yet" in spec["description"]
    assert spec["encoding"]["x"]["axis"]["format"] == "%B %Y"  # months show their year
    with pytest.raises(ValueError, match="href"):
        charts.trend([{"period": MONTHS[0], "value": 1, "low": 0, "high": 2,
                       "href": "https://elsewhere.example/"}], title="t", y_title="y")  # fmt: skip


def test_it_names_only_the_most_important_points_of_the_grid():
    items = [
        {"name": f"Touchpoint {i}", "importance": i / 100, "performance": 3 + i / 20}
        for i in range(20)
    ]
    spec = charts.quadrant(items, x_title="x", y_title="y", x_split=3.5, y_split=0.05)
    named = [row["name"] for row in spec["data"]["values"] if row["label"]]
    assert named == [f"Touchpoint {i}" for i in range(15, 20)]
    text = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "text"
                and "transform" in layer)  # fmt: skip
    assert text["transform"] == [{"filter": "datum.label"}]


def test_it_opens_the_responses_behind_a_bar_or_a_customer():
    bars = charts.comparison(
        [
            {"name": "A", "value": 10, "low": 5, "high": 15, "significant": True,
             "href": "/responses/?segment=1"},
            {"name": "B", "value": 20, "low": 15, "high": 25, "significant": False,
             "href": "/responses/?segment=2"},
        ]
    )  # fmt: skip
    bar = next(layer for layer in bars["layer"] if layer["mark"]["type"] == "bar")
    assert bar["encoding"]["href"]["field"] == "href"
    assert [row["href"] for row in bars["data"]["values"]] == [
        "/responses/?segment=1",
        "/responses/?segment=2",
    ]
    points = charts.portfolio(
        [{"name": "Acme", "value": 1e6, "score": 3, "status": charts.STATUSES[0], "target": True,
          "href": "/customers/7/"}]
    )  # fmt: skip
    assert all(layer["encoding"]["href"]["field"] == "href" for layer in points["layer"])
    with pytest.raises(ValueError, match="href"):
        charts.comparison(
            [{"name": "A", "value": 1, "low": 0, "high": 2, "significant": False,
              "href": "javascript:alert(1)"}]
        )  # fmt: skip
