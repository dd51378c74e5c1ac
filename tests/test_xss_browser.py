"""An XSS corpus (issue #9): payloads put through every input a user fills — names of customers,
contacts, teams, journeys, stages, touchpoints, surveys and questions, comments from the API and
from face-to-face meetings, ideas — and every page that shows them opened in chromium, hovering
the charts so that Vega draws its tooltips. Nothing may run: no sentinel call, no dialog, no
Content-Security-Policy violation (which would mean escaping failed and only the policy saved us),
no element with an event-handler attribute and no inline script in the page. A second test proves
the policy itself blocks an inline script that escaping let through."""

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path, reverse

import cxloop.urls
from cxloop.api.services import issue_token
from cxloop.customers.models import Contact, Customer
from cxloop.facts.sync import rebuild
from cxloop.feedback.services import ingest
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.people.models import Employee, Role, Team
from cxloop.surveys.models import Question, Survey
from cxloop.surveys.services import open_link_signature
from cxloop.test import BaseTestCase
from tests.front.insight_data import make_insight_data
from tests.front.test_pulse import make_pulse
from tests.imports.files import csv_bytes

pytestmark = pytest.mark.django_db(transaction=True)

# Each calls the sentinel __x with its own number if it ever runs.
PAYLOADS = [
    "<script>__x(1)</script>",
    "<img src=x onerror=__x(2)>",
    "<svg onload=__x(3)>",
    "javascript:__x(4)",
    '"><img src=x onerror=__x(5)>',
    "'><svg/onload=__x(6)>",
    "</script><script>__x(7)</script>",
    "${__x(8)}`;__x(8);`",
    '{{constructor.constructor("__x(9)")()}}',
    '<a href="javascript:__x(10)">click</a>',
    "<b onmouseover=__x(11)>tip</b><img src=x onerror=__x(11)>",  # for Vega's HTML tooltips
    '<iframe srcdoc="<script>parent.__x(12)</script>">',
    "</style><script>__x(13)</script>",
    "<!--<script>__x(14)</script>-->",
    "<details open ontoggle=__x(15)>",
    "\u2028\u2029</script><script>__x(16)</script>",
]
SINCE = "?since=2025-12-01"
# Run before any page script, outside the page's policy (the driver injects it).
SENTINEL = """
window.__xss = [];
window.__x = n => window.__xss.push(n);
window.__violations = [];
document.addEventListener("securitypolicyviolation", e =>
    window.__violations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sample));
"""
# What an escaping failure would leave in the page even where the policy stops it from running.
INJECTED = """() => {
  const found = [];
  for (const element of document.querySelectorAll("*")) {
    // Through Element.prototype: a form's field named "attributes" shadows the property.
    for (const name of Element.prototype.getAttributeNames.call(element)) {
      const value = Element.prototype.getAttribute.call(element, name);
      const url = ["href", "xlink:href", "src", "action", "formaction", "data"].includes(name);
      if (name.startsWith("on") || (url && /^\\s*javascript:/i.test(value))) {
        found.push(element.tagName + " " + name + "=" + value.slice(0, 40));
      }
    }
  }
  for (const script of document.querySelectorAll("script:not([src])")) {
    if (script.type !== "application/json") found.push("script " + script.textContent.slice(0, 40));
  }
  for (const frame of document.querySelectorAll("iframe")) found.push("iframe");
  return found;
}"""


def payload(i: int) -> str:
    return PAYLOADS[i % len(PAYLOADS)]


