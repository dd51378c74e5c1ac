"""The events emitted by the closed loop and the one way in, in the writer's transaction, and
their payloads against the OpenAPI document's components."""

import datetime as dt

import jsonschema
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from cxloop.cases.choices import CaseState, Origin
from cxloop.cases.services import change_state, open_case
from cxloop.customers.models import Customer
from cxloop.feedback.services import ingest
from cxloop.surveys.announce import announce_pending
from cxloop.test import BaseTestCase
from cxloop.webhooks import services
from cxloop.webhooks.models import Delivery, Event
from tests.surveys.test_respond import make_survey

WHEN = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)


def check_against_openapi(client, event: Event) -> None:
    document = client.get("/api/openapi.json").json()
    name = document["webhooks"][event.kind]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]["$ref"]
    schema = {"components": document["components"], "$ref": name}
    jsonschema.validate(event.payload, schema, cls=jsonschema.Draft202012Validator)


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
class EventsTest(BaseTestCase):
    def subscribe(self, *events):
        return services.create_subscription(
            name="All", url="https://hooks.example/in", events=list(events), now=WHEN
        )

    def test_it_queues_nothing_without_a_subscription(self):
        open_case(origin=Origin.MANUAL, title="A", now=WHEN, owner=self.teammate.employee)
        self.assertFalse(Event.objects.exists())

    def test_it_emits_a_cases_life_in_order_with_documented_payloads(self):
        self.subscribe("case.opened", "case.state_changed", "case.closed")
        case = open_case(origin=Origin.MANUAL, title="A", now=WHEN, owner=self.teammate.employee)
        for state in (CaseState.IN_PROGRESS, CaseState.RESOLVED, CaseState.CLOSED):
            change_state(case, state, by=self.teammate.employee, now=WHEN, text="done")
        kinds = list(Delivery.objects.order_by("pk").values_list("event__kind", flat=True))
        self.assertEqual(
            kinds,
            ["case.opened", *["case.state_changed"] * 3, "case.closed"],
        )
        self.assertEqual({d.subject for d in Delivery.objects.all()}, {f"case:{case.pk}"})
        for event in Event.objects.all():
            check_against_openapi(self.client, event)
        closed = Event.objects.get(kind="case.closed").payload
        self.assertEqual(closed["data"]["reference"], case.reference)
        self.assertEqual(closed["data"]["after"], "closed")

    def test_it_rolls_back_with_the_change(self):
        self.subscribe("case.opened")
        with self.assertRaises(RuntimeError), transaction.atomic():
            open_case(origin=Origin.MANUAL, title="A", now=WHEN)
            raise RuntimeError
        self.assertFalse(Delivery.objects.exists())

    def test_it_emits_recorded_responses_in_bulk_when_they_are_announced(self):
        first = self.subscribe("response.recorded")
        survey = make_survey()
        nps = survey.questions.order_by("order", "pk").first()
        acme = Customer.objects.create(
            external_id="acme", name="Acme", owner=self.teammate.employee
        )
        for score in (9, 3):
            ingest(survey=survey, answers={nps.order: score}, channel="api", customer=acme)
        ingest(survey=survey, answers={nps.order: 7}, channel="api")
        self.assertFalse(Delivery.objects.exists())  # not before the announcement
        services.create_subscription(
            name="Second", url="https://b.example/in", events=["response.recorded"], now=WHEN
        )
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(announce_pending(), 3)
        inserts = [
            q["sql"] for q in queries if "INSERT INTO" in q["sql"] and "webhooks_" in q["sql"]
        ]
        self.assertEqual(len(inserts), 2)  # the events, then every delivery, in one INSERT each
        self.assertEqual(Delivery.objects.count(), 6)
        subjects = list(
            Delivery.objects.filter(subscription=first)
            .order_by("pk")
            .values_list("subject", flat=True)
        )
        self.assertEqual(subjects[:2], [f"customer:{acme.pk}"] * 2)
        self.assertTrue(subjects[2].startswith("response:"))
        for event in Event.objects.all():
            check_against_openapi(self.client, event)
        self.assertEqual(announce_pending(), 0)
        self.assertEqual(Delivery.objects.count(), 6)  # once each
