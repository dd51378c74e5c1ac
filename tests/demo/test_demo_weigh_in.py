"""The demo's people (issue #13): in the quarter of the lucky streak the small team's raw NPS is
lifted by luck alone, and the fair weigh-in does not put it first (the large team with a real
edge is ranked above it); every team has a CX champion but the planted ones without."""

import datetime as dt

from cxloop.demo.truth import month_start
from cxloop.insights.champions import champions_report
from cxloop.insights.dashboards.leaderboard import LeaderboardQuery
from cxloop.insights.store import Scope
from cxloop.people.models import Team
from tests.demo.test_demo import TRUTH

QUARTER_DAYS = 91  # the weigh-in's window (cxloop/insights/accountability.py WINDOW_DAYS)


class FullDemoWeighInTruths:
    """Mixed into tests/demo/test_full_demo.py's FullDemoTests."""

    def streak_quarter(self):
        last = dt.date.fromisoformat(TRUTH.lucky_team["streak_months"][-1] + "-01")
        until = month_start(last, -1) - dt.timedelta(days=1)
        scope = Scope(since=until - dt.timedelta(days=QUARTER_DAYS - 1), until=until)
        return LeaderboardQuery(scope, "team").run()

    def test_it_does_not_rank_the_lucky_team_first_in_its_lucky_quarter(self):
        result = self.streak_quarter()
        lucky = result.standing(Team.objects.get(name=TRUTH.lucky_team["team"]).pk)
        steady = result.standing(Team.objects.get(name=TRUTH.steady_team["team"]).pk)
        self.assertIsNotNone(lucky.rank)  # ranked, not hidden as "not enough answers"
        self.assertGreater(lucky.raw.value, result.overall.value + 20)  # luck lifted it …
        self.assertLess(lucky.score.value, lucky.raw.value - 5)  # … shrinkage takes some back
        self.assertGreater(lucky.rank.rank, 1)
        self.assertLess(lucky.rank.first, 0.5)  # and it is probably not the best
        self.assertLess(steady.rank.rank, lucky.rank.rank)

    def test_it_lists_the_champions_of_every_team_but_the_planted_ones_without(self):
        report = champions_report(TRUTH.end - dt.timedelta(days=364), TRUTH.end)
        # Paths end with the team's own name ("… › Казань › Налоги — Казань").
        without = {path.rsplit(" › ", 1)[-1] for path in report.without}
        self.assertEqual(without, set(TRUTH.teams_without_champion))
        self.assertGreater(len(report.teams), 2 * len(without))  # most teams have one
