from django.urls import reverse

from cxloop.audit.models import AuditEvent
from cxloop.surveys.models import Response
from cxloop.test import BaseTestCase
from tests.front.evidence_data import EvidenceTestCase
from tests.front.test_pulse import make_pulse


class ResponseDetailTests(EvidenceTestCase):
    def url(self, response):
        return reverse("response_detail", args=[response.pk])

    def test_it_shows_every_answer_with_its_scale_and_the_comment(self):
        self.client.force_login(self.teammate)
        page = self.client.get(self.url(self.r_detractor), HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(page.status_code, 200)
        for text in (
            "Would you recommend us?",
            "Rate our invoices",
            "How easy was it?",
            "Invoices were wrong again",
            "very difficult",
            "very easy",
            "not at all likely to recommend",
            "Call",  # the choice, in the page's language
            "Every scale",
            "Acme",
            "Ann Reader",
            "Billing accuracy",
            "Team A",
        ):
            self.assertContains(page, text)
        self.assertContains(page, reverse("customer_detail", args=[self.acme.pk]))
        self.assertContains(page, reverse("contact_detail", args=[self.ann.pk]))
        self.assertContains(page, reverse("touchpoint_detail", args=[self.billing.pk]))
        lines = page.context["answers"]
        self.assertEqual([line.score for line in lines[:4]], [3, 2, 1, 2])
        self.assertEqual((lines[3].low, lines[3].high), (1, 7))

    def test_it_shows_the_question_in_the_ui_language(self):
        self.client.force_login(self.teammate)
        page = self.client.get(self.url(self.r_detractor), HTTP_ACCEPT_LANGUAGE="ru")
        self.assertContains(page, "Порекомендуете?")
        self.assertContains(page, "Звонок")
        self.assertNotContains(page, "Would you recommend us?")

    def test_it_answers_404_to_another_team(self):
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(self.url(self.r_detractor)).status_code, 404)
        self.client.force_login(self.teammate)
        self.assertEqual(self.client.get(self.url(self.r_hidden)).status_code, 404)

    def test_it_lets_a_manager_see_the_teams_below(self):
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(self.url(self.r_passive)).status_code, 200)

    def test_it_never_shows_a_pulse_answer(self):
        pulse = make_pulse()
        answer = Response.objects.create(
            survey=pulse,
            channel="web",
            state="completed",
            started_at=self.r_passive.submitted_at,
            submitted_at=self.r_passive.submitted_at,
            team=self.team_a,
        )
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(self.url(answer)).status_code, 404)

    def test_it_logs_the_read(self):
        self.client.force_login(self.teammate)
        self.client.get(self.url(self.r_detractor))
        event = AuditEvent.objects.filter(object_kind="response").latest("pk")
        self.assertEqual(event.object_id, str(self.r_detractor.pk))

    def test_it_asks_for_sign_in(self):
        self.assertEqual(self.client.get(self.url(self.r_detractor)).status_code, 302)


class UnknownResponseTests(BaseTestCase):
    def test_it_answers_404_for_no_such_response(self):
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get("/responses/999999/").status_code, 404)
