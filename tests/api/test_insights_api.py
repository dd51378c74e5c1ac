"""GET /api/insights/journey-map, /api/insights/compare and /api/scorecards/…: the pages' numbers
for each role, scoped as the pages are, and bad filters refused naming the parameter."""

import json

from django.urls import reverse

from cxloop.api.services import issue_token
from cxloop.people.models import Role
from tests.front.insight_data import InsightPageTestCase

SINCE = "2025-12-01"


class InsightsApiTests(InsightPageTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        cls.lead = cls._user("cx.lead", cls.firm, Role.ADMIN)
        cls.roles = {
            "cx.lead": cls.lead,
            "manager": cls.owner,
            "employee": cls.teammate,
            "viewer": cls.viewer,
            "outsider": cls.outsider,
        }
        cls.tokens = {
            name: issue_token(user.employee, "analytics")[1] for name, user in cls.roles.items()
        }

    def api(self, path: str, role: str | None, **params):
        headers = {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}
        return self.client.get(f"/api{path}", params, headers=headers)

    def page_context(self, name: str, role: str, **params):
        response = self.get(reverse(name), as_user=self.roles[role], **params)
        self.assertEqual(response.status_code, 200)
        return response.context

    # -- the journey map -------------------------------------------------------------------

    def test_it_gives_each_role_the_journey_maps_numbers(self):
        seen = {}
        for role in self.roles:
            with self.subTest(role=role):
                page = self.page_context("journey_map", role, segment="all")["result"]
                response = self.api("/insights/journey-map", role, since=SINCE, segment="all")
                self.assertEqual(response.status_code, 200)
                body = response.json()
                cards = {c["touchpoint_id"]: c for c in body["result"]["cards"]}
                for card in page.cards:
                    mine = cards[card.touchpoint_id]
                    self.assertEqual(mine["n"], card.n)
                    self.assertAlmostEqual(mine["score"]["value"], card.score.value)
                    self.assertEqual(mine["low_n"], card.low_n)
                self.assertEqual(body["result"]["scope"], page.scope.to_dict())
                self.assertEqual(body["touchpoints"][str(self.kickoff.pk)], "Kick-off meeting")
                seen[role] = cards[self.kickoff.pk]["n"]
        # Team A's 40 answers and team B's 10: each sees what their page shows, no more.
        self.assertEqual(seen, {"cx.lead": 50, "manager": 40, "employee": 40, "viewer": 50,
                                "outsider": 10})  # fmt: skip

    def test_it_starts_with_the_target_segment_as_the_page(self):
        page = self.page_context("journey_map", "cx.lead")["result"]
        body = self.api("/insights/journey-map", "cx.lead", since=SINCE).json()
        self.assertEqual(body["result"]["scope"]["segment_id"], self.target.pk)
        self.assertEqual(body["result"]["scope"], page.scope.to_dict())
        kickoff = next(c for c in body["result"]["cards"] if c["touchpoint_id"] == self.kickoff.pk)
        self.assertEqual(kickoff["n"], 40)  # the target segment holds team A's customer only

    def test_it_narrows_to_a_team_the_user_may_see(self):
        body = self.api(
            "/insights/journey-map", "cx.lead", since=SINCE, segment="all", team=self.team_b.pk
        ).json()
        kickoff = next(c for c in body["result"]["cards"] if c["touchpoint_id"] == self.kickoff.pk)
        self.assertEqual(kickoff["n"], 10)

    def test_it_answers_strict_json_for_a_team_without_answers(self):
        response = self.api(
            "/insights/journey-map", "cx.lead", since=SINCE, segment="all", team=self.team_a1.pk
        )
        self.assertEqual(response.status_code, 200)
        body = json.loads(response.content, parse_constant=self.fail)  # no NaN nor Infinity
        self.assertEqual({c["n"] for c in body["result"]["cards"]}, {0})
        self.assertTrue(body["result"]["empty"])

    # -- comparisons -----------------------------------------------------------------------

    def test_it_gives_each_role_the_comparison_pages_numbers(self):
        for role in self.roles:
            for params in (
                {"by": "team", "metric": "nps"},
                {"by": "segment", "metric": "rating", "touchpoint": self.billing.pk},
            ):
                with self.subTest(role=role, **params):
                    page = self.page_context("compare", role, segment="all", **params)["result"]
                    response = self.api(
                        "/insights/compare", role, since=SINCE, segment="all", **params
                    )
                    self.assertEqual(response.status_code, 200)
                    result = response.json()["result"]
                    self.assertEqual(result["n"], page.n)
                    self.assertAlmostEqual(result["overall"]["value"], page.overall.value)
                    self.assertEqual(
                        [(g["key"], g["n"]) for g in result["groups"]],
                        [(g.key, g.n) for g in page.groups],
                    )
        by_team = self.api("/insights/compare", "outsider", since=SINCE, by="team").json()
        self.assertEqual([g["key"] for g in by_team["result"]["groups"]], [self.team_b.pk])

    # -- scorecards ------------------------------------------------------------------------

    def test_it_gives_a_teams_scorecard_where_the_page_does(self):
        path = f"/scorecards/teams/{self.team_a.pk}"
        expected = {"cx.lead": 200, "manager": 200, "viewer": 200, "employee": 404, "outsider": 404}
        for role, status in expected.items():
            with self.subTest(role=role):
                page = self.client_page(reverse("team_scorecard", args=[self.team_a.pk]), role)
                response = self.api(path, role, until="2026-03-01")
                self.assertEqual(response.status_code, status)
                self.assertEqual(page.status_code, status)
                if status == 200:
                    figures = {f["key"]: f for f in response.json()["figures"]}
                    for row in page.context["rows"]:
                        self.assertEqual(figures[row.metric.key]["value"], row.figure.value)
                        self.assertEqual(figures[row.metric.key]["n"], row.figure.n)
                        self.assertEqual(figures[row.metric.key]["before"], row.before.value)
        figures = {f["key"]: f for f in self.api(path, "cx.lead", until="2026-03-01").json()[
            "figures"]}  # fmt: skip
        self.assertGreater(figures["own_nps"]["n"], 0)

    def test_it_gives_a_persons_scorecard_to_them_and_their_manager_only(self):
        person = self.teammate.employee.pk
        expected = {"employee": 200, "manager": 200, "viewer": 200, "outsider": 404}
        for role, status in expected.items():
            with self.subTest(role=role):
                response = self.api(f"/scorecards/people/{person}", role, until="2026-03-01")
                self.assertEqual(response.status_code, status)
        body = self.api(f"/scorecards/people/{person}", "employee", until="2026-03-01").json()
        self.assertEqual((body["since"], body["until"]), ("2025-12-01", "2026-03-01"))

    def client_page(self, url: str, role: str):
        self.client.force_login(self.roles[role])
        return self.client.get(url, {"until": "2026-03-01"})

    # -- refusals --------------------------------------------------------------------------

    def test_it_refuses_bad_filters_naming_the_parameter(self):
        cases = [
            ("/insights/journey-map", {"since": "2026-02-30"}, "since"),
            ("/insights/journey-map", {"since": "0"}, "since"),  # not days since 1970
            ("/insights/journey-map", {"since": "1800-01-01"}, "since"),
            ("/insights/journey-map", {"since": "2026-03-01", "until": "2026-01-01"}, "until"),
            ("/insights/journey-map", {"segment": "key clients"}, "segment"),
            ("/insights/journey-map", {"segment": "999999"}, "segment"),
            ("/insights/journey-map", {"team": self.team_a.pk}, "team"),  # outsider's other team
            ("/insights/journey-map", {"team": "0"}, "team"),
            ("/insights/compare", {"metric": "mood"}, "metric"),
            ("/insights/compare", {"by": "customer"}, "by"),
            ("/insights/compare", {"grain": "week"}, "grain"),
            ("/insights/compare", {"metric": "rating", "touchpoint": 999999}, "touchpoint"),
            (f"/scorecards/people/{self.outsider.employee.pk}", {"until": "2999-01-01"}, "until"),
        ]
        for path, params, name in cases:
            with self.subTest(path=path, **params):
                response = self.api(path, "outsider", **params)
                self.assertEqual(response.status_code, 422)
                self.assertIn(name, response.content.decode())

    def test_it_answers_an_unknown_journey_with_404(self):
        response = self.api("/insights/journey-map", "cx.lead", journey=999999)
        self.assertEqual(response.status_code, 404)
        self.assertIn("journey", response.json()["detail"])

    def test_it_asks_for_a_token(self):
        for path in ("/insights/journey-map", "/insights/compare", f"/scorecards/teams/{1}"):
            with self.subTest(path=path):
                self.assertEqual(self.api(path, None).status_code, 401)

    def test_it_describes_the_endpoints_in_the_openapi_document(self):
        paths = self.client.get("/api/openapi.json").json()["paths"]
        for path in (
            "/api/insights/journey-map",
            "/api/insights/compare",
            "/api/scorecards/teams/{team_id}",
            "/api/scorecards/people/{employee_id}",
        ):
            self.assertIn(path, paths)
        names = {p["name"] for p in paths["/api/insights/compare"]["get"]["parameters"]}
        self.assertLessEqual({"since", "until", "segment", "team", "by", "metric"}, names)
