"""The demo organisation holds the truths it was planted with."""

import datetime as dt
from collections import defaultdict

import numpy as np
import pytest
from django.db.models import Avg, Count, Max

from cxloop.customers.models import Customer, Segment
from cxloop.customers.queries import segment_customers
from cxloop.demo import organisation as org
from cxloop.demo.build import build_demo
from cxloop.demo.simulate import simulate
from cxloop.demo.truth import planted_truth
from cxloop.feedback.models import FaceToFaceRecord
from cxloop.insights.queries import pulse_results
from cxloop.journeys.models import Stage, Touchpoint
from cxloop.people.models import Employee, Idea, Team
from cxloop.surveys.models import Answer, Response, Survey
from cxloop.test import BaseTestCase

END = dt.date(2026, 6, 30)
TRUTH = planted_truth(seed=7, end=END)


def top(weights: dict[str, float], k: int) -> list[str]:
    return sorted(weights, key=weights.get, reverse=True)[:k]


def regression_weights(target: bool) -> dict[str, float]:
    """OLS of NPS on the touchpoint ratings of complete relationship responses."""
    rows = Answer.objects.filter(
        response__survey__kind="relationship", response__state="completed"
    ).values_list("response_id", "kind", "touchpoint__code", "score", "response__customer__tier")
    scores: dict[int, dict[str, int]] = defaultdict(dict)
    in_target: dict[int, bool] = {}
    for response, kind, code, score, tier in rows:
        if kind in ("nps", "rating"):
            scores[response][code or "nps"] = score
        in_target[response] = tier in org.TARGET_TIERS
    codes = [tp.code for tp in org.TOUCHPOINTS]
    complete = [s for r, s in scores.items() if in_target[r] == target and len(s) == len(codes) + 1]
    x = np.array([[s[c] for c in codes] for s in complete], dtype=float)
    y = np.array([s["nps"] for s in complete], dtype=float)
    beta = np.linalg.lstsq(np.column_stack([np.ones(len(y)), x]), y, rcond=None)[0][1:]
    return dict(zip(codes, beta, strict=True))


def mean_score(answers, **filters) -> tuple[float, int]:
    result = answers.filter(**filters).aggregate(mean=Avg("score"), n=Count("id"))
    return result["mean"], result["n"]


class SmallDemoTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        build_demo(TRUTH, size="small", progress=False)

    def test_it_builds_one_journey_of_six_stages_and_twenty_touchpoints(self):
        self.assertEqual(Stage.objects.count(), 6)
        self.assertEqual(Touchpoint.objects.count(), 20)
        self.assertEqual(Touchpoint.objects.exclude(name_ru="").exclude(name_en="").count(), 20)

    def test_it_builds_a_few_thousand_responses_with_comments_in_both_languages(self):
        completed = Response.objects.filter(state="completed")
        self.assertGreaterEqual(completed.count(), 2000)
        self.assertLess(completed.count(), 10000)
        comments = Answer.objects.filter(kind="text")
        self.assertGreater(comments.filter(response__language="ru").count(), 150)
        self.assertGreater(comments.filter(response__language="en").count(), 20)
        self.assertGreater(FaceToFaceRecord.objects.exclude(response=None).count(), 50)
        self.assertTrue(Employee.objects.filter(user__username="cx.lead", role="admin").exists())

    def test_it_has_an_anonymous_pulse_survey_a_quarter_and_an_ideas_box(self):
        waves = list(Survey.objects.filter(kind="pulse").order_by("pk"))
        self.assertEqual(len(waves), len(TRUTH.pulse["waves"]))
        self.assertEqual([w.is_active for w in waves], [False] * (len(waves) - 1) + [True])
        for wave, day in zip(waves, TRUTH.pulse["waves"], strict=True):
            responses = wave.responses.all()
            self.assertGreater(responses.count(), 30)
            first = responses.order_by("submitted_at").first().submitted_at.date()
            self.assertEqual(first.isoformat(), day)
            self.assertFalse(responses.exclude(contact=None).exists())
            self.assertFalse(responses.filter(team=None).exists())
            self.assertEqual(wave.participations.count(), responses.count())
        results = pulse_results(waves[-1])
        hidden = [t for t in results.teams if t.enps is None]
        self.assertTrue(hidden and all(t.n < 5 for t in hidden))
        self.assertTrue(Idea.objects.filter(author=None).exists())
        self.assertTrue(Idea.objects.exclude(author=None).exists())

    def test_it_records_nothing_after_its_end_date(self):
        latest = Response.objects.aggregate(Max("submitted_at"), Max("started_at"))
        end = dt.datetime.combine(END, dt.time(), tzinfo=dt.UTC)
        self.assertLessEqual(max(latest.values()), end)
        self.assertGreater(min(latest.values()), end - dt.timedelta(days=14))
        self.assertFalse(FaceToFaceRecord.objects.filter(met_on__gt=END).exists())

    def test_it_plants_the_strongest_driver_of_each_segment(self):
        # A few hundred complete answers settle the strongest driver; the full order of the top
        # three is checked on the full-size simulation below.
        for target, truth in [(False, TRUTH.driver_weights), (True, TRUTH.target_driver_weights)]:
            measured = regression_weights(target=target)
            self.assertEqual(top(measured, 1), top(truth, 1))
            self.assertLessEqual(set(top(truth, 2)), set(top(measured, 5)))
        self.assertNotEqual(top(TRUTH.target_driver_weights, 1), top(TRUTH.driver_weights, 1))

    def test_it_marks_the_target_segment(self):
        target = Segment.objects.get(is_target=True)
        self.assertEqual(target.name, TRUTH.target_segment)
        tiers = set(segment_customers(target).values_list("tier", flat=True))
        self.assertEqual(tiers, set(org.TARGET_TIERS))

    def test_it_names_its_teams_segments_and_titles_in_english_too(self):
        self.assertFalse(Team.objects.filter(name_en="").exists())
        self.assertFalse(Segment.objects.filter(name_en="").exists())
        self.assertFalse(Employee.objects.filter(title_en="").exists())

    def _before_after(self, code: str, since: dt.date) -> float:
        answers = Answer.objects.filter(
            touchpoint__code=code, kind__in=["rating", "csat"], response__state="completed"
        )
        before, n_before = mean_score(answers, response__submitted_at__date__lt=since)
        after, n_after = mean_score(answers, response__submitted_at__date__gte=since)
        self.assertGreater(min(n_before, n_after), 50)
        return after - before

    def test_it_plants_the_roll_back(self):
        since = dt.date.fromisoformat(TRUTH.rollback["from_month"] + "-01")
        change = self._before_after(TRUTH.rollback["touchpoint"], since)
        self.assertAlmostEqual(change, TRUTH.rollback["drop"], delta=0.25)

    def test_it_plants_the_improvement(self):
        since = dt.date.fromisoformat(TRUTH.improvement["from_date"])
        change = self._before_after(TRUTH.improvement["touchpoint"], since)
        self.assertAlmostEqual(change, TRUTH.improvement["lift"], delta=0.25)
        standard = Touchpoint.objects.get(code=TRUTH.improvement["touchpoint"]).standards.first()
        self.assertEqual((standard.version, standard.effective_from), (2, since))

    def test_it_gives_the_lucky_team_two_people_and_a_few_ordinary_clients(self):
        team = TRUTH.lucky_team["team"]
        self.assertEqual(Employee.objects.filter(team__name=team).count(), 2)
        clients = Customer.objects.filter(owner__team__name=team)
        self.assertGreaterEqual(clients.count(), 4)
        self.assertFalse(clients.filter(tier__in=org.TARGET_TIERS).exists())


