"""Every staff page in a real browser, in Russian and English, on a desktop (1280 × 900) and a
phone (390 × 844), signed in as the CX lead, over a small realistic dataset: no horizontal
overflow, no clipped text in the journey cards, every chart drawn, 0 axe-core violations, no
console or page error, no failed request, no request to a host other than the test server's,
``<html lang>`` the language asked for and no English left in the navigation of a Russian page.

The pages are found, not listed: every GET route of cxloop.front, cxloop.privacy and
cxloop.exports (walked from the root URLconf as tests/test_fuzz_params.py does), the
respondent's pages, the login page and the site's 404 page.
A route with an id is filled from :data:`tests.front.every_page_data.URL_KWARGS`; a route missing
there fails the test by its pattern, so a new page cannot be skipped silently. A route that
answers 405 to GET (a POST-only action) is not a page; one that answers something other than
HTML (a QR code, a download) need only answer 200.

One test per language and width visits every page in one browser context and collects all
problems, so that one run tells every page's every problem (URL → problems)."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation
from django.utils.translation import trans_real
from playwright.sync_api import Error as PlaywrightError

import cxloop.front
from tests.front.every_page_data import EXTRA_QUERIES, URL_KWARGS, make_every_page_data

AXE = Path(__file__).parents[1] / "vendor" / "axe-core" / "axe.min.js"
TEMPLATES = Path(cxloop.front.__file__).parent / "templates" / "front"
WIDTHS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
STAFF_URLCONFS = ("cxloop.front.", "cxloop.privacy.", "cxloop.exports.")
RESPONDENT_PAGES = ("respond", "respond_open")
NOT_FOUND = "/no-such-page/"  # the site's own 404 page is one of its pages too
CHART_TIMEOUT_MS = 5000

# Marks Vega drew from data (axes, legends and titles have roles of their own).
CHARTS_DRAWN = """() => [...document.querySelectorAll('.chart-view')].map(
  view => view.querySelectorAll('svg .role-mark > *').length)"""
OVERFLOW = """() => {
  const root = document.documentElement, width = root.clientWidth;
  if (root.scrollWidth <= width + 1) return null;
  const outside = e => e.getBoundingClientRect().right > width + 1 && !clippedWithin(e);
  const wide = [];
  for (const element of document.body.querySelectorAll('*')) {
    // Only the outermost element that sticks out: its children follow it.
    if (outside(element) && !(element.parentElement && outside(element.parentElement))) {
      const right = Math.round(element.getBoundingClientRect().right);
      wide.push(describe(element) + ' reaches ' + right + ' px');
      if (wide.length >= 3) break;
    }
  }
  return {scrollWidth: root.scrollWidth, clientWidth: width, wide};
  function clippedWithin(e) {
    // Inside a box that scrolls or clips it; an absolute element escapes the boxes between it
    // and its positioned ancestor (a visually-hidden label inside a .table-responsive does).
    let position = getComputedStyle(e).position;
    if (position === 'fixed') return true;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (position === 'absolute' && style.position === 'static') continue;
      if (style.overflowX !== 'visible') return true;
      position = style.position;
    }
    return false;
  }
  function describe(e) {
    return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      [...e.classList].slice(0, 3).map(c => '.' + c).join('');
  }
}"""
# A card, or a part of it that hides or scrolls what does not fit, narrower than its content.
CLIPPED = """() => {
  const clipped = [];
  for (const card of document.querySelectorAll('.cx-card-clip, .journey article')) {
    for (const element of [card, ...card.querySelectorAll('*')]) {
      if (element !== card && getComputedStyle(element).overflowX === 'visible') continue;
      if (element.scrollWidth > element.clientWidth) {
        const text = (element.innerText || element.textContent).trim().replace(/\\s+/g, ' ');
        clipped.push(`"${text.slice(0, 60)}" (${element.scrollWidth} > ${element.clientWidth} px)`);
        break;
      }
    }
  }
  return clipped;
}"""
AXE_RUN = """() => axe.run(document, {resultTypes: ['violations']}).then(result =>
  result.violations.map(v => `${v.id}: ${v.help} (${v.nodes.length}: ` +
    v.nodes.slice(0, 2).map(n => n.target.join(' ')).join(', ') + ')'))"""
NAVIGATION_TEXT = """() => {
  const found = [];
  for (const nav of document.querySelectorAll('header, nav, footer')) {
    const walker = document.createTreeWalker(nav, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      // The language switch names each language in its own language.
      if (node.parentElement.closest('[lang]') !== document.documentElement) continue;
      const text = node.textContent.trim().replace(/\\s+/g, ' ');
      if (text) found.push(text);
    }
    for (const element of [nav, ...nav.querySelectorAll('[aria-label], [title]')]) {
      for (const name of ['aria-label', 'title']) {
        if (element.getAttribute(name)) found.push(element.getAttribute(name).trim());
      }
    }
  }
  return found;
}"""


def _routes(resolvers=None, prefix="", urlconfs=()):
    """(route, pattern, the URLconf modules it was included through) of every URL pattern."""
    for entry in get_resolver().url_patterns if resolvers is None else resolvers:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            name = entry.urlconf_name
            module = name if isinstance(name, str) else getattr(name, "__name__", "")
            yield from _routes(entry.url_patterns, route, (*urlconfs, module))
        elif isinstance(entry, URLPattern):
            yield route, entry, urlconfs


class Records(dict):
    """``str.format_map`` over the attributes of ``data``."""

    def __init__(self, data):
        super().__init__()
        self.data = data

    def __missing__(self, name):
        return getattr(self.data, name)


def page_paths(data) -> tuple[list[str], list[str]]:
    """The path of every page to open (the login page and the 404 page first, for they are seen
    signed out; a respondent's page asks for ``{language}``), and the routes that could not be
    filled."""
    paths, unfilled = [reverse("login"), NOT_FOUND], []
    for route, pattern, urlconfs in _routes():
        staff = any(m.startswith(STAFF_URLCONFS) for m in urlconfs)
        if not (staff or pattern.name in RESPONDENT_PAGES) or pattern.name == "login":
            continue
        kwargs = {}
        if pattern.pattern.converters or "(?P" in route:
            if pattern.name not in URL_KWARGS:
                unfilled.append(f"/{route} (name {pattern.name!r})")
                continue
            kwargs = URL_KWARGS[pattern.name](data)
        path = reverse(pattern.name, kwargs=kwargs)
        if pattern.name in RESPONDENT_PAGES:
            paths.append(path + "?lang={language}")
            continue
        paths.append(path)
        for query in EXTRA_QUERIES.get(pattern.name, []):
            paths.append(path + query.format_map(Records(data)))
    return paths, unfilled


def navigation_msgids() -> set[str]:
    """The English texts of the base template and its includes that have a Russian of their own
    (or none yet): none of them may be left in a Russian page's navigation."""
    sources = [TEMPLATES / "base.html", *sorted((TEMPLATES / "includes").glob("*.html"))]
    pattern = re.compile(r"""{%\s*(?:translate|trans)\s+(["'])(.+?)\1""")
    texts = set()
    for source in sources:
        for _quote, text in pattern.findall(source.read_text()):
            texts.add(text)
    catalog = trans_real.translation("ru")._catalog
    with translation.override("ru"):
        return {
            t
            for t in texts
            if re.search(r"[A-Za-z]{2}", t) and (t not in catalog or translation.gettext(t) != t)
        }


@pytest.fixture
def site(live_server, tmp_path):
    with override_settings(
        FACTS_DIR=tmp_path / "facts", MEDIA_ROOT=tmp_path / "media", DATA_DIR=tmp_path / "data"
    ):
        yield live_server.url, make_every_page_data()


class Watch:
    """What goes wrong while a page is open: console and page errors, requests leaving the
    server's host."""

    def __init__(self, page, base: str):
        self.problems: list[str] = []
        host = urlsplit(base).hostname

        def on_console(message):
            if message.type == "error":
                url = message.location.get("url") or ""
                where = f" (at {url[:200]})" if url else ""
                self.problems.append(f"console error: {message.text[:300]}{where}")

        def on_request(request):
            parts = urlsplit(request.url)
            if parts.scheme not in ("data", "blob") and parts.hostname != host:
                self.problems.append(f"request leaving {host}: {request.url[:200]}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"[:300]))

        def on_response(response):
            if response.status >= 400 and response.request.resource_type != "document":
                self.problems.append(f"{response.url[:200]} answered {response.status}")

        page.on("request", on_request)
        page.on("response", on_response)

    def take(self) -> list[str]:
        taken, self.problems = self.problems, []
        return taken


