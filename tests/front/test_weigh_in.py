"""The weekly weigh-in page (/people/weigh-in/, issue #13 point 2): every signed-in person sees
the teams ranked, their own marked; people appear by name only for teams that agreed; a bad
day is named and the page still answers. On the analytical pages' world: 40 answers from team
A's customer (owned by the teammate), 10 from team B's (owned by the outsider)."""

from django.utils import timezone

from cxloop.people.models import Role, Team
from tests.front.insight_data import InsightPageTestCase

URL = "/people/weigh-in/"
UNTIL = "2026-03-31"


class WeighInTests(InsightPageTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)

    def test_everyone_sees_the_teams_ranked_with_their_own_marked(self):
        for user, own_team in (
            (self.outsider, self.team_b),
            (self.teammate, self.team_a),
            (self.viewer, self.firm),
        ):
            with self.subTest(user=user.username):
                page = self.get(URL, as_user=user, until=UNTIL)
                self.assertEqual(page.status_code, 200)
                rows = page.context["rows"]
                self.assertEqual(
                    {r["standing"].key for r in rows}, {self.team_a.pk, self.team_b.pk}
                )
                self.assertEqual(
                    [r["standing"].key for r in rows if r["mine"]],
                    [own_team.pk] if own_team != self.firm else [],
                )
                by_key = {r["standing"].key: r["standing"] for r in rows}
                self.assertEqual((by_key[self.team_a.pk].n, by_key[self.team_b.pk].n), (40, 10))
                self.assertContains(page, 'id="funnel"')
                self.assertContains(page, "Team A")

    def test_people_appear_by_name_only_where_their_team_agreed(self):
        page = self.get(URL, as_user=self.teammate, by="person", until=UNTIL)
        self.assertContains(page, 'id="no-people"')
        self.assertEqual(page.context["rows"], [])
        Team.objects.filter(pk=self.team_a.pk).update(ranks_people=True)
        page = self.get(URL, as_user=self.outsider, by="person", until=UNTIL, language="ru")
        rows = page.context["rows"]
        self.assertEqual([r["standing"].key for r in rows], [self.teammate.employee.pk])
        self.assertEqual(rows[0]["name"], str(self.teammate.employee))
        self.assertFalse(rows[0]["mine"])
        self.assertContains(page, "Еженедельное взвешивание")
        mine = self.get(URL, as_user=self.teammate, by="person", until=UNTIL).context["rows"]
        self.assertTrue(mine[0]["mine"])

    def test_the_change_since_last_week_compares_two_windows(self):
        page = self.get(URL, as_user=self.teammate, until=UNTIL)
        team_a = next(r for r in page.context["rows"] if r["standing"].key == self.team_a.pk)
        # Team A's answers end on 24 March and team B's in January: the window a week earlier
        # holds the same answers, so neither score moved.
        self.assertEqual(team_a["change"], 0)

    def test_a_day_out_of_range_is_named_and_today_is_shown(self):
        for day in ("1999-01-01", "2999-01-01", "31.02.2026"):
            with self.subTest(day=day):
                page = self.get(URL, as_user=self.teammate, until=day)
                self.assertEqual(page.status_code, 200)
                self.assertIn("until", page.context["filters"].errors)
                self.assertEqual(page.context["until"], timezone.localdate())

    def test_it_asks_a_stranger_to_sign_in(self):
        self.client.logout()
        page = self.client.get(URL)
        self.assertEqual(page.status_code, 302)
        self.assertIn("/login/", page["Location"])
