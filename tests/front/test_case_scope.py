"""Who sees and who may act on a case, on every case page and action: the case's owner (an
employee), their manager, a colleague of the same team who neither owns the case nor its
customer, the manager of another team, an outsider, a read-only viewer and the CX lead.
A case out of sight answers 404, an action a reader may not take 403, and a refused action
writes nothing."""

from django.urls import reverse
from django.utils import timezone

from cxloop.cases import services
from cxloop.cases.choices import Origin
from cxloop.cases.models import Case, CaseEvent
from cxloop.front.case_views import ACTIONS
from tests.front.test_case_pages import CasePagesTestCase

SEES = {"teammate", "owner", "viewer", "lead"}
ACTS = {"teammate", "owner", "lead"}


class CaseScopeTests(CasePagesTestCase):
    def users(self):
        return {
            "teammate": self.teammate,
            "owner": self.owner,
            "subowner": self.bolt.owner.user,  # team A1, owns neither the case nor Acme
            "manager_b": self.manager_b,
            "outsider": self.outsider,
            "viewer": self.viewer,
            "lead": self.lead,
        }

    def payloads(self):
        return {
            "assign": {"owner": self.owner.employee.pk},
            "state": {"state": "waiting"},
            "priority": {"priority": "high"},
            "note": {"text": "Spoke to finance"},
            "contact": {"channel": "email", "text": "Wrote to Ann"},
            "loop": {"channel": "call", "reaction": "neutral"},
            "root_causes": {"causes": [self.invoice_error.pk]},
            "touchpoints": {"touchpoints": [self.kickoff.pk]},
        }

    def test_every_action_has_a_payload_here(self):
        self.assertEqual(set(self.payloads()), set(ACTIONS))

    def test_the_case_page_is_seen_by_whoever_has_it_in_scope(self):
        url = reverse("case_detail", args=[self.acme_case.pk])
        for name, user in self.users().items():
            with self.subTest(name):
                self.client.force_login(user)
                page = self.client.get(url)
                self.assertEqual(page.status_code, 200 if name in SEES else 404)
                if name in SEES:
                    self.assertEqual(page.context["may_act"], name in ACTS)
                    action = reverse("case_action", args=[self.acme_case.pk, "note"])
                    self.assertEqual(action in page.content.decode(), name in ACTS)

    def test_the_list_shows_the_case_to_the_same_people(self):
        for name, user in self.users().items():
            with self.subTest(name):
                self.client.force_login(user)
                tabs = self.client.get(reverse("case_list")).context["tabs"]
                seen = set()
                for tab, _label, _query in tabs:
                    page = self.client.get(reverse("case_list") + f"?tab={tab}")
                    seen |= {row["case"].pk for row in page.context["rows"]}
                self.assertEqual(
                    self.acme_case.pk in seen, name in SEES - {"lead"} or name == "lead"
                )

    def test_every_action_is_refused_to_whoever_may_not_act_and_writes_nothing(self):
        for name, user in self.users().items():
            if name in ACTS:
                continue
            for action, data in self.payloads().items():
                with self.subTest(user=name, action=action):
                    before = CaseEvent.objects.count()
                    response = self.act(user, action, data)
                    self.assertEqual(response.status_code, 403 if name in SEES else 404)
                    self.assertEqual(CaseEvent.objects.count(), before)
        case = Case.objects.get(pk=self.acme_case.pk)
        self.assertEqual((case.state, case.priority), ("new", "normal"))
        self.assertEqual(case.owner, self.teammate.employee)

    def test_every_action_works_for_whoever_may_act(self):
        for name in sorted(ACTS):
            case = services.open_case(
                origin=Origin.MANUAL,
                title=f"For {name}",
                now=timezone.now(),
                customer=self.acme,
                owner=self.teammate.employee,
                touchpoints=[self.billing],  # whose causes the root-cause form offers
            )
            for action, data in self.payloads().items():
                with self.subTest(user=name, action=action):
                    before = CaseEvent.objects.filter(case=case).count()
                    response = self.act(self.users()[name], action, data, case=case)
                    self.assertEqual(response.status_code, 302)
                    self.assertEqual(CaseEvent.objects.filter(case=case).count(), before + 1)

    def test_opening_and_bulk_assigning_follow_the_same_scope(self):
        url = reverse("case_new") + f"?customer={self.acme.pk}"
        bulk = reverse("case_bulk_assign")
        for name, user in self.users().items():
            with self.subTest(name):
                self.client.force_login(user)
                expected = {"viewer": 403, "manager_b": 404, "outsider": 404}.get(name, 200)
                if name == "subowner":
                    expected = 404  # Acme is team A's; A1 sees its own customers only
                self.assertEqual(self.client.get(url).status_code, expected)
                data = {"cases": [self.acme_case.pk], "owner": user.employee.pk}
                response = self.client.post(bulk, data)
                if name == "viewer":
                    self.assertEqual(response.status_code, 403)
                elif name in ACTS:
                    self.assertEqual(response.status_code, 302)
                else:
                    self.assertEqual(response.status_code, 400)
        self.assertIn(Case.objects.get(pk=self.acme_case.pk).owner.user.username, ACTS)
