"""The shell of every staff page in a real browser: the navigation collapses on a phone and its
toggle opens it, Django messages show as toasts, the language switch works, and the page has no
horizontal scrolling, no console error and no axe-core violation at 390 and 1280 px."""

import pytest
from django.urls import reverse

from cxloop.people.models import Role, Team
from cxloop.test import PASSWORD, BaseTestCase
from tests.surveys.test_respond_browser import axe_violations

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def site(live_server):
    firm = Team.objects.create(name="Firm")
    BaseTestCase._user("lead", firm, Role.ADMIN)
    return live_server.url


def sign_in(browser, base: str, size: dict, language: str = "en"):
    context = browser.new_context(locale=language, **size)
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.goto(f"{base}/login/")
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=username]").fill("lead")
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    return page


def test_it_collapses_the_navigation_on_a_phone_and_opens_it_with_the_toggle(browser, site):
    page = sign_in(browser, site, PHONE)
    menu = page.locator("#cx-nav")
    assert menu.is_hidden()
    assert page.evaluate(OVERFLOW) <= 0
    assert axe_violations(page) == []
    page.get_by_role("button", name="Menu").click()
    menu.wait_for(state="visible")
    page.get_by_role("button", name="Feedback").click()
    responses = page.get_by_role("link", name="Responses")
    responses.wait_for(state="visible")
    assert page.get_by_text("Lead", exact=True).is_visible()  # the user's name
    assert page.evaluate(OVERFLOW) <= 0
    assert axe_violations(page) == []
    with page.expect_navigation():
        responses.click()
    assert page.url.endswith(reverse("response_list"))
    assert page.problems == []
    page.context.close()


def test_it_shows_the_navigation_open_on_a_desktop(browser, site):
    page = sign_in(browser, site, DESKTOP)
    assert page.get_by_role("button", name="Menu").is_hidden()
    page.get_by_role("button", name="Settings").click()
    page.get_by_role("link", name="Audit log").wait_for(state="visible")
    assert page.evaluate(OVERFLOW) <= 0
    assert axe_violations(page) == []
    assert page.problems == []
    page.context.close()


def test_it_shows_messages_as_toasts(browser, site):
    page = sign_in(browser, site, PHONE)
    page.goto(site + reverse("ideas"))
    page.get_by_label("Your idea or remark").fill("A bigger meeting room")
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    toast = page.locator(".cx-toasts .toast")
    toast.wait_for(state="visible")
    assert "Thank you" in toast.inner_text()
    assert toast.get_attribute("role") == "status"
    assert page.evaluate(OVERFLOW) <= 0
    assert axe_violations(page) == []
    toast.get_by_role("button", name="Close").click()
    toast.wait_for(state="hidden")
    assert page.problems == []
    page.context.close()


def test_it_switches_the_language(browser, site):
    page = sign_in(browser, site, DESKTOP, language="ru")
    assert page.locator("html").get_attribute("lang") == "ru"
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Journey").is_visible()
    assert page.get_by_role("button", name="Русский").is_visible()
    assert page.problems == []
    page.context.close()
