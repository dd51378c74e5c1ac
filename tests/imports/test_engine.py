"""The import engine: reading CSV and XLSX, checking every cell, the three modes, idempotency —
shown on feedback, whose rows become responses to a survey."""

import datetime as dt

from django.utils import timezone, translation

from cxloop.customers.models import Contact, Customer
from cxloop.feedback.imports import (
    FeedbackKind,
    ImportFileError,
    ImportMapping,
    MappingError,
    Mode,
    RowError,
    read_table,
    run_import,
)
from cxloop.feedback.services import Feedback, IngestedMany, ingest_many
from cxloop.surveys.models import Answer, Response
from cxloop.surveys.services import AnswerError
from cxloop.test import BaseTestCase
from tests.imports.files import csv_bytes, xlsx_bytes
from tests.surveys.test_respond import make_survey

HEADER = ["id", "date", "email", "nps", "csat", "comment"]
GOOD = [
    ["r1", "2026-03-01 10:00", "ann@acme.example", "9", "5", "Отлично"],
    ["r2", "01.03.2026", "", "7", "0", ""],
]
BAD = ["r3", "2026-03-02", "ghost@acme.example", "11", "4", ""]
MAPPING = {
    "columns": {
        "id": "source_key",
        "date": "submitted_at",
        "email": "contact_email",
        "nps": "question:1",
        "csat": {"target": "question:2", "no_answer": ["0"]},
        "comment": "question:4",
    }
}


class ReadTableTests(BaseTestCase):
    def setUp(self):
        self.enterContext(translation.override("en"))  # the reasons as written in the code

    def test_it_reads_semicolons_and_a_byte_order_mark(self):
        table = read_table(csv_bytes([HEADER, *GOOD], delimiter=";", bom=True), "f.csv")
        self.assertEqual(table.columns, tuple(HEADER))
        self.assertEqual(table.rows[0], (2, tuple(GOOD[0])))

    def test_it_reads_windows_1251(self):
        data = csv_bytes([["id", "comment"], ["1", "Всё хорошо"]], encoding="cp1251")
        self.assertEqual(read_table(data, "f.csv").rows, ((2, ("1", "Всё хорошо")),))

    def test_it_names_the_byte_it_cannot_decode(self):
        message = "cannot be read as Windows-1251 (Cyrillic): byte 14 (0x98) is not text in it"
        with self.assertRaisesMessage(ImportFileError, message):
            read_table(b"id,comment\n1,\x98\n", "f.csv", encoding="cp1251")

    def test_it_numbers_rows_as_the_file_shows_them(self):
        data = b",id\n\n0,a\n,\n1,b\n"
        table = read_table(data, "f.csv")
        self.assertEqual(table.columns, ("column 1", "id"))  # a blank header gets a name
        self.assertEqual(table.rows, ((3, ("0", "a")), (5, ("1", "b"))))

    def test_it_reads_the_first_or_a_named_sheet_of_a_workbook(self):
        when = dt.datetime(2026, 3, 1, 10, 30)
        data = xlsx_bytes(
            {"Notes": [["note"], ["skip me"]], "Answers": [["id", "nps", "date"], [7, 9.0, when]]}
        )
        self.assertEqual(read_table(data, "f.xlsx").columns, ("note",))
        table = read_table(data, "f.xlsx", sheet="Answers")
        self.assertEqual(table.rows, ((2, ("7", "9", "2026-03-01 10:30:00")),))
        with self.assertRaisesMessage(ImportFileError, "its sheets are: Notes, Answers"):
            read_table(data, "f.xlsx", sheet="Data")

    def test_it_refuses_what_is_not_a_table(self):
        with self.assertRaisesMessage(ImportFileError, "not a readable XLSX workbook"):
            read_table(b"PK\x03\x04 broken", "f.xlsx")
        with self.assertRaisesMessage(ImportFileError, "empty"):
            read_table(b"  \n", "f.csv")


class FeedbackImportTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.survey = make_survey()
        cls.acme = Customer.objects.create(external_id="C-1", name="Acme")
        cls.ann = Contact.objects.create(
            customer=cls.acme, name="Ann", email="Ann@acme.example", language="en"
        )

    def setUp(self):
        self.enterContext(translation.override("en"))  # the reasons as written in the code

    def _run(self, rows, mode=Mode.ALL_OR_NOTHING, mapping=MAPPING, **options):
        table = read_table(csv_bytes([HEADER, *rows]), "f.csv")
        kind = FeedbackKind(self.survey, now=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
        return run_import(table, ImportMapping.from_dict(mapping), kind, mode=mode, **options)

    def test_it_stores_each_row_as_a_response_with_channel_import(self):
        result = self._run(GOOD)
        self.assertEqual((result.rows, result.new, result.invalid, result.written), (2, 2, 0, True))
        first = Response.objects.get(source_key="r1")
        self.assertEqual(
            (first.channel, first.contact, first.customer), ("import", self.ann, self.acme)
        )
        self.assertEqual(first.language, "en")  # the contact's
        self.assertEqual(first.submitted_at, dt.datetime(2026, 3, 1, 7, tzinfo=dt.UTC))  # Moscow
        answers = dict(first.answers.values_list("question__order", "score"))
        self.assertEqual(answers, {1: 9, 2: 5, 4: None})
        self.assertEqual(first.answers.get(question__order=4).text, "Отлично")
        second = Response.objects.get(source_key="r2")
        self.assertEqual(list(second.answers.values_list("question__order", flat=True)), [1])
        self.assertEqual(second.submitted_at.hour, 9)  # a bare date is taken at noon, Moscow

    def test_it_names_row_column_value_and_reason_of_every_bad_cell(self):
        rows = [
            *GOOD,
            BAD,
            ["r4", "2027-01-01", "", "", "six", "x" * 5001],
            ["r1", "tomorrow", "", "5", "", ""],
        ]
        result = self._run(rows, mode=Mode.DRY_RUN)
        self.assertEqual(
            result.errors,
            (
                RowError(4, "email", "ghost@acme.example", "no contact has this e-mail"),
                RowError(4, "nps", "11", "expected a whole number 0–10"),
                RowError(5, "comment", "x" * 99 + "…", "longer than 5,000 characters"),
                RowError(5, "csat", "six", "expected a whole number 1–5"),
                RowError(5, "date", "2027-01-01", "the date is in the future"),
                RowError(5, "nps", "", "an answer is required"),
                RowError(6, "date", "tomorrow", result.errors[6].reason),
            ),
        )
        self.assertIn("2026-03-01 14:30", result.errors[6].reason)
        self.assertEqual((result.invalid, result.error_count), (3, 7))

    def test_it_writes_nothing_in_a_dry_run(self):
        result = self._run(GOOD, mode=Mode.DRY_RUN)
        self.assertEqual((result.new, result.written), (2, False))
        self.assertFalse(Response.objects.exists())

    def test_it_writes_nothing_from_a_file_with_errors(self):
        result = self._run([*GOOD, BAD])
        self.assertEqual((result.new, result.invalid, result.written), (2, 1, False))
        self.assertTrue(result.stopped)
        self.assertFalse(Response.objects.exists())
        self.assertFalse(Answer.objects.exists())

    def test_it_writes_exactly_the_valid_rows_when_asked(self):
        result = self._run([GOOD[0], BAD, GOOD[1]], mode=Mode.VALID_ONLY)
        self.assertEqual((result.new, result.invalid, result.written), (2, 1, True))
        self.assertFalse(result.stopped)
        self.assertEqual(set(Response.objects.values_list("source_key", flat=True)), {"r1", "r2"})

    def test_it_changes_nothing_when_the_same_file_comes_again(self):
        self._run(GOOD)
        before = list(Answer.objects.order_by("pk").values())
        again = self._run(GOOD)
        self.assertEqual((again.new, again.unchanged, again.written), (0, 2, True))
        self.assertEqual(Response.objects.count(), 2)
        self.assertEqual(list(Answer.objects.order_by("pk").values()), before)

    def test_it_keys_rows_by_their_content_when_the_file_has_no_id(self):
        mapping = {"columns": {k: v for k, v in MAPPING["columns"].items() if k != "id"}}
        twins = [GOOD[1], GOOD[1], GOOD[0]]  # two identical answers are two responses
        self.assertEqual(self._run(twins, mapping=mapping).new, 3)
        again = self._run(twins, mapping=mapping)
        self.assertEqual((again.new, again.unchanged), (0, 3))
        self.assertEqual(Response.objects.count(), 3)

    def test_it_names_a_key_that_comes_twice(self):
        result = self._run([GOOD[0], [*GOOD[1][:0], "r1", *GOOD[1][1:]]])
        self.assertEqual(result.errors, (RowError(3, "id", "r1", "row 2 has the same key"),))
        self.assertFalse(Response.objects.exists())

    def test_it_finds_the_customer_by_external_id(self):
        mapping = {"columns": {"email": "customer", "nps": "question:1"}}
        rows = [["a", "", "C-1", "8", "", ""], ["b", "", "C-404", "8", "", ""]]
        result = self._run(rows, mode=Mode.VALID_ONLY, mapping=mapping)
        self.assertEqual(
            result.errors, (RowError(3, "email", "C-404", "no customer has this external id"),)
        )
        self.assertEqual(Response.objects.get().customer, self.acme)

    def test_it_refuses_a_mapping_that_does_not_fit(self):
        mapping = {
            "columns": {
                "date": "question:2",
                "csat": "question:2",
                "comment": "question:9",
                "Missing": "language",
            }
        }
        with self.assertRaises(MappingError) as caught:
            self._run(GOOD, mapping=mapping)
        self.assertEqual(
            caught.exception.problems,
            (
                "Columns date and csat both fill question:2.",
                "Column comment: unknown target question:9.",
                "The file has no column Missing; its columns are: id, date, email, nps, csat, "
                "comment",
                "Question 1 is required: map a column to it.",
            ),
        )

    def test_it_reads_a_mapping_from_json_and_writes_it_back(self):
        mapping = ImportMapping.from_dict(MAPPING)
        self.assertEqual(ImportMapping.from_dict(mapping.to_dict()), mapping)
        self.assertEqual(
            mapping.to_dict()["columns"]["csat"], {"target": "question:2", "no_answer": ["0"]}
        )
        with self.assertRaisesMessage(MappingError, "not valid JSON"):
            ImportMapping.from_json("{columns:")
        with self.assertRaisesMessage(MappingError, "Column nps: write a target"):
            ImportMapping.from_dict({"columns": {"nps": 1}})

    def test_it_reads_feedback_from_a_workbook(self):
        rows = [HEADER, ["x1", timezone.now().replace(tzinfo=None, microsecond=0), "", 10, 4]]
        data = xlsx_bytes({"Sheet": [["ignored"]], "Feedback": rows})
        mapping = ImportMapping.from_dict({**MAPPING, "sheet": "Feedback"})
        table = read_table(data, "f.xlsx", sheet=mapping.sheet)
        result = run_import(table, mapping, FeedbackKind(self.survey), mode=Mode.ALL_OR_NOTHING)
        self.assertEqual((result.new, result.invalid), (1, 0))
        scores = dict(Answer.objects.values_list("question__order", "score"))
        self.assertEqual(scores, {1: 10, 2: 4})


class IngestManyTests(BaseTestCase):
    """feedback.services.ingest_many, the bulk road of ingest() that imports take."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.survey = make_survey()

    def _item(self, answers, key=""):
        when = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
        return Feedback(answers=answers, submitted_at=when, channel="import", source_key=key)

    def test_it_stores_each_key_once(self):
        items = [self._item({1: 9, 4: "Да"}, "a"), self._item({1: 3}, "a"), self._item({1: 7})]
        self.assertEqual(ingest_many(survey=self.survey, items=items), IngestedMany(2, 1))
        again = ingest_many(survey=self.survey, items=items[:2])
        self.assertEqual(again, IngestedMany(0, 2))
        first = Response.objects.get(source_key="a")
        self.assertEqual(first.answers.get(question__order=1).score, 9)
        self.assertEqual(first.answers.get(question__order=4).text, "Да")
        self.assertEqual(Response.objects.count(), 2)

    def test_it_checks_like_ingest_and_writes_nothing_on_a_bad_item(self):
        items = [self._item({1: 9}, "a"), self._item({1: 12}, "b")]
        with self.assertRaises(AnswerError) as caught:
            ingest_many(survey=self.survey, items=items)
        self.assertEqual(caught.exception.__notes__, ["item 2"])
        self.assertFalse(Response.objects.exists())