def check_page(page, language: str, english: set[str]) -> tuple[list[str], int]:
    """The problems of the page open in ``page``, and how many texts of its navigation are
    among ``english``."""
    problems = []
    lang = page.locator("html").get_attribute("lang")
    if lang != language:
        problems.append(f"<html lang={lang!r}>, asked for {language!r}")
    drawn = page.evaluate(CHARTS_DRAWN)
    if drawn and min(drawn) == 0:
        try:
            page.wait_for_function(
                f"() => ({CHARTS_DRAWN})().every(n => n > 0)", timeout=CHART_TIMEOUT_MS
            )
        except PlaywrightError:
            drawn = page.evaluate(CHARTS_DRAWN)
            empty = [i + 1 for i, n in enumerate(drawn) if n == 0]
            problems.append(f"charts {empty} of {len(drawn)} drew no marks")
    overflow = page.evaluate(OVERFLOW)
    if overflow:
        problems.append(
            f"horizontal overflow: scrollWidth {overflow['scrollWidth']} > clientWidth "
            f"{overflow['clientWidth']}; {'; '.join(overflow['wide']) or '?'}"
        )
    problems += [f"clipped card text: {c}" for c in page.evaluate(CLIPPED)]
    problems += [f"axe: {v}" for v in page.evaluate(AXE_RUN)]
    shown = {t for t in page.evaluate(NAVIGATION_TEXT) if t in english}
    if language == "ru" and shown:
        problems.append(f"English in the navigation: {sorted(shown)}")
    return problems, len(shown)


