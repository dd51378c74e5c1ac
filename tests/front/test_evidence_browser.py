"""The evidence pages in a real browser on a phone (390 px): no horizontal scrolling, no
accessibility violation (axe-core), no console error, no request leaving 127.0.0.1; and the
feedback list's filters swap the results in place (htmx) and keep them in the address."""

import pytest
from django.urls import reverse

from cxloop.test import PASSWORD
from tests.front.evidence_data import EvidenceTestCase
from tests.surveys.test_respond_browser import axe_violations

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}


class _Data(EvidenceTestCase):
    """Only to build the data (setUpTestData is a plain class method); never run as a test."""

    __test__ = False


@pytest.fixture
def site(live_server):
    _Data.setUpTestData()
    yield live_server.url, _Data


def signed_in_phone(browser, base: str, language: str):
    page = browser.new_page(viewport=PHONE, locale=language)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page.goto(f"{base}/login/")
    page.get_by_label("Имя пользователя" if language == "ru" else "Username").fill("owner")
    page.get_by_label("Пароль" if language == "ru" else "Password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    return page


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_evidence_pages_fit_a_phone_with_no_violations(browser, site, language):
    base, data = site
    page = signed_in_phone(browser, base, language)
    problems, outside = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    paths = [
        reverse("response_list"),
        reverse("response_list") + f"?kind=nps&band=detractor&customer={data.acme.pk}",
        reverse("response_detail", args=[data.r_detractor.pk]),
        reverse("customer_list"),
        reverse("customer_detail", args=[data.acme.pk]),
        reverse("contact_detail", args=[data.ann.pk]),
    ]
    for path in paths:
        page.goto(base + path)
        if page.locator(".chart-view").count():
            # The customer's and contact's NPS by quarter: drawn before it is judged.
            page.wait_for_function(
                "document.querySelectorAll('.chart-view svg .mark-symbol').length > 0"
            )
        assert page.locator("html").get_attribute("lang") == language
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (path, overflow)
        assert axe_violations(page) == [], path
    assert problems == []
    assert outside == []


def test_the_feedback_filters_swap_the_results_in_place(browser, site):
    base, data = site
    page = signed_in_phone(browser, base, "en")
    page.goto(base + reverse("response_list"))
    assert page.locator("#evidence-results tbody tr").count() == 4
    page.evaluate("window.evidenceMarker = 1")  # survives only if the page is not reloaded
    page.get_by_label("Touchpoint").select_option(str(data.kickoff.pk))
    page.wait_for_url(f"**/responses/?*touchpoint={data.kickoff.pk}*")
    page.wait_for_function("document.querySelectorAll('#evidence-results tbody tr').length === 1")
    assert page.evaluate("window.evidenceMarker") == 1
    link = page.locator("#evidence-results tbody tr a").first
    assert link.get_attribute("href") == reverse("response_detail", args=[data.r_promoter.pk])
