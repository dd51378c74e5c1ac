"""The real-world check: 25,976 passengers of the Kaggle "Airline Passenger Satisfaction" test
split imported end to end, each of the 14 service ratings onto a touchpoint of the journey,
0 (not applicable) as no answer. The CSV is read again here with the csv module alone."""

import csv
from collections import Counter

from django.db.models import Count

from cxloop.feedback.imports import (
    ColumnMapping,
    FeedbackKind,
    ImportMapping,
    Mode,
    guess_mapping,
    read_table,
    run_import,
)
from cxloop.surveys.models import Answer, Response
from cxloop.test import BaseTestCase
from tests.datasets import shared_dataset
from tests.imports.airline import DATASET, SATISFACTION, SERVICES, airline_survey

ROWS = 25_976


def read_passengers() -> list[dict[str, str]]:
    with DATASET.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


class AirlineImportTests(BaseTestCase):
    @classmethod
    def setUpClass(cls):
        shared_dataset(DATASET.name)  # skips (or fails, in CI) before any database work
        super().setUpClass()

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.survey = airline_survey()

    def test_it_imports_every_passenger_onto_the_touchpoints_once(self):
        table = read_table(DATASET.read_bytes(), DATASET.name)
        kind = FeedbackKind(self.survey)
        guessed = guess_mapping(table, kind)  # the questions are worded as the columns
        expected = {"id": "source_key", "satisfaction": f"question:{SATISFACTION}"}
        expected |= {column: f"question:{n}" for n, (column, *_) in enumerate(SERVICES, start=1)}
        self.assertEqual({c.column: c.target for c in guessed.columns}, expected)
        mapping = ImportMapping(
            tuple(
                ColumnMapping(
                    c.column,
                    c.target,
                    frozenset({"0"}) if c.target != f"question:{SATISFACTION}" else frozenset(),
                )
                for c in guessed.columns
            )
        )

        result = run_import(table, mapping, kind, mode=Mode.ALL_OR_NOTHING)

        self.assertEqual((result.rows, result.new, result.invalid), (ROWS, ROWS, 0))
        self.assertTrue(result.written)
        self.assertEqual(Response.objects.filter(survey=self.survey).count(), ROWS)
        passengers = read_passengers()
        self.assertEqual(len(passengers), ROWS)
        rated = Counter(
            code for p in passengers for column, code, _ in SERVICES if p[column] != "0"
        )
        stored = dict(
            Answer.objects.filter(kind="rating")
            .values_list("touchpoint__code")
            .annotate(n=Count("id"))
        )
        self.assertEqual(stored, dict(rated))  # a 0 made no answer, every 1–5 made one
        self.assertLess(sum(rated.values()), ROWS * len(SERVICES))  # the file has zeros
        self.assertFalse(Answer.objects.filter(kind="rating", score__lt=1).exists())
        for passenger in (passengers[0], passengers[3], passengers[12_345], passengers[-1]):
            self._assert_stored(passenger)

        answers = Answer.objects.count()
        again = run_import(table, mapping, kind, mode=Mode.ALL_OR_NOTHING)
        self.assertEqual((again.new, again.unchanged, again.invalid), (0, ROWS, 0))
        self.assertEqual(Response.objects.count(), ROWS)
        self.assertEqual(Answer.objects.count(), answers)

    def _assert_stored(self, passenger: dict[str, str]) -> None:
        response = Response.objects.get(survey=self.survey, source_key=passenger["id"])
        self.assertEqual((response.channel, response.state), ("import", "completed"))
        answers = response.answers.select_related("touchpoint")
        scores = {a.touchpoint.code: a.score for a in answers if a.kind == "rating"}
        expected = {code: int(passenger[column]) for column, code, _ in SERVICES}
        self.assertEqual(scores, {code: s for code, s in expected.items() if s != 0})
        choice = answers.get(question__order=SATISFACTION)
        self.assertEqual(choice.choices, [passenger["satisfaction"]])