def leave(page) -> None:
    """Off the error page chromium shows, so that its console message belongs to no page."""
    for _attempt in range(3):
        try:
            page.goto("about:blank")
            return
        except PlaywrightError:  # still on its way to the error page
            continue


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_it_shows_every_page_whole_and_accessible(browser, site, language, width):
    base, data = site
    paths, unfilled = page_paths(data)
    english = navigation_msgids()
    # Reduced motion: Bootstrap then draws without transitions, so that axe never measures the
    # contrast of an element halfway through fading in.
    context = browser.new_context(locale=language, reduced_motion="reduce", **WIDTHS[width])
    context.add_init_script(path=AXE)
    # Chromium asks for /favicon.ico on the error page it shows for a POST-only route (the pages
    # name their icon); that 404 would land on whichever page is open next.
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    found = {route: ["cannot fill its id: add it to URL_KWARGS"] for route in unfilled}
    page = context.new_page()
    watch = Watch(page, base)
    visited = navigation_in_english = 0
    for i, path in enumerate(paths):
        if i == 2:  # the login and 404 pages are seen signed out; then the lead's session
            context.add_cookies([{"name": "sessionid", "value": data.session, "url": base}])
        where = path.replace("{language}", language)
        try:
            response = page.goto(base + where)
        except PlaywrightError:  # no page to show: an error with an empty body, a download
            response = context.request.get(base + where)
            shown = False
        else:
            shown = True
        status = response.status
        if status == 405:  # a POST-only action, not a page
            leave(page)
            watch.take()
            continue
        visited += 1
        expected = 404 if path == NOT_FOUND else 200
        if status != expected:
            watch.take()  # the console's line about the same status
            problems = [f"answered {status}"]
        elif not shown or "text/html" not in response.headers.get("content-type", ""):
            problems = watch.take()
        else:
            problems, in_english = check_page(page, language, english)
            navigation_in_english += in_english
            # The console tells of the 404 page's own status.
            problems = [p for p in watch.take() if status == 200 or page.url not in p] + problems
        if problems:
            found[where] = problems
    context.close()
    assert visited > 20
    if language == "en":  # else the check of the Russian pages' navigation would see nothing
        assert navigation_in_english > visited, "no text of base.html found in the navigation"
    report = "\n".join(
        f"{where}\n" + "".join(f"    - {p}\n" for p in problems)
        for where, problems in found.items()
    )
    assert not found, f"{len(found)} of {len(paths)} pages in {language} on a {width}:\n{report}"


class Anything:
    """Stands for any record: every attribute is another one, and each reads as 1."""

    def __getattr__(self, name):
        return Anything()

    def __str__(self):
        return "1"

    __format__ = lambda self, spec: "1"  # noqa: E731


def test_it_finds_the_pages_and_names_one_it_cannot_fill(monkeypatch):
    paths, unfilled = page_paths(Anything())
    assert unfilled == []
    for name in ("journey_map", "overview", "audit_log", "personal_data", "import_upload"):
        assert reverse(name) in paths, name
    assert "/s/1/?lang={language}" in paths  # a respondent's page
    assert not [p for p in paths if p.startswith(("/api/", "/admin/", "/u/"))]
    monkeypatch.delitem(URL_KWARGS, "touchpoint_detail")
    paths, unfilled = page_paths(Anything())
    assert unfilled == ["/touchpoints/<int:pk>/ (name 'touchpoint_detail')"]
    assert "/touchpoints/1/" not in paths
