from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cxloop.customers.models import Contact, Customer, Segment
from cxloop.outbox.models import OutboxMessage
from cxloop.people.models import Employee, Role
from cxloop.surveys.models import Invitation
from cxloop.surveys.services import issue_invitation
from cxloop.test import BaseTestCase
from tests.surveys.test_respond import make_survey


class SurveyDetailTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        Employee.objects.filter(user=cls.owner).update(role=Role.ADMIN)
        big = Customer.objects.create(external_id="B", name="Big", tier="strategic")
        small = Customer.objects.create(external_id="S", name="Small", tier="small")
        cls.anna = Contact.objects.create(
            customer=big, name="Anna", email="anna@big.example", consent=True
        )
        Contact.objects.create(customer=big, name="Boris", email="boris@big.example", consent=False)
        cls.carl = Contact.objects.create(
            customer=small, name="Carl", email="carl@small.example", consent=True
        )
        cls.segment = Segment.objects.create(
            name="Strategic", rule=[{"field": "tier", "op": "eq", "value": "strategic"}]
        )
        cls.survey = make_survey()
        cls.url = reverse("survey_detail", args=[cls.survey.pk])

    def test_it_asks_for_sign_in(self):
        self.assertRedirects(self.client.get(self.url), reverse("login") + f"?next={self.url}")

    def test_it_shows_the_funnel(self):
        invitation, _ = issue_invitation(self.survey, self.carl, now=timezone.now())
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
        self.client.force_login(self.teammate)
        response = self.client.get(self.url)
        self.assertEqual(response.context["funnel"].invited, 1)
        self.assertEqual(response.context["funnel"].sent, 1)
        self.assertContains(response, "Воронка")
        self.assertContains(response, f'href="{reverse("response_list")}?survey={self.survey.pk}"')

    def test_it_lets_only_the_cx_lead_invite(self):
        self.client.force_login(self.teammate)
        self.assertNotContains(self.client.get(self.url), 'name="fatigue_days"')
        response = self.client.post(self.url, {"segment": self.segment.pk, "fatigue_days": 30})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Invitation.objects.exists())

    def test_it_previews_a_segment_and_lists_who_is_left_out(self):
        self.client.force_login(self.owner)
        response = self.client.post(
            self.url, {"segment": self.segment.pk, "fatigue_days": 30, "action": "preview"}
        )
        plan = response.context["plan"]
        self.assertEqual(plan.invite, [self.anna])
        self.assertEqual(
            [(s.contact.name, s.reason) for s in plan.skipped],
            [("Boris", "нет согласия на опросы")],
        )
        self.assertFalse(Invitation.objects.exists())

    def test_it_sends_after_the_preview(self):
        self.client.force_login(self.owner)
        response = self.client.post(
            self.url,
            {
                "emails": "anna@big.example\ncarl@small.example\n",
                "fatigue_days": 30,
                "action": "send",
            },
        )
        self.assertTrue(response.context["sent"])
        self.assertEqual(
            set(Invitation.objects.values_list("contact__name", flat=True)), {"Anna", "Carl"}
        )
        queued = OutboxMessage.objects.values_list("recipient", flat=True)  # e-mailed by the worker
        self.assertEqual(set(queued), {"anna@big.example", "carl@small.example"})

    def test_it_names_the_line_of_an_unknown_address(self):
        self.client.force_login(self.owner)
        response = self.client.post(
            self.url, {"emails": "anna@big.example\nghost@nowhere.example", "fatigue_days": 30}
        )
        self.assertContains(response, "строка 2: ghost@nowhere.example")

    def test_it_reads_recipients_from_a_csv_file(self):
        self.client.force_login(self.owner)
        upload = SimpleUploadedFile("r.csv", b"name,Email\nCarl,carl@small.example\n")
        response = self.client.post(self.url, {"file": upload, "fatigue_days": 30})
        self.assertEqual(response.context["plan"].invite, [self.carl])
        bad = SimpleUploadedFile("r.csv", b"name,address\nCarl,carl@small.example\n")
        response = self.client.post(self.url, {"file": bad, "fatigue_days": 30})
        self.assertContains(response, "name, address")

    def test_it_names_what_is_wrong_with_a_file_that_is_no_csv(self):
        self.client.force_login(self.owner)
        files = {
            b"email\n" + b"x" * 200_000 + b"\n": "CSV",  # a field beyond the csv module's limit
            b"email\nan\x00na@big.example\n": "NUL",
            "email\nанна@big.example\n".encode("cp1251"): "UTF-8",
        }
        for content, named in files.items():
            with self.subTest(named=named):
                upload = SimpleUploadedFile("r.csv", content)
                response = self.client.post(self.url, {"file": upload, "fatigue_days": 30})
                errors = " ".join(str(e) for e in response.context["form"].errors.values())
                self.assertIn(named, errors)

    def test_it_answers_404_for_an_unknown_survey(self):
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(reverse("survey_detail", args=[999])).status_code, 404)
