"""A survey's open web link and QR code: no invitation, once per browser, rate limited."""

from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from cxloop.people.models import Employee, Role
from cxloop.surveys.models import Response, Survey
from cxloop.surveys.queries import open_link
from cxloop.surveys.services import open_link_signature
from cxloop.test import BaseTestCase
from tests.surveys.test_respond import make_survey


class OpenLinkTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.survey = make_survey(accepts_open_link=True)
        cls.url = reverse("respond_open", args=[cls.survey.pk, open_link_signature(cls.survey.pk)])

    def setUp(self):
        cache.clear()

    def test_it_answers_without_an_invitation_and_once_per_browser(self):
        self.assertContains(self.client.get(self.url), "Порекомендуете ли вы нас?")
        self.client.post(self.url, {"page": 1, "action": "next", "q1": "10"})
        finished = self.client.post(self.url, {"page": 3, "action": "next", "q4": ""})
        self.assertRedirects(finished, self.url + "thanks/?lang=ru")
        response = Response.objects.get()
        self.assertEqual(
            (response.state, response.channel, response.contact), ("completed", "web", None)
        )
        self.assertContains(self.client.get(self.url), "Уже отвечено")
        self.client.cookies.clear()  # another browser
        self.client.get(self.url)
        self.assertEqual(Response.objects.count(), 1)
        self.client.post(self.url, {"page": 1, "action": "next", "q1": "3"})
        self.assertEqual(Response.objects.count(), 2)

    def test_it_stores_nothing_until_the_first_page_is_answered(self):
        for _ in range(100):
            self.assertEqual(self.client.get(self.url).status_code, 200)
        self.assertFalse(Response.objects.exists())
        invalid = self.client.post(self.url, {"page": 1, "action": "next", "q1": ""})
        self.assertEqual(invalid.status_code, 200)  # q1 is required: asked again, nothing kept
        self.assertFalse(Response.objects.exists())
        self.client.post(self.url, {"page": 1, "action": "next", "q1": "9"})
        response = Response.objects.get()
        self.assertEqual((response.state, response.last_page), ("partial", 1))
        self.assertEqual(list(response.answers.values_list("score", flat=True)), [9])

    def test_it_resumes_where_the_respondent_left_off_in_the_same_browser(self):
        self.client.post(self.url, {"page": 1, "action": "next", "q1": "9"})
        again = self.client.get(self.url)  # a promoter skips page 2
        self.assertNotContains(again, "Порекомендуете ли вы нас?")
        self.assertContains(again, "Что-нибудь ещё?")
        self.client.post(self.url, {"page": 3, "action": "next", "q4": "Всё хорошо"})
        response = Response.objects.get()
        self.assertEqual((response.state, response.answers.count()), ("completed", 2))

    def test_it_marks_answers_that_came_through_the_qr_code(self):
        page = self.client.get(self.url + "?via=qr")
        self.assertFalse(Response.objects.exists())
        self.assertContains(page, "Порекомендуете ли вы нас?")
        self.client.post(self.url + "?via=qr", {"page": 1, "action": "next", "q1": "10"})
        self.assertEqual(Response.objects.get().channel, "qr")

    def test_it_refuses_a_forged_link_and_a_survey_without_an_open_link(self):
        forged = reverse("respond_open", args=[self.survey.pk, "x" * 16])
        self.assertEqual(self.client.get(forged).status_code, 404)
        Survey.objects.filter(pk=self.survey.pk).update(accepts_open_link=False)
        self.assertEqual(self.client.get(self.url).status_code, 410)
        self.assertFalse(Response.objects.exists())

    @override_settings(OPEN_LINK_RATE=(3, 600))
    def test_it_limits_how_many_answers_one_address_starts(self):
        first_page = {"page": 1, "action": "next", "q1": "10"}
        for _ in range(3):
            self.client.cookies.clear()
            self.assertEqual(self.client.get(self.url).status_code, 200)
            self.assertEqual(self.client.post(self.url, first_page).status_code, 302)
        self.client.cookies.clear()
        self.assertEqual(self.client.get(self.url).status_code, 200)  # a visit starts nothing
        self.assertEqual(self.client.post(self.url, first_page).status_code, 429)
        self.assertEqual(Response.objects.count(), 3)

    def test_it_shows_the_link_and_its_qr_code_to_staff(self):
        Employee.objects.filter(user=self.owner).update(role=Role.ADMIN)
        self.client.force_login(self.owner)
        page = self.client.get(reverse("survey_detail", args=[self.survey.pk]))
        self.assertContains(page, open_link(self.survey))
        qr = self.client.get(reverse("survey_qr", args=[self.survey.pk]))
        self.assertEqual(qr["Content-Type"], "image/svg+xml")
        self.assertIn(b"<svg", qr.content)
        closed = make_survey()
        self.assertEqual(self.client.get(reverse("survey_qr", args=[closed.pk])).status_code, 404)
