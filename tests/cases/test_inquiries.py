"""The public inquiry form: a question becomes a case for the topic's specialists, who answer it
by e-mail; the customer answers back through a private link. Spam and bad input are refused
with a message naming the field, and nothing is half-written."""

import datetime as dt
import re
from unittest import mock

from django.core.cache import cache
from django.test import TransactionTestCase, override_settings
from django.urls import reverse
from django.utils import timezone, translation

from cxloop.cases import inquiries
from cxloop.cases.choices import CaseState, EventKind, NotificationKind, Origin
from cxloop.cases.models import Case, Inquiry, InquiryTopic, Notification, SlaPolicy
from cxloop.cases.services import CaseError, change_state
from cxloop.customers.models import Contact, Customer
from cxloop.outbox.delivery import send_due
from cxloop.outbox.models import OutboxMessage
from cxloop.people.models import Employee, Role, Team
from cxloop.test import BaseTestCase
from tests.smtp import SmtpServer

LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
QUESTION = "Почему в счёте за март две строки за одну поставку?"


def make_topic(team: Team) -> InquiryTopic:
    policy = SlaPolicy.objects.create(
        name_ru="Ответ за день",
        name_en="Answer in a day",
        first_contact_hours=8,
        resolution_hours=40,
    )
    return InquiryTopic.objects.create(
        name_ru="Счета", name_en="Invoices", team=team, sla_policy=policy
    )


