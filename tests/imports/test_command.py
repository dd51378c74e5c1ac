"""``cxloop import``: the engine from the command line, with an error report and an exit status."""

import io
import json
import shutil
import tempfile
from pathlib import Path

from django.core.management import CommandError, call_command
from django.utils import translation

from cxloop.audit.models import AuditEvent
from cxloop.customers.models import Customer
from cxloop.surveys.models import Response
from cxloop.test import BaseTestCase
from tests.imports.files import csv_bytes
from tests.surveys.test_respond import make_survey
from tests.test_cli import cxloop

CUSTOMERS = [["external id", "name", "tier"], ["K-1", "Kama", "key"], ["V-2", "Volga", "gold"]]


class ImportCommandTests(BaseTestCase):
    def setUp(self):
        self.enterContext(translation.override("en"))
        self.folder = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.folder)

    def _file(self, name: str, rows) -> Path:
        path = self.folder / name
        path.write_bytes(csv_bytes(rows, delimiter=";"))
        return path

    def _import(self, *args) -> str:
        out = io.StringIO()
        call_command("import", *map(str, args), stdout=out)
        return out.getvalue()

    def test_it_prints_the_error_report_and_stops_on_errors(self):
        path = self._file("customers.csv", CUSTOMERS)
        with self.assertRaisesMessage(CommandError, "errors stopped the import"):
            out = io.StringIO()
            call_command("import", "customers", str(path), stdout=out)
        report = out.getvalue()
        self.assertIn("      3  tier", report)
        self.assertIn("'gold'", report)
        self.assertIn("expected one of strategic, key, standard, small", report)
        self.assertIn("2 rows: 1 new, 0 updated, 0 unchanged, 1 with errors.", report)
        self.assertFalse(Customer.objects.exists())

    def test_it_imports_the_valid_rows_when_asked_and_only_once(self):
        path = self._file("customers.csv", CUSTOMERS)
        out = self._import("customers", path, "--valid-only")
        self.assertIn('"external id": "external_id"', out)  # the guessed mapping, to reuse
        self.assertIn("Imported.", out)
        self.assertEqual(list(Customer.objects.values_list("name", flat=True)), ["Kama"])
        again = self._import("customers", path, "--valid-only")
        self.assertIn("2 rows: 0 new, 0 updated, 1 unchanged, 1 with errors.", again)

    def test_it_leaves_an_audit_event_for_each_import_that_writes(self):
        self._import("customers", self._file("valid.csv", CUSTOMERS[:2]), "--dry-run")
        path = self._file("customers.csv", CUSTOMERS)
        self.assertFalse(AuditEvent.objects.filter(action="import").exists())
        self._import("customers", path, "--valid-only")
        event = AuditEvent.objects.get(action="import")
        self.assertEqual(event.object_kind, "customers")
        self.assertTrue(event.actor.startswith("system"))
        self.assertEqual(
            event.details,
            {"rows": 2, "mode": "valid_only", "new": 1, "updated": 0, "unchanged": 0},
        )

    def test_it_checks_without_writing_in_a_dry_run(self):
        path = self._file("customers.csv", CUSTOMERS[:2])
        out = self._import("customers", path, "--dry-run")
        self.assertIn("1 rows: 1 new", out)
        self.assertIn("Dry run: nothing was written.", out)
        self.assertFalse(Customer.objects.exists())

    def test_it_imports_feedback_with_a_mapping_file(self):
        survey = make_survey()
        path = self._file("answers.csv", [["key", "nps", "csat"], ["a", "9", "0"], ["b", "6", "4"]])
        mapping = self.folder / "mapping.json"
        columns = {"key": "source_key", "nps": "question:1"}
        columns["csat"] = {"target": "question:2", "no_answer": ["0"]}
        mapping.write_text(json.dumps({"columns": columns}))
        args = ("feedback", path, "--survey", survey.pk, "--mapping", mapping)
        self.assertIn("2 rows: 2 new", self._import(*args))
        self.assertEqual(Response.objects.get(source_key="a").answers.count(), 1)
        self.assertIn("2 rows: 0 new, 0 updated, 2 unchanged", self._import(*args))
        self.assertEqual(Response.objects.count(), 2)

    def test_it_names_what_it_cannot_use(self):
        path = self._file("answers.csv", [["key", "nps"], ["a", "9"]])
        cases = [
            (("feedback", path), "feedback needs --survey ID"),
            (("feedback", path, "--survey", 999), "there is no survey with id 999"),
            (("customers", self.folder / "none.csv"), "No such file or directory"),
            (("customers", path, "--mapping", '{"columns": {"nps": "tier"}}'), "external id"),
            (("customers", path, "--mapping", "{oops"), "--mapping: The mapping is not valid JSON"),
        ]
        for args, message in cases:
            with self.subTest(args=args), self.assertRaisesMessage(CommandError, message):
                self._import(*args)


def test_it_is_a_cxloop_command_despite_its_name(tmp_path):
    result = cxloop(tmp_path, "import", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: cxloop import" in result.stdout
    assert "--valid-only" in result.stdout
    listed = cxloop(tmp_path, "help")
    assert "    import\n" in listed.stdout
