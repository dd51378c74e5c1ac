"""The import pages in a real browser: the encoding is told and changed on the mapping page,
with no accessibility violation and nothing wrong in the console."""

import pytest
from django.test import override_settings

from cxloop.customers.models import Customer
from cxloop.people.models import Role, Team
from cxloop.test import BaseTestCase
from tests.front.test_insight_pages_browser import signed_in_page
from tests.imports.files import csv_bytes
from tests.surveys.test_respond_browser import axe_violations

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_tells_and_changes_the_encoding_in_a_browser(browser, live_server, tmp_path):
    BaseTestCase._user("lead", Team.objects.create(name="Firm"), Role.ADMIN)
    upload = tmp_path / "clients.csv"
    upload.write_bytes(
        csv_bytes([["external id", "name"], ["C-1", "Café Müller"]], encoding="latin-1")
    )
    with override_settings(MEDIA_ROOT=tmp_path / "media"):
        page = signed_in_page(browser, live_server.url, "en")
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(live_server.url + "/imports/")
        page.get_by_label("CSV or XLSX file").set_input_files(str(upload))
        page.get_by_role("button", name="Upload and map the columns").click()
        told = page.locator("#encoding")
        assert "Windows-1252 (Western European), detected automatically." in told.inner_text()
        assert "Café Müller" in page.locator("main table").inner_text()
        assert axe_violations(page) == []
        page.screenshot(path=str(tmp_path / "mapping.png"), full_page=True)

        page.get_by_label("Read the file as").select_option("cp1251")
        page.get_by_role("button", name="Read again").click()
        assert "Windows-1251 (Cyrillic)" in page.locator("#encoding").inner_text()
        assert "Cafй Mьller" in page.locator("main table").inner_text()
        page.get_by_label("Read the file as").select_option("utf-8")
        page.get_by_role("button", name="Read again").click()
        assert "cannot be read as UTF-8" in page.get_by_role("alert").first.inner_text()
        assert axe_violations(page) == []

        page.get_by_label("Read the file as").select_option("")
        page.get_by_role("button", name="Read again").click()
        page.get_by_role("button", name="Check the file").click()
        assert "Windows-1252 (Western European)" in page.locator("#encoding").inner_text()
        page.get_by_role("button", name="Import", exact=True).click()
        assert Customer.objects.get().name == "Café Müller"
        assert problems == []
