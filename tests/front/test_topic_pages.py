"""The inquiry form's topics: the CX lead lists, adds and changes them; no one else may."""

from django.urls import reverse

from cxloop.cases.models import InquiryTopic, SlaPolicy
from cxloop.people.models import Role
from cxloop.test import BaseTestCase


class TopicPagesTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.policy = SlaPolicy.objects.create(
            name_ru="Ответ за день",
            name_en="Answer in a day",
            first_contact_hours=8,
            resolution_hours=40,
        )
        cls.topic = InquiryTopic.objects.create(
            name_ru="Счета", name_en="Invoices", team=cls.team_a, sla_policy=cls.policy
        )

    def form(self, **changes) -> dict:
        form = {
            "name_ru": "Поставки",
            "name_en": "Deliveries",
            "team": self.team_b.pk,
            "sla_policy": self.policy.pk,
            "order": 2,
            "is_active": "on",
        }
        form.update(changes)
        return {key: value for key, value in form.items() if value is not None}

    def test_it_lists_the_topics_for_the_cx_lead(self):
        self.client.force_login(self.lead)
        page = self.client.get(reverse("topic_list"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(page, "Invoices")
        self.assertContains(page, "Team A")
        self.assertContains(page, "Answer in a day")

    def test_it_names_a_topic_in_the_pages_language_first(self):
        self.client.force_login(self.lead)
        link = reverse("topic_edit", args=[self.topic.pk])
        for language, first, second in (("en", "Invoices", "Счета"), ("ru", "Счета", "Invoices")):
            with self.subTest(language):
                page = self.client.get(reverse("topic_list"), HTTP_ACCEPT_LANGUAGE=language)
                self.assertContains(page, f'<a href="{link}">{first}</a><br>')
                self.assertContains(page, f">{second}</span>")

    def test_it_adds_a_topic_that_the_public_form_then_offers(self):
        self.client.force_login(self.lead)
        response = self.client.post(reverse("topic_new"), self.form())
        self.assertRedirects(response, reverse("topic_list"))
        topic = InquiryTopic.objects.get(name_en="Deliveries")
        self.assertEqual((topic.team, topic.order), (self.team_b, 2))
        self.assertContains(self.client.get(reverse("ask") + "?lang=en"), "Deliveries")

    def test_it_takes_a_topic_off_the_form(self):
        self.client.force_login(self.lead)
        url = reverse("topic_edit", args=[self.topic.pk])
        form = self.form(name_ru="Счета", name_en="Invoices", is_active=None)
        self.assertRedirects(self.client.post(url, form), reverse("topic_list"))
        self.assertFalse(InquiryTopic.objects.get(pk=self.topic.pk).is_active)
        self.assertNotContains(self.client.get(reverse("ask") + "?lang=en"), "Invoices")

    def test_bad_input_is_named_by_its_field_and_nothing_is_saved(self):
        self.client.force_login(self.lead)
        cases = {
            "team": ({"team": None}, "Choose the team of specialists"),
            "forged team": ({"team": 999999}, "Select a valid choice"),
            "policy": ({"sla_policy": None}, "Choose how soon"),
            "name": ({"name_ru": ""}, "This field is required"),
            "order": ({"order": "first"}, "Enter a whole number"),
        }
        for what, (changes, message) in cases.items():
            with self.subTest(what):
                response = self.client.post(
                    reverse("topic_new"), self.form(**changes), HTTP_ACCEPT_LANGUAGE="en"
                )
                self.assertContains(response, message, status_code=400)
                self.assertContains(response, 'aria-invalid="true"', status_code=400)
        self.assertEqual(InquiryTopic.objects.count(), 1)

    def test_only_the_cx_lead_sets_topics_up(self):
        for user in (self.owner, self.teammate):
            self.client.force_login(user)
            self.assertEqual(self.client.get(reverse("topic_list")).status_code, 403)
            response = self.client.post(reverse("topic_new"), self.form())
            self.assertEqual(response.status_code, 403)
        self.assertEqual(InquiryTopic.objects.count(), 1)
        self.client.logout()
        self.assertEqual(self.client.get(reverse("topic_list")).status_code, 302)

    def test_an_unknown_topic_is_404(self):
        self.client.force_login(self.lead)
        self.assertEqual(self.client.get(reverse("topic_edit", args=[999999])).status_code, 404)
