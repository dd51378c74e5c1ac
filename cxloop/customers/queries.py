"""Read side of customers: the only road other apps take to customer records."""

from django.db.models import QuerySet

from cxloop.customers.models import Contact, Customer, Segment, SegmentKind
from cxloop.customers.rules import rule_q


def segment_customers(segment: Segment) -> QuerySet[Customer]:
    """The customers in ``segment`` now: its rule applied, or its hand-picked members."""
    if segment.kind == SegmentKind.MANUAL:
        return segment.members.all()
    return Customer.objects.filter(rule_q(segment.rule))


def target_segments() -> QuerySet[Segment]:
    return Segment.objects.filter(is_target=True)


def segment_contacts(segment: Segment) -> QuerySet[Contact]:
    return Contact.objects.filter(customer__in=segment_customers(segment)).order_by("pk")


def contacts_by_email(emails: list[str]) -> dict[str, list[Contact]]:
    """Contacts keyed by lower-cased e-mail (one address may belong to several customers)."""
    found: dict[str, list[Contact]] = {}
    for contact in Contact.objects.filter(email__in={e.lower() for e in emails} | set(emails)):
        found.setdefault(contact.email.lower(), []).append(contact)
    return found


def all_segments() -> QuerySet[Segment]:
    return Segment.objects.all()


def all_customers() -> QuerySet[Customer]:
    return Customer.objects.order_by("name")


def customer_by_external_id(external_id: str) -> Customer | None:
    return Customer.objects.filter(external_id=external_id).first()


def contacts_with_email(email: str, *, customer: Customer | None = None) -> QuerySet[Contact]:
    """Contacts with ``email`` in any letter case, of ``customer`` only unless None (one address
    may belong to several customers)."""
    contacts = Contact.objects.select_related("customer").filter(email__iexact=email)
    return contacts if customer is None else contacts.filter(customer=customer)


def customer_names(ids: list[int]) -> dict[int, str]:
    return dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))
