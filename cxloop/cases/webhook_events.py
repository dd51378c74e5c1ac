"""The closed loop's webhook events, emitted in the transaction of the change
(docs/webhooks.md): a case opened, its state changed or closed, an inquiry received. Their
subject is the case, so a receiver gets a case's events in the order they happened."""

import datetime as dt
from collections.abc import Sequence

from cxloop.cases.choices import CaseState
from cxloop.webhooks.choices import EventKind
from cxloop.webhooks.payloads import iso
from cxloop.webhooks.services import emit, emit_many


def _subject(case) -> str:
    return f"case:{case.pk}"


def _case(case) -> dict:
    return {
        "case": case.pk,
        "reference": case.reference,
        "origin": case.origin,
        "state": case.state,
        "priority": case.priority,
        "customer": case.customer_id,
        "team": case.team_id,
        "owner": case.owner_id,
        "opened_at": iso(case.opened_at),
    }


def cases_opened(cases: Sequence, *, now: dt.datetime) -> None:
    emit_many(EventKind.CASE_OPENED, [(_subject(c), _case(c)) for c in cases], now=now)


def case_state_changed(case, *, before: str, by, now: dt.datetime) -> None:
    change = {"before": before, "after": case.state, "by": getattr(by, "pk", None)}
    emit(
        EventKind.CASE_STATE_CHANGED,
        subject=_subject(case),
        data={**_case(case), **change},
        now=now,
    )
    if case.state == CaseState.CLOSED:
        emit(
            EventKind.CASE_CLOSED,
            subject=_subject(case),
            data={**_case(case), **change, "closed_at": iso(case.closed_at)},
            now=now,
        )


def inquiry_received(inquiry, case, *, now: dt.datetime) -> None:
    emit(
        EventKind.INQUIRY_RECEIVED,
        subject=_subject(case),
        data={
            "inquiry": inquiry.pk,
            "case": case.pk,
            "reference": case.reference,
            "topic": inquiry.topic_id,
            "language": inquiry.language,
            "contact": case.contact_id,
            "received_at": iso(inquiry.created_at),
        },
        now=now,
    )
