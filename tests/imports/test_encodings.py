"""CSV encodings: detected, told to the user (pages and ``cxloop import``), and changed by them;
text in a wrong encoding is refused, never read as other letters."""

import io
import shutil
import tempfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import SimpleTestCase
from django.urls import reverse
from django.utils import translation

from cxloop.customers.models import Customer
from cxloop.feedback.imports import ImportFileError, read_table
from cxloop.test import BaseTestCase
from tests.imports.files import csv_bytes
from tests.imports.pages import ImportPagesTestCase

WESTERN = [["external id", "name", "city"], ["C-1", "Café Müller", "Zürich"]]
CYRILLIC = [["external id", "name"], ["C-2", "Всё хорошо"], ["C-3", "Кафе Ёлка, ООО"]]
MIXED = [*CYRILLIC, ["C-1", "Café Müller"]]


class DetectionTests(SimpleTestCase):
    def setUp(self):
        self.enterContext(translation.override("en"))

    def test_it_detects_the_encoding_and_reads_every_letter_as_written(self):
        cases = [
            # (rows, how the file is written, what detection must say)
            (WESTERN, {"encoding": "latin-1"}, "cp1252"),  # same letters as Latin-1 here
            ([["id", "name"], ["1", "Café"]], {"encoding": "latin-1"}, "cp1252"),
            (WESTERN, {"encoding": "cp1252"}, "cp1252"),
            (CYRILLIC, {"encoding": "cp1251"}, "cp1251"),
            ([["id", "comment"], ["1", "Всё хорошо"]], {"encoding": "cp1251"}, "cp1251"),
            (CYRILLIC, {"encoding": "koi8-r"}, "koi8-r"),
            (CYRILLIC, {"encoding": "cp866"}, "cp866"),
            (MIXED, {"encoding": "utf-8"}, "utf-8"),
            (MIXED, {"encoding": "utf-8", "bom": True}, "utf-8-sig"),
            (MIXED, {"encoding": "utf-16-le", "bom": True}, "utf-16"),
            (MIXED, {"encoding": "utf-16-be", "bom": True}, "utf-16"),
            (MIXED, {"encoding": "utf-16-le"}, "utf-16-le"),
            (MIXED, {"encoding": "utf-16-be"}, "utf-16-be"),
        ]
        for rows, written, detected in cases:
            with self.subTest(written=written, first=rows[1]):
                table = read_table(csv_bytes(rows, delimiter=";", **written), "f.csv")
                self.assertEqual((table.encoding, table.detected), (detected, True))
                self.assertEqual(table.columns, tuple(rows[0]))  # no mark left in a name
                read = [cells for _row, cells in table.rows]
                self.assertEqual(read, [tuple(r) for r in rows[1:]])

    def test_it_names_the_encoding_as_people_know_it(self):
        table = read_table(csv_bytes(WESTERN, encoding="latin-1"), "f.csv")
        self.assertEqual(table.encoding_label, "Windows-1252 (Western European)")
        table = read_table(csv_bytes(CYRILLIC, encoding="utf-8", bom=True), "f.csv")
        self.assertEqual(table.encoding_label, "UTF-8 with a byte-order mark")

    def test_it_reads_the_encoding_the_user_chose(self):
        latin = csv_bytes(WESTERN, encoding="latin-1")
        table = read_table(latin, "f.csv", encoding="cp1251")  # the user's word wins
        self.assertEqual((table.encoding, table.detected), ("cp1251", False))
        self.assertEqual(table.rows[0][1][1], "Cafй Mьller")
        table = read_table(latin, "f.csv", encoding="latin-1")
        self.assertEqual((table.encoding, table.rows[0][1][1]), ("iso8859-1", "Café Müller"))
        marked = read_table(csv_bytes(CYRILLIC, bom=True), "f.csv", encoding="utf-8")
        self.assertEqual(marked.columns[0], "external id")  # the mark is not a cell

    def test_it_refuses_text_that_is_not_in_the_chosen_encoding(self):
        latin = csv_bytes(WESTERN, encoding="latin-1")
        cases = [
            ("utf-8", "cannot be read as UTF-8: byte 31 (0xE9) is not text in it"),
            ("ascii", "cannot be read as ASCII: byte 31 (0xE9)"),
            ("rot13", "Unknown encoding rot13"),
            ("base64", "Unknown encoding base64"),  # bytes to bytes, not text
            ("no-such-thing", "Unknown encoding no-such-thing"),
        ]
        for encoding, message in cases:
            with self.subTest(encoding), self.assertRaisesMessage(ImportFileError, message):
                read_table(latin + b"x", "f.csv", encoding=encoding)

    def test_it_refuses_utf8_that_was_cut_rather_than_guess_another_encoding(self):
        damaged = "id,name\n1,Всё хорошо\n2,Ёлка\n".encode()
        for data in (damaged[:-2], damaged.replace("Ё".encode(), b"\xd0")):
            with (
                self.subTest(data=data[-6:]),
                self.assertRaisesMessage(ImportFileError, "is not valid UTF-8"),
            ):
                read_table(data, "f.csv")


