"""The case record's core: opening, history, states, scope and the one open rule case per
customer that the database itself keeps."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cxloop.cases import services
from cxloop.cases.choices import CaseState, EventKind, Origin
from cxloop.cases.models import CaseEvent, Notification, SlaPolicy
from cxloop.cases.queries import may_act, visible_cases
from cxloop.customers.models import Customer
from cxloop.people.models import Role
from cxloop.test import BaseTestCase

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class CaseCoreTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.policy = SlaPolicy.objects.create(
            name_ru="Стандарт", name_en="Standard", first_contact_hours=4, resolution_hours=16
        )
        cls.customer = Customer.objects.create(name="Alpha", owner=cls.teammate.employee)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)

    def _open(self, **fields):
        return services.open_case(
            origin=fields.pop("origin", Origin.RULE),
            title="NPS 3",
            now=NOW,
            customer=self.customer,
            owner=self.teammate.employee,
            sla_policy=self.policy,
            **fields,
        )

    def test_opening_sets_deadlines_history_and_tells_the_owner(self):
        case = self._open()
        self.assertEqual(case.first_contact_due - NOW, dt.timedelta(hours=4))
        self.assertEqual(case.team, self.team_a)
        kinds = list(case.events.values_list("kind", flat=True))
        self.assertEqual(kinds, [EventKind.OPENED, EventKind.ASSIGNED])
        self.assertEqual(Notification.objects.get(case=case).recipient, self.teammate.employee)
        self.assertEqual(case.reference, f"C-{case.pk:06d}")

    def test_a_second_open_rule_case_for_the_customer_is_refused_by_the_database(self):
        self._open()
        with self.assertRaises(IntegrityError), transaction.atomic():
            self._open()
        self._open(origin=Origin.MANUAL)  # a person may still open one deliberately

    def test_states_follow_the_transitions_and_waiting_moves_the_deadline(self):
        case = self._open()
        who = self.teammate.employee
        case = services.change_state(case, CaseState.WAITING, by=who, now=NOW)
        later = NOW + dt.timedelta(hours=3)
        case = services.change_state(case, CaseState.IN_PROGRESS, by=who, now=later)
        # 16 working hours from Monday 12:00 in Moscow (9–18), plus the 3 spent waiting.
        wednesday_13_msk = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
        self.assertEqual(case.resolution_due, wednesday_13_msk)
        with self.assertRaises(services.CaseError):
            services.change_state(case, CaseState.RESOLVED, by=who, now=later)
        case = services.change_state(case, CaseState.RESOLVED, by=who, now=later, text="Refund")
        with self.assertRaises(services.CaseError):
            services.change_state(case, CaseState.NEW, by=who, now=later)
        case = services.change_state(case, CaseState.IN_PROGRESS, by=who, now=later)  # reopen
        self.assertIsNone(case.resolved_at)
        self.assertEqual(case.resolution_due, wednesday_13_msk)  # Monday 15:00 + 16 hours

    def test_history_cannot_be_rewritten_or_deleted(self):
        event = self._open().events.first()
        event.text = "changed"
        with self.assertRaises(ValidationError):
            event.save()
        with self.assertRaises(ValidationError):
            event.delete()
        self.assertEqual(CaseEvent.objects.filter(text="changed").count(), 0)

    def test_first_contact_stops_its_clock_and_starts_work(self):
        case = self._open()
        at = NOW + dt.timedelta(hours=1)
        case = services.record_contact(case, "call", by=self.teammate.employee, now=at)
        self.assertEqual((case.first_contacted_at, case.state), (at, CaseState.IN_PROGRESS))
        self.assertEqual(case.sla_policy.first_contact_hours, Decimal("4.00"))

    def test_scope_by_role(self):
        case = self._open()
        self.assertTrue(visible_cases(self.teammate).filter(pk=case.pk).exists())
        self.assertTrue(visible_cases(self.owner).filter(pk=case.pk).exists())  # manager of A
        self.assertFalse(visible_cases(self.outsider).filter(pk=case.pk).exists())
        self.assertTrue(visible_cases(self.viewer).filter(pk=case.pk).exists())
        self.assertFalse(may_act(self.viewer, case))
        self.assertFalse(may_act(self.outsider, case))
        self.assertTrue(may_act(self.owner, case))
