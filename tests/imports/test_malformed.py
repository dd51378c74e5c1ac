"""Bad files and bad values: every one is a clear error — a row error naming row, column and
value, or a message about the file — on the pages (never a 5xx) and from ``cxloop import``
(exit status 1, one line, no traceback)."""

import datetime as dt
import io
import os
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase
from django.urls import reverse
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from cxloop.customers.models import Customer
from cxloop.feedback.imports import (
    MAX_UNPACKED_BYTES,
    CustomersKind,
    FeedbackKind,
    ImportFileError,
    ImportMapping,
    Mode,
    read_table,
    run_import,
)
from cxloop.test import BaseTestCase
from tests.imports.files import csv_bytes, xlsx_bytes
from tests.imports.pages import ImportPagesTestCase
from tests.surveys.test_respond import make_survey
from tests.test_cli import cxloop

MAPPING = ImportMapping.from_dict(
    {"columns": {"id": "external_id", "name": "name", "value": "annual_value"}}
)
FITS = "expected an amount with at most 12 digits before the decimal point and 2 after it"
BAD_AMOUNTS = {
    "1e26": FITS,
    "1E+999999999": FITS,
    "99999999999999999999": FITS,
    "1" * 5000: FITS,
    "NaN": FITS,
    "sNaN": FITS,
    "inf": FITS,
    "-Infinity": FITS,
    "-5": "expected an amount of at least 0",
    "1.005": FITS,
    "1e-1000000": FITS,
}


def amounts_file() -> bytes:
    rows = [["id", "name", "value"], ["OK", "Fine", "999 999 999 999,99"]]
    rows += [[f"C-{i}", "Bad", value] for i, value in enumerate(BAD_AMOUNTS)]
    return csv_bytes(rows)