def seed() -> tuple[str, list[str]]:
    """The corpus in every input; returns the session of the lead who filled the forms (it holds
    their import in progress) and the pages that show it."""
    firm = Team.objects.create(name="Firm")
    lead = BaseTestCase._user("lead", firm, Role.ADMIN)
    lead.is_staff = lead.is_superuser = True
    lead.save()
    other = BaseTestCase._user(
        "other", Team.objects.create(name=payload(1), parent=firm), "employee"
    )
    data = make_insight_data(ours=Employee.objects.get(user=lead), theirs=other.employee)
    for i, team in enumerate(Team.objects.exclude(pk=firm.pk)):
        team.name = payload(i)
        team.save()
    # Names of the journey's parts, customers, contacts, surveys and questions.
    Journey.objects.update(name_en=payload(2), name_ru=payload(3))
    Stage.objects.update(name_en=payload(4), name_ru=payload(5))
    for i, touchpoint in enumerate(Touchpoint.objects.all()):
        touchpoint.name_en = payload(6 + i)
        touchpoint.name_ru = payload(8 + i)
        touchpoint.save()
    data.ours.name, data.theirs.name = payload(10), payload(11)
    data.ours.save()
    data.theirs.save()
    survey = Survey.objects.get(kind="relationship")
    survey.name_en, survey.name_ru = payload(12), payload(13)
    survey.accepts_open_link = True
    survey.save()
    for i, question in enumerate(Question.objects.filter(survey=survey)):
        question.text_en = question.text_ru = payload(14 + i)
        question.save()
    contacts = []
    for i, text in enumerate(PAYLOADS):
        customer = Customer.objects.create(
            external_id=f"X-{i}", name=text, owner=lead.employee, annual_value=100 + i
        )
        contacts.append(
            Contact.objects.create(
                customer=customer, name=text, email=f"c{i}@x.example", consent=True
            )
        )
        # Comments through the one way in, as imports and the survey pages use it...
        ingest(
            survey=survey,
            answers={1: i % 11, 2: 1 + i % 5, 3: 2, 4: text},
            channel="email",
            submitted_at=dt.datetime(2026, 1, 10 + i, 10, tzinfo=dt.UTC),
            customer=customer,
        )
    # ...through the API...
    token = issue_token(lead.employee, "xss")[1]
    client = Client()
    for i, text in enumerate(PAYLOADS):
        body = {
            "survey_id": survey.pk,
            "answers": {"1": 3, "4": text},
            "submitted_at": f"2026-02-{1 + i:02d}T10:00:00+00:00",
            "customer_external_id": f"X-{i}",
            "contact_email": f"c{i}@x.example",
        }
        response = client.post(
            "/api/responses",
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"xss-{i}"},
        )
        assert response.status_code == 201, response.content
    # ...and through the pages' forms: face-to-face meetings and ideas.
    guide = Survey.objects.create(
        name_en=payload(3), name_ru=payload(4), kind="interview", languages=["ru", "en"]
    )
    Question.objects.create(
        survey=guide, order=1, kind="nps", text_en=payload(5), text_ru=payload(6), required=True
    )
    client.force_login(lead)
    today = dt.date.today().isoformat()
    for i, text in enumerate(PAYLOADS[:6]):
        form = {
            "kind": "visit",
            "customer": contacts[i].customer_id,
            "participants": contacts[i].email,
            "met_on": today,
            "language": "en",
            "notes": text,
            "q1": "9",
        }
        response = client.post(reverse("face_to_face_new"), form)
        assert response.status_code == 302, response.content[:2000]
    for text in PAYLOADS:
        assert client.post(reverse("ideas"), {"text": text}).status_code == 302
    # ...and the cells of an import file: the mapping page shows its headers and first values,
    # the preview the rows and what is wrong with them, the result what was written.
    rows = [["external id", "name", "tier", "annual value", PAYLOADS[0]]]
    for i, text in enumerate(PAYLOADS):
        rows.append([f"I-{i}", text, text, "1" if i % 2 else text, text])
    upload = {"kind": "customers", "file": SimpleUploadedFile("c.csv", csv_bytes(rows))}
    response = client.post(reverse("import_upload"), upload)
    assert response.status_code == 302, response.content[:2000]
    token = response.url.split("/")[-3]
    mapped = {"target_0": "external_id", "target_1": "name", "target_2": "tier"}
    mapped |= {"target_3": "annual_value"}
    assert client.get(reverse("import_mapping", args=[token])).status_code == 200
    assert client.post(reverse("import_mapping", args=[token]), mapped).status_code == 302
    pulse = make_pulse()
    pulse.name_en = pulse.name_ru = payload(7)
    pulse.save()
    rebuild()
    question = Question.objects.filter(survey=survey).first()
    pages = [
        reverse("home"),
        reverse("survey_detail", args=[survey.pk]),
        reverse("survey_edit", args=[survey.pk]),
        reverse("survey_preview", args=[survey.pk]),
        reverse("survey_preview", args=[survey.pk]) + "?page=2",
        reverse("question_edit", args=[survey.pk, question.order]),
        reverse("journey_map") + SINCE + "&segment=all",
        reverse("overview") + SINCE,
        reverse("compare") + SINCE + f"&by=period&metric=rating&touchpoint={data.kickoff.pk}",
        reverse("compare") + SINCE + f"&by=team&metric=nps&touchpoint={data.billing.pk}",
        reverse("portfolio"),
        reverse("touchpoint_detail", args=[data.billing.pk]) + SINCE + "&segment=all",
        reverse("face_to_face_list"),
        reverse("face_to_face_new"),
        reverse("response_list"),
        reverse("pulse_results", args=[pulse.pk]),
        reverse("ideas"),
        reverse("import_preview", args=[token]),
        "/admin/customers/customer/",
        f"/admin/customers/customer/{data.ours.pk}/change/",
        "/admin/customers/contact/",
        f"/admin/customers/contact/{contacts[0].pk}/change/",
        "/admin/people/team/",
        "/admin/journeys/touchpoint/",
        "/admin/surveys/survey/",
        "/admin/surveys/response/",
        "/api/docs",
        # The audit log (the names it labels events with) and one contact's personal data.
        reverse("audit_log"),
        reverse("personal_data") + f"?contact={contacts[1].pk}",
        # The respondent's page, as anyone with the open link sees it.
        reverse("respond_open", args=[survey.pk, open_link_signature(survey.pk)]) + "?lang=en",
    ]
    return client.cookies["sessionid"].value, pages


