"""Write side of customers."""

import datetime as dt

from cxloop.customers.models import Contact


def opt_out(contact: Contact, *, now: dt.datetime) -> None:
    """Record that ``contact`` wants no more surveys (the first time they said so is kept)."""
    Contact.objects.filter(pk=contact.pk, opted_out_at=None).update(opted_out_at=now)