@pytest.fixture(scope="module")
def full_demo():
    return simulate(TRUTH, size="full")


def ols_weights(data, *, target: bool) -> dict[str, float]:
    fb = data.feedback
    client = np.array([data.contacts[k].client for k in fb.contact])
    in_target = np.array([data.clients[c].tier in org.TARGET_TIERS for c in client])
    rows = (
        (fb.survey == "relationship")
        & ~np.isnat(fb.completed_at)
        & ~np.isnan(fb.ratings).any(axis=1)
        & (in_target == target)
    )
    x = np.column_stack([np.ones(rows.sum()), fb.ratings[rows]])
    beta = np.linalg.lstsq(x, fb.nps[rows], rcond=None)[0][1:]
    return dict(zip([tp.code for tp in org.TOUCHPOINTS], beta, strict=True))


def test_it_plants_the_order_of_the_three_strongest_drivers(full_demo):
    assert top(ols_weights(full_demo, target=False), 3) == top(TRUTH.driver_weights, 3)
    assert top(ols_weights(full_demo, target=True), 3) == top(TRUTH.target_driver_weights, 3)


def test_it_plants_a_lucky_streak_on_a_small_team(full_demo):
    fb = full_demo.feedback
    client = np.array([full_demo.contacts[k].client for k in fb.contact])
    team = np.array([full_demo.people[full_demo.clients[c].owner].team for c in client])
    lucky = team == org.LUCKY_TEAM
    in_streak = np.isin(
        fb.sent_at.astype("datetime64[M]").astype(str), TRUTH.lucky_team["streak_months"]
    )
    scored = ~np.isnan(fb.nps) & ~np.isnat(fb.completed_at)
    mean = {
        (a, b): fb.nps[scored & (lucky == a) & (in_streak == b)].mean()
        for a in (True, False)
        for b in (True, False)
    }
    assert (scored & lucky & in_streak).sum() >= 10
    # Best of two draws lifts a score by σ/√π ≈ 0.73 points before the 0–10 clip.
    assert mean[True, True] - mean[False, True] > 0.4  # the streak stands out …
    assert abs(mean[True, False] - mean[False, False]) < 0.5  # … and is not the team's level


def test_it_is_deterministic_for_a_seed():
    first, second = simulate(TRUTH, size="small"), simulate(TRUTH, size="small")
    np.testing.assert_array_equal(first.feedback.nps, second.feedback.nps)
    assert first.feedback.comment == second.feedback.comment
    assert first.feedback.token_hash == second.feedback.token_hash
    other = simulate(planted_truth(seed=8, end=END), size="small")
    assert first.feedback.comment != other.feedback.comment


def test_it_sizes_the_full_demo_as_promised(full_demo):
    data = full_demo
    completed = ~np.isnat(data.feedback.completed_at)
    assert completed.sum() + len(data.meetings) >= 50_000
    assert len(data.clients) >= 300
    comments = [c for c in data.feedback.comment if c]
    assert len(comments) >= 2000
    assert len(set(comments)) >= 2000
    sent = data.feedback.sent_at.astype("datetime64[D]")
    assert (sent.max() - sent.min()).astype(int) >= 700  # two years


def test_it_names_every_touchpoint_in_the_truth():
    codes = {tp.code for tp in org.TOUCHPOINTS}
    assert set(TRUTH.driver_weights) == codes == set(TRUTH.target_driver_weights)
    assert 15 <= len(codes) <= 25 and len(org.STAGES) == 6


@pytest.mark.parametrize("size", ["huge", ""])
def test_it_rejects_an_unknown_size(size):
    with pytest.raises(ValueError, match="size must be one of"):
        simulate(TRUTH, size=size)