@pytest.fixture
def site(live_server, tmp_path):
    media = tmp_path / "media"
    with override_settings(FACTS_DIR=tmp_path / "facts", MEDIA_ROOT=media, LANGUAGE_CODE="en"):
        session, pages = seed()
        yield live_server.url, session, pages


def open_signed_in(browser, base: str, session: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en")
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    context.add_init_script(SENTINEL)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    return page


def hover_charts(page) -> int:
    """Hovers a few marks of every chart so that Vega draws its tooltips; how many it hovered."""
    charts = page.locator(".chart-view")
    if charts.count() == 0:
        return 0
    page.wait_for_function(
        "n => document.querySelectorAll('.chart-view svg.marks').length >= n",
        arg=charts.count(),
    )
    hovered = 0
    marks = page.locator(".chart-view svg .mark-symbol path, .chart-view svg .mark-rect path")
    for i in range(min(marks.count(), 12)):
        mark = marks.nth(i)
        if mark.is_visible():
            try:
                mark.hover(timeout=2000, force=True)
                hovered += 1
            except Exception:  # a mark under another one: the next will do
                continue
    return hovered


def preview_of(pages: list[str]) -> str:
    return next(p for p in pages if p.endswith("/preview/") and "imports" in p)


def test_it_runs_no_payload_on_any_page(browser, site):
    base, session, pages = site
    page = open_signed_in(browser, base, session)
    findings, hovered, errors = {}, 0, []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for where in pages:
        response = page.goto(base + where)
        assert response.status == 200, where
        if where == "/api/docs":  # Swagger UI draws the page from a script, under the policy too
            page.wait_for_selector(".swagger-ui .opblock")
        hovered += hover_charts(page)
        found = {
            "ran": page.evaluate("window.__xss"),
            "blocked by the policy": page.evaluate("window.__violations"),
            "injected": page.evaluate(INJECTED),
        }
        found = {k: v for k, v in found.items() if v}
        if found:
            findings[where] = found
    assert findings == {}
    assert page.dialogs == []
    assert errors == []
    assert hovered > 20  # the tooltips were drawn: marks on the chart pages were hovered
    # Running the import (its valid rows) and its result page.
    page.goto(base + preview_of(pages))
    with page.expect_navigation():
        page.locator("form[action$='/run/'] [name=valid_only]").first.check()
        page.locator("form[action$='/run/'] button[type=submit]").first.click()
    assert page.evaluate("window.__xss") == []
    assert page.evaluate("window.__violations") == []
    assert page.evaluate(INJECTED) == []
    assert "/result/" in page.url
    # The payloads did reach the pages, as text.
    page.goto(base + reverse("ideas"))
    assert PAYLOADS[0] in page.locator("main").inner_text()
    page.context.close()


def _inline_script(request):
    return HttpResponse(
        "<!doctype html><html><head><title>probe</title></head><body>"
        "<script>window.__ran = true</script><img src=x onerror='window.__ran = true'>"
        "</body></html>"
    )


urlpatterns = [path("csp-probe/", _inline_script), *cxloop.urls.urlpatterns]


@override_settings(ROOT_URLCONF=__name__)
def test_it_blocks_an_inline_script_that_escaping_let_through(browser, live_server):
    context = browser.new_context()
    context.add_init_script(SENTINEL)
    page = context.new_page()
    response = page.goto(live_server.url + "/csp-probe/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_function("window.__violations.length >= 2")
    violations = page.evaluate("window.__violations")
    assert all(v.startswith("script-src") for v in violations), violations
    assert page.evaluate("window.__ran") is None
    context.close()
