"""The decision log's pages per role: the CX lead records and changes any decision; a manager
records for their team and changes those, not another team's; employees and viewers read; a
signed-in user without an employee record gets 404. The list filters by kind, touchpoint and
verdict; bad input is named by field and nothing is written; a GET of the form writes nothing."""

from decimal import Decimal

from django.contrib.auth.models import User

from cxloop.improvements.models import Decision, DecisionEvent
from tests.improvements.data import ImprovementTestCase
from tests.improvements.test_decisions import record

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


class DecisionPageTests(ImprovementTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.whole = record(cls.lead.employee, [cls.billing])
        cls.own = record(
            cls.owner.employee,
            [cls.kickoff],
            title="Реорганизация отдела",
            title_en="Team reorganisation",
            kind="reorg",
            team=cls.team_a,
            expected_direction="down",
            expected_size=Decimal("0.2"),
        )
        cls.stranger = User.objects.create_user("stranger", password="x")

    def form(self, **fields):
        return {
            "title": "Новый тариф",
            "title_en": "New tariff",
            "kind": "price",
            "decided_on": "2026-02-01",
            "in_force_from": "2026-03-01",
            "touchpoints": [self.billing.pk],
            "metric": "rating",
            "expected_direction": "down",
            "expected_size": "0.5",
            "team": self.team_a.pk,
            **fields,
        }

    def test_everyone_with_a_record_reads_and_an_outsider_gets_404(self):
        for user in (self.lead, self.viewer, self.teammate, self.outsider, self.manager_b):
            self.client.force_login(user)
            with self.subTest(user=user.username):
                page = self.client.get("/decisions/", **EN)
                self.assertContains(page, "New billing system")
                self.assertContains(page, "Team reorganisation")
                detail = self.client.get(f"/decisions/{self.whole.pk}/", **EN)
                self.assertContains(detail, "Expected and measured effect")
                self.assertContains(detail, "+0.30")
        self.client.force_login(self.stranger)
        self.assertEqual(self.client.get(f"/decisions/{self.whole.pk}/").status_code, 404)
        self.assertNotContains(self.client.get("/decisions/"), "New billing system")
        self.assertEqual(self.client.get("/decisions/new/").status_code, 403)

    def test_the_list_filters_by_kind_touchpoint_and_verdict(self):
        self.client.force_login(self.viewer)
        page = self.client.get("/decisions/?kind=reorg", **EN)
        self.assertContains(page, "Team reorganisation")
        self.assertNotContains(page, "New billing system")
        page = self.client.get(f"/decisions/?touchpoint={self.billing.pk}", **EN)
        self.assertContains(page, "New billing system")
        self.assertNotContains(page, "Team reorganisation")
        # Without a fact store nothing is measured: no decision has a verdict.
        page = self.client.get("/decisions/?verdict=worse", **EN)
        self.assertContains(page, "No decisions match these filters.")
        page = self.client.get("/decisions/?kind=war", **EN)
        self.assertContains(page, "New billing system")

    def test_the_lead_records_and_the_manager_records_for_their_team(self):
        self.client.force_login(self.lead)
        response = self.client.post("/decisions/new/", self.form(team=""))
        decision = Decision.objects.get(title="Новый тариф")
        self.assertRedirects(response, f"/decisions/{decision.pk}/")
        self.assertIsNone(decision.team)
        self.assertEqual(decision.expected_change, -0.5)
        self.client.force_login(self.owner)
        response = self.client.post("/decisions/new/", self.form(title="Скидки"))
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Decision.objects.get(title="Скидки").team, self.team_a)
        # Not for another team, and not for the whole organisation.
        for team in (self.team_b.pk, ""):
            before = Decision.objects.count()
            response = self.client.post("/decisions/new/", self.form(title="X", team=team))
            self.assertEqual(response.status_code, 200)
            self.assertIn("team", response.context["form"].errors)
            self.assertEqual(Decision.objects.count(), before)
        for user in (self.viewer, self.teammate):
            self.client.force_login(user)
            self.assertEqual(self.client.post("/decisions/new/", self.form()).status_code, 403)
        self.assertEqual(Decision.objects.count(), 4)

    def test_bad_input_is_named_and_nothing_is_written(self):
        self.client.force_login(self.lead)
        bad = [
            ({"expected_size": "-0.1"}, "expected_size"),
            ({"in_force_from": "2026-01-01"}, "in_force_from"),
            ({"touchpoints": [999999]}, "touchpoints"),
            ({"touchpoints": []}, "touchpoints"),
            ({"kind": "war"}, "kind"),
            ({"decided_on": "2026-02-30"}, "decided_on"),
        ]
        for fields, field in bad:
            with self.subTest(field=field, value=fields):
                response = self.client.post("/decisions/new/", self.form(**fields), **EN)
                self.assertEqual(response.status_code, 200)
                self.assertIn(field, response.context["form"].errors)
        self.assertEqual(Decision.objects.count(), 2)
        self.assertEqual(DecisionEvent.objects.count(), 2)

    def test_who_changes_a_decision(self):
        edit = f"/decisions/{self.own.pk}/edit/"
        self.client.force_login(self.manager_b)
        self.assertEqual(self.client.get(edit).status_code, 403)
        self.assertEqual(self.client.post(edit, self.form()).status_code, 403)
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(f"/decisions/{self.whole.pk}/edit/").status_code, 403)
        page = self.client.get(edit, **EN)
        self.assertContains(page, "Team reorganisation")
        self.assertEqual(DecisionEvent.objects.filter(decision=self.own).count(), 1)
        response = self.client.post(edit, self.form(title="Реорганизация", expected_size="0.4"))
        self.assertRedirects(response, f"/decisions/{self.own.pk}/")
        self.own.refresh_from_db()
        self.assertEqual(
            (self.own.title, self.own.expected_size), ("Реорганизация", Decimal("0.40"))
        )
        self.assertEqual(DecisionEvent.objects.filter(decision=self.own).count(), 2)
        detail = self.client.get(f"/decisions/{self.own.pk}/", **EN)
        self.assertContains(detail, "expected: down 0.40")

    def test_the_nav_leads_to_the_log(self):
        self.client.force_login(self.teammate)
        page = self.client.get("/decisions/", **EN)
        self.assertContains(page, 'href="/decisions/">Decision log</a>')
