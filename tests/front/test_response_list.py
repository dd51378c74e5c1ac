import datetime as dt

from django.urls import reverse

from cxloop.customers.models import Customer
from cxloop.feedback.services import ingest
from cxloop.people.models import Employee
from cxloop.surveys.services import answer_pulse
from cxloop.test import BaseTestCase
from tests.front.test_pulse import make_pulse
from tests.surveys.test_respond import make_survey

WHEN = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)


class ResponseListTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        survey = make_survey()
        ours = Customer.objects.create(external_id="A", name="Ours", owner=cls.owner.employee)
        theirs = Customer.objects.create(
            external_id="B", name="Theirs", owner=cls.outsider.employee
        )
        ingest(
            survey=survey,
            answers={1: 9, 4: "Всё чётко"},
            channel="email",
            submitted_at=WHEN,
            customer=ours,
        )
        ingest(survey=survey, answers={1: 3}, channel="visit", submitted_at=WHEN, customer=ours)
        ingest(survey=survey, answers={1: 7}, channel="api", submitted_at=WHEN, customer=theirs)
        pulse = make_pulse()
        answer_pulse(pulse, Employee.objects.get(user=cls.teammate), {}, now=WHEN)
        cls.url = reverse("response_list")

    def test_it_shows_every_channel_side_by_side(self):
        self.client.force_login(self.owner)
        rows = list(self.client.get(self.url).context["page"])
        self.assertEqual(sorted(r.channel for r in rows), ["email", "visit"])
        self.assertEqual({r.channel: r.score for r in rows}, {"email": 9, "visit": 3})
        self.assertContains(self.client.get(self.url), "Всё чётко")

    def test_it_filters_by_channel(self):
        self.client.force_login(self.owner)
        rows = list(self.client.get(self.url, {"channel": "visit"}).context["page"])
        self.assertEqual([r.score for r in rows], [3])

    def test_it_shows_each_team_its_own_customers_and_never_pulse_answers(self):
        self.client.force_login(self.outsider)
        rows = list(self.client.get(self.url).context["page"])
        self.assertEqual([r.channel for r in rows], ["api"])

    def test_it_asks_for_sign_in(self):
        self.assertEqual(self.client.get(self.url).status_code, 302)
