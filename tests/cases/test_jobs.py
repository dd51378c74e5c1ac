"""The SLA jobs: a warning before a deadline, the breach, escalation to the owner's manager and
one level higher after one more period, each exactly once however often and however many workers
run them."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Q
from django.test import TransactionTestCase

from cxloop.cases import jobs, services
from cxloop.cases.choices import CaseState, EventKind, LoopChannel, NotificationKind, Origin
from cxloop.cases.models import Case, CaseEvent, Notification, SlaPolicy
from cxloop.people.models import Role
from cxloop.people.queries import Calendars
from cxloop.test import BaseTestCase

MSK = ZoneInfo("Europe/Moscow")


def msk(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


OPENED = msk(2026, 3, 16, 10, 0)  # Monday: first contact due 14:00, resolution Tuesday 17:00


def run_twice(now: dt.datetime) -> None:
    jobs.run_due(now)
    jobs.run_due(now)


class JobsFixture:
    def make_people_and_policy(self):
        self.director = self._user("director", self.firm, Role.MANAGER).employee
        self.policy = SlaPolicy.objects.create(
            name_ru="Стандарт",
            name_en="Standard",
            first_contact_hours=4,
            resolution_hours=16,
            warn_before_hours=2,
        )

    def open(self, owner=None) -> Case:
        return services.open_case(
            origin=Origin.MANUAL,
            title="Invoice twice",
            now=OPENED,
            owner=owner or self.teammate.employee,
            sla_policy=self.policy,
        )

    def events(self, case: Case, kind: str) -> list[dict]:
        return list(CaseEvent.objects.filter(case=case, kind=kind).values_list("data", flat=True))

    def news(self, kind: str) -> list[str]:
        notifications = Notification.objects.filter(kind=kind).order_by("pk")
        return [n.recipient.user.username for n in notifications]


class JobsTests(JobsFixture, BaseTestCase):
    def setUp(self):
        self.make_people_and_policy()
        self.case = self.open()

    def test_warning_breach_and_escalation_happen_once_each_in_order(self):
        run_twice(msk(2026, 3, 16, 11, 30))  # 2.5 working hours left: no warning yet
        self.assertEqual(self.events(self.case, EventKind.WARNED), [])

        run_twice(msk(2026, 3, 16, 12, 30))
        self.assertEqual(self.events(self.case, EventKind.WARNED)[0]["deadline"], "first_contact")
        self.assertEqual(self.news(NotificationKind.DUE_SOON), ["teammate"])

        run_twice(msk(2026, 3, 16, 14, 0))
        self.assertEqual(len(self.events(self.case, EventKind.BREACHED)), 1)
        self.assertEqual(self.news(NotificationKind.BREACHED), ["teammate"])
        escalated = self.events(self.case, EventKind.ESCALATED)
        self.assertEqual([(e["level"], e["to"]["name"]) for e in escalated], [(1, "Owner")])
        self.assertEqual(self.news(NotificationKind.ESCALATED), ["owner"])

        run_twice(msk(2026, 3, 16, 17, 59))  # one more period (4 working hours) not yet over
        self.assertEqual(Case.objects.get(pk=self.case.pk).escalation_level, 1)

        run_twice(msk(2026, 3, 16, 18, 0))
        case = Case.objects.get(pk=self.case.pk)
        self.assertEqual(case.escalation_level, 2)
        self.assertEqual([e["level"] for e in self.events(case, EventKind.ESCALATED)], [1, 2])
        self.assertEqual(self.news(NotificationKind.ESCALATED), ["owner", "director"])
        self.assertEqual(len(self.events(case, EventKind.WARNED)), 1)
        self.assertEqual(len(self.events(case, EventKind.BREACHED)), 1)

    def test_after_the_first_contact_the_resolution_deadline_is_warned_and_breached(self):
        run_twice(msk(2026, 3, 16, 14, 0))
        services.record_contact(
            self.case, LoopChannel.CALL, by=self.teammate.employee, now=msk(2026, 3, 17, 9, 30)
        )
        run_twice(msk(2026, 3, 17, 15, 0))  # resolution due Tuesday 17:00
        warned = self.events(self.case, EventKind.WARNED)
        self.assertEqual([w["deadline"] for w in warned], ["resolution"])
        run_twice(msk(2026, 3, 17, 17, 0))
        breached = self.events(self.case, EventKind.BREACHED)
        self.assertEqual([b["deadline"] for b in breached], ["first_contact", "resolution"])

    def test_a_reopened_case_starts_a_fresh_period_and_ladder(self):
        run_twice(msk(2026, 3, 16, 14, 0))  # breached, escalated
        run_twice(msk(2026, 3, 16, 18, 0))  # and escalated again
        who = self.teammate.employee
        services.change_state(
            self.case, CaseState.RESOLVED, by=who, now=msk(2026, 3, 17, 9, 0), text="Refunded"
        )
        case = services.change_state(
            self.case, CaseState.IN_PROGRESS, by=who, now=msk(2026, 3, 17, 10, 0)
        )
        self.assertEqual((case.escalation_level, case.breached_at, case.warned_at), (0, None, None))
        self.assertEqual(case.resolution_due, msk(2026, 3, 18, 17, 0))  # 16 working hours on
        run_twice(msk(2026, 3, 18, 17, 0))
        levels = [e["level"] for e in self.events(case, EventKind.ESCALATED)]
        self.assertEqual(levels, [1, 2, 1])

    def test_a_case_waiting_on_the_customer_is_left_alone(self):
        services.change_state(self.case, CaseState.WAITING, by=None, now=OPENED)
        run_twice(msk(2026, 3, 20, 12, 0))
        self.assertFalse(
            CaseEvent.objects.filter(case=self.case, kind__in=["warned", "breached"]).exists()
        )

    def test_a_step_read_before_another_worker_took_it_is_not_taken_again(self):
        stale = Case.objects.get(pk=self.case.pk)
        run_twice(msk(2026, 3, 16, 14, 0))
        jobs._escalate(stale, 1, Q(escalation_level=0), msk(2026, 3, 16, 14, 1), Calendars())
        self.assertEqual(len(self.events(self.case, EventKind.ESCALATED)), 1)

    def test_a_manager_owner_escalates_to_the_manager_above(self):
        case = self.open(owner=self.owner.employee)
        self.assertEqual(jobs.escalation_recipient(case, 1), self.director)
        self.assertIsNone(jobs.escalation_recipient(case, 2))


class ConcurrentJobsTests(JobsFixture, TransactionTestCase):
    """Two workers at the same moment, each on its own database connection."""

    def setUp(self):
        BaseTestCase.setUpTestData.__func__(self)
        self.make_people_and_policy()
        self.case = self.open()

    _user = staticmethod(BaseTestCase._user)

    def test_two_workers_at_once_warn_breach_and_escalate_once(self):
        for now in (msk(2026, 3, 16, 12, 30), msk(2026, 3, 16, 14, 0), msk(2026, 3, 16, 18, 0)):
            barrier, failures = threading.Barrier(2), []

            def worker(now=now, barrier=barrier, failures=failures):
                try:
                    barrier.wait()
                    jobs.run_due(now)
                except Exception as error:  # reported below: a thread's exception is otherwise lost
                    failures.append(error)
                finally:
                    connection.close()

            threads = [threading.Thread(target=worker) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self.assertEqual(failures, [])
        counts = {
            kind: CaseEvent.objects.filter(case=self.case, kind=kind).count()
            for kind in (EventKind.WARNED, EventKind.BREACHED, EventKind.ESCALATED)
        }
        self.assertEqual(
            counts, {EventKind.WARNED: 1, EventKind.BREACHED: 1, EventKind.ESCALATED: 2}
        )
        self.assertEqual(Notification.objects.filter(kind=NotificationKind.ESCALATED).count(), 2)
