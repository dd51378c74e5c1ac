"""Statements prepared before the transaction that runs them (cxloop.rows): the rows come out as
the ORM would write them, and a prepared UPDATE gives back only the rows it changed."""

from decimal import Decimal

from django.db import transaction
from django.test import TestCase

from cxloop import rows
from cxloop.customers.models import Customer


class PreparedStatementTests(TestCase):
    def test_an_insert_built_before_its_transaction_writes_what_the_orm_would(self):
        statement = rows.inserting(
            [
                Customer(external_id="a", name="Альфа", annual_value=Decimal("1200.50")),
                Customer(external_id="b", name="Бета", attributes={"region": "Урал"}),
            ]
        )
        self.assertEqual(Customer.objects.count(), 0)  # built, not run
        with transaction.atomic():
            rows.run(statement)
        alpha, beta = Customer.objects.order_by("external_id")
        self.assertEqual((alpha.name, alpha.annual_value), ("Альфа", Decimal("1200.50")))
        self.assertEqual((beta.attributes, beta.tier), ({"region": "Урал"}, "standard"))
        self.assertIsNotNone(alpha.created_at)  # auto_now_add, as save() sets it

    def test_a_prepared_update_gives_back_the_rows_it_changed_and_no_others(self):
        first = Customer.objects.create(external_id="a", name="old")
        second = Customer.objects.create(external_id="b", name="old")
        Customer.objects.create(external_id="c", name="old")
        wanted = Customer.objects.filter(pk__in=[first.pk, second.pk], name="old")
        statement = rows.updating(wanted, name="new")
        # Another writer changes one of them between the statement's building and its run.
        Customer.objects.filter(pk=second.pk).update(name="taken")
        with transaction.atomic():
            changed = rows.run_returning(statement, "id")
        self.assertEqual(changed, [first.pk])
        self.assertEqual(
            dict(Customer.objects.values_list("external_id", "name")),
            {"a": "new", "b": "taken", "c": "old"},
        )
