"""The public survey page: answering from an invitation link, page by page."""

import datetime as dt
import threading

from django.db import connection
from django.test import Client, TransactionTestCase
from django.urls import reverse
from django.utils import timezone

from cxloop.customers.models import Contact, Customer
from cxloop.surveys.models import Answer, Invitation, Question, Response, Survey
from cxloop.surveys.services import hash_token, issue_invitation
from cxloop.test import BaseTestCase


def make_survey(**fields) -> Survey:
    """Two pages: NPS (required) and CSAT; then a follow-up shown to detractors, and a comment."""
    survey = Survey.objects.create(
        name_ru="Опрос клиентов",
        name_en="Client survey",
        kind="relationship",
        languages=["ru", "en"],
        **fields,
    )
    questions = [
        (1, 1, "nps", "Порекомендуете ли вы нас?", "Would you recommend us?", True, None),
        (2, 1, "csat", "Довольны ли вы?", "Are you satisfied?", False, None),
        (3, 2, "text", "Что пошло не так?", "What went wrong?", False, {"question": 1, "lte": 6}),
        (4, 3, "text", "Что-нибудь ещё?", "Anything else?", False, None),
    ]
    for order, page, kind, text_ru, text_en, required, condition in questions:
        Question.objects.create(
            survey=survey,
            order=order,
            page=page,
            kind=kind,
            text_ru=text_ru,
            text_en=text_en,
            required=required,
            display_condition=condition,
        )
    return survey


class RespondTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.customer = Customer.objects.create(external_id="C-1", name="Acme")
        cls.contact = Contact.objects.create(
            customer=cls.customer, name="Анна", email="anna@acme.example", language="ru"
        )
        cls.survey = make_survey()

    def setUp(self):
        self.invitation, token = issue_invitation(self.survey, self.contact, now=timezone.now())
        self.url = reverse("respond", args=[token])
        self.thanks = reverse("respond_thanks", args=[token])

    def post(self, page, **answers):
        return self.client.post(self.url, {"page": page, "action": "next", **answers})

    def test_it_stores_only_the_hash_of_a_long_random_token(self):
        token = self.url.split("/")[2]
        self.assertGreaterEqual(len(token) * 6, 128)
        self.assertEqual(self.invitation.token_hash, hash_token(token))
        self.assertNotIn(token, str(Response.objects.values()))

    def test_it_shows_the_first_page_in_the_contacts_language(self):
        response = self.client.get(self.url)
        self.assertContains(response, '<html lang="ru">', html=False)
        self.assertContains(response, "Порекомендуете ли вы нас?")
        self.assertContains(response, "<legend>", html=False)
        self.assertContains(response, "Страница 1 из 2")
        self.invitation.refresh_from_db()
        self.assertIsNotNone(self.invitation.opened_at)

    def test_it_switches_language(self):
        response = self.client.get(self.url + "?lang=en")
        self.assertContains(response, "Would you recommend us?")
        self.assertContains(response, "Page 1 of 2")
        self.assertContains(self.client.get(self.url + "?lang=de"), "Порекомендуете ли вы нас?")

    def test_it_asks_again_for_a_required_answer_and_keeps_nothing(self):
        response = self.post(1, q2="4")
        self.assertContains(response, 'role="alert"')
        self.assertContains(response, "aria-describedby", html=False)
        self.assertFalse(Answer.objects.exists())

    def test_it_rejects_a_score_off_the_scale(self):
        self.assertContains(self.post(1, q1="11"), 'role="alert"')
        self.assertFalse(Answer.objects.exists())

    def test_it_keeps_each_page_and_resumes_where_the_respondent_left(self):
        self.assertRedirects(self.post(1, q1="9", q2="5"), self.url + "?page=3&lang=ru")
        response = Response.objects.get()
        self.assertEqual(response.state, "partial")
        self.assertEqual(sorted(response.answers.values_list("score", flat=True)), [5, 9])
        self.invitation.refresh_from_db()
        self.assertIsNotNone(self.invitation.started_at)
        resumed = self.client.get(self.url)
        self.assertContains(resumed, "Что-нибудь ещё?")
        self.assertContains(resumed, "Страница 2 из 2")

    def test_it_shows_the_follow_up_question_to_a_detractor(self):
        self.assertRedirects(self.post(1, q1="3"), self.url + "?page=2&lang=ru")
        self.assertContains(self.client.get(self.url + "?page=2"), "Что пошло не так?")

    def test_it_goes_back_and_replaces_an_answer(self):
        self.post(1, q1="3")
        back = self.client.post(self.url, {"page": 2, "action": "back", "q3": "Долго"})
        self.assertRedirects(back, self.url + "?page=1&lang=ru")
        self.post(1, q1="10")
        self.assertEqual(
            list(Answer.objects.filter(question__order=1).values_list("score", flat=True)), [10]
        )

    def test_it_completes_once_and_then_says_already_answered(self):
        self.post(1, q1="9")
        self.assertRedirects(self.post(3, q4="Спасибо"), self.thanks + "?lang=ru")
        self.assertContains(self.client.get(self.thanks), "Спасибо!")
        again = self.post(3, q4="Ещё раз")
        self.assertContains(again, "Уже отвечено")
        response = Response.objects.get()
        self.assertEqual(response.state, "completed")
        self.assertEqual(response.answers.get(question__order=4).text, "Спасибо")
        self.invitation.refresh_from_db()
        self.assertIsNotNone(self.invitation.completed_at)

    def test_it_refuses_an_unknown_an_expired_and_a_closed_link(self):
        self.assertEqual(self.client.get(reverse("respond", args=["nope"])).status_code, 404)
        past = timezone.now() - dt.timedelta(days=40)
        Invitation.objects.filter(pk=self.invitation.pk).update(
            created_at=past, expires_at=past + dt.timedelta(days=30)
        )
        self.assertContains(
            self.client.get(self.url), "Срок действия ссылки истёк", status_code=410
        )
        Survey.objects.filter(pk=self.survey.pk).update(is_active=False)
        self.assertEqual(self.client.get(self.url).status_code, 410)
        self.assertFalse(Response.objects.exists())

    def test_it_keeps_an_anonymous_response_apart_from_the_contact(self):
        Survey.objects.filter(pk=self.survey.pk).update(is_anonymous=True)
        self.post(1, q1="8")
        self.assertIsNone(Response.objects.get().contact)

    def test_it_needs_no_sign_in_and_sets_no_cache(self):
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertIn("no-cache", response["Cache-Control"])


class SimultaneousSubmissionTests(TransactionTestCase):
    def test_it_makes_one_response_from_two_submissions_at_the_same_moment(self):
        customer = Customer.objects.create(external_id="C-9", name="Acme")
        contact = Contact.objects.create(customer=customer, name="Ann", email="ann@acme.example")
        survey = make_survey()
        Question.objects.filter(survey=survey, order__gt=2).delete()  # one page only
        _, token = issue_invitation(survey, contact, now=timezone.now())
        url = reverse("respond", args=[token])
        Client().get(url)  # the response exists; both submissions race to complete it
        barrier, outcomes = threading.Barrier(2), []

        def submit(score: str) -> None:
            try:
                barrier.wait()
                reply = Client().post(url, {"page": 1, "action": "next", "q1": score})
                outcomes.append(reply.status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=submit, args=(s,)) for s in ("9", "2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(sorted(outcomes), [200, 302])  # one completes, one is told it answered
        self.assertEqual(Response.objects.count(), 1)
        self.assertEqual(Response.objects.get().state, "completed")
        self.assertEqual(Answer.objects.filter(question__order=1).count(), 1)
