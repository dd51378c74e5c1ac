"""Every kind of chart drawn in a real browser by the vendored libraries, through the real
templates and charts.js, with nothing fetched from beyond the page's own server."""

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.utils import translation

import cxloop
from cxloop.security.headers import CONTENT_SECURITY_POLICY
from tests.test_charts import examples

STATIC = Path(cxloop.__file__).parent / "front" / "static"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# The Vega marks (SVG classes "mark-…") each kind of chart must draw at least one of.
MARKS = {
    "sparkline": ["line", "symbol"],
    "trend": ["area", "line", "symbol"],
    "control_chart": ["line", "symbol"],
    "distribution": ["rect"],
    "quadrant": ["rule", "symbol", "text"],
    "emotion_curve": ["rule", "line", "symbol"],
    "comparison": ["rect", "rule", "text"],
    "portfolio": ["symbol"],
}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the test's output is for the test's findings
        pass

    def end_headers(self):
        # The site's own policy, so that the charts are drawn under it (a refusal is logged).
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        super().end_headers()


@pytest.fixture
def site(tmp_path):
    """(folder, address) of a server on 127.0.0.1 for pages written to the folder, which serves
    the app's static files under /static/ as STATIC_URL has it."""
    (tmp_path / "static").symlink_to(STATIC)
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def chart_page(specs: dict[str, dict], language: str) -> str:
    """A page with a figure per spec, as a view's template would include them."""
    with translation.override(language):
        figures = "".join(
            render_to_string(
                "front/includes/chart.html",
                {"spec": spec, "id": name, "label": name.replace("_", " ")},
            )
            for name, spec in specs.items()
        )
        scripts = render_to_string("front/includes/chart_scripts.html")
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f'<title>Charts</title><link rel="icon" href="data:,">{scripts}</head>'
        f"<body><main><h1>Charts</h1>{figures}</main></body></html>"
    )


def open_page(browser, site, specs, language):
    """The page, once every chart has been drawn or has failed, with what it logged and every
    address it asked for."""
    folder, address = site
    (folder / "page.html").write_text(chart_page(specs, language))
    page = browser.new_page(viewport={"width": 900, "height": 800})
    page.logged = []
    page.requested = []
    page.on("console", lambda m: page.logged.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: page.logged.append(f"pageerror: {e}"))
    page.on("request", lambda r: page.requested.append(r.url))
    page.goto(f"{address}/page.html")
    page.wait_for_function(
        "n => document.querySelectorAll('figure svg.marks, figure .chart-error').length === n",
        arg=len(specs),
    )
    return page, address


def axe_violations(page) -> list[str]:
    page.evaluate(AXE.read_text())  # by the driver: the policy refuses an inline <script>
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]]


def test_it_draws_every_kind_of_chart_in_russian_from_this_server_only(browser, site):
    with translation.override("ru"):
        specs = examples()
    page, address = open_page(browser, site, specs, "ru")

    for name, marks in MARKS.items():
        figure = page.locator(f"figure:has(#{name})")
        assert figure.locator("svg.marks").count() == 1, name
        for mark in marks:
            assert figure.locator(f"svg g.mark-{mark} > *").count() > 0, f"{name}: no {mark}"
    # Russian months and decimal commas, from the locales in charts.js.
    assert "февраль 2025" in page.locator("#trend svg text").all_text_contents()
    assert "0,45" in page.locator("#control_chart svg text").all_text_contents()
    # What a screen reader says of each mark names things in words, never by a raw field name.
    labels = page.eval_on_selector_all(
        "figure svg [aria-label]", "found => found.map(e => e.getAttribute('aria-label'))"
    )
    assert len(labels) > 50
    assert [label for label in labels if re.search(r"(^|; )[a-z_]+: ", label)] == []
    assert page.logged == []
    assert [url for url in page.requested if not url.startswith(address + "/")] == []
    assert axe_violations(page) == []
    page.close()


def test_it_says_so_when_a_chart_cannot_be_drawn(browser, site):
    with translation.override("en"):
        specs = {"trend": examples()["trend"], "broken": {"mark": "no-such-mark"}}
    page, _ = open_page(browser, site, specs, "en")

    assert page.locator("#broken").inner_text() == "The chart could not be drawn."
    assert [line for line in page.logged if line.startswith("error: chart #broken")]
    # The chart beside it is drawn all the same, in English.
    assert "February 2025" in page.locator("#trend svg text").all_text_contents()
    page.close()
