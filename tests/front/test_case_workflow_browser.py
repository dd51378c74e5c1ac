"""The closed loop worked by hand in a real browser on a phone: a detractor's response → "Open
a case" → the owner records the contact → resolves it → closes the loop with the customer; the
timeline shows each step. And the case pages in both languages: no horizontal scrolling, no
accessibility violation (axe-core), no console error."""

import pytest
from django.urls import reverse

from cxloop.cases.models import Case, RootCause
from cxloop.people.models import Role
from cxloop.test import PASSWORD, BaseTestCase
from tests.front.evidence_data import EvidenceTestCase
from tests.surveys.test_respond_browser import axe_violations

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


class _Data(EvidenceTestCase):
    """Only to build the data (setUpTestData is a plain class method); never run as a test."""

    __test__ = False


@pytest.fixture
def site(live_server):
    _Data.setUpTestData()
    BaseTestCase._user("lead", _Data.firm, Role.ADMIN)
    RootCause.objects.create(
        touchpoint=_Data.billing, name_ru="Ошибка в счёте", name_en="Invoice error"
    )
    yield live_server.url, _Data


def signed_in_phone(browser, base: str, username: str, language: str):
    page = browser.new_page(viewport=PHONE, locale=language)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.goto(f"{base}/login/")
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    return page


def submit(page, section: str) -> None:
    with page.expect_navigation():
        page.locator(f"#action-{section} button[type=submit]").click()


def test_a_detractor_is_worked_through_to_a_closed_loop(browser, site):
    base, data = site
    page = signed_in_phone(browser, base, "teammate", "en")
    page.goto(base + reverse("response_detail", args=[data.r_detractor.pk]))
    with page.expect_navigation():
        page.get_by_role("link", name="Open a case").click()
    assert page.get_by_label("Summary").input_value() == "Feedback of Acme"
    assert "Billing accuracy" in page.locator("main").inner_text()  # the low-rated touchpoint
    with page.expect_navigation():
        page.get_by_role("button", name="Open the case").click()
    case = Case.objects.get()
    assert page.url.endswith(reverse("case_detail", args=[case.pk]))
    assert page.evaluate(OVERFLOW) <= 0
    assert axe_violations(page) == []

    page.locator("#id_contact_channel").select_option("call")
    page.locator("#id_contact_text").fill("Called Ann about the invoices")
    submit(page, "contact")
    page.locator("#id_state_state").select_option("resolved")
    page.locator("#id_state_text").fill("Credit note sent")
    submit(page, "state")
    page.locator("#id_loop_channel").select_option("call")
    page.locator("#id_loop_reaction").select_option("satisfied")
    submit(page, "loop")

    case.refresh_from_db()
    assert (case.state, case.customer_reaction) == ("resolved", "satisfied")
    assert case.first_contacted_at is not None
    timeline = page.locator("#case-timeline").inner_text()
    for step in (
        "opened",
        "customer contacted",
        "Called Ann about the invoices",
        "in progress → resolved",
        "Credit note sent",
        "loop closed with the customer",
        "satisfied",
    ):
        assert step in timeline, step
    assert page.locator("#case-loop").inner_text() == "call · satisfied"
    assert page.problems == []
    page.close()


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_case_pages_fit_a_phone_with_no_violations(browser, site, language):
    base, data = site
    case = Case.objects.create(
        origin="manual",
        title="Acme",
        customer=data.acme,
        owner=data.teammate.employee,
        opened_at=data.r_detractor.submitted_at,
        updated_at=data.r_detractor.submitted_at,
    )
    page = signed_in_phone(browser, base, "lead", language)
    paths = [
        reverse("case_list") + "?tab=all",
        reverse("case_detail", args=[case.pk]),
        reverse("case_new") + f"?response={data.r_detractor.pk}",
        reverse("follow_up_list") + "?tab=all",
        reverse("root_cause_list"),
    ]
    problems = {}
    for path in paths:
        page.goto(base + path)
        found = axe_violations(page)
        if page.evaluate(OVERFLOW) > 0:
            found.append(f"scrolls sideways by {page.evaluate(OVERFLOW)} px")
        if found:
            problems[path] = found
    assert problems == {}
    assert page.problems == []
    page.close()
