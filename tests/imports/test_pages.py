"""The import pages: upload → mapping → dry-run preview → import → result, for the CX lead only."""

import shutil
import tempfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from cxloop.customers.models import Customer
from cxloop.people.models import Employee, Role
from cxloop.surveys.models import Response
from cxloop.test import BaseTestCase
from tests.imports.files import csv_bytes, xlsx_bytes
from tests.surveys.test_respond import make_survey

CUSTOMERS = csv_bytes(
    [
        ["external id", "name", "tier", "annual value"],
        ["K-1", "Kama Steel", "strategic", "1200000"],
        ["V-2", "Volga Retail", "gold", "300000"],
        ["L-3", "Lena Gold", "small", "lots"],
    ],
    delimiter=";",
)
FEEDBACK = csv_bytes(
    [["id", "Would you recommend us?", "csat"], ["a", "9", "5"], ["b", "10", "0"], ["c", "3", ""]]
)


class ImportPagesTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        Employee.objects.filter(user=cls.owner).update(role=Role.ADMIN)  # the CX lead
        cls.survey = make_survey()
        cls.upload = reverse("import_upload")

    def setUp(self):
        media = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, media)
        self.enterContext(override_settings(MEDIA_ROOT=media))
        self.folder = media / "imports"
        self.client.force_login(self.owner)

    def _upload(self, data: bytes, name="customers.csv", **fields) -> str:
        form = {"kind": "customers", "file": SimpleUploadedFile(name, data), **fields}
        response = self.client.post(self.upload, form)
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        return response.url.split("/")[-3]

    def _map(self, token: str, form: dict):
        return self.client.post(reverse("import_mapping", args=[token]), form)

    def test_it_asks_for_sign_in(self):
        self.client.logout()
        self.assertRedirects(
            self.client.get(self.upload), reverse("login") + f"?next={self.upload}"
        )

    def test_it_lets_only_the_cx_lead_import(self):
        token = self._upload(CUSTOMERS)
        for user in (self.teammate, self.outsider):
            self.client.force_login(user)
            self.assertEqual(self.client.get(self.upload).status_code, 403)
            form = {"kind": "customers", "file": SimpleUploadedFile("c.csv", CUSTOMERS)}
            self.assertEqual(self.client.post(self.upload, form).status_code, 403)
            run = reverse("import_run", args=[token])
            self.assertEqual(self.client.post(run, {"valid_only": "1"}).status_code, 403)
        self.assertFalse(Customer.objects.exists())

    def test_it_keeps_one_users_import_from_another(self):
        token = self._upload(CUSTOMERS)
        other = self._user("lead2", self.team_b, Role.ADMIN)
        self.client.force_login(other)
        self.assertEqual(self.client.get(reverse("import_mapping", args=[token])).status_code, 404)

    def test_it_imports_customers_step_by_step(self):
        token = self._upload(CUSTOMERS)
        self.assertEqual(len(list(self.folder.iterdir())), 1)
        page = self.client.get(reverse("import_mapping", args=[token]))
        form = page.context["form"]
        prefilled = [form[f"target_{i}"].initial for i in range(4)]
        self.assertEqual(prefilled, ["external_id", "name", "tier", "annual_value"])
        self.assertContains(page, "Kama Steel")  # the first values of each column

        mapped = {"target_0": "external_id", "target_1": "name", "target_2": "tier"}
        mapped |= {"target_3": "annual_value"}
        preview_url = reverse("import_preview", args=[token])
        self.assertRedirects(self._map(token, mapped), preview_url)
        preview = self.client.get(preview_url)
        result = preview.context["result"]
        self.assertEqual((result.rows, result.new, result.invalid), (3, 1, 2))
        self.assertContains(preview, "<code>gold</code>", html=True)
        self.assertContains(preview, "lots")
        self.assertContains(preview, 'name="valid_only"')
        self.assertFalse(Customer.objects.exists())  # a preview writes nothing

        run = reverse("import_run", args=[token])
        refused = self.client.post(run, follow=True)
        self.assertFalse(refused.context["result"].written)
        self.assertFalse(Customer.objects.exists())
        self.assertTrue(any(self.folder.iterdir()))  # kept, to import the valid rows

        done = self.client.post(run, {"valid_only": "1"}, follow=True)
        self.assertTrue(done.context["result"].written)
        self.assertEqual(list(Customer.objects.values_list("external_id", flat=True)), ["K-1"])
        self.assertFalse(any(self.folder.iterdir()))  # deleted after the import
        self.client.post(run, {"valid_only": "1"})  # sent twice: imported once
        self.assertEqual(Customer.objects.count(), 1)

    def test_it_imports_feedback_with_values_meaning_no_answer(self):
        token = self._upload(FEEDBACK, "answers.csv", kind="feedback", survey=self.survey.pk)
        page = self.client.get(reverse("import_mapping", args=[token]))
        prefilled = [page.context["form"][f"target_{i}"].initial for i in range(3)]
        self.assertEqual(prefilled, ["source_key", "question:1", ""])
        form = {"target_0": "source_key", "target_1": "question:1", "target_2": "question:2"}
        self._map(token, form | {"none_2": " 0, n/a "})
        self.client.post(reverse("import_run", args=[token]))
        result = self.client.get(reverse("import_result", args=[token])).context["result"]
        self.assertEqual((result.new, result.invalid, result.written), (3, 0, True))
        answers = Response.objects.get(source_key="b").answers
        self.assertEqual(list(answers.values_list("question__order", "score")), [(1, 10)])

    def test_it_names_what_the_mapping_lacks(self):
        token = self._upload(FEEDBACK, "answers.csv", kind="feedback", survey=self.survey.pk)
        form = {"target_0": "source_key", "target_2": "question:2"}
        url = reverse("import_mapping", args=[token])
        response = self.client.post(url, form, headers={"accept-language": "en"})
        self.assertContains(response, "Question 1 is required: map a column to it.")

    def test_it_explains_a_file_it_cannot_read(self):
        form = {"kind": "customers", "file": SimpleUploadedFile("c.xlsx", b"PK\x03\x04 no")}
        response = self.client.post(self.upload, form)
        self.assertEqual(response.status_code, 200)
        self.assertIn("XLSX", response.context["form"].errors["file"][0])
        form = {"kind": "feedback", "file": SimpleUploadedFile("f.csv", FEEDBACK)}
        response = self.client.post(self.upload, form)
        self.assertIn("survey", response.context["form"].errors)
        self.assertFalse(self.folder.exists() and any(self.folder.iterdir()))

    def test_it_reads_a_named_sheet(self):
        data = xlsx_bytes({"Notes": [["x"]], "Clients": [["external id", "name"], ["Z", "Zeta"]]})
        token = self._upload(data, "clients.xlsx", sheet="Clients")
        self._map(token, {"target_0": "external_id", "target_1": "name"})
        self.client.post(reverse("import_run", args=[token]))
        self.assertEqual(Customer.objects.get().name, "Zeta")
