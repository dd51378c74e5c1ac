"""Write side of the closed loop: opening cases and every change to one, each recorded in the
case's immutable history (:class:`CaseEvent`) in the same transaction as the change.

Every function takes ``by`` (the Employee acting; None: the system or the customer) and ``now``;
callers check that ``by`` may act on the case (:func:`cxloop.cases.queries.may_act`)."""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from cxloop.cases import clocks, webhook_events
from cxloop.cases.choices import (
    OPEN_STATES,
    TRANSITIONS,
    CaseState,
    EventKind,
    NotificationKind,
    Origin,
    Priority,
)
from cxloop.cases.models import Case, CaseEvent, CaseTrigger, RootCause
from cxloop.cases.notify import notify, notify_all


class CaseError(ValueError):
    """A change a case cannot take; the message, translated, says why."""


def record(case: Case, kind: str, *, by, now: dt.datetime, text: str = "", **data) -> CaseEvent:
    """Append one event to the case's history."""
    return CaseEvent.objects.create(case=case, at=now, by=by, kind=kind, text=text, data=data)


def _employee_ref(employee) -> dict:
    return {"id": employee.pk, "name": str(employee)} if employee is not None else {}


@dataclass
class NewCase:
    """What :func:`open_cases` needs of one case; the fields are :func:`open_case`'s."""

    origin: str
    title: str
    title_en: str = ""
    by: Any = None
    customer: Any = None
    contact: Any = None
    owner: Any = None
    team: Any = None
    priority: str = Priority.NORMAL
    sla_policy: Any = None
    rule_version: Any = None
    touchpoints: Iterable = ()
    responses: Sequence = ()
    text: str = ""
    # The opening note in English where cxloop wrote it (a roll-back alert's): shown to English
    # readers instead of ``text``, which is in the organisation's language.
    text_en: str = ""
    routing: Sequence[str] = ()


def open_case(*, now: dt.datetime, **fields) -> Case:
    """A new case with its first events (opened, assigned), deadlines and the owner told. The
    ``responses`` that raised it become its triggers (for ``rule_version``'s rule, if any);
    ``routing`` (:class:`~cxloop.cases.choices.RoutingNote` codes) says why it did not go where
    its rule said, shown in each reader's language. ``fields`` are :class:`NewCase`'s.

    A rule's case for a customer who already has an open rule case raises IntegrityError (the
    database's partial unique constraint): :func:`attach` it instead."""
    return open_cases([NewCase(**fields)], now=now)[0]


def open_cases(new: Sequence[NewCase], *, now: dt.datetime) -> list[Case]:
    """Open every case of ``new`` as :func:`open_case` does, in one transaction of a few
    statements however many there are (a rule run opens dozens at once, while SQLite's one
    writer keeps the API waiting). Any case the database refuses (IntegrityError) refuses
    them all."""
    if not new:
        return []
    cases = [_new_case(spec, now) for spec in new]
    with transaction.atomic():
        # The primary keys come back from the INSERT (RETURNING on SQLite and PostgreSQL).
        Case.objects.bulk_create(cases)
        Case.touchpoints.through.objects.bulk_create(
            Case.touchpoints.through(case_id=case.pk, touchpoint_id=getattr(t, "pk", t))
            for case, spec in zip(cases, new, strict=True)
            for t in dict.fromkeys(spec.touchpoints)
        )
        CaseTrigger.objects.bulk_create(
            CaseTrigger(
                case=case,
                response=response,
                rule_id=spec.rule_version.rule_id if spec.rule_version is not None else None,
                rule_version=spec.rule_version,
                created_at=now,
            )
            for case, spec in zip(cases, new, strict=True)
            for response in spec.responses
        )
        CaseEvent.objects.bulk_create(
            event
            for case, spec in zip(cases, new, strict=True)
            for event in _first_events(case, spec, now)
        )
        notify_all(
            [
                (case, NotificationKind.ASSIGNED, case.owner, _key(case, "assigned"))
                for case, spec in zip(cases, new, strict=True)
                if case.owner is not None and case.owner != spec.by
            ],
            now=now,
        )
        webhook_events.cases_opened(cases, now=now)
    return cases