class EncodingPagesTests(ImportPagesTestCase):
    def _upload(self, data: bytes, **fields):
        form = {"kind": "customers", "file": SimpleUploadedFile("c.csv", data), **fields}
        return self.client.post(reverse("import_upload"), form, headers={"accept-language": "en"})

    def test_it_tells_the_encoding_and_lets_the_user_change_it(self):
        response = self._upload(csv_bytes(WESTERN, encoding="latin-1"))
        mapping_url = response.url
        token = mapping_url.split("/")[-3]
        page = self.client.get(mapping_url)
        self.assertContains(
            page, "The file is read as Windows-1252 (Western European), detected automatically."
        )
        self.assertContains(page, "Café Müller")

        wrong = self.client.post(mapping_url, {"reread": "1", "encoding": "cp1251"})
        self.assertRedirects(wrong, mapping_url)
        page = self.client.get(mapping_url)
        self.assertContains(page, "The file is read as Windows-1251 (Cyrillic), as you chose.")
        self.assertContains(page, "Cafй Mьller")

        refused = self.client.post(mapping_url, {"reread": "1", "encoding": "utf-8"})
        self.assertEqual(refused.status_code, 200)
        self.assertContains(refused, "cannot be read as UTF-8: byte")
        self.assertContains(refused, "Cafй Mьller")  # still read as before

        self.client.post(mapping_url, {"reread": "1", "encoding": ""})  # detect again
        mapped = {"target_0": "external_id", "target_1": "name"}
        self.assertRedirects(
            self.client.post(mapping_url, mapped), reverse("import_preview", args=[token])
        )
        preview = self.client.get(reverse("import_preview", args=[token]))
        self.assertContains(preview, "The file is read as Windows-1252 (Western European)")
        self.client.post(reverse("import_run", args=[token]))
        self.assertEqual(Customer.objects.get().name, "Café Müller")

    def test_it_reads_the_encoding_chosen_at_upload_or_says_why_not(self):
        refused = self._upload(csv_bytes(WESTERN, encoding="latin-1"), encoding="utf-8")
        self.assertEqual(refused.status_code, 200)
        self.assertIn("cannot be read as UTF-8", refused.context["form"].errors["file"][0])
        chosen = self._upload(csv_bytes(CYRILLIC, encoding="koi8-r"), encoding="koi8-r")
        page = self.client.get(chosen.url)
        self.assertContains(page, "The file is read as KOI8-R (Cyrillic), as you chose.")
        self.assertContains(page, "Всё хорошо")


class EncodingCommandTests(BaseTestCase):
    def setUp(self):
        self.enterContext(translation.override("en"))
        self.folder = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.folder)

    def _import(self, data: bytes, *args) -> str:
        path = self.folder / "customers.csv"
        path.write_bytes(data)
        out = io.StringIO()
        call_command("import", "customers", str(path), *args, stdout=out)
        return out.getvalue()

    def test_it_prints_the_encoding_it_detected_and_reads_the_one_given(self):
        latin = csv_bytes(WESTERN, encoding="latin-1")
        out = self._import(latin)
        self.assertIn("Read as Windows-1252 (Western European), detected automatically;", out)
        self.assertEqual(Customer.objects.get().name, "Café Müller")
        out = self._import(latin, "--encoding", "latin-1")
        self.assertIn("Read as ISO-8859-1 (Latin-1, Western European), as --encoding says.", out)
        self.assertIn("0 new, 0 updated, 1 unchanged", out)
        with self.assertRaisesMessage(CommandError, "cannot be read as UTF-8: byte 31 (0xE9)"):
            self._import(latin, "--encoding", "utf-8")
