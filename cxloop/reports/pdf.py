"""Printable documents: a Django template rendered to PDF with WeasyPrint, its charts drawn to
SVG with vl-convert, and nothing fetched from the network on the way.

A report builds its context (figures from ``insights`` queries, charts from
``cxloop.insights.charts``) and calls :func:`render_pdf` with a template that extends
``reports/print_base.html``; the template turns a chart spec into a figure with the
``print_chart`` filter of ``{% load reports_print %}`` (or the view passes :func:`chart_svg`'s
markup). Everything the render touches is on this machine:

* WeasyPrint fetches through :func:`offline_fetcher`: ``data:`` URLs and this site's static
  files only; any other URL stops the render with :class:`RefusedURL`.
* vl-convert bundles Vega and Vega-Lite; a spec that names data, an image or anything else by
  URL is refused with :class:`ChartRefused` before it is drawn, and vl-convert is told to
  allow no base URL besides.
* Text is set in DejaVu Sans, a system font (Debian's fonts-dejavu-core) with Cyrillic; no font
  is downloaded.

The work is bounded: a chart of more than :data:`MAX_CHART_ROWS` data rows, a page of more
than :data:`MAX_HTML_BYTES` of HTML or a document of more than :data:`MAX_PAGES` pages is
refused with a message that says which limit and by how much.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

__all__ = [
    "MAX_CHART_ROWS",
    "MAX_HTML_BYTES",
    "MAX_PAGES",
    "ORIGIN",
    "ChartRefused",
    "DocumentRefused",
    "RefusedURL",
    "chart_svg",
    "offline_fetcher",
    "page_counter_css",
    "render_pdf",
]

# A trend of five years by week is 260 rows, a portfolio of customers a few thousand; 5,000
# rows draw in about 0.5 s, and a chart with more would be unreadable on paper anyway.
MAX_CHART_ROWS = 5_000
# A spec is data plus a few kilobytes of encoding; 5,000 rows of a dozen fields are ~1.5 MB.
MAX_SPEC_BYTES = 2_000_000
# About 20,000 table rows: WeasyPrint lays out such a page in tens of seconds, not hours.
MAX_HTML_BYTES = 5_000_000
MAX_PAGES = 200
# The base URL of a document: a reserved name that never resolves (RFC 2606), so that a
# root-relative "/static/…" joins to an address the fetcher recognises as this site's own.
ORIGIN = "http://cxloop.invalid/"
# The printed width of a chart in CSS pixels: A4's 210 mm less 2 × 18 mm margins is 174 mm,
# 657 px at 96 px to the inch; Vega adds the axes' labels outside the width it is given.
CHART_WIDTH = 560
# The widest axis label printed whole, in CSS pixels (a longer one ends in "…").
PRINTED_LABEL_LIMIT = 260
STYLESHEET = Path(__file__).parent / "static" / "reports" / "print.css"
FONT = "DejaVu Sans"

# d3's ru-RU locales as the pages use them (front/static/front/charts.js): nominative full
# months (a time axis shows a month on its own) and the genitive short May ("6 мая 2025").
RUSSIAN_NUMBERS = {
    "decimal": ",",
    "thousands": "\u00a0",
    "grouping": [3],
    "currency": ["", "\u00a0\u20bd"],
}
RUSSIAN_TIME = {
    "dateTime": "%A, %e %B %Y г. %X",
    "date": "%d.%m.%Y",
    "time": "%H:%M:%S",
    "periods": ["AM", "PM"],
    "days": ["воскресенье", "понедельник", "вторник", "среда", "четверг", "пятница", "суббота"],
    "shortDays": ["вс", "пн", "вт", "ср", "чт", "пт", "сб"],
    "months": [
        "январь",
        "февраль",
        "март",
        "апрель",
        "май",
        "июнь",
        "июль",
        "август",
        "сентябрь",
        "октябрь",
        "ноябрь",
        "декабрь",
    ],
    "shortMonths": [
        "янв",
        "фев",
        "мар",
        "апр",
        "мая",
        "июн",
        "июл",
        "авг",
        "сен",
        "окт",
        "ноя",
        "дек",
    ],
}


class ChartRefused(ValueError):
    """A chart spec that would reach the network or do unbounded work."""


class DocumentRefused(ValueError):
    """A document past the bounds on its size."""


# --- charts --------------------------------------------------------------------------------------


def _walk(node: Any, path: str = "spec") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _check_spec(spec: Mapping[str, Any]) -> None:
    """Refuse what would fetch (a URL anywhere: data, an image, a url channel) and what would
    not end in reasonable time (too many rows, a generated sequence longer than that)."""
    rows = 0
    for path, node in _walk(spec):
        if not isinstance(node, Mapping):
            continue
        if "url" in node:
            raise ChartRefused(
                f"{path} names a URL ({node['url']!r}): a printed chart draws only data "
                'given inline ("values"), nothing is fetched'
            )
        mark = node.get("mark")
        if mark == "image" or (isinstance(mark, Mapping) and mark.get("type") == "image"):
            raise ChartRefused(f"{path} draws an image mark, which would fetch its image")
        values = node.get("values")
        if path.endswith(".data"):
            if isinstance(values, list):
                rows += len(values)
            elif isinstance(values, str):  # inline CSV or TSV: a row a line
                rows += values.count("\n")
            sequence = node.get("sequence")
            if isinstance(sequence, Mapping):
                start, stop = sequence.get("start", 0), sequence.get("stop", 0)
                step = sequence.get("step", 1) or 1
                if not all(isinstance(v, int | float) for v in (start, stop, step)):
                    raise ChartRefused(f"{path}.sequence is not numeric: {sequence!r}")
                rows += max(0, int((stop - start) / step))
        if path.endswith(".datasets"):
            rows += sum(len(v) for v in node.values() if isinstance(v, list))
    if rows > MAX_CHART_ROWS:
        raise ChartRefused(
            f"the chart has {rows:,} data rows; a printed chart takes at most {MAX_CHART_ROWS:,}"
        )


def chart_svg(
    spec: Mapping[str, Any], *, width: int = CHART_WIDTH, language: str | None = None
) -> SafeString:
    """A Vega-Lite spec (from ``cxloop.insights.charts``) drawn as inline SVG markup.

    ``width``: the plot's width in CSS pixels, for specs sized to their "container" (the pages'
    width); ``language`` picks the number and date formats of the axes ("ru" or "en"; the
    active language by default). Raises :class:`ChartRefused` for a spec that names a URL or
    has more than :data:`MAX_CHART_ROWS` rows, ``ValueError`` for one vl-convert cannot draw.
    """
    import vl_convert  # 0.2 s to import; only documents with charts pay it

    if not isinstance(spec, Mapping):
        raise ChartRefused(f"the spec is a {type(spec).__name__}; expected a Vega-Lite dict")
    text = json.dumps(spec, ensure_ascii=False)
    if len(text.encode()) > MAX_SPEC_BYTES:
        raise ChartRefused(
            f"the spec is {len(text.encode()):,} bytes; a printed chart takes at most "
            f"{MAX_SPEC_BYTES:,}"
        )
    _check_spec(spec)
    printed = json.loads(text)
    if printed.get("width") == "container":
        printed["width"] = width
    # The page's font, so that the chart's text reads like the text around it; axis labels
    # up to PRINTED_LABEL_LIMIT: Vega's 180 px cut a touchpoint's name on paper, which has
    # room for it, to «Поддержка контакта между пр…».
    config = printed.get("config", {})
    printed["config"] = {
        **config,
        "font": FONT,
        "axis": {"labelLimit": PRINTED_LABEL_LIMIT, **config.get("axis", {})},
    }
    russian = (language or translation.get_language() or "").lower().startswith("ru")
    try:
        svg = vl_convert.vegalite_to_svg(
            printed,
            allowed_base_urls=[],  # vl-convert's own refusal, should a URL get past ours
            format_locale=RUSSIAN_NUMBERS if russian else "en-US",
            time_format_locale=RUSSIAN_TIME if russian else "en-US",
        )
    except ValueError as error:
        raise ValueError(f"the chart could not be drawn: {error}") from error
    # Drop the XML prolog, were there one: the markup goes inside an HTML page.
    svg = re.sub(r"^\s*<\?xml[^>]*\?>", "", svg)
    return mark_safe(svg)  # vl-convert escapes the text it writes into the SVG


# --- fetching ------------------------------------------------------------------------------------


def _weasyprint():
    import weasyprint  # 0.6–0.9 s to import; only the processes that print pay it

    # Seven INFO lines a document ("Step 1 - Fetching and parsing HTML"…) would drown the
    # worker's own log; its warnings (an unsupported CSS property) still show.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    return weasyprint


class RefusedURL(ValueError):
    """A document asked for a resource outside this machine (or a static file that is not
    there)."""


def _static_file(path: str) -> Path | None:
    """A static file by its path under STATIC_URL: from the apps' static folders (no
    collectstatic needed) or STATIC_ROOT."""
    relative = PurePosixPath(unquote(path))
    if relative.is_absolute() or ".." in relative.parts:
        return None
    try:
        found = finders.find(str(relative))
    except SuspiciousFileOperation:
        return None
    if found:
        return Path(found)
    root = Path(settings.STATIC_ROOT)
    candidate = (root / relative).resolve()
    if candidate.is_relative_to(root.resolve()) and candidate.is_file():
        return candidate
    return None


@functools.cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class OfflineFetcher(URLFetcher):
        """WeasyPrint's fetcher limited to ``data:`` URLs and this site's static files
        (``/static/…`` under :data:`ORIGIN`). Any other URL raises :class:`RefusedURL`, which
        stops the render: a document that needs what it cannot have is a bug in its template,
        better found than printed without it. ``refused`` lists the URLs it turned away."""

        def __init__(self):
            super().__init__(allowed_protocols=("data", "http"), fail_on_errors=True)
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            if url.split(":", 1)[0].lower() == "data":
                # urllib's data: handler; no other handler is reached for this scheme.
                return super().fetch(url, headers)
            static = "/" + settings.STATIC_URL.strip("/") + "/"
            if url.startswith(ORIGIN.rstrip("/") + static):
                found = _static_file(urlsplit(url).path.removeprefix(static))
                if found is not None:
                    return URLFetcherResponse(
                        url, found.read_bytes(), {"Content-Type": _content_type(found)}
                    )
                self.refused.append(url)
                raise RefusedURL(f"{url}: no such static file")
            self.refused.append(url)
            raise RefusedURL(
                f"{url}: a printed document fetches nothing outside this site's static files"
            )

    return OfflineFetcher


def offline_fetcher():
    """A new :class:`OfflineFetcher` (a subclass of WeasyPrint's ``URLFetcher``, made on first
    use so that importing this module does not import WeasyPrint)."""
    return _fetcher_class()()


def _content_type(path: Path) -> str:
    return {
        ".css": "text/css",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".woff2": "font/woff2",
        ".woff": "font/woff",
        ".ttf": "font/ttf",
    }.get(path.suffix.lower(), "application/octet-stream")


# --- documents -----------------------------------------------------------------------------------


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal: quotes, backslashes, line breaks and "<" escaped, so
    nothing a translation holds can close the string or the style element."""
    escaped = "".join(f"\\{ord(c):x} " if c in '"\\<>\n\r\f' or ord(c) < 32 else c for c in text)
    return f'"{escaped}"'


