"""Customers and contacts from a file: created, then updated by external id; contacts matched
by customer and e-mail; every bad cell named."""

from decimal import Decimal

from django.utils import translation

from cxloop.customers.models import Contact, Customer
from cxloop.feedback.imports import (
    CustomersKind,
    ImportMapping,
    Mode,
    RowError,
    guess_mapping,
    read_table,
    run_import,
)
from cxloop.test import BaseTestCase
from tests.imports.files import csv_bytes, xlsx_bytes

HEADER = ["Client ID", "Company", "Tier", "Annual value", "Region", "Contact", "E-mail", "Consent"]
ROWS = [
    ["K-1", "Kama Steel", "strategic", "1 200 000,50", "Kazan", "Ilya", "ilya@kama.example", "yes"],
    ["K-1", "Kama Steel", "strategic", "1 200 000,50", "Kazan", "Olga", "olga@kama.example", "no"],
    ["V-2", "Volga Retail", "key", "300000", "", "", "", ""],
]
MAPPING = {
    "columns": {
        "Client ID": "external_id",
        "Company": "name",
        "Tier": "tier",
        "Annual value": "annual_value",
        "Region": "attribute:region",
        "Contact": "contact_name",
        "E-mail": "contact_email",
        "Consent": "contact_consent",
    }
}


class CustomerImportTests(BaseTestCase):
    def setUp(self):
        self.enterContext(translation.override("en"))  # the reasons as written in the code

    def _run(self, rows, mode=Mode.ALL_OR_NOTHING, mapping=MAPPING):
        table = read_table(csv_bytes([HEADER, *rows], delimiter=";"), "customers.csv")
        return run_import(table, ImportMapping.from_dict(mapping), CustomersKind(), mode=mode)

    def test_it_creates_customers_with_their_contacts(self):
        result = self._run(ROWS)
        self.assertEqual((result.new, result.updated, result.invalid), (3, 0, 0))
        kama = Customer.objects.get(external_id="K-1")
        self.assertEqual(
            (kama.name, kama.tier, kama.annual_value, kama.attributes),
            ("Kama Steel", "strategic", Decimal("1200000.50"), {"region": "Kazan"}),
        )
        self.assertEqual(
            list(kama.contacts.order_by("name").values_list("name", "email", "consent")),
            [("Ilya", "ilya@kama.example", True), ("Olga", "olga@kama.example", False)],
        )
        self.assertEqual(Customer.objects.get(external_id="V-2").contacts.count(), 0)

    def test_it_updates_by_external_id_and_changes_nothing_the_second_time(self):
        self._run(ROWS)
        Contact.objects.filter(email="olga@kama.example").update(opted_out_at="2026-01-01T00:00Z")
        changed = [
            [*ROWS[0][:2], "key", *ROWS[0][3:]],
            [*ROWS[1][:2], "key", *ROWS[1][3:5], "Olga Petrova", "OLGA@kama.example", "no"],
            ROWS[2],
        ]
        result = self._run(changed)
        self.assertEqual((result.new, result.updated, result.unchanged), (0, 2, 1))
        self.assertEqual(Customer.objects.count(), 2)
        self.assertEqual(Customer.objects.get(external_id="K-1").tier, "key")
        olga = Contact.objects.get(name="Olga Petrova")
        self.assertIsNotNone(olga.opted_out_at)  # what the file does not hold is kept
        self.assertEqual(Contact.objects.count(), 2)
        before = list(Customer.objects.order_by("pk").values()), list(Contact.objects.values())
        again = self._run(changed)
        self.assertEqual((again.new, again.updated, again.unchanged), (0, 0, 3))
        after = list(Customer.objects.order_by("pk").values()), list(Contact.objects.values())
        self.assertEqual(after, before)

    def test_it_names_a_bad_value_and_an_unknown_tier_and_writes_nothing(self):
        rows = [
            ROWS[0],
            ["V-2", "Volga Retail", "platinum", "-5", "", "Anna", "anna(at)volga", "maybe"],
            ["", "Nameless", "", "", "", "", "", ""],
        ]
        result = self._run(rows)
        self.assertEqual(
            result.errors,
            (
                RowError(3, "Annual value", "-5", result.errors[0].reason),
                RowError(3, "Consent", "maybe", "expected yes or no (1 or 0, true or false)"),
                RowError(3, "E-mail", "anna(at)volga", "expected an e-mail address"),
                RowError(3, "Tier", "platinum", "expected one of strategic, key, standard, small"),
                RowError(4, "Client ID", "", "the external id is required"),
            ),
        )
        self.assertIn("at least 0", result.errors[0].reason)
        self.assertFalse(result.written)
        self.assertFalse(Customer.objects.exists())
        valid = self._run(rows, mode=Mode.VALID_ONLY)
        self.assertEqual((valid.new, valid.invalid, valid.written), (1, 2, True))
        self.assertEqual(list(Customer.objects.values_list("external_id", flat=True)), ["K-1"])

    def test_it_names_rows_that_disagree_about_one_customer(self):
        rows = [ROWS[0], [*ROWS[1][:2], "small", *ROWS[1][3:]]]
        result = self._run(rows)
        self.assertEqual(
            result.errors,
            (RowError(3, "Tier", "small", "row 2 gives strategic for the same record"),),
        )
        self.assertFalse(Customer.objects.exists())

    def test_it_asks_for_the_name_of_a_new_customer_and_the_e_mail_of_a_contact(self):
        rows = [["N-1", "", "", "", "", "", "", ""], ["N-2", "New", "", "", "", "Ivan", "", ""]]
        result = self._run(rows)
        self.assertEqual(
            [(e.row, e.column, e.reason) for e in result.errors],
            [
                (2, "Company", "a new customer needs a name"),
                (3, "E-mail", "a contact needs an e-mail, by which it is matched"),
            ],
        )

    def test_it_maps_columns_by_their_header_names(self):
        table = read_table(csv_bytes([HEADER, *ROWS]), "customers.csv")
        guessed = {c.column: c.target for c in guess_mapping(table, CustomersKind()).columns}
        expected = {k: v for k, v in MAPPING["columns"].items() if k != "Region"}
        self.assertEqual(guessed, expected)

    def test_it_reads_customers_from_a_workbook(self):
        data = xlsx_bytes({"Clients": [HEADER[:4], ["X-9", "Xenon", "small", 1500.5]]})
        table = read_table(data, "clients.xlsx")
        mapping = {"columns": {k: v for k, v in list(MAPPING["columns"].items())[:4]}}
        result = run_import(
            table, ImportMapping.from_dict(mapping), CustomersKind(), mode=Mode.ALL_OR_NOTHING
        )
        self.assertEqual(result.new, 1)
        self.assertEqual(Customer.objects.get().annual_value, Decimal("1500.50"))
