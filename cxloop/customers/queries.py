"""Read side of customers: the only road other apps take to customer records."""

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection
from django.db.models import Case, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from cxloop.customers.models import Contact, Customer, Segment, SegmentKind, Tier
from cxloop.customers.rules import rule_q
from cxloop.search import contains_text


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


def customers_of_teams(team_ids: list[int] | None) -> QuerySet[Customer]:
    """Customers whose relationship owner is in ``team_ids`` (None: every customer), by name:
    the customers a user may pick when recording feedback."""
    customers = Customer.objects.order_by("name")
    return customers if team_ids is None else customers.filter(owner__team_id__in=team_ids)


@dataclass(frozen=True)
class OwnerTeams:
    """The team of a customer's relationship owner and every team above it."""

    team_id: int
    with_parents: frozenset[int]


# Walks up from the owner's team in one statement: the submission path (decision 004) affords
# one cheap look-up for its scope check, not a read of the whole hierarchy. UNION, not UNION
# ALL, so that a cycle of parents (which only one-step constraints forbid) still ends.
_OWNER_TEAMS = """
    WITH RECURSIVE up(team_id, owner_team_id) AS (
        SELECT e.team_id, e.team_id FROM {customer} c JOIN {employee} e ON e.id = c.owner_id
        WHERE c.id = %s
        UNION
        SELECT t.parent_id, up.owner_team_id FROM {team} t JOIN up ON t.id = up.team_id
        WHERE t.parent_id IS NOT NULL
    )
    SELECT team_id, owner_team_id FROM up
"""


def owner_teams(customer_id: int) -> OwnerTeams | None:
    """The teams that answer for customer ``customer_id``: its owner's team and those above
    it; None when the customer has no owner (or does not exist)."""
    employee = Customer._meta.get_field("owner").related_model
    team = employee._meta.get_field("team").related_model
    sql = _OWNER_TEAMS.format(
        customer=Customer._meta.db_table,
        employee=employee._meta.db_table,
        team=team._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [customer_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    return OwnerTeams(team_id=rows[0][1], with_parents=frozenset(row[0] for row in rows))


def customer_by_external_id(external_id: str) -> Customer | None:
    return Customer.objects.filter(external_id=external_id).first()


def contacts_with_email(email: str, *, customer: Customer | None = None) -> QuerySet[Contact]:
    """Contacts with ``email`` in any letter case, of ``customer`` only unless None (one address
    may belong to several customers). Both sides in the database's LOWER, which the index
    ``contact_email_lower`` answers (``email__iexact`` read every contact: a LIKE on SQLite,
    UPPER on PostgreSQL)."""
    contacts = (
        Contact.objects.select_related("customer")
        .alias(address=Lower("email"))
        .filter(address=Lower(Value(email)))
    )
    return contacts if customer is None else contacts.filter(customer=customer)


def customer_ids_by_external_id(external_ids: Collection[str]) -> dict[str, int]:
    """The ids of the customers with ``external_ids``, by external id; those of none are left
    out. Hand-written, as :func:`contacts_by_lower_email`: a batch's 1,000 look-ups."""
    meta, quote = Customer._meta, connection.ops.quote_name
    column = quote(meta.get_field("external_id").column)
    sql = f"SELECT {column}, {quote(meta.pk.column)} FROM {quote(meta.db_table)} WHERE {column}"
    found = {}
    with connection.cursor() as cursor:
        for condition, params in _in_list(external_ids):
            cursor.execute(f"{sql} {condition}", params)
            found.update(cursor.fetchall())
    return found


class EmailContact(NamedTuple):
    """A contact as a batch of submissions reads it: found by its address in lower case."""

    address: str  # the e-mail in the database's LOWER (ASCII letters only, on SQLite)
    pk: int
    customer_id: int
    language: str


def contacts_by_lower_email(addresses: Collection[str]) -> list[EmailContact]:
    """The contacts whose e-mail in lower case (the database's LOWER) is one of ``addresses``
    (given in lower case), through the index ``contact_email_lower``. Hand-written: the ORM
    spent 10 ms of a 1,000-item batch preparing the values of its ``IN`` against
    ``Lower("email")`` (profiled), and without the index each look-up read every contact."""
    meta, quote = Contact._meta, connection.ops.quote_name
    email = f"LOWER({quote(meta.get_field('email').column)})"
    columns = [quote(meta.pk.column)] + [
        quote(meta.get_field(name).column) for name in ("customer", "language")
    ]
    sql = f"SELECT {email}, {', '.join(columns)} FROM {quote(meta.db_table)} WHERE {email}"
    found = []
    with connection.cursor() as cursor:
        for condition, params in _in_list(addresses):
            cursor.execute(f"{sql} {condition}", params)
            found.extend(EmailContact(*row) for row in cursor.fetchall())
    return found


def _in_list(values: Collection[str], size: int = 500) -> Iterator[tuple[str, list]]:
    """``values`` as the condition of a column that is one of them: (its SQL, its parameters).
    PostgreSQL takes them as one array (psycopg parses the text of a statement with many
    parameters anew each time); SQLite ``size`` at a time (before 3.32 it took at most 999
    parameters a statement)."""
    if not values:
        return
    if connection.vendor == "postgresql":
        yield "= ANY(%s::text[])", [sorted(values)]
        return
    ordered = sorted(values)
    for start in range(0, len(ordered), size):
        part = ordered[start : start + size]
        yield f"IN ({', '.join(['%s'] * len(part))})", part


def customer_names(ids: list[int]) -> dict[int, str]:
    return dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))


