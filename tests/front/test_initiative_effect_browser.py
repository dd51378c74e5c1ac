"""The measured effect in chromium, in both languages, on a desktop and a phone: both charts
(the two groups with the change marked; the time series with its fitted line) draw, nothing goes
wrong in the console, and the card does not stick out of a phone's screen."""

import datetime as dt

import pytest
from django.test import Client, override_settings

from cxloop.journeys.models import Journey, Stage
from tests.effect_data import finished, write_store
from tests.front.test_every_page_browser import CHARTS_DRAWN, OVERFLOW, Watch
from tests.improvements.data import ImprovementTestCase, propose, touchpoint

pytestmark = pytest.mark.django_db(transaction=True)
CHANGE = dt.date(2026, 1, 1)


@pytest.fixture
def site(live_server, tmp_path):
    with override_settings(FACTS_DIR=tmp_path / "facts"):
        # The improvement tests' people and journey, on a class of this test's own.
        data = type("Data", (ImprovementTestCase,), {})
        data.setUpTestData()
        journey = Journey.objects.create(name_ru="Один", name_en="Alone")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Этап", name_en="Stage")
        alone = touchpoint(stage, 1, "alone", "Одна", "Alone")
        write_store(
            tmp_path / "facts",
            touchpoints={data.kickoff.pk: 0.5, data.billing.pk: 0.0, alone.pk: 0.5},
            change=CHANGE,
            first=dt.date(2025, 1, 1),
            last=dt.date(2026, 11, 30),
        )
        lead = data.lead.employee
        pages = {
            "did": finished(propose(lead, [data.kickoff]), effective_from=CHANGE, by=lead),
            "its": finished(propose(lead, [alone]), effective_from=CHANGE, by=lead),
        }
        client = Client()
        client.force_login(data.lead)
        yield live_server.url, client.cookies["sessionid"].value, pages


@pytest.mark.parametrize("language", ["ru", "en"])
def test_it_draws_the_effect_on_a_desktop_and_a_phone(browser, site, language):
    base, session, pages = site
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.add_cookies(
            [
                {"name": "sessionid", "value": session, "url": base},
                {"name": "django_language", "value": language, "url": base},
            ]
        )
        page = context.new_page()
        watch = Watch(page, base)
        for kind, initiative in pages.items():
            page.goto(f"{base}/initiatives/{initiative.pk}/", wait_until="networkidle")
            page.wait_for_function(f"() => ({CHARTS_DRAWN})().every(n => n > 0)", timeout=15000)
            assert page.locator("html").get_attribute("lang") == language
            assert page.locator(f"#effect-{kind}-chart svg").count() == 1, (kind, width)
            # The change is marked on the chart.
            assert page.locator(f"#effect-{kind}-chart svg .role-mark line").count() >= 1
            if width < 500:
                assert page.evaluate(OVERFLOW) is None, (kind, page.evaluate(OVERFLOW))
        assert watch.take() == [], (language, width)
        context.close()
