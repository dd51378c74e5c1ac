"""The employee voice on the full demo (issue #13, point 6): ideas in every state, each accepted
or declined one with its answer, one that became an initiative linked to it, and the answers
where their authors read them; the pulse survey's waves, whose eNPS rises as planted."""

import numpy as np
from django.test import Client
from django.urls import reverse
from scipy import stats

from cxloop.demo import organisation as org
from cxloop.demo.ideas import ANSWERS, INITIATIVE, INITIATIVE_IDEA
from cxloop.improvements.models import Initiative
from cxloop.insights.queries import pulse_trend
from cxloop.people.choices import IdeaStatus
from cxloop.people.models import Employee, Idea
from cxloop.surveys.models import Answer
from tests.demo.test_demo import TRUTH


class FullDemoIdeaTruths:
    """Mixed into tests/demo/test_full_demo.py's FullDemoTests, so that the full demo is built
    once."""

    def test_the_firms_enps_rises_over_the_pulse_waves_as_planted(self):
        waves = pulse_trend()
        self.assertEqual([w.period.isoformat() for w in waves], TRUTH.pulse["waves"])
        # The teams of five answers or more are shown in every wave.
        shown = [sum(g.enps is not None for g in w.teams.values()) for w in waves]
        self.assertTrue(all(n >= 3 for n in shown), shown)
        # The rise per wave: least squares of each answer's ±100 (promoter, detractor, 0) on
        # its wave, against the planted one (P(x ≥ 8.5) − P(x < 6.5) of each wave's normal).
        order = {w.survey_id: i for i, w in enumerate(waves)}
        rows = Answer.objects.filter(response__survey_id__in=order, kind="nps")
        wave, score = np.array(
            [(order[s], v) for s, v in rows.values_list("response__survey_id", "score")]
        ).T
        measured = stats.linregress(wave, np.select([score >= 9, score <= 6], [100, -100], 0))
        means = np.linspace(TRUTH.pulse["mean_first"], TRUTH.pulse["mean_last"], len(waves))
        sd = TRUTH.pulse["sd"]
        planted = 100 * (stats.norm.sf(8.5, means, sd) - stats.norm.cdf(6.5, means, sd))
        planted_slope = np.polyfit(np.arange(len(waves)), planted, 1)[0]
        low, high = (measured.slope + z * measured.stderr for z in (-1.96, 1.96))
        self.assertGreater(low, 0)
        self.assertTrue(low < planted_slope < high, (measured.slope, planted_slope))

    def test_it_has_ideas_in_every_state_with_their_answers(self):
        ideas = {idea.text: idea for idea in Idea.objects.select_related("answered_by")}
        self.assertEqual({idea.status for idea in ideas.values()}, set(IdeaStatus.values))
        for place, (states, answer) in ANSWERS.items():
            idea = ideas[org.IDEAS[place]]
            expected = (
                IdeaStatus.INITIATIVE
                if place == INITIATIVE_IDEA
                else (states[-1] if states else IdeaStatus.NEW)
            )
            self.assertEqual(idea.status, expected, idea.text)
            self.assertEqual(idea.answer, answer)
            if answer:
                self.assertIsNotNone(idea.answered_by)
                self.assertGreaterEqual(idea.answered_at.date(), idea.created_on)
        for idea in ideas.values():
            if idea.status in (IdeaStatus.ACCEPTED, IdeaStatus.DECLINED):
                self.assertTrue(idea.answer, idea.text)

    def test_the_initiative_idea_is_linked_to_its_initiative(self):
        idea = Idea.objects.get(text=org.IDEAS[INITIATIVE_IDEA])
        initiative = Initiative.objects.get(from_idea=idea)
        self.assertEqual(initiative.title_en, INITIATIVE["title"][1])
        self.assertEqual(initiative.state, "approved")
        self.assertEqual(
            list(initiative.touchpoints.values_list("code", flat=True)), [INITIATIVE["touchpoint"]]
        )

    def test_authors_read_their_answers_and_everyone_the_anonymous_ones(self):
        answered = Idea.objects.exclude(answer="")
        client = Client(HTTP_ACCEPT_LANGUAGE="ru")
        signed = answered.exclude(author=None).select_related("author__user").first()
        self.assertIsNotNone(signed)
        client.force_login(signed.author.user)
        page = client.get(reverse("ideas")).content.decode()
        mine = page[page.index('id="my-ideas"') :]
        self.assertIn(signed.answer, mine)
        anonymous = answered.filter(author=None)
        reader = Employee.objects.filter(role="employee").select_related("user").first()
        client.force_login(reader.user)
        page = client.get(reverse("ideas")).content.decode()
        for idea in anonymous:
            self.assertIn(idea.answer, page[page.index('id="public-answers"') :])
