"""The closed loop's figures (cxloop.insights.loop) over cases written through the case
services, recomputed independently: the share with statsmodels' Wilson interval, medians with
SciPy's exact quantile test, counts by hand."""

import datetime as dt

import numpy as np
from django.utils import translation
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from cxloop.cases import services
from cxloop.cases.choices import CaseState, LoopChannel, Origin
from cxloop.cases.models import Case, RootCause, SlaPolicy
from cxloop.cases.queries import loop_cases
from cxloop.customers.models import Customer
from cxloop.insights.loop import LoopQuery, contacted_in_time, is_overdue
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.people.models import Role
from cxloop.surveys.models import Answer, Question, Response, Survey
from cxloop.test import BaseTestCase

NOW = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC)  # a Tuesday
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
# Cases open at 07:00 UTC on working days (10:00 in Moscow) and are first contacted within six
# hours: the same day on any business calendar, so working hours are wall hours here.
OPENED = [dt.datetime(2026, 3, day, 7, 0, tzinfo=dt.UTC) for day in (16, 17, 18, 19, 20, 23, 24)]


class LoopWorld(BaseTestCase):
    """A manager, an employee and an outsider of another team, a viewer; two touchpoints with
    root causes; seven cases of the employee's customer opened on working days (six raised by
    a detractor), one opened an hour before NOW, and an outsider's case."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        cls.policy = SlaPolicy.objects.create(
            name_ru="Стандарт", name_en="Standard", first_contact_hours=4, resolution_hours=16
        )
        journey = Journey.objects.create(name_ru="Путь", name_en="Journey")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Этап", name_en="Stage")
        cls.billing, cls.support = (
            Touchpoint.objects.create(
                stage=stage, order=i, code=code, name_ru=code, name_en=code, channel="web"
            )
            for i, code in enumerate(("billing", "support"), start=1)
        )
        cls.invoice_error = RootCause.objects.create(
            touchpoint=cls.billing, name_ru="Ошибка в счёте", name_en="Invoice error"
        )
        cls.late_invoice = RootCause.objects.create(
            touchpoint=cls.billing, name_ru="Поздний счёт", name_en="Late invoice"
        )
        cls.general = RootCause.objects.create(
            touchpoint=None, name_ru="Сбой в коммуникации", name_en="Communication breakdown"
        )
        cls.survey = Survey.objects.create(
            name_ru="Опрос", name_en="Survey", kind="relationship", languages=["ru"]
        )
        cls.nps_question = Question.objects.create(
            survey=cls.survey, order=1, kind="nps", text_ru="NPS", text_en="NPS"
        )
        cls.ours = Customer.objects.create(
            external_id="O", name="Ours", owner=cls.teammate.employee
        )
        cls.theirs = Customer.objects.create(
            external_id="T", name="Theirs", owner=cls.outsider.employee
        )
        # (hours after opening of the first contact or None, NPS of the trigger)
        cls.plan = [(1, 3), (2, 5), (3.5, 0), (6, 4), (None, 2), (0.5, 6), (2.5, 9)]
        cls.cases = [
            cls._case(opened, contact, nps)
            for opened, (contact, nps) in zip(OPENED, cls.plan, strict=True)
        ]
        # Opened an hour ago: its first contact is not due yet.
        cls.pending = cls._case(NOW - HOUR, None, 1)
        # An outsider's detractor case, contacted late: only the organisation-wide roles see it.
        cls.foreign = cls._case(OPENED[3], 30, 2, customer=cls.theirs, owner=cls.outsider)
        # A detractor answer no case came of.
        cls._response(cls.ours, NOW - 2 * DAY, 4)

    @classmethod
    def _response(cls, customer, at, nps) -> Response:
        response = Response.objects.create(
            survey=cls.survey,
            customer=customer,
            channel="email",
            state="completed",
            started_at=at,
            submitted_at=at,
        )
        Answer.objects.create(response=response, question=cls.nps_question, kind="nps", score=nps)
        return response

    @classmethod
    def _case(cls, opened, contact_after, nps, *, customer=None, owner=None) -> Case:
        customer = customer or cls.ours
        owner = owner or cls.teammate
        response = cls._response(customer, opened - HOUR, nps)
        case = services.open_case(
            origin=Origin.MANUAL,
            title=f"NPS {nps}",
            now=opened,
            customer=customer,
            owner=owner.employee,
            sla_policy=cls.policy,
            responses=[response],
        )
        if contact_after is not None:
            services.record_contact(
                case, LoopChannel.CALL, by=owner.employee, now=opened + contact_after * HOUR
            )
        return case


class LoopQueryTests(LoopWorld):
    def run_as(self, user, **params):
        params.setdefault("since", (NOW - 30 * DAY).date())
        params.setdefault("until", NOW.date())
        return LoopQuery(now=NOW, **params).run(user)

    def test_it_gives_the_share_of_detractor_cases_contacted_in_time_with_wilson(self):
        total = self.run_as(self.teammate).total
        # Detractors (NPS ≤ 6) decided: contacted at 1, 2, 3.5, 6 (late) and 0.5 hours, and one
        # never contacted whose 4 hours have passed; the NPS 9 case and the pending one aside.
        self.assertEqual((total.in_time_count, total.decided, total.pending), (4, 6, 1))
        self.assertEqual(total.detractor_cases, 7)
        low, high = proportion_confint(4, 6, alpha=0.05, method="wilson")
        self.assertAlmostEqual(total.in_time.value, 100 * 4 / 6)
        self.assertAlmostEqual(total.in_time.low, 100 * low, places=6)
        self.assertAlmostEqual(total.in_time.high, 100 * high, places=6)
        self.assertTrue(total.low_n)

    def test_it_gives_the_median_hours_to_first_contact_with_its_exact_interval(self):
        total = self.run_as(self.teammate).total
        hours = [h for h, _nps in self.plan if h is not None]
        self.assertEqual(total.contacted, len(hours))
        self.assertAlmostEqual(total.first_contact.value, float(np.median(hours)))
        reference = stats.quantile_test(hours, q=np.median(hours)).confidence_interval(0.95)
        self.assertAlmostEqual(total.first_contact.low, reference.low)
        self.assertAlmostEqual(total.first_contact.high, reference.high)
        self.assertIsNone(total.resolution)  # nothing resolved yet: no median claimed

    def test_it_gives_no_median_on_too_few_cases(self):
        since = OPENED[5].date()  # two contacted cases of ours (and the pending one) since
        total = self.run_as(self.teammate, since=since).total
        self.assertEqual(total.contacted, 2)
        self.assertIsNone(total.first_contact)

    def test_it_counts_resolution_breaches_escalations_and_what_is_open_and_overdue(self):
        first = self.cases[0]
        services.change_state(
            first, CaseState.RESOLVED, by=None, now=first.opened_at + 10 * HOUR, text="Done."
        )
        Case.objects.filter(pk=self.cases[3].pk).update(
            breached_at=self.cases[3].first_contact_due, escalation_level=1
        )
        waiting = services.change_state(self.cases[1], CaseState.WAITING, by=None, now=NOW - DAY)
        total = self.run_as(self.teammate).total
        self.assertEqual(total.resolved, 1)
        self.assertEqual((total.breaches, total.escalations), (1, 1))
        self.assertEqual(total.open_now, len(self.cases) - 1 + 1)  # all but the resolved one
        # Past their 16 hours: every open one but the waiting one (its clocks stand) and the
        # pending one (its first contact is due in three hours).
        self.assertEqual(total.overdue_now, len(self.cases) - 2)
        self.assertFalse(is_overdue(_row(waiting), NOW))

    def test_it_ranks_root_causes_per_touchpoint_with_their_share_of_its_cases(self):
        for case, causes in zip(
            self.cases[:4],
            [
                [self.invoice_error],
                [self.invoice_error, self.general],
                [self.late_invoice],
                [self.invoice_error],
            ],
            strict=True,
        ):
            services.set_touchpoints(case, [self.billing], by=None, now=NOW - DAY)
            services.set_root_causes(case, causes, by=None, now=NOW - DAY)
        services.set_touchpoints(self.cases[4], [self.support], by=None, now=NOW - DAY)
        with translation.override("ru"):
            result = self.run_as(self.teammate)
        billing = result.causes_of(self.billing.pk)
        self.assertEqual(billing.cases, 4)
        # Ties in the order of their names in the page's language.
        self.assertEqual(
            [(c.root_cause_id, c.count) for c in billing.causes],
            [(self.invoice_error.pk, 3), (self.late_invoice.pk, 1), (self.general.pk, 1)],
        )
        self.assertAlmostEqual(billing.causes[0].share, 0.75)
        self.assertEqual(result.causes_of(self.support.pk).causes, ())
        self.assertEqual(
            [row.key for row in result.by_touchpoint], [self.billing.pk, self.support.pk]
        )
        only = self.run_as(self.teammate, touchpoint_id=self.support.pk)
        self.assertEqual(only.total.cases, 1)
        self.assertEqual([t.touchpoint_id for t in only.root_causes], [self.support.pk])

    def test_it_shows_each_role_only_the_cases_it_sees(self):
        self.assertEqual(self.run_as(self.viewer).total.cases, len(self.cases) + 2)
        self.assertEqual(self.run_as(self.owner).total.cases, len(self.cases) + 1)
        self.assertEqual(self.run_as(self.outsider).total.cases, 1)
        by_team = self.run_as(self.viewer).by_team
        self.assertEqual(
            {row.key: row.figures.cases for row in by_team},
            {self.team_a.pk: len(self.cases) + 1, self.team_b.pk: 1},
        )

    def test_it_counts_the_detractor_answers_that_raised_no_case(self):
        self.assertEqual(self.run_as(self.viewer).detractors_without_case, 1)
        self.assertEqual(self.run_as(self.outsider).detractors_without_case, 0)
        narrowed = self.run_as(self.viewer, touchpoint_id=self.billing.pk)
        self.assertIsNone(narrowed.detractors_without_case)

    def test_it_narrows_to_the_chosen_teams(self):
        result = self.run_as(self.viewer, team_ids=(self.team_b.pk,))
        self.assertEqual(result.total.cases, 1)
        self.assertEqual(result.total.in_time_count, 0)  # contacted a day after its 4 hours

    def test_it_refuses_a_period_that_ends_before_it_starts(self):
        with self.assertRaisesRegex(ValueError, "ends before it starts"):
            LoopQuery(since=NOW.date(), until=(NOW - DAY).date(), now=NOW)

    def test_a_first_contact_is_in_time_up_to_its_deadline(self):
        row = _row(self.cases[0])
        self.assertTrue(contacted_in_time(row, NOW))
        self.assertIsNone(contacted_in_time(_row(self.pending), NOW))
        self.assertFalse(contacted_in_time(_row(self.cases[4]), NOW))


def _row(case: Case):
    case.refresh_from_db()
    user = case.owner.user
    return next(c for c in loop_cases(user) if c.pk == case.pk)
