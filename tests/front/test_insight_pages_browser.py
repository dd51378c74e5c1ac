"""The journey map and the dashboards in a real browser: every page renders, every chart
draws, nothing goes wrong in the console, no request leaves 127.0.0.1, and axe-core finds no
accessibility violation."""

import pytest
from django.test import override_settings
from django.urls import reverse

from cxloop.facts.sync import rebuild
from cxloop.people.models import Employee, Role, Team
from cxloop.test import PASSWORD, BaseTestCase
from tests.front.insight_data import make_insight_data
from tests.surveys.test_respond_browser import axe_violations

pytestmark = pytest.mark.django_db(transaction=True)
SINCE = "?since=2025-12-01"


@pytest.fixture
def site(live_server, tmp_path):
    with override_settings(FACTS_DIR=tmp_path / "facts"):
        firm = Team.objects.create(name="Firm")
        lead = BaseTestCase._user("lead", firm, Role.ADMIN)
        other = BaseTestCase._user("other", Team.objects.create(name="B", parent=firm), "employee")
        data = make_insight_data(ours=Employee.objects.get(user=lead), theirs=other.employee)
        rebuild()
        yield live_server.url, data


def signed_in_page(browser, base: str, language: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=language)
    page.goto(f"{base}/login/")
    page.get_by_label("Имя пользователя" if language == "ru" else "Username").fill("lead")
    page.get_by_label("Пароль" if language == "ru" else "Password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    return page


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_analytical_page_draws_its_charts(browser, site, language):
    base, data = site
    page = signed_in_page(browser, base, language)
    if language == "ru":
        page.context.add_cookies([{"name": "django_language", "value": "ru", "url": base}])
    problems, outside = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    paths = [
        reverse("journey_map") + SINCE + "&segment=all",
        reverse("overview") + SINCE,
        reverse("compare") + SINCE + f"&by=period&metric=rating&touchpoint={data.kickoff.pk}",
        reverse("portfolio"),
        reverse("touchpoint_detail", args=[data.billing.pk]) + SINCE + "&segment=all",
    ]
    for path in paths:
        page.goto(base + path)
        charts = page.locator(".chart-view")
        count = charts.count()
        assert count > 0, path
        page.wait_for_function(
            "n => document.querySelectorAll('.chart-view svg .mark-symbol, .chart-view svg "
            ".mark-line, .chart-view svg .mark-rect, .chart-view svg .mark-text').length >= n",
            arg=count,
        )
        for i in range(count):
            assert charts.nth(i).locator("svg").count() == 1, (path, i)
        assert page.locator("html").get_attribute("lang") == language
        assert axe_violations(page) == [], path
    assert problems == []
    assert outside == []


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_dashboards_read_on_a_phone(browser, site, language):
    """At 390 px the overview, comparisons, portfolio and touchpoint page scroll only down:
    their tables scroll within themselves, the filters wrap, the tabs scroll in their own strip;
    no axe violation; the explanations open from the keyboard."""
    base, data = site
    page = signed_in_page(browser, base, language)
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    paths = [
        reverse("overview") + SINCE,
        reverse("compare") + SINCE + "&by=team&metric=nps",
        reverse("portfolio"),
        reverse("touchpoint_detail", args=[data.billing.pk]) + SINCE + "&segment=all",
    ]
    for path in paths:
        page.goto(base + path)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.chart-view')].every(v => v.querySelector('svg'))"
        )
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1] + 1, (path, widths)
        # Every filter field lies within the page's width.
        overflowing = page.evaluate(
            "() => [...document.querySelectorAll('.cx-filterbar input, .cx-filterbar select')]"
            ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)"
            ".map(e => e.name)"
        )
        assert overflowing == [], path
        assert axe_violations(page) == [], path
    # A KPI's interval shows on keyboard focus.
    page.goto(base + reverse("overview") + SINCE)
    page.locator(".cx-kpi-value [data-bs-toggle=tooltip]").first.focus()
    tip = page.locator(".tooltip")
    tip.wait_for()
    assert "95%" in tip.inner_text()
    assert problems == []


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("width", [390, 1280])
def test_the_journey_map_reads_on_a_phone_and_a_desktop(browser, site, language, width):
    """The journey map's cards at 390 px and on a desktop, in both languages: the page scrolls
    only down, no card's text is clipped (scroll width within client width), axe finds nothing,
    a card's details open from the keyboard, its score links to the responses behind it."""
    base, data = site
    page = signed_in_page(browser, base, language)
    page.set_viewport_size({"width": width, "height": 900})
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(base + reverse("journey_map") + SINCE + "&segment=all")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart-view')].every(v => v.querySelector('svg'))"
    )
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] + 1, widths
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('.cx-tp, .cx-tp *')]"
        ".filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)"
        ".map(e => e.className || e.tagName)"
    )
    assert clipped == [], clipped
    assert page.locator(".cx-tp").count() == 2
    assert axe_violations(page) == []
    card = page.locator(f"#tp-{data.kickoff.pk}")
    assert "touchpoint=" in card.locator(".cx-tp-score").get_attribute("href")
    card.locator("summary").focus()
    page.keyboard.press("Enter")
    assert card.locator("details").get_attribute("open") is not None
    assert card.locator("dl").is_visible()
    assert problems == []
