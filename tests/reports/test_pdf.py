"""Printed documents (cxloop.reports.pdf): a sample document in both languages with a chart from
cxloop.insights.charts, read back with pypdf; nothing fetched off the machine."""

import io
import os
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pypdf
import pytest
from django.utils import translation
from django.utils.translation import gettext as _

from cxloop.insights import charts

try:
    import weasyprint  # noqa: F401  (loads Pango, a system library)
except OSError as error:  # Pango missing: the README names the packages
    if os.environ.get("CI"):
        raise
    pytest.skip(f"WeasyPrint cannot load Pango ({error})", allow_module_level=True)
from cxloop.reports import pdf
from cxloop.reports.pdf import ChartRefused, DocumentRefused, RefusedURL, chart_svg, render_pdf

SAMPLE = "reports_tests/sample.html"
PRINTED = date(2026, 12, 5)
ORGANISATION = "ООО «Ромашка»"
TITLES = {"ru": "Обзор цикла: июль — сентябрь", "en": "Cycle review: July to September"}
# What each language writes for the same figures (Django's formats, floatformat "1g").
FIGURES = {
    "ru": {"revenue": "1 234,5", "north": "98 765,3", "south": "-7,0", "date": "5 декабря 2026 г."},
    "en": {"revenue": "1,234.5", "north": "98,765.3", "south": "-7.0", "date": "Dec. 5, 2026"},
}
# The trend's first and last axis labels, in the language's d3 locale (charts.js's for Russian).
AXIS = {"ru": ("январь 2026", "сентябрь 2026"), "en": ("January 2026", "September 2026")}


def _trend(language):
    points = [
        {"period": f"2026-{m:02d}-01", "value": 30 + m * 1.5, "low": 25 + m, "high": 35 + m * 2}
        for m in range(1, 10)
    ]
    with translation.override(language):
        return charts.trend(points, title="NPS", y_title=_("Score"), domain=(-100, 100))


def _context(language, *, rows=None, **extra):
    return {
        "title": TITLES[language],
        "subtitle": "Q3 2026",
        "section": "Итоги" if language == "ru" else "Results",
        "kpi_label": "Выручка" if language == "ru" else "Revenue",
        "revenue": 1234.5,
        "name_heading": "Команда" if language == "ru" else "Team",
        "value_heading": "Значение" if language == "ru" else "Value",
        "rows": rows
        if rows is not None
        else [{"name": "Север", "value": 98765.25}, {"name": "Юг", "value": -7.0}],
        "chart": _trend(language),
        "chart_title": "NPS",
        **extra,
    }


def _render(language, **kwargs):
    return render_pdf(
        SAMPLE,
        _context(language, **kwargs),
        language=language,
        organisation=ORGANISATION,
        printed=PRINTED,
    )


def _text(document: bytes) -> list[str]:
    """Each page's text, non-breaking spaces (the Russian thousands separator) as spaces."""
    reader = pypdf.PdfReader(io.BytesIO(document))
    return [page.extract_text().replace("\u00a0", " ") for page in reader.pages]


