"""Formulas: a workbook formula without a saved value is a row error, never a blank or 0.00;
text that looks like a formula is stored as written and neutralised by every export."""

import csv
import datetime as dt
import io
import zipfile

from django.test import SimpleTestCase
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from cxloop.customers.models import Customer
from cxloop.feedback.imports import (
    CustomersKind,
    FeedbackKind,
    ImportMapping,
    Mode,
    read_table,
    run_import,
)
from cxloop.lib.spreadsheet import FORMULA_STARTS, safe_cell, safe_row
from cxloop.test import BaseTestCase
from tests.imports.files import csv_bytes
from tests.surveys.test_respond import make_survey

UNSAVED = "the formula has no saved value"
CUSTOMERS = ImportMapping.from_dict(
    {"columns": {"id": "external_id", "name": "name", "value": "annual_value"}}
)
INJECTIONS = [
    '=HYPERLINK("http://evil.example","click")',
    "=cmd|' /C calc'!A0",
    "+7 999 123-45-67",
    "-3 apples",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+2",
    "＝1+2",
]


def workbook(rows, *, text_cells=(), saved=None) -> bytes:
    """An XLSX of ``rows`` as openpyxl writes it: a string that begins with "=" becomes a
    formula without a saved value, unless its (row, column) is in ``text_cells``; ``saved``
    gives formulas their saved values, as Excel writes them ({"B2*2": "42"})."""
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for row, column in text_cells:
        sheet.cell(row, column).data_type = "s"
    data = io.BytesIO()
    book.save(data)
    if not saved:
        return data.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(data) as source, zipfile.ZipFile(out, "w") as target:
        for part in source.infolist():
            content = source.read(part)
            if part.filename.startswith("xl/worksheets/"):
                for formula, value in saved.items():
                    old, new = f"<f>{formula}</f><v />", f"<f>{formula}</f><v>{value}</v>"
                    content = content.replace(old.encode(), new.encode())
            target.writestr(part, content)
    return out.getvalue()


