"""Suggested themes: the CX lead's page groups the latest comments that no theme matched and
tells each group by its words (cxloop.text.suggest_themes); a comment a theme matches is left
out; each group's link starts a new theme with its words as phrases, by alphabet; no one else
may see the page."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from cxloop.audit.models import AuditEvent
from cxloop.comments import services
from cxloop.comments.models import Theme
from cxloop.customers.models import Customer
from cxloop.feedback.services import ingest
from cxloop.people.models import Role
from cxloop.test import BaseTestCase
from tests.surveys.test_respond import make_survey

WHEN = dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC)
PARKING = [
    "Парковка у офиса всегда забита, негде оставить машину",
    "Опять не нашёл парковку, пришлось оставить машину далеко",
    "Парковка платная и маленькая, машину ставить негде",
    "Машину оставить негде: парковка занята с утра",
]
WIFI = [
    "The wifi in the meeting room keeps dropping",
    "Guest wifi password never works in the meeting room",
    "No wifi signal in the meeting room again",
    "Meeting room wifi is too slow for a video call",
]
BILLED = ["Счёт опять пришёл с ошибкой, парковка тут ни при чём"] * 4


class ThemeSuggestionTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        Theme.objects.create(code="billing", name_ru="Счета", name_en="Billing", phrases_ru="счёт")
        survey = make_survey()
        customer = Customer.objects.create(external_id="C-1", name="Acme")
        for n, comment in enumerate(PARKING * 3 + WIFI * 3 + BILLED):
            ingest(
                survey=survey,
                answers={1: n % 11, 4: comment},
                channel="api",
                submitted_at=WHEN + dt.timedelta(minutes=n),
                customer=customer,
            )
        services.rebuild()

    def test_only_the_cx_lead_may_see_it(self):
        url = reverse("theme_suggestions")
        for user in (self.viewer, self.teammate, self.owner):
            self.client.force_login(user)
            self.assertEqual(self.client.get(url).status_code, 403, user)
        self.client.logout()
        self.assertIn(reverse("login"), self.client.get(url)["Location"])

    def test_it_groups_the_comments_no_theme_matched_and_starts_a_theme_from_a_group(self):
        self.client.force_login(self.lead)
        self.assertContains(self.client.get(reverse("theme_list")), reverse("theme_suggestions"))
        response = self.client.get(reverse("theme_suggestions"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["read"], 24)  # the billed comments matched a theme
        suggestions = [row["suggestion"] for row in response.context["rows"]]
        self.assertEqual(sum(s.size for s in suggestions), 24)
        for suggestion in suggestions:  # a group is of one topic, told by its own words
            topic = PARKING if set(suggestion.examples) <= set(PARKING) else WIFI
            self.assertTrue(set(suggestion.examples) <= set(topic), suggestion)
        self.assertNotIn("счет", {p for s in suggestions for p in s.phrases})
        parking = next(s for s in suggestions if "парковка" in s.phrases)
        self.assertTrue(any("wi-fi" in s.phrases for s in suggestions))
        self.assertContains(response, "Start a theme from these words")
        # It shows customers' comments: the read is in the audit log.
        read = AuditEvent.objects.filter(action="read", object_kind="answer").last()
        self.assertEqual(read.actor_id, self.lead.pk)
        self.assertEqual(read.details["path"], reverse("theme_suggestions"))

        row = next(row for row in response.context["rows"] if row["suggestion"] is parking)
        draft = parse_qs(urlsplit(row["start"]).query)
        self.assertIn("парковка", draft["phrases_ru"][0].splitlines())
        self.assertNotIn("phrases_en", draft)  # no Latin words in this group
        form = self.client.get(row["start"], HTTP_ACCEPT_LANGUAGE="en").context["form"]
        self.assertIn("парковка", form.initial["phrases_ru"].splitlines())
        self.assertEqual(form.initial["name_ru"], parking.name)
        self.assertTrue(form.initial["is_active"])

    def test_it_says_so_when_every_comment_has_a_theme(self):
        Theme.objects.create(
            code="office",
            name_ru="Офис",
            name_en="Office",
            phrases_ru="парковка\nмашина",
            phrases_en="wifi\nmeeting room",
        )
        services.rebuild()
        self.client.force_login(self.lead)
        response = self.client.get(reverse("theme_suggestions"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.context["rows"], [])
        self.assertContains(response, "No suggestions")
