"""A respondent on a phone, in a real browser: from the e-mailed link to the thank-you page."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from cxloop.customers.models import Contact, Customer
from cxloop.surveys.distribution import distribute
from cxloop.surveys.models import Response
from tests.smtp import SmtpServer
from tests.surveys.test_respond import make_survey

AXE = Path(__file__).parents[1] / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}
pytestmark = pytest.mark.django_db(transaction=True)


def emailed_link(live_server) -> str:
    """Invite a contact through a real SMTP server and return the link from the e-mail."""
    customer = Customer.objects.create(external_id="C-1", name="Acme")
    contact = Contact.objects.create(
        customer=customer, name="Анна", email="anna@acme.example", consent=True
    )
    with SmtpServer() as smtp, override_settings(**smtp.settings):
        distribute(make_survey(), [contact], now=timezone.now(), fatigue_days=30)
        call_command("worker", batch=True, verbosity=0)
        body = smtp.messages[0].get_body(("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/s/[^/\s]+/)", body).group(1)
    return live_server.url + path


def axe_violations(page) -> list[str]:
    # Evaluated by the test's driver rather than added as an inline <script>, which the pages'
    # Content-Security-Policy (rightly) refuses to run.
    page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]]


def test_it_answers_on_a_phone_with_no_accessibility_violations(browser, live_server):
    link = emailed_link(live_server)
    page = browser.new_page(**PHONE)
    outside = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    page.goto(link)
    assert page.locator("h1").inner_text() == "Опрос клиентов"
    assert axe_violations(page) == []
    page.get_by_role("button", name="Далее").click()  # the required NPS is missing
    assert page.get_by_role("alert").is_visible()
    assert axe_violations(page) == []
    page.get_by_label("3", exact=True).check()
    page.get_by_role("button", name="Далее").click()
    page.get_by_label("Что пошло не так?").fill("Долго ждали ответа")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Далее").click()
    page.get_by_role("button", name="Отправить").click()
    assert page.locator("h1").inner_text() == "Спасибо!"
    assert axe_violations(page) == []
    assert outside == []
    response = Response.objects.get()
    assert response.state == "completed"
    assert response.answers.get(question__order=3).text == "Долго ждали ответа"


def test_it_works_with_javascript_off(browser, live_server):
    link = emailed_link(live_server)
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(link + "?lang=en")
    page.get_by_label("10 — extremely likely").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Back").click()
    assert page.get_by_label("10 — extremely likely").is_checked()  # the answer was kept
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Submit").click()
    assert page.locator("h1").inner_text() == "Thank you!"
    assert Response.objects.get().answers.get(question__order=1).score == 10
    context.close()
