"""The journey map's table, a comparison and a scorecard export what their pages show, for
the viewer's scope and the page's filters."""

import csv
import io

import pyarrow.parquet as pq
from django.urls import reverse

from cxloop.people.models import Role
from tests.front.insight_data import InsightPageTestCase

PERIOD = "since=2025-12-01"


class DashboardExportTests(InsightPageTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ceo = cls._user("ceo", cls.firm, Role.EXECUTIVE)

    def export(self, kind, query, user, fmt="csv", status=200):
        self.client.force_login(user)
        response = self.client.post(
            reverse("export_start"),
            {"kind": kind, "format": fmt, "query": query},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        self.assertEqual(response.status_code, status)
        return response

    def rows(self, kind, query, user):
        content = b"".join(self.export(kind, query, user).streaming_content)
        table = list(csv.reader(io.StringIO(content.decode())))
        return [dict(zip(table[0], row, strict=True)) for row in table[1:]]

    def page(self, name, query, user, **kwargs):
        self.client.force_login(user)
        self.client.cookies["django_language"] = "en"
        response = self.client.get(f"{reverse(name, **kwargs)}?{query}")
        self.assertEqual(response.status_code, 200)
        return response

    def test_the_journey_maps_table_is_its_cards(self):
        query = f"{PERIOD}&segment=all"
        for user in (self.ceo, self.outsider):
            with self.subTest(user=user.username):
                result = self.page("journey_map", query, user).context["result"]
                rows = self.rows("journey", query, user)
                self.assertEqual([r["Touchpoint"] for r in rows], ["Kick-off meeting", "Billing"])
                for row, card in zip(rows, result.cards, strict=True):
                    self.assertEqual(int(row["Ratings"]), card.n)
                    self.assertAlmostEqual(float(row["Mean rating (1–5)"]), card.score.value)
                    self.assertAlmostEqual(float(row["Rated 4–5"]), card.top_box.value / 100)
        # The outsider's customer alone rated 2 everywhere: the scope is the viewer's.
        (kickoff, _billing) = self.rows("journey", query, self.outsider)
        self.assertEqual((kickoff["Ratings"], kickoff["Mean rating (1–5)"]), ("10", "2.0"))

    def test_the_journey_maps_table_follows_the_segment_and_refuses_a_bad_filter(self):
        everyone = self.rows("journey", f"{PERIOD}&segment=all", self.ceo)
        target = self.rows("journey", f"{PERIOD}&segment={self.target.pk}", self.ceo)
        self.assertEqual((everyone[0]["Ratings"], target[0]["Ratings"]), ("50", "40"))
        refused = self.export("journey", "since=someday", self.ceo, status=400)
        self.assertContains(refused, "Nothing was exported", status_code=400)

    def test_a_comparison_exports_the_pages_groups(self):
        query = f"{PERIOD}&by=segment&metric=nps"
        shown = self.page("compare", query, self.ceo).context["rows"]
        (row,) = self.rows("comparison", query, self.ceo)
        self.assertEqual(row["Group"], shown[0]["name"])
        self.assertAlmostEqual(float(row["Value"]), -40)
        self.assertAlmostEqual(float(row["The rest"]), -100)
        self.assertEqual((row["Answers"], row["Answers of the rest"]), ("40", "10"))
        refused = self.export("comparison", "by=planet", self.ceo, status=400)
        self.assertContains(refused, "by", status_code=400)

    def test_a_scorecard_exports_its_figures_for_those_who_may_see_it(self):
        url = reverse("person_scorecard", args=[self.teammate.employee.pk])
        shown = self.page("person_scorecard", "", self.owner, args=[self.teammate.employee.pk])
        query = f"person={self.teammate.employee.pk}"
        table = pq.read_table(
            io.BytesIO(
                b"".join(self.export("scorecard", query, self.owner, "parquet").streaming_content)
            )
        )
        figures = {row.metric.key: row.figure for row in shown.context["rows"]}
        self.assertEqual(table.num_rows, len(figures))
        nps = next(
            row
            for row in table.to_pylist()
            if row["Metric"]
            == str(next(r.metric.label for r in shown.context["rows"] if r.metric.key == "own_nps"))
        )
        self.assertEqual(nps["Value"], figures["own_nps"].value)
        self.assertEqual(nps["Based on"], figures["own_nps"].n)
        self.assertContains(
            shown, "export_start".replace("_", "/").replace("export/start", "exports/new")
        )
        # A period the page's form refuses is refused, not replaced by the default week.
        refused = self.export("scorecard", f"{query}&until=2020-13-45", self.owner, status=400)
        self.assertContains(refused, "Nothing was exported", status_code=400)
        # The outsider may not see the teammate's scorecard, nor export it.
        refused = self.export("scorecard", query, self.outsider, status=400)
        self.assertContains(refused, "person", status_code=400)
        self.assertEqual(self.client.get(url).status_code, 404)
