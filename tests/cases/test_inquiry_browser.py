"""The inquiry form in a real browser on a phone: without JavaScript from the question to the
specialist's answer and the customer's reply, and with no accessibility violations (axe-core)."""

import re

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from cxloop.cases import inquiries
from cxloop.cases.choices import CaseState, EventKind
from cxloop.cases.models import Case
from cxloop.outbox.models import OutboxMessage
from cxloop.people.models import Role, Team
from cxloop.test import BaseTestCase
from tests.cases.test_inquiries import LOCAL_CACHE, make_topic
from tests.surveys.test_respond_browser import PHONE, axe_violations

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def topic():
    cache.clear()
    team = Team.objects.create(name="Specialists")
    BaseTestCase._user("spec", team, Role.EMPLOYEE)
    with override_settings(CACHES=LOCAL_CACHE):
        yield make_topic(team)


def signed_in(browser, live_server, username: str, **options):
    client = Client()
    client.force_login(BaseTestCase._user(username, Team.objects.get(), Role.ADMIN))
    context = browser.new_context(**options)
    session = client.cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    return context


def ask(page, *, email: str) -> None:
    page.get_by_label("Topic").select_option(label="Invoices")
    page.get_by_label("Your name").fill("Anna")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Your question").fill("Why are there two lines for March?")
    page.get_by_label("I agree to be contacted").check()
    page.get_by_role("button", name="Send the question").click()


def test_it_works_end_to_end_without_javascript(browser, live_server, topic, monkeypatch):
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/ask/?lang=en")
    ask(page, email="anna@")
    # A malformed address: named in the summary, and the cursor is put in its field.
    assert "E-mail: Enter an e-mail address" in page.get_by_role("alert").inner_text()
    assert page.locator("#id_email:focus").count() == 1
    page.get_by_label("E-mail").fill("anna@acme.example")
    page.get_by_role("button", name="Send the question").click()
    # Sent within seconds of the page: refused, with the entries kept.
    assert "faster than a person" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Your question").input_value() == "Why are there two lines for March?"
    assert Case.objects.count() == 0
    monkeypatch.setattr(inquiries, "MIN_FILL_SECONDS", 0)
    page.get_by_role("button", name="Send the question").click()
    case = Case.objects.get()
    assert page.locator("#inquiry-reference").inner_text() == case.reference

    link = re.search(r"https?://[^/\s]+(/ask/[^/\s]+/)", OutboxMessage.objects.get().text)
    staff = signed_in(browser, live_server, "lead", java_script_enabled=False)
    case_page = staff.new_page()
    case_page.goto(f"{live_server.url}/cases/{case.pk}/")
    case_page.get_by_label("Answer to the customer").fill("The second line is delivery.")
    case_page.get_by_role("button", name="Send the answer").click()
    assert Case.objects.get().state == CaseState.WAITING

    page.goto(live_server.url + link.group(1) + "?lang=en")
    assert "The second line is delivery." in page.locator("#inquiry-thread").inner_text()
    page.get_by_label("Your message").fill("Thank you! And the VAT?")
    page.get_by_role("button", name="Send", exact=True).click()
    assert page.get_by_role("status").is_visible()
    case = Case.objects.get()
    assert case.state == CaseState.IN_PROGRESS
    assert case.events.get(kind=EventKind.MESSAGE_IN).text == "Thank you! And the VAT?"


def test_its_pages_have_no_accessibility_violations(browser, live_server, topic, monkeypatch):
    page = browser.new_page(locale="ru-RU", **PHONE)
    outside = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    page.goto(f"{live_server.url}/ask/")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/ask/?lang=en")
    page.get_by_role("button", name="Send the question").click()  # everything missing
    assert page.get_by_role("alert").is_visible()
    assert axe_violations(page) == []
    monkeypatch.setattr(inquiries, "MIN_FILL_SECONDS", 0)
    ask(page, email="anna@acme.example")
    assert page.locator("#inquiry-reference").is_visible()
    assert axe_violations(page) == []
    case = Case.objects.get()
    staff = signed_in(browser, live_server, "lead", **PHONE).new_page()
    staff.goto(f"{live_server.url}/cases/{case.pk}/")
    assert staff.locator("#inquiry").is_visible()
    assert axe_violations(staff) == []
    token = re.search(r"/ask/([\w-]+)/", OutboxMessage.objects.get().text).group(1)
    page.goto(f"{live_server.url}/ask/{token}/")
    assert page.locator("#inquiry-thread").is_visible()
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/ask/unknown-token/")
    assert axe_violations(page) == []
    assert outside == []
