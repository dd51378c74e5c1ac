"""The alert rules and SLA pages: only the CX lead may use them; the builder saves versions,
previews before saving, names a bad condition next to its row, and runs a rule over past
days after a confirmation with the same count."""

import datetime as dt

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from cxloop.cases.choices import OwnerKind
from cxloop.cases.models import AlertRule, AlertRuleVersion, Case, SlaPolicy
from cxloop.people.models import Role
from cxloop.test import BaseTestCase
from tests.cases.test_evaluate import World

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


class RulesPagesTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        cls.world = World(cls)
        cls.version = cls.world.rule({"all": [{"field": "nps", "op": "lte", "value": 6}]})

    def setUp(self):
        self.client.force_login(User.objects.get(username="lead"))

    def form(self, **fields) -> dict:
        data = {
            "name_ru": "Недовольные счётом",
            "name_en": "Unhappy with the invoice",
            "combinator": "all",
            "group_combinator": "any",
            "owner_kind": OwnerKind.CUSTOMER_OWNER,
            "priority": "high",
            "sla_policy": self.world.policy.pk,
            "row0_field": "nps",
            "row0_op": "lte",
            "row0_value": "6",
            "grow0_field": "comment",
            "grow0_op": "contains_any",
            "grow0_value": "счёт, invoice",
            "grow1_field": "touchpoint_rating",
            "grow1_op": "lte",
            "grow1_value": "2",
            "grow1_touchpoint": "invoice",
            "action": "save",
        }
        data.update(fields)
        return data

    def test_only_the_cx_lead_may_use_the_pages(self):
        pk, policy = self.version.rule_id, self.world.policy.pk
        urls = [
            ("get", reverse("rule_list")),
            ("get", reverse("rule_new")),
            ("get", reverse("rule_edit", args=[pk])),
            ("post", reverse("rule_toggle", args=[pk])),
            ("get", reverse("rule_run", args=[pk])),
            ("get", reverse("sla_list")),
            ("get", reverse("sla_edit", args=[policy])),
        ]
        for username in ("owner", "teammate", "outsider", "viewer"):
            self.client.force_login(User.objects.get(username=username))
            for method, url in urls:
                with self.subTest(username=username, url=url):
                    self.assertEqual(getattr(self.client, method)(url).status_code, 403)
        self.client.logout()
        self.assertEqual(self.client.get(reverse("rule_list")).status_code, 302)
        self.assertTrue(AlertRule.objects.get().is_active)

    def test_the_list_says_what_each_rule_checks_in_both_languages(self):
        page = self.client.get(reverse("rule_list"), **EN)
        self.assertContains(page, "NPS at most 6")
        self.assertContains(page, "the customer&#x27;s relationship owner")
        page = self.client.get(reverse("rule_list"))
        self.assertContains(page, "Правило")
        self.assertEqual(page.status_code, 200)

    def test_it_saves_a_new_rule_from_the_builder_rows(self):
        response = self.client.post(reverse("rule_new"), self.form())
        self.assertRedirects(response, reverse("rule_list"), fetch_redirect_response=False)
        version = AlertRuleVersion.objects.get(rule__name_ru="Недовольные счётом")
        self.assertEqual(version.version, 1)
        self.assertEqual(
            version.condition,
            {
                "all": [
                    {"field": "nps", "op": "lte", "value": 6},
                    {
                        "any": [
                            {
                                "field": "comment",
                                "op": "contains_any",
                                "value": ["счёт", "invoice"],
                            },
                            {
                                "field": "touchpoint_rating",
                                "op": "lte",
                                "value": 2,
                                "touchpoint": "invoice",
                            },
                        ]
                    },
                ]
            },
        )
        self.assertEqual(version.created_by, self.lead.employee)

    def test_an_edit_saves_the_next_version_and_keeps_the_first(self):
        url = reverse("rule_edit", args=[self.version.rule_id])
        page = self.client.get(url)
        self.assertContains(page, 'value="6"')  # the stored condition fills the rows
        english = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(
            english, "Saving stores a new version, 2; cases opened so far keep version 1."
        )
        response = self.client.post(url, self.form(name_ru="Правило", row0_value="4"))
        self.assertEqual(response.status_code, 302)
        versions = list(AlertRuleVersion.objects.filter(rule=self.version.rule_id))
        self.assertEqual([v.version for v in versions], [2, 1])
        self.assertEqual(versions[1].condition, self.version.condition)
        self.assertEqual(versions[0].condition["all"][0]["value"], 4)

    def test_a_bad_condition_is_named_next_to_its_row_and_nothing_is_saved(self):
        before = AlertRuleVersion.objects.count()
        cases = [
            ({"row0_value": "11"}, "row0_value", "0 to 10"),
            ({"row0_value": "плохо"}, "row0_value", "плохо"),
            ({"row1_field": "nps", "row1_op": "gte", "row1_value": "8"}, "row1_value", "cannot"),
            ({"grow0_value": ""}, "grow0_value", "non-empty list"),
            ({"grow1_touchpoint": "", "grow1_value": "0"}, "grow1_value", "1 to 5"),
            (
                {"row1_field": "tier", "row1_op": "in", "row1_value": "gold"},
                "row1_value",
                "gold",
            ),
            ({"condition_json": '{"all": ['}, "condition_json", "not valid JSON"),
            ({"condition_json": '{"all": []}'}, "condition_json", "at least one"),
            ({"owner_kind": OwnerKind.TEAM}, "team", "Choose the team"),
        ]
        for fields, field, words in cases:
            with self.subTest(fields=fields):
                response = self.client.post(reverse("rule_new"), self.form(**fields), **EN)
                self.assertEqual(response.status_code, 400)
                errors = response.context["form"].errors
                self.assertIn(field, errors)
                self.assertIn(words, " ".join(errors[field]))
                self.assertContains(response, f'id="id_{field}-error"', status_code=400)
        self.assertEqual(AlertRuleVersion.objects.count(), before)

    def test_a_rows_error_speaks_the_users_words_not_the_conditions_codes(self):
        """Next to its row an error needs no place ("all › 2"), and a list of allowed values
        gives each by its label, with the code a condition written as JSON uses."""
        fields = self.form(row1_field="tier", row1_op="in", row1_value="золотой")
        for language, label in (("en", "strategic, key"), ("ru", "стратегический (strategic)")):
            with self.subTest(language=language):
                response = self.client.post(
                    reverse("rule_new"), fields, HTTP_ACCEPT_LANGUAGE=language
                )
                self.assertEqual(response.status_code, 400)
                error = " ".join(response.context["form"].errors["row1_value"])
                self.assertNotIn("›", error)
                self.assertIn("золотой", error)
                self.assertIn(label, error)

    def test_the_preview_shows_the_count_and_examples_before_saving(self):
        w = self.world
        now = timezone.now()
        found = w.answer(w.alpha, nps=2, comment="Где счёт?", at=now - dt.timedelta(days=40))
        w.answer(w.alpha, nps=3, comment="invoice!", at=now - dt.timedelta(days=30))  # attaches
        w.answer(w.beta, nps=9, comment="счёт", at=now - dt.timedelta(days=3))
        w.answer(w.beta, nps=1, comment="счёт", at=now - dt.timedelta(days=100))  # too old
        response = self.client.post(reverse("rule_new"), self.form(action="preview"), **EN)
        self.assertEqual(response.status_code, 200)
        forecast = response.context["forecast"]
        self.assertEqual((forecast.cases, forecast.attached), (1, 1))
        self.assertContains(response, reverse("response_detail", args=[found.pk]))
        self.assertContains(response, "would have opened 1 case")
        self.assertFalse(AlertRule.objects.filter(name_ru="Недовольные счётом").exists())

    def test_switching_a_rule_off_and_on(self):
        url = reverse("rule_toggle", args=[self.version.rule_id])
        self.assertEqual(self.client.get(url).status_code, 405)
        self.client.post(url, {"active": "0"})
        self.assertFalse(AlertRule.objects.get().is_active)
        self.client.post(url, {"active": "1"})
        self.assertTrue(AlertRule.objects.get().is_active)

    def test_a_run_over_past_days_confirms_the_count_then_opens_as_many(self):
        w = self.world
        now = timezone.now()
        for days, customer in ((20, w.alpha), (25, w.beta), (26, w.beta), (200, w.alpha)):
            w.answer(customer, nps=1, at=now - dt.timedelta(days=days))
        url = reverse("rule_run", args=[self.version.rule_id])
        page = self.client.get(url, {"days": "30"}, **EN)
        self.assertEqual(page.context["forecast"].cases, 2)
        self.assertContains(page, "opens 2 cases")
        self.assertEqual(Case.objects.count(), 0)
        for bad in ("0", "366", "много"):
            with self.subTest(days=bad):
                page = self.client.get(url, {"days": bad}, **EN)
                self.assertContains(page, "Days: expected a whole number", status_code=400)
        self.client.post(url, {"days": "30", "confirm": "1"})
        self.assertEqual(Case.objects.count(), 2)

    def test_sla_policies_are_listed_added_and_changed(self):
        data = {
            "name_ru": "Срочно",
            "name_en": "Urgent",
            "first_contact_hours": "1",
            "resolution_hours": "8",
            "warn_before_hours": "0.5",
        }
        self.assertEqual(self.client.post(reverse("sla_list"), data).status_code, 302)
        policy = SlaPolicy.objects.get(name_ru="Срочно")
        bad = {**data, "resolution_hours": "0.5"}
        response = self.client.post(reverse("sla_edit", args=[policy.pk]), bad, **EN)
        self.assertEqual(response.status_code, 400)
        self.assertIn(
            "before the first contact", response.context["form"].errors["resolution_hours"][0]
        )
        self.client.post(reverse("sla_edit", args=[policy.pk]), {**data, "resolution_hours": "6"})
        policy.refresh_from_db()
        self.assertEqual(policy.resolution_hours, 6)
        self.assertContains(self.client.get(reverse("sla_list")), "Срочно")
