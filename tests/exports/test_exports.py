"""Exports hold exactly what the list page shows for the same user and filters, in four
formats, with formulas neutralised; a filter the page would leave out refuses the export; a
long list is built by a task whose page and file only its owner sees; every export is
audited; the command line gives the same file."""

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from unittest import mock

import pyarrow.parquet as pq
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from cxloop.audit.models import AuditEvent
from cxloop.customers.models import Customer
from cxloop.exports import services
from cxloop.exports.models import ExportJob, JobState
from tests.front.evidence_data import EvidenceTestCase

FORMULA = '=HYPERLINK("http://evil.example","click")'


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


class ExportTestCase(EvidenceTestCase):
    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="cxloop-exports-")
        cls._data = override_settings(DATA_DIR=Path(cls.data_dir))
        cls._data.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls._data.disable()
        shutil.rmtree(cls.data_dir, ignore_errors=True)

    def setUp(self):
        shutil.rmtree(Path(self.data_dir) / "exports", ignore_errors=True)  # ids are reused

    def export(self, kind, query="", fmt="csv", user=None, status=200):
        self.client.force_login(user or self.owner)
        response = self.client.post(
            reverse("export_start"),
            {"kind": kind, "format": fmt, "query": query},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        self.assertEqual(response.status_code, status, getattr(response, "content", b"")[:500])
        return response

    def csv_of(self, kind, query="", user=None):
        response = self.export(kind, query, user=user)
        return _csv_rows(b"".join(response.streaming_content))

    def page_ids(self, url_name, query="", user=None, key="response"):
        self.client.force_login(user or self.owner)
        page = self.client.get(f"{reverse(url_name)}?{query}", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(page.status_code, 200)
        return [getattr(row[key], "pk", None) or row[key].answer_id for row in page.context["rows"]]


class ResponseExportTests(ExportTestCase):
    def test_it_holds_the_pages_responses_in_its_order_for_each_user_and_filter(self):
        cases = [
            (self.owner, ""),
            (self.owner, "kind=nps&band=detractor"),
            (self.owner, f"customer={self.acme.pk}"),
            (self.owner, "channel=web"),
            (self.teammate, "since=2026-06-01"),
            (self.outsider, ""),
        ]
        for user, query in cases:
            with self.subTest(user=user.username, query=query):
                rows = self.csv_of("responses", query, user=user)
                exported = [int(row[0]) for row in rows[1:]]
                self.assertEqual(exported, self.page_ids("response_list", query, user=user))
                self.assertTrue(exported or user == self.outsider)

    def test_each_scale_and_touchpoint_rating_has_its_own_column(self):
        rows = self.csv_of("responses", f"customer={self.acme.pk}&until=2026-05-31")
        header, (row,) = rows[0], rows[1:]
        cell = dict(zip(header, row, strict=True))
        self.assertEqual(int(cell["Response id"]), self.r_detractor.pk)
        self.assertEqual(
            (cell["NPS"], cell["CSAT"], cell["Effort (CES)"], cell["Rating: Billing accuracy"]),
            ("3", "2", "2", "1"),
        )
        self.assertEqual(cell["Rating: Kick-off"], "")
        self.assertEqual(cell["Comment"], "Invoices were wrong again")
        self.assertEqual(cell["Customer"], "Acme")
        self.assertTrue(cell["Submitted"].startswith("2026-05-10"))

    def test_the_two_csvs_differ_by_the_byte_order_mark_only(self):
        excel = b"".join(self.export("responses", fmt="csv-excel").streaming_content)
        plain = b"".join(self.export("responses", fmt="csv").streaming_content)
        self.assertTrue(excel.startswith(b"\xef\xbb\xbf"))
        self.assertFalse(plain.startswith(b"\xef\xbb\xbf"))
        self.assertEqual(excel[3:], plain)

    def test_xlsx_has_typed_cells_a_frozen_header_and_number_formats(self):
        response = self.export("responses", fmt="xlsx")
        book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        sheet = book.active
        self.assertEqual(sheet.freeze_panes, "A2")
        header = [cell.value for cell in sheet[1]]
        self.assertTrue(sheet["A1"].font.b)
        rows = list(sheet.iter_rows(min_row=2))
        self.assertEqual(len(rows), len(self.page_ids("response_list")))
        by_id = {row[0].value: row for row in rows}
        detractor = by_id[self.r_detractor.pk]
        nps = detractor[header.index("NPS")]
        self.assertEqual((nps.value, nps.data_type), (3, "n"))
        submitted = detractor[header.index("Submitted")]
        self.assertEqual(submitted.value.date().isoformat(), "2026-05-10")
        self.assertEqual(submitted.number_format, "yyyy-mm-dd hh:mm")

    def test_parquet_has_typed_columns(self):
        response = self.export("responses", fmt="parquet")
        table = pq.read_table(io.BytesIO(b"".join(response.streaming_content)))
        self.assertEqual(str(table.schema.field("NPS").type), "int64")
        self.assertEqual(str(table.schema.field("Submitted").type), "timestamp[us, tz=UTC]")
        self.assertEqual(table.column("Response id").to_pylist(), self.page_ids("response_list"))

    def test_a_formula_in_a_text_cell_is_neutralised_in_csv_and_xlsx_but_kept_in_parquet(self):
        Customer.objects.filter(pk=self.acme.pk).update(name=FORMULA)
        query = f"customer={self.acme.pk}"
        rows = self.csv_of("responses", query)
        self.assertEqual({row[3] for row in rows[1:]}, {"'" + FORMULA})
        book = load_workbook(
            io.BytesIO(b"".join(self.export("responses", query, fmt="xlsx").streaming_content))
        )
        names = {row[3].value for row in book.active.iter_rows(min_row=2)}
        self.assertEqual(names, {"'" + FORMULA})
        parquet = pq.read_table(
            io.BytesIO(b"".join(self.export("responses", query, fmt="parquet").streaming_content))
        )
        self.assertEqual(set(parquet.column("Customer").to_pylist()), {FORMULA})

    def test_a_filter_the_page_would_leave_out_refuses_the_export_naming_it(self):
        before = AuditEvent.objects.filter(action="export").count()
        for query, named in (
            ("team=999999", "Team"),
            ("since=2026-13-45", "Submitted from"),
            ("kind=nps&band=awful", "Band"),
        ):
            with self.subTest(query=query):
                response = self.export("responses", query, status=400)
                self.assertContains(response, named, status_code=400)
                self.assertContains(response, "Nothing was exported", status_code=400)
        self.assertEqual(AuditEvent.objects.filter(action="export").count(), before)

    def test_an_unknown_format_is_refused_and_an_unknown_list_is_not_found(self):
        response = self.export("responses", fmt="docx", status=400)
        self.assertContains(response, "docx", status_code=400)
        self.export("payroll-of-everyone", status=404)

    def test_the_page_number_is_dropped_every_page_is_exported(self):
        rows = self.csv_of("responses", "page=2")
        self.assertEqual(len(rows) - 1, len(self.page_ids("response_list")))

    def test_every_export_is_audited_with_its_list_format_filters_and_rows(self):
        self.csv_of("responses", "kind=nps&band=detractor")
        event = AuditEvent.objects.filter(action="export").latest("pk")
        self.assertEqual(event.object_kind, "responses")
        self.assertEqual(event.actor, "owner")
        self.assertEqual(event.details["format"], "csv")
        self.assertEqual(event.details["filters"], {"kind": "nps", "band": "detractor"})
        self.assertEqual(
            event.details["rows"], len(self.page_ids("response_list", "kind=nps&band=detractor"))
        )

    def test_a_get_does_not_export(self):
        self.client.force_login(self.owner)
        response = self.client.get(reverse("export_start"), {"kind": "responses", "format": "csv"})
        self.assertEqual(response.status_code, 405)

    def test_the_headers_are_in_the_users_language(self):
        self.client.force_login(self.owner)
        with translation.override("ru"):
            response = self.client.post(
                reverse("export_start"),
                {"kind": "responses", "format": "csv", "query": ""},
                HTTP_ACCEPT_LANGUAGE="ru",
            )
        header = _csv_rows(b"".join(response.streaming_content))[0]
        self.assertIn("Клиент", header)


class OtherListTests(ExportTestCase):
    def test_comments_cases_and_customers_hold_the_pages_rows(self):
        for kind, page, key, query in (
            ("comments", "comment_list", "comment", ""),
            ("customers", "customer_list", "customer", ""),
            ("customers", "customer_list", "customer", "sort=-value"),
            ("customers", "customer_list", "customer", "tier=strategic"),
        ):
            for user in (self.owner, self.outsider):
                with self.subTest(kind=kind, query=query, user=user.username):
                    rows = self.csv_of(kind, query, user=user)
                    exported = [int(row[0]) for row in rows[1:]]
                    self.assertEqual(exported, self.page_ids(page, query, user=user, key=key))

    def test_cases_hold_the_pages_cases(self):
        from django.utils import timezone

        from cxloop.cases import services as cases
        from cxloop.cases.choices import Origin

        for customer, owner in ((self.acme, self.teammate), (self.zeta, self.outsider)):
            cases.open_case(
                origin=Origin.MANUAL,
                title=f"Call {customer.name}",
                now=timezone.now(),
                customer=customer,
                owner=owner.employee,
                touchpoints=[self.billing],
            )
        for user, query in ((self.owner, "tab=team&state="), (self.outsider, "state=")):
            with self.subTest(user=user.username):
                rows = self.csv_of("cases", query, user=user)
                self.client.force_login(user)
                page = self.client.get(f"{reverse('case_list')}?{query}")
                expected = [row["case"].reference for row in page.context["rows"]]
                self.assertEqual([row[0] for row in rows[1:]], expected)
                self.assertEqual(len(expected), 1)
                self.assertEqual(rows[1][9], "Billing accuracy")


class LongExportTests(ExportTestCase):
    def test_a_long_list_is_built_by_a_task_for_its_owner_only(self):
        with (
            mock.patch.object(services, "INLINE_ROWS", 1),
            self.captureOnCommitCallbacks(execute=True),
        ):
            response = self.export("responses", "", fmt="csv-excel", status=302)
        job = ExportJob.objects.get()
        self.assertEqual(response["Location"], reverse("export_detail", args=[job.pk]))
        page = self.client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(page, 'http-equiv="refresh"')
        services.run_job(job.pk)
        services.run_job(job.pk)  # a second run finds it done and does nothing
        job.refresh_from_db()
        self.assertEqual(job.state, JobState.DONE)
        self.assertEqual(job.rows_written, len(self.page_ids("response_list")))
        page = self.client.get(reverse("export_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
        self.assertNotContains(page, 'http-equiv="refresh"')
        download = self.client.get(reverse("export_download", args=[job.pk]))
        content = b"".join(download.streaming_content)
        self.assertTrue(content.startswith(b"\xef\xbb\xbf"))
        self.assertEqual(
            [int(row[0]) for row in _csv_rows(content)[1:]], self.page_ids("response_list")
        )
        self.assertIn(".csv", download["Content-Disposition"])
        listing = self.client.get(reverse("export_list"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(listing, reverse("export_download", args=[job.pk]))
        self.client.force_login(self.outsider)
        for name in ("export_detail", "export_download"):
            self.assertEqual(self.client.get(reverse(name, args=[job.pk])).status_code, 404)
        self.assertNotContains(self.client.get(reverse("export_list")), f"/exports/{job.pk}/")

    def test_the_task_reads_in_the_owners_scope_when_it_runs(self):
        with mock.patch.object(services, "INLINE_ROWS", 0):
            self.export("responses", "", fmt="parquet", user=self.outsider, status=302)
        job = ExportJob.objects.get()
        services.run_job(job.pk)
        table = pq.read_table(services.job_path(ExportJob.objects.get()))
        self.assertEqual(table.column("Response id").to_pylist(), [self.r_hidden.pk])
        event = AuditEvent.objects.filter(action="export").latest("pk")
        self.assertEqual((event.actor, event.details["rows"]), ("outsider", 1))

    def test_a_download_is_a_read_of_the_export_in_the_audit_log(self):
        with mock.patch.object(services, "INLINE_ROWS", 0):
            self.export("customers", "", fmt="csv", status=302)
        job = ExportJob.objects.get()
        services.run_job(job.pk)
        self.client.get(reverse("export_download", args=[job.pk]))
        read = AuditEvent.objects.filter(action="read").latest("pk")
        self.assertEqual(
            (read.object_kind, read.object_id, read.actor), ("export", str(job.pk), "owner")
        )

    def test_a_failed_export_says_so_and_leaves_no_file(self):
        with mock.patch.object(services, "INLINE_ROWS", 0):
            self.export("responses", "", fmt="xlsx", status=302)
        job = ExportJob.objects.get()
        with mock.patch("cxloop.exports.services.write_table", side_effect=OSError("disk full")):
            services.run_job(job.pk)
        job.refresh_from_db()
        self.assertEqual(job.state, JobState.FAILED)
        # Its owner's words, not the library's: the error itself is in the server's log.
        self.assertNotIn("disk full", job.error)
        self.assertIn("server's log", job.error)
        self.assertEqual(list((Path(self.data_dir) / "exports").glob(f"{job.pk}-*")), [])
        page = self.client.get(reverse("export_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(page, "The export failed")

    def test_a_job_whose_worker_died_is_marked_failed_and_its_partial_file_removed(self):
        with mock.patch.object(services, "INLINE_ROWS", 0):
            self.export("responses", "", fmt="csv", status=302)
        job = ExportJob.objects.get()
        # A worker that claimed it and wrote part of the file, then was killed.
        job.state, job.file_name = JobState.RUNNING, "0123456789abcdef-responses.csv"
        job.progressed_at = timezone.now() - services.STALLED - dt.timedelta(seconds=1)
        job.save()
        partial = Path(f"{services.job_path(job)}.part")
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(b"Response id\n1\n")
        services.purge_expired()
        job.refresh_from_db()
        self.assertEqual(job.state, JobState.FAILED)
        self.assertIn("interrupted", job.error)
        self.assertFalse(partial.exists())


class AwkwardTextTests(ExportTestCase):
    def test_control_characters_are_left_out_of_xlsx_and_kept_in_csv(self):
        Customer.objects.filter(pk=self.acme.pk).update(name="Ac\x1bme\x07 =1+1")
        query = f"customer={self.acme.pk}"
        book = load_workbook(
            io.BytesIO(b"".join(self.export("responses", query, fmt="xlsx").streaming_content))
        )
        self.assertEqual({row[3].value for row in book.active.iter_rows(min_row=2)}, {"Acme =1+1"})
        rows = self.csv_of("responses", query)
        self.assertEqual({row[3] for row in rows[1:]}, {"Ac\x1bme\x07 =1+1"})

    def test_repeated_touchpoint_names_get_columns_of_their_own(self):
        from cxloop.journeys.models import Touchpoint

        Touchpoint.objects.filter(pk=self.kickoff.pk).update(name_en="Billing accuracy")
        table = pq.read_table(
            io.BytesIO(b"".join(self.export("responses", fmt="parquet").streaming_content))
        )
        names = table.column_names
        self.assertIn("Rating: Billing accuracy", names)
        self.assertIn("Rating: Billing accuracy (2)", names)
        self.assertEqual(len(names), len(set(names)))


class CommandTests(ExportTestCase):
    def test_the_command_writes_what_the_page_exports(self):
        out = Path(self.data_dir) / "command.csv"
        call_command(
            "export", "responses", "--user", "owner", "--filter", "channel=email", "-o", str(out)
        )
        exported = [int(row[0]) for row in _csv_rows(out.read_bytes())[1:]]
        self.assertEqual(exported, self.page_ids("response_list", "channel=email"))
        event = AuditEvent.objects.filter(action="export").latest("pk")
        self.assertEqual((event.actor, event.details["rows"]), ("owner", len(exported)))

    def test_the_command_refuses_a_bad_filter_or_user_naming_it(self):
        with translation.override("en"):
            with self.assertRaisesMessage(CommandError, "Team"):
                call_command("export", "responses", "--user", "owner", "--filter", "team=x")
            with self.assertRaisesMessage(CommandError, "--user"):
                call_command("export", "responses", "--user", "nobody")
            with self.assertRaisesMessage(CommandError, "NAME=VALUE"):
                call_command("export", "responses", "--user", "owner", "--filter", "team")


SOFFICE = shutil.which("soffice")


class SpreadsheetTests(ExportTestCase):
    """The formula check the way a user meets it: LibreOffice opens the exported XLSX."""

    def test_an_exported_formula_opens_as_text_in_libreoffice(self):
        if SOFFICE is None and not os.environ.get("CI"):
            self.skipTest("LibreOffice is not installed: apt-get install libreoffice-calc-nogui")
        Customer.objects.filter(pk=self.acme.pk).update(name=FORMULA)
        response = self.export("responses", f"customer={self.acme.pk}", fmt="xlsx")
        folder = Path(tempfile.mkdtemp(prefix="cxloop-soffice-", dir=self.data_dir))
        book = folder / "export.xlsx"
        book.write_bytes(b"".join(response.streaming_content))
        subprocess.run(
            [SOFFICE or "soffice", "--headless", f"-env:UserInstallation=file://{folder}/profile",
             "--convert-to", "csv", "--outdir", str(folder), str(book)],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        rows = _csv_rows((folder / "export.csv").read_bytes())
        self.assertEqual(rows[0][3], "Customer")
        # Run as a formula the cell would read "click"; as text it is the formula's words.
        self.assertEqual({row[3] for row in rows[1:]}, {"'" + FORMULA})
