"""Write scoping in the services: who may record feedback, meetings and ideas for whom."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cxloop.customers.models import Contact, Customer
from cxloop.customers.queries import owner_teams
from cxloop.feedback.models import FaceToFaceRecord
from cxloop.feedback.services import check_scope, ingest, log_face_to_face
from cxloop.people.models import Employee, Idea, Role, Team
from cxloop.people.services import OutOfScope, submit_idea
from cxloop.surveys.models import Response
from tests.api.base import WHEN, ApiTestCase


class WriteScopeTests(ApiTestCase):
    """Team A (manager ``owner``, employee ``teammate``) owns Acme; its sub-team A1 owns Gamma;
    team B (employee ``outsider``) owns Beta; nobody owns Delta."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.a1_member = cls._user("a1-member", cls.team_a1, Role.EMPLOYEE)
        cls.gamma = Customer.objects.create(
            external_id="C-3", name="Gamma", owner=cls.a1_member.employee
        )
        cls.delta = Customer.objects.create(external_id="C-4", name="Delta")
        cls.boss = cls._user("boss", cls.firm, Role.EXECUTIVE)

    def allowed(self, user, customer) -> bool:
        try:
            check_scope(user.employee, customer)
        except OutOfScope:
            return False
        return True

    def test_it_follows_the_role_and_the_team_hierarchy(self):
        expected = {
            # user: (Acme of A, Gamma of A1, Beta of B, Delta of nobody, no customer)
            "owner": (True, True, False, False, True),  # a manager: their subtree
            "teammate": (True, False, False, False, True),  # an employee: their own team
            "a1-member": (False, True, False, False, True),
            "outsider": (False, False, True, False, True),
            "viewer": (False, False, False, False, False),  # reads, never writes
            "boss": (True, True, True, True, True),  # an executive: anyone
        }
        for username, row in expected.items():
            employee = Employee.objects.get(user__username=username)
            with self.subTest(user=username):
                got = tuple(
                    self.allowed(employee.user, customer)
                    for customer in (self.acme, self.gamma, self.beta, self.delta, None)
                )
                self.assertEqual(got, row)

    def test_it_trusts_a_channel_without_an_acting_employee(self):
        check_scope(None, self.beta)  # an import the CX lead runs, a command: no error

    def test_it_finds_the_owners_teams_in_one_statement_and_survives_a_cycle(self):
        with CaptureQueriesContext(connection) as queries:
            teams = owner_teams(self.gamma.pk)
        self.assertEqual(len(queries), 1)
        self.assertEqual(
            (teams.team_id, teams.with_parents),
            (self.team_a1.pk, frozenset({self.team_a1.pk, self.team_a.pk, self.firm.pk})),
        )
        self.assertIsNone(owner_teams(self.delta.pk))
        # Only "not its own parent" is a constraint: a longer cycle must still end.
        Team.objects.filter(pk=self.firm.pk).update(parent=self.team_a1)
        self.assertEqual(owner_teams(self.gamma.pk).with_parents, teams.with_parents)

    def test_it_refuses_an_ingest_for_another_teams_customer_and_writes_nothing(self):
        for fields in ({"customer": self.acme}, {"contact": self.ann}):
            with (
                self.subTest(**{k: str(v) for k, v in fields.items()}),
                self.assertRaises(OutOfScope),
            ):
                ingest(
                    survey=self.survey,
                    answers={1: 9},
                    channel="api",
                    submitted_at=WHEN,
                    by=self.outsider.employee,
                    **fields,
                )
        self.assertFalse(Response.objects.exists())
        with self.assertRaises(OutOfScope):  # a contact of Beta named as Acme's
            ingest(
                survey=self.survey,
                answers={1: 9},
                channel="api",
                submitted_at=WHEN,
                customer=self.acme,
                contact=self.bob,
                by=self.owner.employee,
            )
        self.assertFalse(Response.objects.exists())

    def test_it_refuses_a_meeting_with_another_teams_customer_or_its_contacts(self):
        meeting = {
            "guide": self.survey,
            "kind": "visit",
            "met_on": WHEN.date(),
            "language": "ru",
            "values": {},
        }
        outsider = self.outsider.employee
        with self.assertRaises(OutOfScope):
            log_face_to_face(customer=self.acme, employee=outsider, by=outsider, **meeting)
        with self.assertRaises(OutOfScope):
            log_face_to_face(
                customer=self.beta, employee=outsider, by=outsider, contacts=[self.ann], **meeting
            )
        self.assertFalse(FaceToFaceRecord.objects.exists())
        self.assertFalse(Response.objects.exists())
        log_face_to_face(customer=self.beta, employee=outsider, by=outsider, **meeting)
        self.assertEqual(FaceToFaceRecord.objects.get().customer, self.beta)

    def test_it_keeps_viewers_from_sending_ideas(self):
        with self.assertRaises(OutOfScope):
            submit_idea("x", author=self.viewer.employee, anonymous=True, today=WHEN.date())
        self.client.force_login(self.viewer)
        page = self.client.get("/ideas/")
        self.assertIsNone(page.context["form"])
        self.assertNotContains(page, 'name="text"')
        self.assertEqual(self.client.post("/ideas/", {"text": "x"}).status_code, 403)
        self.assertFalse(Idea.objects.exists())


class SubmissionScopeTests(ApiTestCase):
    def body(self, customer: str = "C-1"):
        return {"survey_id": self.survey.pk, "answers": {"1": 9}, "customer_external_id": customer}

    def test_it_answers_another_teams_customer_as_an_unknown_one(self):
        other = self.post(self.body("C-2"), as_user="teammate")
        unknown = self.post(self.body("C-404"), as_user="teammate", key="key-2")
        self.assertEqual((other.status_code, unknown.status_code), (422, 422))
        self.assertEqual(
            other.json()["detail"].replace("C-2", "X"),
            unknown.json()["detail"].replace("C-404", "X"),
        )
        by_contact = self.post(
            {"survey_id": self.survey.pk, "answers": {"1": 9}, "contact_email": "bob@beta.example"},
            as_user="teammate",
            key="key-3",
        )
        self.assertEqual(by_contact.status_code, 422)
        self.assertIn("contact_email", by_contact.json()["detail"])
        self.assertFalse(Response.objects.exists())
        self.assertEqual(self.post(self.body("C-2"), as_user="outsider").status_code, 201)

    def test_it_costs_the_fast_path_one_statement(self):
        """Decision 004: the scope check is one hand-written SELECT, and none for those who
        record for every customer."""
        Employee.objects.filter(user=self.viewer).update(role=Role.ADMIN)
        counts = {}
        for n, user in enumerate(("viewer", "teammate", "owner")):
            with CaptureQueriesContext(connection) as queries:
                response = self.post(self.body(), as_user=user, key=f"k-{n}")
            self.assertEqual(response.status_code, 201, response.content)
            counts[user] = len(queries)
        self.assertEqual(counts["teammate"], counts["viewer"] + 1)
        self.assertEqual(counts["owner"], counts["viewer"] + 1)


class ContactOfAnotherCustomer(ApiTestCase):
    def test_it_is_refused_at_the_service_whatever_the_door(self):
        stray = Contact.objects.create(customer=self.beta, name="Stray", email="s@beta.example")
        with self.assertRaises(OutOfScope):
            ingest(
                survey=self.survey,
                answers={1: 9},
                channel="api",
                submitted_at=WHEN,
                customer=self.acme,
                contact=stray,
            )
