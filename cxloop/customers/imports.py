"""Customers and contacts from a spreadsheet: the fields a row may fill, the checks on each cell
and across rows, and the plan of what would change, which :func:`save_plan` stores through
``services.save_customers``.

Idempotent by external id: a customer is matched on ``Customer.external_id``, a contact on its
customer and e-mail (letter case ignored), and a blank cell changes nothing. So importing the same
file twice changes nothing the second time. The file reading, the column mapping and the modes
(dry run, all or nothing, valid rows only) are the import engine's, in ``cxloop.feedback.imports``.
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import TextChoices
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from cxloop.customers.models import Contact, Customer, Language, Lifecycle, Tier
from cxloop.customers.services import save_customers
from cxloop.lib.params import MSG_MONEY, ParamError, parse_money

ATTRIBUTE = "attribute:"  # a target "attribute:region" fills Customer.attributes["region"]
CUSTOMER_FIELDS = (
    "external_id",
    "name",
    "annual_value",
    "currency",
    "tier",
    "industry",
    "lifecycle_stage",
)
# Import target → Contact field.
CONTACT_FIELDS = {
    "contact_name": "name",
    "contact_email": "email",
    "contact_phone": "phone",
    "contact_job_title": "job_title",
    "contact_language": "language",
    "contact_consent": "consent",
}
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "да", "д"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "нет", "н"})
CHUNK = 900  # ids per IN (…) query: below SQLite's smallest limit on query parameters


def targets() -> dict[str, str]:
    """Import target → label in the active language (attributes aside)."""
    labels = {
        name: f"{Customer._meta.verbose_name}: {Customer._meta.get_field(name).verbose_name}"
        for name in CUSTOMER_FIELDS
    }
    for target, name in CONTACT_FIELDS.items():
        labels[target] = (
            f"{Contact._meta.verbose_name}: {Contact._meta.get_field(name).verbose_name}"
        )
    return labels


@dataclass(frozen=True)
class CellProblem:
    """A value that does not fit, named by the import target (the engine names the column)."""

    row: int
    target: str
    value: str
    reason: str


@dataclass(frozen=True)
class CustomerRow:
    """One valid row: the customer fields it gives (blank cells left out), its custom
    attributes and the fields of the contact it gives (empty when none)."""

    row: int
    external_id: str
    customer: Mapping[str, object]
    attributes: Mapping[str, str]
    contact: Mapping[str, object]
    raw: Mapping[str, str]  # target → the cell as written, for error reports


def _text(max_length: int) -> Callable[[str], str]:
    def clean(raw: str) -> str:
        if len(raw) > max_length:
            raise ValueError(_("longer than %(n)s characters") % {"n": max_length})
        return raw

    return clean


def _money(raw: str) -> Decimal:
    """An amount as people write it (1 200 000,50 or 1,200,000.50) that fits
    ``Customer.annual_value``, checked by ``cxloop.lib.params`` against the column's digits
    (never by arithmetic, which a value such as 1e26 overflows)."""
    column = Customer._meta.get_field("annual_value")
    text = re.sub(r"[\s\u00a0\u202f']", "", raw)
    if "," in text and "." in text:
        text = text.replace(",", "")  # 1,200,000.50
    elif text.count(",") == 1:
        text = text.replace(",", ".")  # 1200000,50
    try:
        amount = parse_money(
            "annual_value",
            text,
            max_digits=column.max_digits,
            decimal_places=column.decimal_places,
        )
    except ParamError as error:
        raise ValueError(_(error.template) % error.params) from None
    except ArithmeticError:  # decimal.Overflow from normalize() on 1E+999999999
        raise ValueError(
            _(MSG_MONEY)
            % {"whole": column.max_digits - column.decimal_places, "places": column.decimal_places}
        ) from None
    return abs(amount)  # "-0" is 0


def _currency(raw: str) -> str:
    code = raw.upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(_("expected a three-letter ISO 4217 code such as RUB or EUR"))
    return code


def _choice(choices: type[TextChoices]) -> Callable[[str], str]:
    def clean(raw: str) -> str:
        by_word = {value: value for value in choices.values}
        by_word |= {str(label).lower(): value for value, label in choices.choices}
        if raw.lower() not in by_word:
            raise ValueError(
                _("expected one of %(values)s") % {"values": ", ".join(choices.values)}
            )
        return by_word[raw.lower()]

    return clean


def _email(raw: str) -> str:
    try:
        validate_email(raw)
    except ValidationError:
        raise ValueError(_("expected an e-mail address")) from None
    return _text(Contact._meta.get_field("email").max_length)(raw)


def _yes_no(raw: str) -> bool:
    if raw.lower() in TRUE_WORDS:
        return True
    if raw.lower() in FALSE_WORDS:
        return False
    raise ValueError(_("expected yes or no (1 or 0, true or false)"))


CLEANERS: dict[str, Callable[[str], object]] = {
    "external_id": _text(100),
    "name": _text(300),
    "annual_value": _money,
    "currency": _currency,
    "tier": _choice(Tier),
    "industry": _text(100),
    "lifecycle_stage": _choice(Lifecycle),
    "contact_name": _text(200),
    "contact_email": _email,
    "contact_phone": _text(40),
    "contact_job_title": _text(200),
    "contact_language": _choice(Language),
    "contact_consent": _yes_no,
}


def clean_row(row: int, cells: Mapping[str, str]) -> tuple[CustomerRow | None, list[CellProblem]]:
    """The row's cells (target → text, blank for no value) as a :class:`CustomerRow`, or the
    problems of every cell that does not fit."""
    cleaned, attributes, problems = {}, {}, []
    for target, raw in cells.items():
        if not raw:
            continue
        if target.startswith(ATTRIBUTE):
            attributes[target.removeprefix(ATTRIBUTE)] = raw
            continue
        try:
            cleaned[target] = CLEANERS[target](raw)
        except ValueError as error:
            problems.append(CellProblem(row, target, raw, str(error)))
    if "external_id" not in cleaned and not any(p.target == "external_id" for p in problems):
        problems.append(CellProblem(row, "external_id", "", _("the external id is required")))
    contact = {CONTACT_FIELDS[t]: v for t, v in cleaned.items() if t in CONTACT_FIELDS}
    contact_problem = any(p.target in CONTACT_FIELDS for p in problems)
    if contact and "email" not in contact and not contact_problem:
        problems.append(
            CellProblem(
                row, "contact_email", "", _("a contact needs an e-mail, by which it is matched")
            )
        )
    if problems:
        return None, problems
    customer = {t: v for t, v in cleaned.items() if t in CUSTOMER_FIELDS and t != "external_id"}
    return CustomerRow(row, cleaned["external_id"], customer, attributes, contact, cells), []


def customers_by_external_id(external_ids: Iterable[str]) -> dict[str, Customer]:
    ids, found = sorted(set(external_ids)), {}
    for start in range(0, len(ids), CHUNK):
        for customer in Customer.objects.filter(external_id__in=ids[start : start + CHUNK]):
            found[customer.external_id] = customer
    return found


def contacts_by_email(emails: Iterable[str]) -> dict[str, list[Contact]]:
    """Contacts keyed by lower-cased e-mail, matched whatever the letter case on either side
    (one address may belong to contacts of several customers)."""
    lowered, found = sorted({e.lower() for e in emails}), {}
    for start in range(0, len(lowered), CHUNK):
        chunk = lowered[start : start + CHUNK]
        for contact in Contact.objects.annotate(address=Lower("email")).filter(address__in=chunk):
            found.setdefault(contact.address, []).append(contact)
    return found


def _contacts_of(customers: Iterable[Customer]) -> dict[tuple[str, str], Contact]:
    by_id = {c.pk: c for c in customers}
    ids, found = sorted(by_id), {}
    for start in range(0, len(ids), CHUNK):
        for contact in Contact.objects.filter(customer_id__in=ids[start : start + CHUNK]):
            if contact.email:
                contact.customer = by_id[contact.customer_id]
                found[(contact.customer.external_id, contact.email.lower())] = contact
    return found


@dataclass(frozen=True)
class CustomerPlan:
    """What importing the rows would do: each row's status ("new", "updated", "unchanged"),
    the problems found across rows, and the customers and contacts to store."""

    status: Mapping[int, str]
    problems: tuple[CellProblem, ...]
    customers: tuple[Customer, ...] = ()
    contacts: tuple[Contact, ...] = ()


@dataclass
class _Planner:
    """Applies the rows in order to in-memory copies of the stored records, remembering which
    row gave each value, so that two rows that disagree about one record are reported."""

    customers: dict[str, Customer]
    contacts: dict[tuple[str, str], Contact]
    named: set  # records some row gives a name to: a new record needs one
    given: dict = field(default_factory=dict)  # (record key, field) → (row, value)
    touched: dict = field(default_factory=dict)  # id(record) → record, new or changed
    problems: list = field(default_factory=list)

    def apply(self, row: CustomerRow) -> str | None:
        problems = self._conflicts(row)
        customer = self.customers.get(row.external_id)
        contact_key = (row.external_id, str(row.contact.get("email", "")).lower())
        contact = self.contacts.get(contact_key) if row.contact else None
        if customer is None and row.external_id not in self.named:
            problems.append(self._missing_name(row, "name", _("a new customer needs a name")))
        if row.contact and contact is None and contact_key not in self.named:
            problems.append(
                self._missing_name(row, "contact_name", _("a new contact needs a full name"))
            )
        if problems:
            self.problems += problems
            return None
        created = customer is None or (bool(row.contact) and contact is None)
        if customer is None:
            customer = self.customers[row.external_id] = Customer(external_id=row.external_id)
        changed = self._set(customer, row.customer)
        attributes = {**customer.attributes, **row.attributes}
        if attributes != customer.attributes:
            customer.attributes, changed = attributes, True
        if changed or customer.pk is None:
            self.touched[id(customer)] = customer
        if row.contact:
            if contact is None:
                contact = self.contacts[contact_key] = Contact(customer=customer)
            if self._set(contact, row.contact) or contact.pk is None:
                self.touched[id(contact)] = contact
                changed = True
        return "new" if created else "updated" if changed else "unchanged"

    @staticmethod
    def _set(record, values: Mapping[str, object]) -> bool:
        changed = False
        for name, value in values.items():
            if getattr(record, name) != value:
                setattr(record, name, value)
                changed = True
        return changed

    def _conflicts(self, row: CustomerRow) -> list[CellProblem]:
        email = str(row.contact.get("email", "")).lower()
        given = [((row.external_id,), t, row.customer[t]) for t in row.customer]
        given += [((row.external_id,), ATTRIBUTE + k, v) for k, v in row.attributes.items()]
        given += [
            ((row.external_id, email), t, row.contact[name])
            for t, name in CONTACT_FIELDS.items()
            if name in row.contact and t != "contact_email"
        ]
        problems = []
        for record, target, value in given:
            first_row, first_value = self.given.setdefault((record, target), (row.row, value))
            if first_value != value:
                reason = _("row %(row)s gives %(value)s for the same record") % {
                    "row": first_row,
                    "value": first_value,
                }
                problems.append(CellProblem(row.row, target, row.raw.get(target, ""), reason))
        return problems

    @staticmethod
    def _missing_name(row: CustomerRow, target: str, reason: str) -> CellProblem:
        return CellProblem(row.row, target, row.raw.get(target, ""), reason)


def plan(rows: Sequence[CustomerRow]) -> CustomerPlan:
    """What importing ``rows`` (in file order) would change; reads, writes nothing."""
    customers = customers_by_external_id(r.external_id for r in rows)
    named = {r.external_id for r in rows if "name" in r.customer}
    named |= {(r.external_id, r.contact["email"].lower()) for r in rows if "name" in r.contact}
    planner = _Planner(customers, _contacts_of(customers.values()), named)
    status = {}
    for row in rows:
        outcome = planner.apply(row)
        if outcome is not None:
            status[row.row] = outcome
    if planner.problems:
        return CustomerPlan(status, tuple(planner.problems))
    touched = list(planner.touched.values())
    return CustomerPlan(
        status,
        (),
        tuple(r for r in touched if isinstance(r, Customer)),
        tuple(r for r in touched if isinstance(r, Contact)),
    )


def save_plan(planned: CustomerPlan) -> None:
    """Store what :func:`plan` found new or changed (a plan with problems stores nothing)."""
    if planned.problems:
        raise ValueError("a plan with problems cannot be saved")
    save_customers(
        planned.customers,
        planned.contacts,
        customer_fields=[*CUSTOMER_FIELDS[1:], "attributes"],
        contact_fields=list(CONTACT_FIELDS.values()),
    )
