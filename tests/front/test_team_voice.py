"""A leader's dashboard (issue #13, point 6): the overview shows a manager each of their teams'
customers' NPS next to its eNPS over the last 13 weeks; eNPS hidden under five answers.

The world: the analytical pages' answers (January to March 2026): team A's customer gave 40
NPS answers 2, 4, 6, 8, 10 in turn — NPS (8 − 24) / 40 = −40; six of team A's people answered
a pulse survey in February, 3 promoters and 1 detractor — eNPS (3 − 1) / 6 = 33; team A1 has
no answer of either kind."""

import datetime as dt
import re
from unittest import mock

from django.urls import reverse
from django.utils import timezone

from cxloop.people.models import Role
from cxloop.surveys.services import answer_pulse
from tests.front.insight_data import InsightPageTestCase
from tests.front.test_pulse import make_pulse

REAL_LOCALDATE = timezone.localdate


def _on_march_31(value=None, timezone=None):
    """timezone.localdate as on 31 March 2026 (the window's last day); with a value, as it is."""
    if value is None:
        return dt.date(2026, 3, 31)
    return REAL_LOCALDATE(value, timezone)


class TeamVoiceTests(InsightPageTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        pulse = make_pulse()
        nps = pulse.questions.get(kind="nps").pk
        at = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)
        for i, score in enumerate((10, 9, 9, 8, 7, 2)):
            person = cls._user(f"pulse{i}", cls.team_a, Role.EMPLOYEE).employee
            answer_pulse(pulse, person, {nps: score}, now=at)

    def overview(self, user):
        self.client.force_login(user)
        with mock.patch("django.utils.timezone.localdate", _on_march_31):
            response = self.client.get(reverse("overview"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def row(self, html: str, team) -> str:
        match = re.search(rf'<tr data-team="{team.pk}">(.*?)</tr>', html, re.S)
        self.assertIsNotNone(match, team)
        return match.group(1)

    def test_it_shows_a_manager_each_teams_nps_beside_its_enps(self):
        html = self.overview(self.owner)
        team_a = self.row(html, self.team_a)
        self.assertRegex(team_a, r'class="num team-nps">-40 ')
        self.assertRegex(team_a, r'class="num team-enps">33 ')
        team_a1 = self.row(html, self.team_a1)
        self.assertIn("— (n = 0)", team_a1)
        self.assertNotIn(f'data-team="{self.team_b.pk}"', html)  # not theirs

    def test_it_leaves_the_card_to_managers(self):
        for user in (self.teammate, self.outsider):
            self.assertNotIn('id="team-voices"', self.overview(user))
