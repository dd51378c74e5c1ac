"""Training on the full demo (issue #13, point 3): the course with a planted effect is
measured within its interval, the course without one is not told apart from zero, and the
assignments, completions and confirmations are those drawn.

The demo plants +0.5 on the *latent* quality of the effective course's touchpoint for the
clients of people who took it; on the 1–5 rating scale that is the rise
:func:`tests.demo.test_demo_effect.rating_scale_lift` computes from the simulator's model
(about 0.46)."""

from cxloop.demo.training import COURSES
from cxloop.improvements.queries import training_coverage_by_team, training_status
from cxloop.improvements.training import Assignment, Course
from cxloop.insights.training import course_effect
from tests.demo.test_demo import TRUTH
from tests.demo.test_demo_effect import rating_scale_lift


class FullDemoTrainingTruths:
    """Mixed into tests/demo/test_full_demo.py's FullDemoTests, so that the full demo is built
    once."""

    def course(self, name: str) -> Course:
        return Course.objects.get(title_en=COURSES[name][1])

    def test_it_recovers_the_planted_course_effect_within_its_interval(self):
        planted = TRUTH.training["effective"]
        expected = rating_scale_lift(planted["touchpoint"], planted["lift"])
        self.assertAlmostEqual(expected, 0.46, delta=0.02)
        effect = course_effect(self.course("effective"), today=TRUTH.end, cache=False)
        self.assertEqual(effect.status, "measured")
        att = effect.did.att
        self.assertLessEqual(att.low, expected, att)
        self.assertLessEqual(expected, att.high, att)
        self.assertGreater(att.low, 0.2, att)  # clearly told apart from no effect
        self.assertGreater(effect.did.controls, 10)

    def test_it_finds_no_effect_for_the_course_without_one(self):
        self.assertEqual(TRUTH.training["null"]["lift"], 0.0)
        effect = course_effect(self.course("null"), today=TRUTH.end, cache=False)
        self.assertEqual(effect.status, "measured")
        att = effect.did.att
        self.assertLessEqual(att.low, 0.0, att)
        self.assertLessEqual(0.0, att.high, att)

    def test_it_plants_assignments_completions_and_confirmations(self):
        for name in COURSES:
            with self.subTest(course=name):
                course = self.course(name)
                touchpoint = course.touchpoints.get()
                self.assertEqual(touchpoint.code, TRUTH.training[name]["touchpoint"])
                self.assertTrue(course.standards.filter(touchpoint=touchpoint).exists())
                assignments = course.assignments.all()
                confirmed = assignments.filter(confirmed_at__isnull=False)
                self.assertGreater(confirmed.count(), 0.7 * assignments.count())
                self.assertTrue(assignments.filter(completed_at__isnull=True).exists())
        taught = self.course("effective").standards.get()
        self.assertEqual(taught.version, 2)  # written by the improvement cycle's initiative
        self.assertEqual(str(taught.effective_from), TRUTH.training["effective"]["rollout_from"])
        self.assertTrue(taught.initiatives.filter(state="done").exists())
        status = training_status(None, as_of=TRUTH.end)
        self.assertEqual(sum(s.assigned for s in status.values()), Assignment.objects.count())
        by_team = training_coverage_by_team(TRUTH.end)
        self.assertEqual(
            sum(s.done for s in by_team.values()), sum(s.done for s in status.values())
        )
