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
