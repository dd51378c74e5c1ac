"""The new-initiative page in chromium: its baseline preview follows the metric chosen (htmx),
so that a metric without data reads «not measured» and the touchpoint's rating its level."""

import datetime as dt

import pytest
from django.test import Client, override_settings

from tests.effect_data import write_store
from tests.improvements.data import ImprovementTestCase

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(live_server, tmp_path):
    with override_settings(FACTS_DIR=tmp_path / "facts"):
        data = type("Data", (ImprovementTestCase,), {})
        data.setUpTestData()
        today = dt.date.today()
        write_store(
            tmp_path / "facts",
            touchpoints={data.kickoff.pk: 0.0},
            change=today,
            first=today - dt.timedelta(days=200),
            last=today,
        )
        client = Client()
        client.force_login(data.lead)
        yield live_server.url, client.cookies["sessionid"].value, data.kickoff


def test_the_baseline_preview_follows_the_metric(browser, site):
    base, session, kickoff = site
    context = browser.new_context()
    context.add_cookies(
        [
            {"name": "sessionid", "value": session, "url": base},
            {"name": "django_language", "value": "en", "url": base},
        ]
    )
    page = context.new_page()
    page.goto(f"{base}/initiatives/new/?from=touchpoint&touchpoint={kickoff.pk}")
    preview = page.locator("#baseline-value")
    assert "answers" in preview.inner_text()
    page.select_option("#id_metric", "nps")
    page.wait_for_function(
        "() => document.querySelector('#baseline-value').innerText.includes('not measured')",
        timeout=10000,
    )
    page.select_option("#id_metric", "rating")
    page.wait_for_function(
        "() => document.querySelector('#baseline-value').innerText.includes('answers')",
        timeout=10000,
    )
    page.uncheck(f"input[name=touchpoints][value='{kickoff.pk}']")
    page.wait_for_function(
        "() => document.querySelector('#baseline-value').innerText.includes('not measured')",
        timeout=10000,
    )
    context.close()