def segment_by_id(pk: int) -> Segment | None:
    return Segment.objects.filter(pk=pk).first()


CUSTOMER_ORDERS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "value": ("annual_value", "name", "pk"),
    "-value": ("-annual_value", "name", "pk"),
    "tier": ("tier_rank", "name", "pk"),
}


def customer_directory(
    team_ids: list[int] | None,
    *,
    search: str = "",
    segment: Segment | None = None,
    tier: str = "",
    owner_team_ids: list[int] | None = None,
    owner_id: int | None = None,
    order: str = "name",
) -> QuerySet[Customer]:
    """Customers owned by ``team_ids`` (None: all, those without an owner too), with their
    owner and the owner's team, narrowed by the filters and sorted by ``order`` (a key of
    :data:`CUSTOMER_ORDERS`). ``search`` finds a customer by its name, or by the name or
    e-mail of one of its contacts, in any letter case of any alphabet."""
    customers = Customer.objects.select_related("owner__user", "owner__team")
    if team_ids is not None:
        customers = customers.filter(owner__team_id__in=team_ids)
    if search:
        contacts = contains_text(Contact.objects.all(), search, "name", "email")
        named = contains_text(Customer.objects.all(), search, "name")
        customers = customers.filter(
            Q(pk__in=named.values("pk")) | Q(pk__in=contacts.values("customer_id"))
        )
    if segment is not None:
        customers = customers.filter(pk__in=segment_customers(segment).values("pk"))
    if tier:
        customers = customers.filter(tier=tier)
    if owner_team_ids is not None:
        customers = customers.filter(owner__team_id__in=owner_team_ids)
    if owner_id is not None:
        customers = customers.filter(owner_id=owner_id)
    if order == "tier":
        ranks = [When(tier=value, then=Value(rank)) for rank, value in enumerate(Tier.values)]
        customers = customers.annotate(tier_rank=Case(*ranks, default=Value(len(ranks))))
    return customers.order_by(*CUSTOMER_ORDERS.get(order, CUSTOMER_ORDERS["name"]))


def customer_owners(team_ids: list[int] | None) -> list[tuple[int, str]]:
    """(employee id, name) of everyone who owns a customer of ``team_ids`` (None: all), by
    name: the choices of the customer list's owner filter."""
    customers = Customer.objects.exclude(owner=None)
    if team_ids is not None:
        customers = customers.filter(owner__team_id__in=team_ids)
    rows = customers.values_list(
        "owner_id", "owner__user__first_name", "owner__user__last_name", "owner__user__username"
    ).distinct()
    owners = {pk: f"{first} {last}".strip() or login for pk, first, last, login in rows}
    return sorted(owners.items(), key=lambda item: item[1])


def visible_customer(team_ids: list[int] | None, pk: int) -> Customer:
    """The customer ``pk`` with its owner, the owner's team and its contacts; Http404 when
    there is none or ``team_ids`` (None: all) may not see it."""
    customers = Customer.objects.select_related("owner__user", "owner__team").prefetch_related(
        "contacts"
    )
    if team_ids is not None:
        customers = customers.filter(owner__team_id__in=team_ids)
    return get_object_or_404(customers, pk=pk)


def visible_contact(team_ids: list[int] | None, pk: int) -> Contact:
    """The contact ``pk`` with its customer; Http404 when there is none or ``team_ids`` (None:
    all) may not see its customer."""
    contacts = Contact.objects.select_related("customer__owner__user", "customer__owner__team")
    if team_ids is not None:
        contacts = contacts.filter(customer__owner__team_id__in=team_ids)
    return get_object_or_404(contacts, pk=pk)


def segments_of(customer: Customer) -> list[Segment]:
    """The segments ``customer`` is in now: one membership test per segment (a handful)."""
    return [
        segment
        for segment in Segment.objects.all()
        if segment_customers(segment).filter(pk=customer.pk).exists()
    ]
