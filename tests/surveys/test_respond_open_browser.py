"""The open link in a real browser with JavaScript off: a visit stores nothing, the first page
answered stores the response, and the respondent finishes on plain HTML forms."""

import pytest
from django.urls import reverse

from cxloop.surveys.models import Response
from cxloop.surveys.services import open_link_signature
from tests.surveys.test_respond import make_survey
from tests.surveys.test_respond_browser import PHONE

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_stores_the_response_only_once_the_first_page_is_answered(browser, live_server):
    survey = make_survey(accepts_open_link=True)
    path = reverse("respond_open", args=[survey.pk, open_link_signature(survey.pk)])
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    for _ in range(3):
        page.goto(live_server.url + path + "?via=qr&lang=en")
    assert not Response.objects.exists()
    page.get_by_label("9").check()
    page.get_by_role("button", name="Next").click()
    assert Response.objects.get().channel == "qr"
    page.goto(live_server.url + path + "?lang=en")  # comes back: resumes, no second response
    page.get_by_role("button", name="Submit").click()
    assert page.locator("h1").inner_text() == "Thank you!"
    response = Response.objects.get()
    assert (response.state, response.answers.get().score) == ("completed", 9)
    context.close()