def page_counter_css() -> SafeString:
    """The CSS ``content`` of the footer, "Page N of M" in the active language."""
    words = _("Page %(page)s of %(pages)s")
    parts = []
    for piece in re.split(r"(%\(page\)s|%\(pages\)s)", words):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(_css_string(piece))
    return mark_safe(" ".join(parts))


def render_pdf(
    template_name: str,
    context: Mapping[str, Any] | None = None,
    *,
    language: str,
    organisation: str = "",
    printed: date | None = None,
) -> bytes:
    """The template rendered in ``language`` and printed to PDF bytes (A4).

    The template extends ``reports/print_base.html``, which reads ``title``, ``subtitle``
    and the running header's ``organisation`` and ``printed`` date (today in the site's time
    zone by default) from the context. Raises :class:`RefusedURL` when the template asks for
    a resource off this machine, :class:`DocumentRefused` past :data:`MAX_HTML_BYTES` or
    :data:`MAX_PAGES`.
    """
    weasyprint = _weasyprint()
    with translation.override(language):
        full = {
            **(context or {}),
            "organisation": organisation,
            "printed": printed or timezone.localdate(),
            "language": translation.get_language(),
            "page_counter_css": page_counter_css(),
        }
        html = render_to_string(template_name, full)
        size = len(html.encode())
        if size > MAX_HTML_BYTES:
            raise DocumentRefused(
                f"{template_name} rendered {size:,} bytes of HTML; a printed document takes "
                f"at most {MAX_HTML_BYTES:,}"
            )
        fetcher = offline_fetcher()
        stylesheet = weasyprint.CSS(
            string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=fetcher
        )
        try:
            document = weasyprint.HTML(string=html, base_url=ORIGIN, url_fetcher=fetcher).render(
                stylesheets=[stylesheet]
            )
        except weasyprint.urls.FatalURLFetchingError as error:
            cause = error.__cause__
            if isinstance(cause, RefusedURL):
                raise RefusedURL(f"{template_name}: {cause}") from None
            raise
        if len(document.pages) > MAX_PAGES:
            raise DocumentRefused(
                f"{template_name} lays out {len(document.pages):,} pages; a printed document "
                f"takes at most {MAX_PAGES:,}"
            )
        return document.write_pdf()