@pytest.fixture(scope="module")
def recorder(tmp_path_factory):
    """An HTTP server in another process that answers everything and writes down each path it
    is asked for (another process: vl-convert holds the GIL while it fetches, so a server
    thread in this process would never answer it)."""
    log = tmp_path_factory.mktemp("recorder") / "hits.log"
    code = textwrap.dedent(
        f"""
        import http.server, sys
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with open({str(log)!r}, "a") as f:
                    f.write(self.path + "\\n")
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.end_headers()
                self.wfile.write(b"body {{ color: red }}")
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    port = int(process.stdout.readline())
    base = f"http://127.0.0.1:{port}"
    # The recorder works: a plain request is written down (and then forgotten).
    import urllib.request

    urllib.request.urlopen(f"{base}/ping", timeout=5).read()
    assert log.read_text() == "/ping\n"
    log.write_text("")
    yield base, log
    process.terminate()
    process.wait(timeout=5)


def _hits(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("language", ["ru", "en"])
def test_it_prints_the_figures_and_the_chart_in_each_language(language):
    started = time.perf_counter()
    document = _render(language)
    elapsed = time.perf_counter() - started

    assert document.startswith(b"%PDF-")
    (text,) = _text(document)  # one page
    assert TITLES[language] in text  # the Cyrillic title, intact
    figures = FIGURES[language]
    for key in ("revenue", "north", "south"):
        assert figures[key] in text, (key, text)
    other = FIGURES["en" if language == "ru" else "ru"]
    assert other["revenue"] not in text
    # The running header: the organisation and the date as the language writes it.
    assert ORGANISATION in text
    assert figures["date"] in text
    with translation.override(language):
        assert _("Page %(page)s of %(pages)s") % {"page": 1, "pages": 1} in text
    # The chart is vector: its axis labels are text in the PDF, in the language's formats.
    first, last = AXIS[language]
    assert first in text and last in text
    assert "−100" in text  # d3's minus sign on the y axis, not a hyphen
    reader = pypdf.PdfReader(io.BytesIO(document))
    resources = reader.pages[0]["/Resources"]
    kinds = {x.get_object()["/Subtype"] for x in resources["/XObject"].values()}
    assert kinds == {"/Form"}  # drawn, not a raster image
    fonts = {font.get_object()["/BaseFont"] for font in resources["/Font"].values()}
    assert all("DejaVu" in str(font) for font in fonts), fonts
    # Measured: 0.1–0.3 s a document once WeasyPrint and vl-convert are loaded, about 2 s for
    # the first in a process (import 0.6–0.9 s, vl-convert's engine 0.8 s).
    assert elapsed < 30


def test_it_repeats_header_and_counts_pages_on_a_long_document():
    rows = [{"name": f"Команда {i}", "value": 1000.0 + i} for i in range(150)]
    pages = _text(_render("en", rows=rows))

    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert ORGANISATION in text
        assert "Team" in text  # the table's head on every page
    assert "Команда 0" in pages[0] and "Команда 149" in pages[-1]
    assert "1,149.0" in pages[-1]


def test_it_refuses_an_external_url_in_a_template_without_fetching_it(recorder):
    base, log = recorder

    with pytest.raises(RefusedURL, match="127.0.0.1"):
        _render("en", extra_style=f"{base}/print.css")
    with pytest.raises(RefusedURL, match="127.0.0.1"):
        _render("ru", extra_image=f"{base}/logo.png")
    with pytest.raises(RefusedURL, match="file:///etc/hostname"):
        _render("en", extra_image="file:///etc/hostname")

    assert _hits(log) == []


def test_it_reads_its_own_static_files_and_data_urls():
    # A static file of this site is read from disk; a missing one is an error, not a gap.
    (text,) = _text(_render("en", extra_style="/static/reports/print.css"))
    assert TITLES["en"] in text
    with pytest.raises(RefusedURL, match="no such static file"):
        _render("en", extra_style="/static/reports/missing.css")
    with pytest.raises(RefusedURL):
        _render("en", extra_style="/static/../../settings.py")
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
        "z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    )
    document = _render("en", extra_image=pixel)
    resources = pypdf.PdfReader(io.BytesIO(document)).pages[0]["/Resources"]
    kinds = {x.get_object()["/Subtype"] for x in resources["/XObject"].values()}
    assert "/Image" in kinds


def test_it_refuses_a_chart_with_remote_data(recorder):
    base, log = recorder
    remote = {"data": {"url": f"{base}/data.json"}, "mark": "point"}
    layered = {**_trend("en"), "layer": [{"data": {"url": f"{base}/more.csv"}, "mark": "line"}]}
    image = {
        "data": {"values": [{"u": f"{base}/x.png"}]},
        "mark": {"type": "image"},
        "encoding": {"url": {"field": "u", "type": "nominal"}},
    }

    with pytest.raises(ChartRefused, match=r"spec\.data names a URL .*data\.json"):
        chart_svg(remote)
    with pytest.raises(ChartRefused, match=r"spec\.layer\[0\]\.data names a URL"):
        chart_svg(layered)
    with pytest.raises(ChartRefused, match="image mark, which would fetch its image"):
        chart_svg(image)
    # In a document too: the render stops before anything is printed.
    with pytest.raises(ChartRefused, match="names a URL"):
        render_pdf(SAMPLE, _context("en", chart=remote), language="en")

    assert _hits(log) == []


def test_it_bounds_the_work():
    rows = [{"period": "2026-01-01", "value": 1.0, "low": 0.0, "high": 2.0}]
    spec = charts.trend(rows * (pdf.MAX_CHART_ROWS + 1), title="NPS", y_title="NPS")
    with pytest.raises(ChartRefused, match="5,001 data rows; a printed chart takes at most 5,000"):
        chart_svg(spec)
    sequence = {"data": {"sequence": {"start": 0, "stop": 10**9}}, "mark": "point"}
    with pytest.raises(ChartRefused, match="at most 5,000"):
        chart_svg(sequence)
    csv = {"data": {"values": "a\n" + "1\n" * 6000, "format": {"type": "csv"}}, "mark": "point"}
    with pytest.raises(ChartRefused, match="6,001 data rows"):
        chart_svg(csv)


def test_it_refuses_a_document_past_its_page_limit(monkeypatch):
    # A fault injected: the limit lowered to 2 pages, which 150 rows exceed.
    monkeypatch.setattr(pdf, "MAX_PAGES", 2)
    rows = [{"name": f"Команда {i}", "value": float(i)} for i in range(150)]

    with pytest.raises(DocumentRefused, match=r"lays out \d+ pages; .* at most 2"):
        _render("en", rows=rows)


def test_it_escapes_a_translation_into_the_page_counter():
    assert pdf._css_string('стр. "1" </style>\\') == '"стр. \\22 1\\22  \\3c /style\\3e \\5c "'
    with translation.override("en"):
        assert pdf.page_counter_css() == '"Page " counter(page) " of " counter(pages)'


def test_it_draws_a_chart_with_the_language_formats():
    spec = charts.trend(
        [{"period": "2026-03-01", "value": 1234.5, "low": 1000, "high": 1500}],
        title="Revenue",
        y_title="Revenue",
    )
    russian, english = chart_svg(spec, language="ru"), chart_svg(spec, language="en")

    assert russian.lstrip().startswith("<svg") and "http://" not in russian.split(">", 1)[1]
    assert "март 2026" in russian and "March 2026" in english
    assert "1\u00a0200" in russian and "1,200" in english  # the y axis ticks


def test_it_prints_a_long_axis_label_whole():
    name = "Поддержка контакта между проектами"
    spec = charts.comparison(
        [
            {"name": name, "value": 70, "low": 60, "high": 80, "significant": False},
            {"name": "Счета", "value": 80, "low": 70, "high": 90, "significant": False},
        ]
    )

    svg = chart_svg(spec, language="ru")

    assert f">{name}</text>" in svg  # not «Поддержка контакта между пр…», Vega's 180 px cut
