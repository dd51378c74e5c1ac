"""What counts for whom (cxloop.insights.accountability): the metrics are defined once with the
keys the other pages use; a person's and a team's survey figures are the weigh-in's (the same
counts and shrinkage); the closed loop is the loop page's share with Wilson's interval (checked
against statsmodels) and median; initiatives, action items and meetings count what was done in
the period, summed over a team's own people; a team's eNPS is withheld under five answers."""

import datetime as dt

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from cxloop.analytics import nps_from_counts
from cxloop.feedback.models import FaceToFaceRecord
from cxloop.improvements.models import ActionItem, Initiative
from cxloop.improvements.training import Assignment, Course
from cxloop.insights import accountability
from cxloop.insights.accountability import METRICS, person_figures, team_figures
from cxloop.insights.dashboards import LeaderboardQuery
from cxloop.insights.store import Scope
from cxloop.surveys.models import Answer, Response
from tests.front.insight_data import InsightPageTestCase
from tests.front.test_pulse import make_pulse
from tests.improvements.data import propose
from tests.test_insights_loop import OPENED, LoopWorld

CONTRACT_KEYS = {
    "own_nps",
    "own_csat",
    "touchpoint_nps",
    "loop_in_sla",
    "first_contact_hours",
    "initiatives_delivered",
    "action_items_done",
    "training_done",
    "meetings_held",
    "team_enps",
}


def test_it_defines_every_metric_once_with_the_keys_the_other_pages_use():
    keys = [m.key for m in METRICS]
    assert len(keys) == len(set(keys))
    assert set(keys) >= CONTRACT_KEYS
    for definition in METRICS:
        assert definition.unit in ("nps", "percent", "hours", "count")
        assert str(definition.for_person).strip("—") and str(definition.for_team).strip("—")
    assert accountability.metric("first_contact_hours").higher_is_better is False


def test_it_refuses_an_unknown_metric_by_name():
    try:
        accountability.metric("revenue")
    except ValueError as error:
        assert "revenue" in str(error)
    else:
        raise AssertionError("an unknown metric was accepted")


class SurveyFigureTests(InsightPageTestCase):
    """40 NPS answers from the teammate's customer (scores 2, 4, 6, 8, 10 in turn: 8 promoters,
    24 detractors) and 10 of 3 from the outsider's, January–March 2026."""

    since, until = dt.date(2026, 1, 1), dt.date(2026, 3, 31)

    def test_a_persons_nps_is_their_customers_answers_as_the_weigh_in_ranks_them(self):
        me = self.teammate.employee.pk
        figure = person_figures([me], since=self.since, until=self.until)[me]["own_nps"]
        expected = nps_from_counts(8, 24, 40)  # the hand tally above
        self.assertEqual(figure.n, 40)
        self.assertAlmostEqual(figure.value, -40.0)
        self.assertAlmostEqual(figure.value, expected.value)
        self.assertAlmostEqual(figure.low, expected.low)
        self.assertAlmostEqual(figure.high, expected.high)
        board = LeaderboardQuery(Scope(since=self.since, until=self.until), "person").run()
        self.assertAlmostEqual(figure.shrunk, board.standing(me).score.value)

    def test_a_teams_nps_is_its_customers_answers_and_an_unknown_id_is_left_out(self):
        teams = team_figures([self.team_a.pk, self.team_b.pk], since=self.since, until=self.until)
        self.assertEqual(teams[self.team_a.pk]["own_nps"].n, 40)
        self.assertEqual(teams[self.team_b.pk]["own_nps"].n, 10)
        self.assertAlmostEqual(teams[self.team_b.pk]["own_nps"].value, -100.0)
        self.assertEqual(list(teams[self.team_a.pk]), [m.key for m in METRICS])
        self.assertEqual(person_figures([999999], since=self.since, until=self.until), {})

    def test_a_period_without_answers_has_no_value_but_a_count_of_zero(self):
        me = self.teammate.employee.pk
        day = dt.date(2025, 6, 1)
        figure = person_figures([me], since=day, until=day)[me]["own_nps"]
        self.assertEqual((figure.value, figure.n, figure.shrunk), (None, 0, None))

    def test_it_refuses_a_period_that_ends_before_it_starts(self):
        with self.assertRaisesRegex(ValueError, "after until"):
            person_figures([1], since=self.until, until=self.since)


