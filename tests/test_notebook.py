"""cxloop.notebook on the small demo: the journey map page's numbers, the same figures recounted
independently with pandas, the example notebook's code, and a store left as it was."""

import datetime as dt
import json
from pathlib import Path

import numpy as np
from django.urls import reverse

import cxloop.notebook
from cxloop.demo.build import build_demo
from cxloop.demo.truth import planted_truth
from cxloop.facts.sync import rebuild
from cxloop.people.models import Role
from cxloop.test import BaseTestCase, OwnFactStore

END = dt.date(2026, 6, 30)
TRUTH = planted_truth(seed=7, end=END)
# Whole months of the demo: the journey map reads the pre-counted months and exact moments.
PERIOD = {"since": dt.date(2025, 7, 1), "until": dt.date(2026, 6, 30)}
EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "notebook-example.ipynb"


def _files(directory: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(directory)): (path.stat().st_mtime_ns, path.stat().st_size)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


class NotebookOnTheDemoTests(OwnFactStore, BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        build_demo(TRUTH, size="small", progress=False)
        rebuild()
        cls.lead = cls._user("nb.lead", cls.firm, Role.ADMIN)
        cls.files = _files(Path(cls.facts_dir))

    def setUp(self):
        self.nb = cxloop.notebook.open()

    def page_map(self, **params):
        self.client.force_login(self.lead)
        response = self.client.get(reverse("journey_map"), params)
        self.assertEqual(response.status_code, 200)
        return response.context["result"]

    def test_it_gives_the_journey_maps_numbers(self):
        page = self.page_map(**{k: v.isoformat() for k, v in PERIOD.items()})
        mine = self.nb.journey_map(**PERIOD)
        self.assertGreater(len(mine.cards), 5)
        self.assertGreater(sum(card.n for card in mine.cards), 1000)
        self.assertEqual(mine.scope, page.scope)
        self.assertEqual(mine.to_dict(), page.to_dict())

    def test_its_defaults_are_the_pages(self):
        page = self.page_map()
        mine = self.nb.journey_map()
        self.assertIsNotNone(mine.scope.segment_id)  # the target segment, as on the page
        self.assertEqual(mine.scope, page.scope)
        self.assertEqual(mine.to_dict(), page.to_dict())

    def test_the_score_frames_are_the_cards(self):
        journey = self.nb.journey_map(**PERIOD, segment="all")
        nps = self.nb.nps(by=("touchpoint",), segment="all", **PERIOD).set_index("touchpoint_id")
        ratings = self.nb.scores("rating", by="touchpoint", segment="all", **PERIOD)
        ratings = ratings.set_index("touchpoint_id")
        compared = 0
        for card in journey.cards:
            if card.score is not None:
                self.assertAlmostEqual(ratings.loc[card.touchpoint_id, "value"], card.score.value)
                self.assertEqual(ratings.loc[card.touchpoint_id, "n"], card.n)
                compared += 1
            if card.nps is not None:
                self.assertAlmostEqual(nps.loc[card.touchpoint_id, "value"], card.nps.value)
        self.assertGreater(compared, 5)

    def test_its_nps_is_the_one_recounted_with_pandas(self):
        # Independently of the insights' counts: promoters (9–10) less detractors (0–6), in per
        # cent of the answers, from the answers' rows.
        answers = self.nb.frame("answers", since=dt.date(2026, 1, 1), until=END)
        answers = answers[answers.kind == "nps"]
        self.assertGreater(len(answers), 100)
        by_month = self.nb.nps(by=("month",), since=dt.date(2026, 1, 1), until=END)
        months = answers.submitted_at.dt.strftime("%Y-%m")
        self.assertEqual(list(by_month.month), sorted(set(months)))
        self.assertGreater(len(by_month), 2)
        for row in by_month.itertuples():
            month = answers[months == row.month].score
            expected = 100 * (np.mean(month >= 9) - np.mean(month <= 6))
            self.assertEqual(row.n, len(month))
            self.assertAlmostEqual(row.value, expected, places=9)
            self.assertTrue(row.low <= row.value <= row.high)
            self.assertLess(row.low, row.high)

    def test_it_gives_polars_and_arrow_frames_of_the_same_rows(self):
        pandas = self.nb.frame("responses", since=dt.date(2026, 6, 1))
        polars = self.nb.frame("responses", since=dt.date(2026, 6, 1), engine="polars")
        arrow = self.nb.frame("responses", since=dt.date(2026, 6, 1), engine="arrow")
        self.assertGreater(len(pandas), 0)
        self.assertEqual(len(polars), len(pandas))
        self.assertEqual(arrow.num_rows, len(pandas))
        self.assertEqual(sorted(polars["response_id"].to_list()), sorted(pandas.response_id))
        self.assertTrue((pandas.submitted_at >= "2026-06-01").all())

    def test_it_gives_the_comparison_pages_numbers(self):
        self.client.force_login(self.lead)
        params = {"by": "segment", "metric": "nps", "segment": "all"}
        response = self.client.get(
            reverse("compare"), {**params, **{k: v.isoformat() for k, v in PERIOD.items()}}
        )
        page = response.context["result"]
        mine = self.nb.compare("segment", "nps", **PERIOD)
        self.assertGreater(len(mine.groups), 1)
        self.assertEqual(mine.to_dict(), page.to_dict())

    def test_it_refuses_bad_parameters_naming_them(self):
        with self.assertRaisesRegex(ValueError, "kind"):
            self.nb.scores("nope")
        with self.assertRaisesRegex(ValueError, "by"):
            self.nb.scores("nps", by=("customer",))
        with self.assertRaisesRegex(ValueError, "segment"):
            self.nb.journey_map(segment=999_999)
        with self.assertRaisesRegex(ValueError, "team"):
            self.nb.nps(team="Sales")
        with self.assertRaisesRegex(ValueError, "since"):
            self.nb.nps(since="2026-02-30")
        with self.assertRaisesRegex(ValueError, "engine"):
            self.nb.frame("answers", engine="spark")
        with self.assertRaisesRegex(ValueError, "answer_counts cannot be narrowed"):
            self.nb.table("answer_counts", team=self.firm.pk)
        with self.assertRaisesRegex(ValueError, "no table"):
            self.nb.table("manifest")
        with self.assertRaisesRegex(ValueError, "data_dir"):
            cxloop.notebook.open(data_dir="/nonexistent/elsewhere")

    def test_the_example_notebooks_code_runs(self):
        document = json.loads(EXAMPLE.read_text())
        self.assertEqual(document["nbformat"], 4)
        cells = [c for c in document["cells"] if c["cell_type"] == "code"]
        self.assertGreater(len(cells), 5)
        names: dict = {}
        for number, cell in enumerate(cells):
            with self.subTest(cell=number):
                exec(compile("".join(cell["source"]), f"cell {number}", "exec"), names)
        self.assertGreater(len(names["journey"].cards), 5)
        self.assertGreater(len(names["nps"]), 5)
        self.assertGreater(len(names["ratings"]), 20)
        self.assertGreater(len(names["comparison"].groups), 1)

    def test_it_leaves_the_store_as_it_was(self):
        self.nb.journey_map()
        self.nb.nps()
        self.nb.frame("comments")
        self.assertEqual(_files(Path(self.facts_dir)), self.files)
