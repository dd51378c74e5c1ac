import datetime as dt

from django.urls import reverse
from django.utils import timezone

from cxloop.customers.models import Contact, Customer
from cxloop.feedback.models import FaceToFaceRecord
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.people.models import Employee, Role
from cxloop.surveys.models import Question, Response, Survey
from cxloop.test import BaseTestCase


class FaceToFaceTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.customer = Customer.objects.create(
            external_id="C-1", name="Acme", owner=cls.teammate.employee
        )
        cls.beta = Customer.objects.create(
            external_id="C-2", name="Beta", owner=cls.outsider.employee
        )
        cls.anna = Contact.objects.create(
            customer=cls.customer, name="Anna", email="anna@acme.example"
        )
        stage = Stage.objects.create(journey=Journey.objects.create(), order=1)
        cls.kickoff = Touchpoint.objects.create(
            stage=stage, order=1, code="kickoff", channel="meeting"
        )
        guide = Survey.objects.create(
            name_ru="Встреча", name_en="Meeting", kind="interview", languages=["ru", "en"]
        )
        Question.objects.create(
            survey=guide, order=1, kind="nps", text_ru="NPS", text_en="NPS", required=True
        )
        Question.objects.create(
            survey=guide,
            order=2,
            kind="rating",
            text_ru="Старт",
            text_en="Kick-off",
            touchpoint=cls.kickoff,
        )
        cls.new = reverse("face_to_face_new")
        cls.list = reverse("face_to_face_list")

    def form(self, **fields):
        today = timezone.localdate()
        return {
            "kind": "visit",
            "customer": self.customer.pk,
            "participants": "Anna@acme.example",
            "met_on": today.isoformat(),
            "language": "ru",
            "notes": "Довольны стартом",
            "q1": "9",
            "q2": "5",
            "follow_up_1": "Прислать план",
            "due_1": (today + dt.timedelta(days=7)).isoformat(),
            **fields,
        }

    def test_it_asks_for_sign_in(self):
        self.assertRedirects(self.client.get(self.new), reverse("login") + f"?next={self.new}")

    def test_it_records_a_meeting_as_feedback_with_its_channel(self):
        self.client.force_login(self.teammate)
        self.assertRedirects(self.client.post(self.new, self.form()), self.list)
        record = FaceToFaceRecord.objects.get()
        self.assertEqual(
            (record.kind, record.employee.user, list(record.contacts.all())),
            ("visit", self.teammate, [self.anna]),
        )
        self.assertEqual(record.follow_ups.get().description, "Прислать план")
        response = Response.objects.get()
        self.assertEqual(
            (response.channel, response.state, response.customer),
            ("visit", "completed", self.customer),
        )
        scores = dict(response.answers.values_list("kind", "score"))
        self.assertEqual(scores, {"nps": 9, "rating": 5})
        self.assertEqual(response.answers.get(kind="rating").touchpoint, self.kickoff)
        listed = self.client.get(self.list)
        self.assertContains(listed, "Довольны стартом")
        self.assertEqual(listed.context["page"][0].nps, 9)
        # The meeting leads to its customer and to the response that holds its scores.
        self.assertContains(listed, reverse("customer_detail", args=[self.customer.pk]))
        self.assertContains(listed, reverse("response_detail", args=[response.pk]))

    def test_it_names_what_is_wrong_and_keeps_nothing(self):
        self.client.force_login(self.teammate)
        tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
        response = self.client.post(
            self.new, self.form(met_on=tomorrow, participants="ghost@acme.example", due_1="", q1="")
        )
        errors = response.context["form"].errors
        self.assertEqual(set(errors), {"met_on", "participants", "due_1", "q1"})
        self.assertIn("ghost@acme.example", errors["participants"][0])
        self.assertFalse(FaceToFaceRecord.objects.exists())
        self.assertFalse(Response.objects.exists())

    def test_it_keeps_viewers_from_recording(self):
        Employee.objects.filter(user=self.teammate).update(role=Role.VIEWER)
        self.client.force_login(self.teammate)
        self.assertEqual(self.client.post(self.new, self.form()).status_code, 403)
        self.assertFalse(FaceToFaceRecord.objects.exists())

    def test_it_offers_and_takes_only_the_customers_of_the_users_teams(self):
        self.client.force_login(self.outsider)
        picker = self.client.get(self.new).context["form"].fields["customer"].queryset
        self.assertEqual(list(picker), [self.beta])
        refused = self.client.post(self.new, self.form())  # Acme belongs to team A
        self.assertIn("customer", refused.context["form"].errors)
        self.assertFalse(FaceToFaceRecord.objects.exists())
        self.assertFalse(Response.objects.exists())
        self.client.force_login(self.owner)  # the manager of team A, above its members
        picker = self.client.get(self.new).context["form"].fields["customer"].queryset
        self.assertEqual(list(picker), [self.customer])

    def test_it_says_why_no_client_is_listed(self):
        lonely = self._user("lonely", self.team_a1, Role.EMPLOYEE)
        self.client.force_login(lonely)
        self.assertContains(self.client.get(self.new), 'id="no-clients"')
        self.client.force_login(self.teammate)
        self.assertNotContains(self.client.get(self.new), 'id="no-clients"')

    def test_it_shows_each_team_only_its_own_meetings(self):
        self.client.force_login(self.teammate)
        self.client.post(self.new, self.form())
        self.client.force_login(self.outsider)
        self.assertEqual(len(self.client.get(self.list).context["page"]), 0)
        self.client.force_login(self.owner)  # the manager of team A
        self.assertEqual(len(self.client.get(self.list).context["page"]), 1)

    def test_it_shows_a_meeting_to_the_customers_team_not_to_whoever_recorded_it(self):
        # Recorded by team B's employee before writes were scoped, or before the customer
        # moved to team A: the customer's team sees it, the recorder's team no longer does.
        self.client.force_login(self.teammate)
        self.client.post(self.new, self.form())
        FaceToFaceRecord.objects.update(employee=self.outsider.employee)
        self.client.force_login(self.outsider)
        self.assertEqual(len(self.client.get(self.list).context["page"]), 0)
        self.client.force_login(self.teammate)
        self.assertEqual(len(self.client.get(self.list).context["page"]), 1)

    def test_it_lists_the_meetings_a_scorecard_counts_by_who_led_them_and_when(self):
        today = timezone.localdate()
        earlier = (today - dt.timedelta(days=10)).isoformat()
        self.client.force_login(self.teammate)
        self.client.post(self.new, self.form())
        self.client.force_login(self.owner)
        self.client.post(self.new, self.form(met_on=earlier, notes="Раньше"))
        self.assertEqual(FaceToFaceRecord.objects.count(), 2)

        def listed(**query):
            page = self.client.get(self.list, query).context["page"]
            return sorted(record.employee.user.username for record in page)

        self.assertEqual(listed(), ["owner", "teammate"])
        self.assertEqual(listed(employee=self.teammate.employee.pk), ["teammate"])
        self.assertEqual(listed(team=self.team_a.pk, since=today.isoformat()), ["teammate"])
        self.assertEqual(listed(until=earlier), ["owner"])
        self.assertEqual(listed(team=self.team_b.pk), [])
        # A page of a filtered list keeps the filters in its links.
        response = self.client.get(self.list, {"employee": self.owner.employee.pk})
        self.assertEqual(response.context["query"], f"employee={self.owner.employee.pk}")
        self.assertContains(response, str(self.owner.employee))

    def test_it_leaves_out_a_bad_filter_and_says_which(self):
        self.client.force_login(self.teammate)
        self.client.post(self.new, self.form())
        response = self.client.get(self.list, {"since": "2026-13-45", "employee": "x"})
        self.assertEqual(len(response.context["page"]), 1)
        refused = [str(m) for m in response.context["messages"] if "фильтр не применён" in str(m)]
        self.assertEqual(len(refused), 2, refused)
        self.assertTrue(
            any(e.startswith("С даты «2026-13-45»:") and "ГГГГ-ММ-ДД" in e for e in refused)
        )
        self.assertTrue(any(e.startswith("Кто встречался «x»:") for e in refused))

    def test_it_explains_when_there_is_no_interview_guide(self):
        Survey.objects.filter(kind="interview").update(is_active=False)
        self.client.force_login(self.teammate)
        self.assertEqual(self.client.get(self.new).status_code, 409)
