"""eNPS by team over time (issue #13, point 6): each pulse survey a wave, each team's figure
with its interval, a team of fewer than five answers shown by its count only; a manager sees
their part of the hierarchy."""

import datetime as dt

from django.urls import reverse

from cxloop.insights.queries import pulse_trend, pulse_trend_chart
from cxloop.people.models import Role
from cxloop.surveys.services import answer_pulse
from cxloop.test import BaseTestCase
from tests.front.test_pulse import make_pulse

JANUARY = dt.datetime(2026, 1, 20, 9, tzinfo=dt.UTC)
APRIL = dt.datetime(2026, 4, 21, 9, tzinfo=dt.UTC)


class PulseTrendTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        people = {
            team: [cls._user(f"{team.pk}-{i}", team, Role.EMPLOYEE).employee for i in range(6)]
            for team in (cls.team_a, cls.team_b)
        }
        # Team A: January 10,10,9,8,7,3 → (3 − 1)/6 = 33; April 10,9,9,9,9,10.
        # Team B: five in January, 6,6,6,10,10 → (2 − 3)/5 = −20; three in April (hidden).
        waves = (
            (JANUARY, {cls.team_a: (10, 10, 9, 8, 7, 3), cls.team_b: (6, 6, 6, 10, 10)}),
            (APRIL, {cls.team_a: (10, 9, 9, 9, 9, 10), cls.team_b: (0, 10, 10)}),
        )
        cls.surveys = []
        for at, scores in waves:
            survey = make_pulse()
            nps = survey.questions.get(kind="nps").pk
            for team, values in scores.items():
                for person, score in zip(people[team], values, strict=False):
                    answer_pulse(survey, person, {nps: score}, now=at)
            cls.surveys.append(survey)

    def test_it_gives_each_team_its_enps_by_wave_hiding_small_groups(self):
        january, april = pulse_trend()
        self.assertEqual((january.period, april.period), (JANUARY.date(), APRIL.date()))
        self.assertAlmostEqual(january.teams[self.team_a.pk].enps.value, 100 * 2 / 6)
        self.assertAlmostEqual(january.teams[self.team_b.pk].enps.value, -20.0)
        hidden = april.teams[self.team_b.pk]
        self.assertEqual((hidden.enps, hidden.n), (None, 3))
        # Withheld too: everyone minus team A would give team B's three answers away.
        self.assertIsNone(april.teams[self.team_a.pk].enps)
        # Everyone in April: 8 promoters, 1 detractor of 9.
        self.assertEqual(april.overall.n, 9)
        self.assertAlmostEqual(april.overall.enps.value, 100 * 7 / 9)

    def test_it_keeps_a_managers_part_of_the_hierarchy(self):
        waves = pulse_trend([self.team_a.pk, self.team_a1.pk])
        self.assertEqual({t for w in waves for t in w.teams}, {self.team_a.pk})

    def test_it_charts_everyone_and_the_teams_leaving_gaps_for_hidden_figures(self):
        spec = pulse_trend_chart(pulse_trend())
        rows = spec["data"]["values"]
        series = {row["series"] for row in rows}
        self.assertEqual(len(series), 3)  # everyone, Team A, Team B
        team_b = [row for row in rows if row["series"] == "Team B"]
        # The withheld wave keeps its row without a figure: the line breaks there.
        self.assertEqual(
            [(row["period"], row["value"] is None) for row in team_b],
            [("2026-01-20", False), ("2026-04-21", True)],
        )
        self.assertIsNone(team_b[1]["low"])

    def test_it_shows_the_table_to_the_lead_and_the_teams_manager(self):
        url = reverse("pulse_results", args=[self.surveys[1].pk])
        self.client.force_login(self.lead)
        html = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        table = html[html.index('id="pulse-trend-table"') :]
        self.assertIn("Firm › Team B", table)
        self.assertIn("— (n = 3)", table)
        self.assertIn('id="pulse-trend"', html)
        self.client.force_login(self.owner)  # team A's manager
        html = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        table = html[html.index('id="pulse-trend-table"') :]
        self.assertNotIn("Team B", table)
        self.assertIn("Firm › Team A", table)