class WorkFigureTests(LoopWorld):
    """The loop world's seven cases of the teammate (six detractor cases decided, four in
    time) plus initiatives, action items, meetings and a pulse survey."""

    since, until = dt.date(2026, 3, 1), dt.date(2026, 3, 24)

    def figures(self, user):
        pk = user.employee.pk
        return person_figures([pk], since=self.since, until=self.until)[pk]

    def test_the_loop_is_the_loop_pages_share_with_wilsons_interval_and_the_median(self):
        mine = self.figures(self.teammate)
        low, high = proportion_confint(4, 6, alpha=0.05, method="wilson")
        share = mine["loop_in_sla"]
        self.assertEqual(share.n, 6)
        self.assertAlmostEqual(share.value, 100 * 4 / 6)
        self.assertAlmostEqual(share.low, 100 * low, places=6)
        self.assertAlmostEqual(share.high, 100 * high, places=6)
        hours = [h for h, _nps in self.plan if h is not None]
        self.assertEqual(mine["first_contact_hours"].n, len(hours))
        self.assertAlmostEqual(mine["first_contact_hours"].value, float(np.median(hours)))
        # The team's cases are its people's: the same six; the outsider's team has its own one.
        team = team_figures([self.team_a.pk], since=self.since, until=self.until)[self.team_a.pk]
        self.assertEqual(team["loop_in_sla"].n, 6)
        self.assertEqual(self.figures(self.outsider)["loop_in_sla"].n, 1)

    def test_delivery_counts_what_was_done_in_the_period_and_sums_a_teams_people(self):
        done_at = dt.datetime(2026, 3, 20, 10, tzinfo=dt.UTC)
        delivered = propose(self.teammate.employee, [self.billing], now=OPENED[0])
        Initiative.objects.filter(pk=delivered.pk).update(
            state="done", finished_at=done_at, effective_from=done_at.date()
        )
        propose(self.teammate.employee, [self.billing], now=OPENED[0])  # proposed, not done
        for owner, when in (
            (self.teammate, done_at),
            (self.teammate, done_at),
            (self.owner, done_at),
            (self.teammate, done_at + dt.timedelta(days=30)),  # after the period
        ):
            ActionItem.objects.create(
                initiative=delivered,
                text="Позвонить",
                owner=owner.employee,
                due_on=dt.date(2026, 3, 25),
                created_at=OPENED[0],
                done_at=when,
            )
        for person, day in ((self.teammate, 2), (self.owner, 3), (self.outsider, 4)):
            FaceToFaceRecord.objects.create(
                kind="visit",
                customer=self.ours,
                employee=person.employee,
                met_on=dt.date(2026, 3, day),
            )
        mine = self.figures(self.teammate)
        self.assertEqual(mine["initiatives_delivered"].value, 1)
        self.assertEqual(mine["action_items_done"].value, 2)
        self.assertEqual(mine["meetings_held"].value, 1)
        team = team_figures([self.team_a.pk], since=self.since, until=self.until)[self.team_a.pk]
        self.assertEqual(team["initiatives_delivered"].value, 1)
        self.assertEqual(team["action_items_done"].value, 3)
        self.assertEqual(team["meetings_held"].value, 2)

    def test_a_teams_enps_is_withheld_under_five_answers(self):
        pulse = make_pulse()
        answered = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)
        question = pulse.questions.get(kind="nps")
        # Team A: 9, 9, 9, 7, 3, 10 (4 promoters, 1 detractor of 6); team B: two answers.
        for team, scores in ((self.team_a, [9, 9, 9, 7, 3, 10]), (self.team_b, [10, 0])):
            for score in scores:
                response = Response.objects.create(
                    survey=pulse,
                    team=team,
                    channel="web",
                    state="completed",
                    started_at=answered,
                    submitted_at=answered,
                )
                Answer.objects.create(response=response, question=question, kind="nps", score=score)
        a = team_figures([self.team_a.pk], since=self.since, until=self.until)[self.team_a.pk]
        expected = nps_from_counts(4, 1, 6)
        # Team B's two answers are withheld, and with them team A's would give B's away: the
        # complementary suppression of the pulse results page withholds A's too.
        b = team_figures([self.team_b.pk], since=self.since, until=self.until)[self.team_b.pk]
        self.assertIsNone(b["team_enps"].value)
        self.assertEqual(b["team_enps"].n, 2)
        self.assertIsNone(a["team_enps"].value)
        # Three more answers in B: both groups shown; a person carries their team's figure.
        for score in (9, 9, 8):
            response = Response.objects.create(
                survey=pulse,
                team=self.team_b,
                channel="web",
                state="completed",
                started_at=answered,
                submitted_at=answered,
            )
            Answer.objects.create(response=response, question=question, kind="nps", score=score)
        a = team_figures([self.team_a.pk], since=self.since, until=self.until)[self.team_a.pk]
        self.assertAlmostEqual(a["team_enps"].value, expected.value)
        self.assertEqual(a["team_enps"].n, 6)
        self.assertAlmostEqual(self.figures(self.teammate)["team_enps"].value, expected.value)

    def test_training_done_is_the_share_of_what_was_assigned_that_the_manager_confirmed(self):
        course = Course.objects.create(title="Возражения", created_at=OPENED[0])
        confirmed = OPENED[2]
        for person, done in ((self.teammate, True), (self.teammate, False), (self.owner, False)):
            Assignment.objects.create(
                course=course,
                employee=person.employee,
                due_on=dt.date(2026, 3, 20),
                assigned_at=OPENED[0],
                completed_at=confirmed if done else None,
                confirmed_at=confirmed if done else None,
            )
        mine = self.figures(self.teammate)["training_done"]
        self.assertEqual((mine.value, mine.n), (50.0, 2))
        team = team_figures([self.team_a.pk], since=self.since, until=self.until)[self.team_a.pk]
        self.assertAlmostEqual(team["training_done"].value, 100 / 3)
        self.assertIsNone(self.figures(self.outsider)["training_done"].value)