def _new_case(spec: NewCase, now: dt.datetime) -> Case:
    owner, contact = spec.owner, spec.contact
    case = Case(
        origin=spec.origin,
        title=spec.title[:300],
        title_en=spec.title_en[:300],
        customer=spec.customer or (contact.customer if contact is not None else None),
        contact=contact,
        owner=owner,
        team=spec.team if spec.team is not None or owner is None else owner.team,
        priority=spec.priority,
        sla_policy=spec.sla_policy,
        rule_version=spec.rule_version,
        opened_at=now,
        updated_at=now,
    )
    clocks.start(case, now)
    return case


def _first_events(case: Case, spec: NewCase, now: dt.datetime) -> list[CaseEvent]:
    version = spec.rule_version
    events = [
        CaseEvent(
            case=case,
            at=now,
            by=spec.by,
            kind=EventKind.OPENED,
            text=spec.text,
            data={
                "origin": spec.origin,
                "rule_version": version.pk if version is not None else None,
                "responses": [response.pk for response in spec.responses],
                "routing": list(spec.routing),
                **({"text_en": spec.text_en} if spec.text_en else {}),
            },
        )
    ]
    if case.owner is not None:
        events.append(
            CaseEvent(
                case=case,
                at=now,
                by=spec.by,
                kind=EventKind.ASSIGNED,
                data={"owner": _employee_ref(case.owner)},
            )
        )
    return events


def attach(case: Case, response, *, now: dt.datetime, rule_version=None) -> bool:
    """Add a further trigger to an open case (False, changing nothing, when that rule or case
    already has that response)."""
    try:
        with transaction.atomic():
            CaseTrigger.objects.create(
                case=case,
                response=response,
                rule_id=rule_version.rule_id if rule_version is not None else None,
                rule_version=rule_version,
                created_at=now,
            )
            record(
                case,
                EventKind.TRIGGER,
                by=None,
                now=now,
                response=response.pk,
                rule_version=rule_version.pk if rule_version is not None else None,
            )
            Case.objects.filter(pk=case.pk).update(updated_at=now)
    except IntegrityError:
        return False
    return True


def _key(case: Case, what: str, *parts) -> str:
    return ":".join([what, str(case.pk), *map(str, parts)])


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def assign(case: Case, owner, *, by, now: dt.datetime) -> Case:
    """Give the case to ``owner`` (an Employee), whose team becomes the case's team."""
    with transaction.atomic():
        case = _locked(case)
        if case.owner_id == owner.pk:
            return case
        case.owner, case.team, case.updated_at = owner, owner.team, now
        case.save(update_fields=["owner", "team", "updated_at"])
        record(case, EventKind.ASSIGNED, by=by, now=now, owner=_employee_ref(owner))
        if owner != by:
            count = case.events.filter(kind=EventKind.ASSIGNED).count()
            notify(
                case, NotificationKind.ASSIGNED, owner, now=now, key=_key(case, "assigned", count)
            )
    return case


def change_state(case: Case, to: str, *, by, now: dt.datetime, text: str = "") -> Case:
    """Move the case to state ``to`` along :data:`TRANSITIONS`: waiting on the customer stops
    its clocks, leaving that state restarts them, resolving needs a resolution."""
    with transaction.atomic():
        case = _locked(case)
        if to not in TRANSITIONS.get(case.state, ()):
            raise CaseError(
                _("A case that is %(state)s cannot become %(to)s.")
                % {"state": CaseState(case.state).label, "to": CaseState(to).label}
            )
        if to == CaseState.RESOLVED and not (case.resolution or text.strip()):
            raise CaseError(_("Say how the case was resolved."))
        before = case.state
        if to == CaseState.WAITING:
            clocks.pause(case, now)
        elif before == CaseState.WAITING:
            clocks.resume(case, now)
        if to == CaseState.RESOLVED:
            case.resolved_at = now
            if text.strip():
                case.resolution = text.strip()
        elif to == CaseState.CLOSED:
            case.closed_at = now
        elif before in (CaseState.RESOLVED, CaseState.CLOSED):  # reopened
            case.resolved_at = case.closed_at = None
            clocks.reopen(case, now)
        case.state, case.updated_at = to, now
        case.save()
        record(case, EventKind.STATE, by=by, now=now, text=text, before=before, after=to)
        webhook_events.case_state_changed(case, before=before, by=by, now=now)
    return case


