"""Write side of customers."""

import datetime as dt
from collections.abc import Sequence

from django.db import transaction

from cxloop.customers.models import Contact, Customer


def opt_out(contact: Contact, *, now: dt.datetime) -> None:
    """Record that ``contact`` wants no more surveys (the first time they said so is kept)."""
    Contact.objects.filter(pk=contact.pk, opted_out_at=None).update(opted_out_at=now)


def save_customers(
    customers: Sequence[Customer],
    contacts: Sequence[Contact],
    *,
    customer_fields: Sequence[str],
    contact_fields: Sequence[str],
) -> None:
    """Store customers and contacts made or changed in memory (by an import), in one
    transaction: those without a primary key are created; of the others only ``*_fields`` are
    written, so that what the import does not touch (an opt-out, say) is never overwritten. A new
    contact's customer may itself be one of the new ``customers``."""
    with transaction.atomic():
        for model, objects, fields in (
            (Customer, customers, customer_fields),
            (Contact, contacts, contact_fields),
        ):
            changed = [obj for obj in objects if obj.pk is not None]
            model.objects.bulk_create([obj for obj in objects if obj.pk is None], batch_size=500)
            if changed and fields:
                model.objects.bulk_update(changed, fields, batch_size=500)
