"""``cxloop import customers|feedback FILE``: the import pages' engine from the command line.

The module is named ``import``, a Python keyword, which is fine: Django loads a command with
``importlib.import_module("cxloop.management.commands.import")``, never an import statement.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from tqdm import tqdm

from cxloop.feedback.imports import (
    ImportConflictError,
    ImportFileError,
    ImportMapping,
    ImportResult,
    MappingError,
    Mode,
    guess_mapping,
    kind_for,
    read_table,
    run_import,
)
from cxloop.surveys.queries import survey_with_questions

STAGES = {"check": "checking rows", "write": "writing"}


class Command(BaseCommand):
    help = (
        "Import customers and contacts, or feedback (responses to a survey), from a CSV or XLSX "
        "file. Every cell that does not fit is reported as row, column, value and reason; a "
        "file with errors writes nothing unless --valid-only. Importing a file twice changes "
        "nothing: customers are matched by external id, feedback by the row's key. Exits 1 when "
        "errors stop the import (or would, in a dry run)."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["customers", "feedback"])
        parser.add_argument("file", type=Path, help="a .csv or .xlsx file")
        parser.add_argument(
            "--mapping",
            help=(
                'column → target as JSON, or a file holding it: {"columns": {"Email": '
                '"contact_email", "Q1": {"target": "question:1", "no_answer": ["0"]}}}; '
                "without it, columns are mapped by their header names and the mapping is printed"
            ),
        )
        parser.add_argument("--survey", type=int, help="the survey's id (feedback)")
        parser.add_argument("--sheet", help="the XLSX sheet to read (default: the first)")
        parser.add_argument(
            "--encoding",
            help=(
                "the CSV file's encoding, such as utf-8, cp1251, koi8-r, cp1252, latin-1 "
                "(default: detected, and printed)"
            ),
        )
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        group.add_argument(
            "--valid-only", action="store_true", help="import the valid rows, skip the others"
        )
        parser.add_argument(
            "--errors", type=int, default=100, help="how many errors to print (default 100)"
        )

    def handle(self, *args, kind, file, mapping, survey, sheet, dry_run, valid_only, errors, **o):
        importer = kind_for(kind, survey=self._survey(kind, survey))
        chosen = self._mapping(mapping) if mapping else None
        try:
            table = read_table(
                file.read_bytes(),
                file.name,
                sheet=sheet or (chosen and chosen.sheet),
                encoding=o["encoding"],
            )
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}") from None
        except ImportFileError as error:
            raise CommandError(f"{file}: {error}") from None
        if table.encoding and table.detected:
            self.stdout.write(
                f"Read as {table.encoding_label}, detected automatically; if letters look "
                "wrong, give the encoding, such as --encoding cp1251."
            )
        elif table.encoding:
            self.stdout.write(f"Read as {table.encoding_label}, as --encoding says.")
        if chosen is None:
            chosen = guess_mapping(table, importer, sheet=sheet)
            self.stdout.write("Mapping from the header names:")
            self.stdout.write(json.dumps(chosen.to_dict(), ensure_ascii=False, indent=2))
        mode = Mode.DRY_RUN if dry_run else Mode.VALID_ONLY if valid_only else Mode.ALL_OR_NOTHING
        bars: dict[str, tqdm] = {}

        def progress(stage: str, count: int) -> None:
            if stage not in bars:
                for bar in bars.values():
                    bar.close()
                bars[stage] = tqdm(
                    total=len(table.rows),
                    desc=STAGES[stage],
                    unit="row",
                    file=sys.stderr,
                    disable=None if o["verbosity"] > 0 and len(table.rows) > 1000 else True,
                )
            bars[stage].update(count)

        try:
            result = run_import(
                table, chosen, importer, mode=mode, error_limit=errors, progress=progress
            )
        except MappingError as error:
            raise CommandError("the mapping does not fit: " + "; ".join(error.problems)) from None
        except ImportConflictError as error:
            raise CommandError(str(error)) from None
        finally:
            for bar in bars.values():
                bar.close()
        self._report(result)
        if result.stopped and result.mode == Mode.DRY_RUN:
            raise CommandError("the file has errors: importing it would write nothing")
        if result.stopped:
            raise CommandError("errors stopped the import: nothing was written")

    def _survey(self, kind: str, survey_id: int | None):
        if kind != "feedback":
            return None
        if survey_id is None:
            raise CommandError("feedback needs --survey ID")
        try:
            return survey_with_questions(survey_id)
        except Http404:
            raise CommandError(f"there is no survey with id {survey_id}") from None

    def _mapping(self, text: str) -> ImportMapping:
        path = Path(text)
        try:
            if not text.lstrip().startswith("{") and path.exists():
                text = path.read_text(encoding="utf-8-sig")
            return ImportMapping.from_json(text)
        except MappingError as error:
            raise CommandError("--mapping: " + "; ".join(error.problems)) from None

    def _report(self, result: ImportResult) -> None:
        if result.errors:
            self.stdout.write(f"{'row':>7}  {'column':<24}  {'value':<24}  reason")
            for e in result.errors:
                self.stdout.write(f"{e.row:>7}  {e.column or '—':<24}  {e.value!r:<24}  {e.reason}")
            if result.error_count > len(result.errors):
                self.stdout.write(f"… and {result.error_count - len(result.errors)} more errors")
        self.stdout.write(
            f"{result.rows} rows: {result.new} new, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.invalid} with errors."
        )
        if result.mode == Mode.DRY_RUN:
            self.stdout.write("Dry run: nothing was written.")
        elif result.written and result.new + result.updated == 0:
            self.stdout.write("Nothing to change: every valid row is already stored.")
        elif result.written:
            self.stdout.write(self.style.SUCCESS("Imported."))