def set_priority(case: Case, priority: str, *, by, now: dt.datetime) -> Case:
    with transaction.atomic():
        case = _locked(case)
        if case.priority == priority:
            return case
        before, case.priority, case.updated_at = case.priority, priority, now
        case.save(update_fields=["priority", "updated_at"])
        record(case, EventKind.PRIORITY, by=by, now=now, before=before, after=priority)
    return case


def add_note(case: Case, text: str, *, by, now: dt.datetime) -> CaseEvent:
    text = text.strip()
    if not text:
        raise CaseError(_("A note needs some text."))
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(updated_at=now)
        return record(case, EventKind.NOTE, by=by, now=now, text=text)


def record_contact(
    case: Case, channel: str, *, by, now: dt.datetime, text: str = "", reaction: str = ""
) -> Case:
    """The owner spoke to the customer (call, meeting, e-mail): the first time stops the first-
    contact clock; a new case moves to in progress. With a ``reaction`` it is how the loop was
    closed."""
    with transaction.atomic():
        case = _locked(case)
        if case.first_contacted_at is None:
            case.first_contacted_at = now
        before = case.state
        if case.state == CaseState.NEW:
            case.state = CaseState.IN_PROGRESS
        if reaction:
            case.loop_channel, case.customer_reaction = channel, reaction
        case.updated_at = now
        case.save()
        kind = EventKind.LOOP_CLOSED if reaction else EventKind.CONTACTED
        record(case, kind, by=by, now=now, text=text, channel=channel, reaction=reaction)
        if case.state != before:
            webhook_events.case_state_changed(case, before=before, by=by, now=now)
    return case


def set_root_causes(case: Case, causes: Iterable[RootCause], *, by, now: dt.datetime) -> None:
    causes = list(causes)
    with transaction.atomic():
        case.root_causes.set(causes)
        Case.objects.filter(pk=case.pk).update(updated_at=now)
        record(
            case,
            EventKind.ROOT_CAUSES,
            by=by,
            now=now,
            causes=[{"id": c.pk, "name": c.name_ru, "name_en": c.name_en} for c in causes],
        )


def set_touchpoints(case: Case, touchpoints: Iterable, *, by, now: dt.datetime) -> None:
    touchpoints = list(touchpoints)
    with transaction.atomic():
        case.touchpoints.set(touchpoints)
        Case.objects.filter(pk=case.pk).update(updated_at=now)
        record(
            case, EventKind.TOUCHPOINTS, by=by, now=now, touchpoints=[t.code for t in touchpoints]
        )


def open_rule_case_of(customer_id: int) -> Case | None:
    """The open case a rule raised for this customer, which further triggers join."""
    return (
        Case.objects.filter(customer_id=customer_id, origin=Origin.RULE, state__in=OPEN_STATES)
        .order_by("opened_at")
        .first()
    )


def customer_replied(case: Case, text: str, *, now: dt.datetime, **data) -> Case:
    """The customer answered (through the inquiry's private link, say): the reply joins the
    history, a case waiting on them goes back to work with its clocks restarted, and the owner
    is told."""
    with transaction.atomic():
        case = _locked(case)
        before = case.state
        if case.state == CaseState.WAITING:
            clocks.resume(case, now)
            case.state = CaseState.IN_PROGRESS
        elif case.state in (CaseState.RESOLVED, CaseState.CLOSED):
            clocks.reopen(case, now)
            case.state, case.resolved_at, case.closed_at = CaseState.IN_PROGRESS, None, None
        case.updated_at = now
        case.save()
        event = record(case, EventKind.MESSAGE_IN, by=None, now=now, text=text, **data)
        if case.state != before:
            webhook_events.case_state_changed(case, before=before, by=None, now=now)
        key = _key(case, "replied", event.pk)
        notify(case, NotificationKind.CUSTOMER_REPLIED, case.owner, now=now, key=key)
    return case
