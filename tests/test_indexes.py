"""Indexes the submission path and the fact store rely on, and the look-ups a batch of
submissions makes through them (issue #15)."""

from django.db import connection, transaction

from cxloop.customers.models import Contact, Customer
from cxloop.customers.queries import (
    EmailContact,
    contacts_by_lower_email,
    contacts_with_email,
    customer_ids_by_external_id,
)
from cxloop.test import BaseTestCase


def index_columns(table: str) -> list[list[str]]:
    """The columns of each index (unique ones included) of ``table``."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return [c["columns"] for c in found.values() if c["index"] or c["unique"]]


class IndexTests(BaseTestCase):
    def test_answers_are_found_by_their_response_through_an_index_that_begins_with_it(self):
        columns = index_columns("surveys_answer")
        # The fact store reads a month's answers by a range of response ids, and every read
        # of a response's answers goes by its id: (response, question) serves them all…
        self.assertIn(["response_id", "question_id"], columns)
        # …so the column has no index of its own to keep up on each INSERT.
        self.assertNotIn(["response_id"], columns)

    def test_responses_are_found_by_their_survey_through_an_index_that_begins_with_it(self):
        columns = index_columns("surveys_response")
        self.assertIn(["survey_id", "submitted_at"], columns)
        self.assertNotIn(["survey_id"], columns)

    def test_a_contact_is_found_by_its_e_mail_in_any_case_through_an_index(self):
        customer = Customer.objects.create(external_id="C-1", name="Acme")
        contact = Contact.objects.create(customer=customer, name="Ann", email="Ann@Acme.example")
        self.assertEqual(list(contacts_with_email("ANN@acme.EXAMPLE")), [contact])
        self.assertEqual(
            contacts_by_lower_email({"ann@acme.example"}),
            [EmailContact("ann@acme.example", contact.pk, customer.pk, contact.language)],
        )
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # A table this small is read whole unless told otherwise.
                cursor.execute("SET LOCAL enable_seqscan = off")
            plan = str(contacts_with_email("ann@acme.example").explain())
        self.assertIn("contact_email_lower", plan)

    def test_a_batch_s_look_ups_find_more_than_one_statement_holds(self):
        customers = Customer.objects.bulk_create(
            Customer(external_id=f"C-{n}", name=f"Customer {n}") for n in range(1200)
        )
        Contact.objects.bulk_create(
            Contact(customer=c, name="Ann", email=f"Ann.{n}@acme.example")
            for n, c in enumerate(customers)
        )
        wanted = {f"C-{n}" for n in range(1200)} | {"C-none"}
        found = customer_ids_by_external_id(wanted)
        self.assertEqual(found, {c.external_id: c.pk for c in customers})
        addresses = {f"ann.{n}@acme.example" for n in range(1200)} | {"nobody@acme.example"}
        contacts = contacts_by_lower_email(addresses)
        self.assertEqual(len(contacts), 1200)
        self.assertEqual({c.address for c in contacts}, addresses - {"nobody@acme.example"})
        self.assertEqual(customer_ids_by_external_id(set()), {})
        self.assertEqual(contacts_by_lower_email(set()), [])