def _workbook(fill) -> bytes:
    book = Workbook()
    fill(book.active)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _bomb() -> bytes:
    """A workbook of 1 KB whose one part unpacks to more than the bound."""
    data = io.BytesIO(xlsx_bytes({"Sheet": [["id"], ["1"]]}))
    with (
        zipfile.ZipFile(data, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/media/zeros.bin", "w") as part,
    ):
        block = bytes(1 << 20)
        for _ in range(MAX_UNPACKED_BYTES // len(block) + 1):
            part.write(block)
    return data.getvalue()


def bad_files() -> dict[str, tuple[str, bytes, str]]:
    """name → (file name, content, what the message says)."""
    good = xlsx_bytes({"Sheet": [["id", "name"], ["1", "x"]]})
    wide = ",".join(f"c{i}" for i in range(10_000))
    return {
        "empty": ("e.csv", b"", "is empty"),  # Django's own "The submitted file is empty."
        "blank": ("b.csv", b" \r\n\t\n", "The file is empty"),
        "binary": ("p.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not CSV"),
        "noise with NULs": ("n.csv", b"\x00\x01\x02PNG" + os.urandom(4096), "not CSV"),
        "random bytes": ("r.csv", bytes(range(1, 256)) * 40, "encoding cannot be told"),
        "damaged UTF-8": ("u.csv", "id,name\n1,Всё\n".encode()[:-2], "is not valid UTF-8"),
        "10,000 columns": ("w.csv", f"{wide}\n{wide}\n".encode(), "Row 1 has 10,000 columns"),
        "huge cell": ("h.csv", b"id,name\n1," + b"x" * 200_000 + b"\n", "malformed"),
        "cut workbook": ("t.xlsx", good[: len(good) // 2], "not a readable XLSX workbook"),
        "not a workbook": ("n.xlsx", b"PK\x03\x04" + bytes(100), "not a readable XLSX"),
        "wide workbook": (
            "w.xlsx",
            _workbook(lambda s: s.append(list(range(10_000)))),
            "Row 1 has 10,000 columns",
        ),
        "far column": (
            "f.xlsx",
            _workbook(lambda s: [s.append(["id"]), s.cell(2, 16_384, "x")]),
            "Row 2 has 16,384 columns",
        ),
        "far row": (
            "r.xlsx",
            _workbook(lambda s: [s.append(["id"]), s.cell(1_048_576, 1, "x")]),
            "more than 1,000,000 rows",
        ),
        "unpacks to gigabytes": ("z.xlsx", _bomb(), "more than the 500 MB"),
    }


class BadAmountTests(BaseTestCase):
    def setUp(self):
        self.enterContext(translation.override("en"))

    def test_it_reports_each_amount_that_does_not_fit_at_preview_and_at_run(self):
        table = read_table(amounts_file(), "c.csv")
        for mode in (Mode.DRY_RUN, Mode.ALL_OR_NOTHING, Mode.VALID_ONLY):
            with self.subTest(mode=mode):
                result = run_import(table, MAPPING, CustomersKind(), mode=mode)
                found = {e.row: e for e in result.errors}
                self.assertEqual(sorted(found), list(range(3, 3 + len(BAD_AMOUNTS))))
                for row, (value, reason) in enumerate(BAD_AMOUNTS.items(), start=3):
                    self.assertEqual(found[row].column, "value")
                    self.assertEqual(found[row].value[:99], value[:99])  # shown up to 100
                    self.assertIn(reason, found[row].reason)
        self.assertEqual(str(Customer.objects.get().annual_value), "999999999999.99")

    def test_it_reports_scores_that_are_no_whole_number_in_range(self):
        survey = make_survey()
        scores = ["inf", "-inf", "nan", "1e400", "9" * 5000, "-3", "9.5", "0x9"]
        rows = [["id", "nps"], ["ok", "+9"]] + [[f"r{i}", s] for i, s in enumerate(scores)]
        mapping = ImportMapping.from_dict({"columns": {"id": "source_key", "nps": "question:1"}})
        kind = FeedbackKind(survey, now=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
        result = run_import(read_table(csv_bytes(rows), "f.csv"), mapping, kind, mode=Mode.DRY_RUN)
        self.assertEqual(result.new, 1)  # "+9" is the number 9, not a formula
        self.assertEqual([e.row for e in result.errors], list(range(3, 3 + len(scores))))
        for error in result.errors:
            self.assertEqual(error.column, "nps")
            self.assertIn("expected a whole number 0–10", error.reason)

    def test_it_bounds_rows_and_columns_as_asked(self):
        data = csv_bytes([["a", "b", "c"], *[["1", "2", "3"]] * 5])
        self.assertEqual(len(read_table(data, "f.csv", max_rows=5).rows), 5)
        with self.assertRaisesMessage(ImportFileError, "more than 4 rows"):
            read_table(data, "f.csv", max_rows=4)
        with self.assertRaisesMessage(ImportFileError, "Row 1 has 3 columns; at most 2"):
            read_table(data, "f.csv", max_columns=2)
        book = xlsx_bytes({"S": [["a", "b", "c"], *[[1, 2, 3]] * 5]})
        with self.assertRaisesMessage(ImportFileError, "more than 4 rows"):
            read_table(book, "f.xlsx", max_rows=4)


class BadFilePagesTests(ImportPagesTestCase):
    def test_it_explains_every_bad_file_with_no_server_error(self):
        for name, (filename, content, message) in bad_files().items():
            with self.subTest(name):
                with self.assertRaisesMessage(ImportFileError, message):
                    read_table(content, filename)
                form = {"kind": "customers", "file": SimpleUploadedFile(filename, content)}
                response = self.client.post(
                    reverse("import_upload"), form, headers={"accept-language": "en"}
                )
                self.assertEqual(response.status_code, 200)
                self.assertIn(message, response.context["form"].errors["file"][0])

    def test_it_lists_amounts_that_do_not_fit_at_preview_and_writes_nothing(self):
        form = {"kind": "customers", "file": SimpleUploadedFile("c.csv", amounts_file())}
        token = self.client.post(reverse("import_upload"), form).url.split("/")[-3]
        mapped = {"target_0": "external_id", "target_1": "name", "target_2": "annual_value"}
        self.client.post(reverse("import_mapping", args=[token]), mapped)
        preview = self.client.get(reverse("import_preview", args=[token]))
        self.assertEqual(preview.status_code, 200)
        self.assertEqual(preview.context["result"].invalid, len(BAD_AMOUNTS))
        self.assertContains(preview, "<code>1e26</code>", html=True)
        self.assertContains(preview, FITS)
        done = self.client.post(reverse("import_run", args=[token]), follow=True)
        self.assertEqual(done.status_code, 200)
        self.assertFalse(done.context["result"].written)
        self.assertFalse(Customer.objects.exists())


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("imports-cli")
    result = cxloop(folder, "migrate", "--verbosity", "0")
    assert result.returncode == 0, result.stderr
    return folder


MAPPING_JSON = '{"columns": {"id": "external_id", "name": "name", "value": "annual_value"}}'


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("amounts.csv", amounts_file()),
        ("empty.csv", b""),
        ("binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4),
        ("cut.xlsx", xlsx_bytes({"S": [["id"], ["1"]]})[:400]),
        ("wide.csv", (",".join(map(str, range(10_000))) + "\n1\n").encode()),
    ],
    ids=["amounts", "empty", "binary", "cut workbook", "10,000 columns"],
)
def test_the_command_exits_with_one_line_and_no_traceback(data_dir, filename, content):
    """In the language of the installation (the messages are checked above)."""
    path = data_dir / filename
    path.write_bytes(content)
    result = cxloop(data_dir, "import", "customers", str(path), "--mapping", MAPPING_JSON)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("CommandError: "), result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    if filename == "amounts.csv":  # a report of row errors, then the one line
        assert "      3  value" in result.stdout and "'1e26'" in result.stdout
    else:
        assert str(path) in result.stderr


GOOD_BOOK = xlsx_bytes(
    {"Sheet": [["id", "name", "value"], ["K-1", "Kama", 5], ["V-2", "=A1", 1.5]]}
)


class AnyBytesTests(SimpleTestCase):
    """Whatever bytes arrive, reading them gives a table or an ImportFileError, nothing else."""

    def _read(self, data: bytes, name: str) -> None:
        try:
            table = read_table(data, name)
        except ImportFileError as error:
            self.assertTrue(str(error))
        else:
            self.assertTrue(table.columns)

    @settings(max_examples=150, deadline=None)
    @given(st.binary(max_size=3000))
    def test_any_bytes_as_csv(self, data):
        self._read(data, "f.csv")

    @settings(max_examples=150, deadline=None)
    @given(
        st.lists(st.tuples(st.integers(0, len(GOOD_BOOK) - 1), st.integers(0, 255)), max_size=8),
        st.integers(100, len(GOOD_BOOK)),
    )
    def test_a_damaged_workbook(self, changes, length):
        data = bytearray(GOOD_BOOK[:length])
        for position, byte in changes:
            if position < len(data):
                data[position] = byte
        self._read(bytes(data), "f.xlsx")

    @settings(max_examples=150, deadline=None)
    @given(st.integers(0, 2000), st.integers(0, 40), st.text(max_size=20))
    def test_a_workbook_with_damaged_xml(self, position, cut, inserted):
        """The archive is sound; the sheet's XML inside is not (the damage reaches the XML
        parsers, not only zipfile's checksum)."""
        out = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(GOOD_BOOK)) as source,
            zipfile.ZipFile(out, "w") as target,
        ):
            for part in source.infolist():
                content = source.read(part)
                if part.filename == "xl/worksheets/sheet1.xml":
                    at = position % len(content)
                    content = content[:at] + inserted.encode() + content[at + cut :]
                target.writestr(part, content)
        self._read(out.getvalue(), "f.xlsx")