def _as_text_result(data: bytes) -> bytes:
    """The workbook with its formula cells marked as giving text (t="str"), as Excel marks
    =IF(…; ""; …)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for part in source.infolist():
            content = source.read(part)
            if part.filename.startswith("xl/worksheets/"):
                content = content.replace(b'<c r="C2"><f>', b'<c r="C2" t="str"><f>')
            target.writestr(part, content)
    return out.getvalue()


class UnsavedFormulaTests(BaseTestCase):
    def setUp(self):
        self.enterContext(translation.override("en"))

    def test_it_refuses_a_formula_without_a_saved_value_naming_row_column_and_formula(self):
        data = workbook([["id", "name", "value"], ["K-1", "Kama", "=B9*2"], ["V-2", "Volga", 5]])
        table = read_table(data, "c.xlsx")
        result = run_import(table, CUSTOMERS, CustomersKind(), mode=Mode.ALL_OR_NOTHING)
        self.assertEqual(
            result.errors[0].to_dict() | {"reason": ""},
            {"row": 2, "column": "value", "value": "=B9*2", "reason": ""},
        )
        self.assertIn(UNSAVED, result.errors[0].reason)
        self.assertEqual((result.invalid, result.written), (1, False))
        self.assertFalse(Customer.objects.exists())  # not stored as 0.00, nor at all

        run_import(table, CUSTOMERS, CustomersKind(), mode=Mode.VALID_ONLY)
        self.assertEqual(
            list(Customer.objects.values_list("external_id", "annual_value")), [("V-2", 5)]
        )

    def test_it_reads_the_saved_value_of_a_formula(self):
        data = workbook(
            [["id", "name", "value"], ["K-1", "Kama", "=B9*2"]], saved={"B9*2": "1200.5"}
        )
        run_import(read_table(data, "c.xlsx"), CUSTOMERS, CustomersKind(), mode=Mode.ALL_OR_NOTHING)
        self.assertEqual(str(Customer.objects.get().annual_value), "1200.50")

    def test_it_reads_a_formula_whose_saved_value_is_empty_text_as_blank(self):
        data = workbook([["id", "name", "value"], ["K-1", "Kama", "=B9*2"]], saved={"B9*2": ""})
        table = read_table(_as_text_result(data), "c.xlsx")
        self.assertEqual((table.rows, dict(table.formulas)), (((2, ("K-1", "Kama")),), {}))

    def test_it_ignores_unsaved_formulas_in_columns_left_out(self):
        data = workbook([["id", "name", "notes"], ["K-1", "Kama", "=NOW()"]])
        mapping = ImportMapping.from_dict({"columns": {"id": "external_id", "name": "name"}})
        result = run_import(
            read_table(data, "c.xlsx"), mapping, CustomersKind(), mode=Mode.ALL_OR_NOTHING
        )
        self.assertEqual((result.new, result.invalid), (1, 0))

    def test_it_names_the_formula_not_a_missing_answer_in_feedback(self):
        survey = make_survey()
        data = workbook([["id", "nps"], ["a", "=SUM(C2:C9)"], ["b", 9]])
        mapping = ImportMapping.from_dict({"columns": {"id": "source_key", "nps": "question:1"}})
        kind = FeedbackKind(survey, now=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
        result = run_import(read_table(data, "f.xlsx"), mapping, kind, mode=Mode.DRY_RUN)
        self.assertEqual(len(result.errors), 1)  # not also "an answer is required"
        error = result.errors[0]
        self.assertEqual((error.row, error.column, error.value), (2, "nps", "=SUM(C2:C9)"))
        self.assertEqual(result.new, 1)


class FormulaLikeTextTests(BaseTestCase):
    def test_it_stores_text_that_looks_like_a_formula_as_written(self):
        rows = [["id", "name"]] + [[f"C-{i}", text] for i, text in enumerate(INJECTIONS)]
        mapping = ImportMapping.from_dict({"columns": {"id": "external_id", "name": "name"}})
        run_import(
            read_table(csv_bytes(rows), "c.csv"), mapping, CustomersKind(), mode=Mode.ALL_OR_NOTHING
        )
        stored = dict(Customer.objects.values_list("external_id", "name"))
        self.assertEqual(stored, {f"C-{i}": text.strip() for i, text in enumerate(INJECTIONS)})

    def test_it_reads_a_text_cell_of_a_workbook_as_text_not_as_a_formula(self):
        data = workbook([["id", "name"], ["C-1", "=1+2"]], text_cells=[(2, 2)])
        table = read_table(data, "c.xlsx")
        self.assertEqual((table.rows, dict(table.formulas)), (((2, ("C-1", "=1+2")),), {}))

    def test_it_neutralises_every_stored_name_in_csv_and_xlsx_exports(self):
        """What an export of imported text (issue #16) must do: through safe_row, no cell
        of the CSV begins a formula and no cell of the workbook is one."""
        names = INJECTIONS + ["-3", "Kama", "", "1e5"]
        text = io.StringIO()
        csv.writer(text).writerows(safe_row([name]) for name in names)
        for (cell,), name in zip(csv.reader(io.StringIO(text.getvalue())), names, strict=True):
            self.assertEqual(cell.lstrip(" ").startswith(FORMULA_STARTS), name == "-3", cell)
        book = Workbook()
        for name in names:
            book.active.append(safe_row([name, -3]))
        saved = io.BytesIO()
        book.save(saved)
        reread = load_workbook(io.BytesIO(saved.getvalue()))
        kinds = {cell.data_type for row in reread.active.iter_rows() for cell in row}
        self.assertNotIn("f", kinds)
        self.assertEqual(reread.active["B1"].value, -3)  # a number stays a number


class SafeCellTests(SimpleTestCase):
    def test_it_prefixes_formulas_and_leaves_numbers_and_plain_text(self):
        cases = {
            "=1+2": "'=1+2",
            "+7 999": "'+7 999",
            "-3 apples": "'-3 apples",
            "@SUM(A1)": "'@SUM(A1)",
            "\tx": "'\tx",
            "\rx": "'\rx",
            " =1": "' =1",
            "-3": "-3",
            "+3.5": "+3.5",
            "-1,5": "-1,5",
            "1e5": "1e5",
            "Kama": "Kama",
            "": "",
            -3: -3,
            None: None,
        }
        for value, expected in cases.items():
            with self.subTest(value=value):
                self.assertEqual(safe_cell(value), expected)

    @given(st.text())
    def test_it_never_lets_a_formula_through_and_only_ever_prefixes(self, text):
        cell = safe_cell(text)
        self.assertIn(cell, (text, "'" + text))
        if cell == text and text.lstrip(" ").startswith(FORMULA_STARTS):
            float(text.replace(",", "."))  # only a plain number may begin so