def filled(topic: InquiryTopic, /, **changes) -> dict:
    """The form as a person sends it in English, a minute after it was shown."""
    form = {
        "topic": str(topic.pk),
        "name": "Анна Петрова",
        "email": "anna@acme.example",
        "phone": "+7 (495) 123-45-67",
        "company": "Acme",
        "question": QUESTION,
        "consent": "on",
        "stamp": inquiries.fill_stamp(timezone.now() - dt.timedelta(minutes=1)),
        "lang": "en",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def token_in(text: str) -> str:
    return re.search(r"/ask/([A-Za-z0-9_-]+)/", text).group(1)


@override_settings(CACHES=LOCAL_CACHE)
class InquiryFormTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.topic = make_topic(cls.team_a)
        cls.hidden_topic = InquiryTopic.objects.create(
            name_ru="Архив",
            name_en="Archive",
            team=cls.team_a,
            sla_policy=cls.topic.sla_policy,
            is_active=False,
        )

    def setUp(self):
        cache.clear()

    def post(self, form: dict, **headers):
        return self.client.post(reverse("ask"), form, **headers)

    def assertNothingWritten(self):
        self.assertEqual(Case.objects.count(), 0)
        self.assertEqual(Inquiry.objects.count(), 0)
        self.assertEqual(OutboxMessage.objects.count(), 0)

    def test_it_shows_the_form_in_the_readers_language_and_by_the_switch(self):
        russian = self.client.get(reverse("ask"))
        self.assertContains(russian, '<html lang="ru">')
        self.assertContains(russian, "Счета")
        self.assertNotContains(russian, "Архив")  # not shown on the form
        self.assertContains(russian, 'href="?lang=en"')
        english = self.client.get(reverse("ask"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(english, '<html lang="en">')
        self.assertContains(english, "Invoices")
        self.assertContains(english, "Ask our specialists")
        switched = self.client.get(reverse("ask") + "?lang=en")
        self.assertContains(switched, "Invoices")

    def test_a_question_becomes_a_case_for_the_topic_team_with_its_sla_and_an_acknowledgement(self):
        response = self.post(filled(self.topic, lang="en"))
        self.assertRedirects(response, reverse("ask_thanks") + "?lang=en")
        case = Case.objects.get()
        inquiry = case.inquiry
        self.assertEqual(case.origin, Origin.INQUIRY)
        self.assertEqual(case.sla_policy, self.topic.sla_policy)
        self.assertEqual(case.team, self.team_a)
        self.assertIn(case.owner, {self.owner.employee, self.teammate.employee})
        # Eight working hours on the team's calendar: at least eight hours away.
        self.assertGreaterEqual(case.first_contact_due - case.opened_at, dt.timedelta(hours=8))
        self.assertTrue(case.title.startswith("Счета: Почему в счёте"))
        with translation.override("en"):  # the topic's English name on English pages
            self.assertTrue(case.label.startswith("Invoices: Почему в счёте"), case.label)
        self.assertEqual((inquiry.language, inquiry.phone), ("en", "+7 (495) 123-45-67"))
        self.assertEqual(len(inquiry.token_hash), 64)
        mail = OutboxMessage.objects.get()
        self.assertEqual(mail.recipient, "anna@acme.example")
        self.assertIn(case.reference, mail.subject)
        self.assertIn("Our specialists will answer", mail.text)  # the customer's language
        token = token_in(mail.text)
        self.assertEqual(inquiries.inquiry_for_token(token), inquiry)
        self.assertIn(f"/ask/{token}/", mail.html)
        thanks = self.client.get(response.url)
        self.assertContains(thanks, case.reference)
        self.assertContains(thanks, '<html lang="en">')

    def test_owners_take_inquiries_in_turn(self):
        for number in range(3):
            self.post(filled(self.topic, email=f"client{number}@acme.example"))
        owners = list(Case.objects.order_by("pk").values_list("owner", flat=True))
        self.assertEqual(len(set(owners[:2])), 2)
        self.assertEqual(owners[2], owners[0])

    def test_it_links_the_case_to_the_one_contact_with_that_address(self):
        alpha = Customer.objects.create(external_id="A-1", name="Alpha")
        contact = Contact.objects.create(customer=alpha, name="Анна", email="Anna@Acme.example")
        self.post(filled(self.topic))
        case = Case.objects.get()
        self.assertEqual((case.contact, case.customer), (contact, alpha))
        # An address two customers share says nothing about which one asks.
        beta = Customer.objects.create(external_id="B-1", name="Beta")
        Contact.objects.create(customer=beta, name="Анна", email="anna@acme.example")
        self.post(filled(self.topic, question="Второй вопрос"))
        self.assertIsNone(Case.objects.get(inquiry__text="Второй вопрос").customer)

    def test_the_same_question_sent_twice_is_one_case_and_one_email(self):
        first = self.post(filled(self.topic))
        reference = self.client.get(first.url).context["reference"]
        again = self.post(filled(self.topic, question=f"  {QUESTION.upper()} "))
        self.assertEqual(Case.objects.count(), 1)
        self.assertEqual(OutboxMessage.objects.count(), 1)
        self.assertContains(self.client.get(again.url), reference)

    def test_the_same_question_from_two_requests_at_once_is_one_case(self):
        self.post(filled(self.topic))
        # The second request checked before the first had written: the database decides.
        with mock.patch.object(
            inquiries, "already_asked", side_effect=[None, Inquiry.objects.get()]
        ):
            submitted = inquiries.submit(
                topic=self.topic,
                name="Анна",
                email="anna@acme.example",
                text=QUESTION,
                language="ru",
                now=timezone.now(),
            )
        self.assertEqual(submitted.case_id, Case.objects.get().pk)
        self.assertFalse(submitted.created)
        self.assertEqual(OutboxMessage.objects.count(), 1)

    def test_the_honeypot_refuses_a_bot(self):
        response = self.post(filled(self.topic, leave_empty="http://spam.example"))
        self.assertEqual(response.status_code, 400)
        self.assertNothingWritten()

    def test_the_honeypot_is_hidden_from_people_and_screen_readers(self):
        page = self.client.get(reverse("ask")).content.decode()
        self.assertRegex(page, r'<div hidden aria-hidden="true">[^<]*<label for="id_leave_empty"')

    def test_a_form_sent_too_fast_is_refused_keeping_the_entries(self):
        stamp = inquiries.fill_stamp(timezone.now() - dt.timedelta(seconds=1))
        response = self.post(filled(self.topic, stamp=stamp))
        self.assertContains(response, "faster than a person", status_code=400)
        self.assertContains(response, QUESTION, status_code=400)  # the entries are kept
        self.assertContains(response, 'value="anna@acme.example"', status_code=400)
        self.assertNotEqual(response.context["stamp"], stamp)  # a fresh one to try again
        self.assertNothingWritten()

    def test_a_forged_stamp_counts_as_too_fast(self):
        response = self.post(filled(self.topic, stamp="1733300000.0:forged"))
        self.assertEqual(response.status_code, 400)
        self.assertNothingWritten()

    def test_an_address_that_sends_too_many_is_held_back(self):
        for number in range(inquiries.EMAIL_RATE[0]):
            self.post(filled(self.topic, question=f"Вопрос номер {number}"))
        self.assertEqual(Case.objects.count(), inquiries.EMAIL_RATE[0])
        response = self.post(filled(self.topic, question="Ещё один"))
        self.assertContains(response, "try again in an hour", status_code=429)
        self.assertEqual(Case.objects.count(), inquiries.EMAIL_RATE[0])
        # Another address from the same client may still ask.
        self.post(filled(self.topic, email="boris@acme.example"))
        self.assertEqual(Case.objects.count(), inquiries.EMAIL_RATE[0] + 1)

    def test_one_client_address_is_limited_across_e_mail_addresses(self):
        limit = inquiries.CLIENT_RATE[0]
        for number in range(limit + 1):
            self.post(filled(self.topic, email=f"c{number}@acme.example"))
        self.assertEqual(Case.objects.count(), limit)

    def test_bad_input_is_named_by_its_field_and_nothing_is_written(self):
        cases = {
            "question": (
                {"question": "я" * 5001},
                "Your question</a>: Ensure this value has at most 5000 characters",
            ),
            "email": ({"email": "anna@"}, "E-mail</a>: Enter an e-mail address such as"),
            "missing topic": ({"topic": None}, "Topic</a>: Choose the topic"),
            "forged topic": ({"topic": "999999"}, "Topic</a>: Choose one of the topics"),
            "hidden topic": ({"topic": str(self.hidden_topic.pk)}, "Choose one of the topics"),
            "consent": ({"consent": None}, "only if you agree to be contacted"),
            "phone": ({"phone": "call me"}, "Phone (optional)</a>: Enter a phone number"),
        }
        for what, (changes, message) in cases.items():
            with self.subTest(what):
                response = self.post(filled(self.topic, **changes))
                self.assertContains(response, message, status_code=400)
                self.assertContains(response, 'aria-invalid="true"', status_code=400)
                self.assertContains(response, "autofocus", count=1, status_code=400)
        self.assertNothingWritten()

    def test_the_error_is_linked_to_its_field(self):
        response = self.post(filled(self.topic, email="anna@"))
        page = response.content.decode()
        self.assertIn('href="#id_email"', page)
        self.assertRegex(page, r'<input[^>]*aria-describedby="id_email-help id_email-error"')
        self.assertIn('id="id_email-error"', page)

    def test_a_megabyte_question_is_refused_by_its_field(self):
        response = self.post(filled(self.topic, question="а" * 1_000_000))
        self.assertEqual(response.status_code, 400)
        self.assertIn("question", response.context["form"].errors)
        self.assertNothingWritten()

    def test_a_body_past_the_upload_limit_is_a_400_not_a_500(self):
        response = self.post(filled(self.topic, question="а" * 3_000_000))
        self.assertEqual(response.status_code, 400)
        self.assertNothingWritten()

    def test_a_failure_while_queueing_the_e_mail_leaves_nothing_behind(self):
        failing = mock.patch.object(inquiries, "enqueue_email", side_effect=RuntimeError("full"))
        with failing, self.assertRaises(RuntimeError):
            inquiries.submit(
                topic=self.topic,
                name="Анна",
                email="anna@acme.example",
                text=QUESTION,
                language="ru",
                now=timezone.now(),
            )
        self.assertNothingWritten()
        self.assertFalse(Notification.objects.exists())

    def test_the_thank_you_page_without_a_question_goes_back_to_the_form(self):
        response = self.client.get(reverse("ask_thanks"))
        self.assertRedirects(response, reverse("ask") + "?lang=ru")


@override_settings(CACHES=LOCAL_CACHE)
class InquiryAnswerTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.topic = make_topic(cls.team_a)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)

    def setUp(self):
        cache.clear()
        self.now = timezone.now()
        submitted = inquiries.submit(
            topic=self.topic,
            name="Анна",
            email="anna@acme.example",
            text=QUESTION,
            language="ru",
            now=self.now,
        )
        self.case = Case.objects.get(pk=submitted.case_id)
        # Taken by the teammate, so that scope is the same whoever the turn gave it to.
        self.case.owner = self.teammate.employee
        self.case.save()
        self.token = token_in(OutboxMessage.objects.get().text)

    def answer_url(self) -> str:
        return reverse("case_answer", args=[self.case.pk])

    def test_an_answer_is_e_mailed_counts_as_first_contact_and_waits_on_the_customer(self):
        self.client.force_login(self.teammate)
        response = self.client.post(self.answer_url(), {"text": "Вторая строка — доставка."})
        self.assertRedirects(response, reverse("case_detail", args=[self.case.pk]), 302, 200)
        case = Case.objects.get()
        self.assertEqual(case.state, CaseState.WAITING)
        self.assertIsNotNone(case.first_contacted_at)
        self.assertIsNotNone(case.paused_at)
        event = case.events.get(kind=EventKind.MESSAGE_OUT)
        self.assertEqual(
            (event.by, event.text), (self.teammate.employee, "Вторая строка — доставка.")
        )
        self.assertEqual(case.events.filter(kind=EventKind.CONTACTED).count(), 1)
        mail = OutboxMessage.objects.order_by("pk").last()
        self.assertIn("Вторая строка — доставка.", mail.text)
        self.assertEqual(token_in(mail.text), self.token)  # the same private link

    def test_a_second_answer_is_not_a_second_first_contact(self):
        who = self.teammate.employee
        inquiries.answer(self.case, "Первый ответ", by=who, now=self.now)
        first_contact = Case.objects.get().first_contacted_at
        inquiries.answer(self.case, "Дополнение", by=who, now=self.now + dt.timedelta(hours=1))
        case = Case.objects.get()
        self.assertEqual(case.first_contacted_at, first_contact)
        self.assertEqual(case.events.filter(kind=EventKind.MESSAGE_OUT).count(), 2)
        self.assertEqual(OutboxMessage.objects.count(), 3)

    def test_an_empty_answer_or_one_to_a_closed_case_is_refused(self):
        who = self.teammate.employee
        with self.assertRaisesMessage(CaseError, "Write the answer first"):
            inquiries.answer(self.case, "   ", by=who, now=self.now)
        change_state(self.case, CaseState.RESOLVED, by=who, now=self.now, text="Ответили звонком")
        with self.assertRaisesMessage(CaseError, "Reopen the case"):
            inquiries.answer(self.case, "Ещё ответ", by=who, now=self.now)
        self.assertFalse(self.case.events.filter(kind=EventKind.MESSAGE_OUT).exists())
        self.assertEqual(OutboxMessage.objects.count(), 1)

    def test_an_empty_answer_from_the_page_says_why_and_sends_nothing(self):
        self.client.force_login(self.teammate)
        response = self.client.post(
            self.answer_url(), {"text": ""}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
        )
        self.assertContains(response, "Write the answer first.")
        self.assertEqual(OutboxMessage.objects.count(), 1)

    def test_only_those_who_may_act_answer(self):
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.post(self.answer_url(), {"text": "x"}).status_code, 404)
        self.client.force_login(self.viewer)
        self.assertEqual(self.client.post(self.answer_url(), {"text": "x"}).status_code, 403)
        self.client.force_login(self.teammate)
        # A reload or a stale link goes to the case page, where the form is.
        self.assertRedirects(
            self.client.get(self.answer_url()), reverse("case_detail", args=[self.case.pk])
        )
        self.assertEqual(self.client.put(self.answer_url()).status_code, 405)
        self.assertFalse(self.case.events.filter(kind=EventKind.MESSAGE_OUT).exists())

    def test_the_case_page_shows_the_thread_and_the_answer_form(self):
        inquiries.answer(
            self.case, "Вторая строка — доставка.", by=self.teammate.employee, now=self.now
        )
        self.client.force_login(self.teammate)
        page = self.client.get(reverse("case_detail", args=[self.case.pk]))
        self.assertContains(page, QUESTION)
        self.assertContains(page, "Вторая строка — доставка.")
        self.assertContains(page, f'action="{self.answer_url()}"')
        self.client.force_login(self.viewer)
        page = self.client.get(reverse("case_detail", args=[self.case.pk]))
        self.assertContains(page, QUESTION)
        self.assertNotContains(page, f'action="{self.answer_url()}"')

    def test_the_customers_reply_through_the_link_restarts_a_waiting_case(self):
        inquiries.answer(self.case, "Это доставка.", by=self.teammate.employee, now=self.now)
        thread = reverse("inquiry_thread", args=[self.token])
        page = self.client.get(thread)
        self.assertContains(page, QUESTION)
        self.assertContains(page, "Это доставка.")
        self.assertContains(page, self.case.reference)
        response = self.client.post(thread, {"text": "Спасибо, а НДС?", "lang": "ru"})
        self.assertRedirects(response, f"{thread}?lang=ru&sent=1")
        case = Case.objects.get()
        self.assertEqual(case.state, CaseState.IN_PROGRESS)
        self.assertIsNone(case.paused_at)
        self.assertEqual(case.events.get(kind=EventKind.MESSAGE_IN).text, "Спасибо, а НДС?")
        told = Notification.objects.get(kind=NotificationKind.CUSTOMER_REPLIED)
        self.assertEqual(told.recipient, self.teammate.employee)
        self.assertContains(self.client.get(response.url), "Спасибо, а НДС?")

    def test_an_empty_or_oversize_reply_is_refused_by_its_field(self):
        thread = reverse("inquiry_thread", args=[self.token])
        for text in ("", "я" * 5001):
            response = self.client.post(thread, {"text": text}, HTTP_ACCEPT_LANGUAGE="en")
            self.assertEqual(response.status_code, 400)
            self.assertContains(response, 'aria-invalid="true"', status_code=400)
        self.assertFalse(self.case.events.filter(kind=EventKind.MESSAGE_IN).exists())

    def test_a_flood_of_replies_is_held_back(self):
        thread = reverse("inquiry_thread", args=[self.token])
        for number in range(inquiries.REPLY_RATE[0] + 1):
            response = self.client.post(thread, {"text": f"Сообщение {number}", "lang": "en"})
        self.assertContains(response, "try again in an hour", status_code=400)
        replies = self.case.events.filter(kind=EventKind.MESSAGE_IN).count()
        self.assertEqual(replies, inquiries.REPLY_RATE[0])

    def test_an_unknown_link_is_a_404_page(self):
        response = self.client.get(reverse("inquiry_thread", args=["not-a-token"]))
        self.assertContains(response, "<h1", status_code=404)
        self.assertTrue(response.context["title"])


class InquiryMailTests(TransactionTestCase):
    """The acknowledgement and the answer through a real SMTP server and the outbox's pass."""

    def setUp(self):
        cache.clear()
        team = Team.objects.create(name="Specialists")
        user = BaseTestCase._user("spec", team, Role.EMPLOYEE)
        self.specialist = Employee.objects.get(user=user)
        self.topic = make_topic(team)

    def test_the_customer_gets_the_acknowledgement_and_the_answer_with_the_private_link(self):
        with SmtpServer() as smtp, override_settings(**smtp.settings, CACHES=LOCAL_CACHE):
            response = self.client.post(reverse("ask"), filled(self.topic, lang="en"))
            self.assertEqual(response.status_code, 302)
            self.assertEqual(send_due(), {"sent": 1})
            acknowledgement = smtp.messages[0]
            case = Case.objects.get()
            self.assertEqual(acknowledgement["To"], "anna@acme.example")
            self.assertIn(case.reference, acknowledgement["Subject"])
            text = acknowledgement.get_body(("plain",)).get_content()
            html = acknowledgement.get_body(("html",)).get_content()
            token = token_in(text)
            self.assertIn(f"/ask/{token}/", html)
            self.assertIn(QUESTION, text)

            inquiries.answer(
                case, "The second line is delivery.", by=self.specialist, now=timezone.now()
            )
            self.assertEqual(send_due(), {"sent": 1})
            answer = smtp.messages[1]
            self.assertIn(case.reference, answer["Subject"])
            body = answer.get_body(("plain",)).get_content()
            self.assertIn("The second line is delivery.", body)
            self.assertEqual(token_in(body), token)
        page = self.client.get(reverse("inquiry_thread", args=[token]))
        self.assertContains(page, "The second line is delivery.")
