"""The scorecard pages: who sees whose (an employee their own, a manager their part of the
hierarchy, the organisation-wide roles everyone's), each figure with its n and a link to what is
behind it, the definitions page linked from each, and the response list's ``owner`` filter the
links use."""

import datetime as dt

from django.urls import reverse

from cxloop.people.models import Role
from tests.front.insight_data import InsightPageTestCase

UNTIL = {"until": "2026-03-31"}


class ScorecardPageTests(InsightPageTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ceo = cls._user("ceo", cls.firm, Role.EXECUTIVE)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)

    def person(self, user) -> str:
        return reverse("person_scorecard", args=[user.employee.pk])

    def team(self, team) -> str:
        return reverse("team_scorecard", args=[team.pk])

    def open(self, url: str, user, language: str = "en"):
        self.client.force_login(user)
        self.client.cookies["django_language"] = language
        return self.client.get(url, UNTIL)

    def test_an_employee_sees_their_own_scorecard_only(self):
        self.assertEqual(self.open(self.person(self.teammate), self.teammate).status_code, 200)
        for url in (self.person(self.owner), self.person(self.outsider), self.team(self.team_a)):
            self.assertEqual(self.open(url, self.teammate).status_code, 404, url)
        listed = self.open(reverse("scorecard_list"), self.teammate)
        self.assertRedirects(listed, self.person(self.teammate))
        me = self.open(reverse("scorecard_me"), self.teammate)
        self.assertRedirects(me, self.person(self.teammate))

    def test_a_manager_sees_their_teams_and_people_not_the_others(self):
        for url in (self.person(self.teammate), self.team(self.team_a), self.team(self.team_a1)):
            self.assertEqual(self.open(url, self.owner).status_code, 200, url)
        for url in (self.person(self.outsider), self.team(self.team_b), self.team(self.firm)):
            self.assertEqual(self.open(url, self.owner).status_code, 404, url)
        listed = self.open(reverse("scorecard_list"), self.owner).content.decode()
        self.assertIn(self.person(self.teammate), listed)
        self.assertNotIn(self.person(self.outsider), listed)

    def test_the_executive_and_the_viewer_see_everyone(self):
        for user in (self.ceo, self.viewer):
            for url in (self.person(self.outsider), self.team(self.team_b)):
                self.assertEqual(self.open(url, user).status_code, 200, url)
            listed = self.open(reverse("scorecard_list"), user).content.decode()
            self.assertIn(self.person(self.outsider), listed)
            self.assertIn(self.team(self.team_b), listed)

    def test_each_figure_shows_its_n_and_links_to_what_is_behind_it(self):
        page = self.open(self.person(self.teammate), self.ceo)
        figures = {row.metric.key: row for row in page.context["rows"]}
        self.assertEqual(figures["own_nps"].figure.n, 40)
        html = page.content.decode()
        self.assertIn('data-metric="own_nps"', html)
        pk = self.teammate.employee.pk
        since = (dt.date(2026, 3, 31) - dt.timedelta(days=90)).isoformat()
        behind = f"/responses/?owner={pk}&amp;kind=nps&amp;since={since}&amp;until=2026-03-31"
        self.assertIn(behind, html)
        self.assertIn(f"/cases/?tab=all&amp;state=&amp;owner={pk}", html)
        self.assertIn(reverse("metric_definitions"), html)
        # The responses behind: the 40 of the customer the teammate owns, none of the other's.
        self.client.force_login(self.ceo)
        listed = self.client.get(
            reverse("response_list"), {"owner": pk, "kind": "nps", "since": since}
        )
        self.assertEqual(listed.context["page"].paginator.count, 40)
        self.assertContains(listed, "Relationship owner")

    def test_the_team_scorecard_counts_the_teams_answers(self):
        page = self.open(self.team(self.team_b), self.ceo)
        figures = {row.metric.key: row.figure for row in page.context["rows"]}
        self.assertEqual(figures["own_nps"].n, 10)
        self.assertAlmostEqual(figures["own_nps"].value, -100.0)
        self.assertContains(page, f"/responses/?team={self.team_b.pk}&amp;kind=nps")

    def test_what_counts_for_whom_lists_every_metric_in_both_languages(self):
        english = self.open(reverse("metric_definitions"), self.teammate)
        self.assertContains(english, "Customers’ NPS")
        self.assertContains(english, 'id="metric-team_enps"')
        russian = self.open(reverse("metric_definitions"), self.teammate, "ru")
        self.assertContains(russian, '<html lang="ru"')

    def test_a_bad_day_is_named_and_the_page_still_answers(self):
        self.client.force_login(self.teammate)
        self.client.cookies["django_language"] = "en"
        page = self.client.get(self.person(self.teammate), {"until": "1999-01-01"})
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "Choose a day from")

    def test_the_weigh_in_links_the_rows_whose_scorecards_the_reader_may_open(self):
        page = self.open(reverse("weigh_in"), self.owner).content.decode()
        self.assertIn(f'href="{self.team(self.team_a)}?until=2026-03-31"', page)
        self.assertNotIn(self.team(self.team_b), page)
        everyone = self.open(reverse("weigh_in"), self.ceo).content.decode()
        self.assertIn(self.team(self.team_b), everyone)
