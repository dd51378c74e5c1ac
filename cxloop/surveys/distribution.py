"""Distribution: who may be invited now, the invitation e-mails and their reminders.

Every invitation e-mail is a message in the outbox (``cxloop.outbox``), queued in the transaction
that creates the invitation, and every reminder one queued when it falls due: the worker sends
them with retries, exactly once, and an SMTP outage only delays them. The outbox stores a
reference, not the bytes: ``register_kinds`` tells it how to build an invitation's e-mail when
its turn comes and to stamp the invitation sent (or bounced) in the same transaction that
records the message sent (or refused).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cxloop.outbox import kinds
from cxloop.outbox.queries import pending_references, references
from cxloop.outbox.services import enqueue_references
from cxloop.surveys.mail import INVITEE_FIELDS, InvitationMail, Invitee
from cxloop.surveys.models import Channel, Invitation, ResponseState, Survey
from cxloop.surveys.services import new_invitation

INVITATION, REMINDER = "invitation", "reminder"  # the outbox kinds of this module

DEFAULT_FATIGUE_DAYS = 30


@dataclass(frozen=True)
class Skipped:
    contact: object
    reason: str


@dataclass
class Plan:
    """Whom a distribution invites, and whom it leaves out and why (nobody is dropped silently)."""

    invite: list = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def plan_invitations(
    contacts: Iterable, *, now: dt.datetime, fatigue_days: int = DEFAULT_FATIGUE_DAYS
) -> Plan:
    """Split ``contacts`` into those to invite and those skipped: opted out, without consent or
    e-mail, or invited to any survey in the last ``fatigue_days`` days (the fatigue rule: an
    invitation counts once delivered, or while its e-mail is queued or being sent)."""
    contacts = list(contacts)
    since = now - dt.timedelta(days=fatigue_days)
    # What reached the contact counts, and what is still on its way (so that a second
    # distribution during an outage does not invite twice); a bounced or dead e-mail does not.
    # Invitations handed over by other channels (in person, a QR code) count from creation.
    on_its_way = Q(channel=Channel.EMAIL, sent_at=None, bounced_at=None) & Q(
        pk__in=pending_references(INVITATION)
    )
    other_channel = ~Q(channel=Channel.EMAIL) & Q(created_at__gt=since)
    recent = set(
        Invitation.objects.filter(
            Q(sent_at__gt=since) | on_its_way | other_channel, contact__in=contacts
        ).values_list("contact_id", flat=True)
    )
    plan, seen = Plan(), set()
    for contact in contacts:
        reason = None
        if contact.opted_out_at is not None:
            reason = pgettext_lazy("skip reason", "opted out")
        elif not contact.consent:
            reason = _("no consent to surveys")
        elif not contact.email:
            reason = _("no e-mail address")
        elif contact.pk in recent:
            reason = _("invited in the last %(days)s days") % {"days": fatigue_days}
        elif contact.pk in seen:
            reason = _("listed twice")
        if reason is None:
            plan.invite.append(contact)
            seen.add(contact.pk)
        else:
            plan.skipped.append(Skipped(contact, str(reason)))
    return plan


def distribute(survey: Survey, contacts: Iterable, *, now: dt.datetime, fatigue_days: int) -> Plan:
    """Invite the contacts the plan allows and queue their e-mails, all or nothing."""
    plan = plan_invitations(contacts, now=now, fatigue_days=fatigue_days)
    with transaction.atomic():
        invitations = Invitation.objects.bulk_create(
            new_invitation(survey, contact, now=now) for contact in plan.invite
        )
        enqueue_references(INVITATION, ((i.pk, i.contact.email) for i in invitations), now=now)
    return plan


def queue_invitations(ids: list[int], *, now: dt.datetime) -> int:
    """Queue the e-mails of the unsent e-mail invitations of ``ids`` that have none yet (those
    made before the outbox, or handed to the old task); returns how many were queued."""
    queued = 0
    for start in range(0, len(ids), CHUNK):
        with transaction.atomic():
            unsent = (
                Invitation.objects.filter(
                    pk__in=ids[start : start + CHUNK], channel=Channel.EMAIL, sent_at=None
                )
                .exclude(pk__in=references(INVITATION))
                .values_list("pk", "contact__email")
            )
            queued += enqueue_references(INVITATION, list(unsent), now=now)
    return queued


# Invitations one statement names: short transactions, and far below the parameter limits of
# SQLite (32,766 in default builds) and of PostgreSQL with server-side binding (65,535).
CHUNK = 500


def _still_wanted(now: dt.datetime) -> Q:
    return Q(
        completed_at=None,
        bounced_at=None,
        expires_at__gt=now,
        contact__opted_out_at=None,
        survey__is_active=True,
    )


def _due_reminders(now: dt.datetime) -> list[tuple[int, str]]:
    candidates = (
        Invitation.objects.filter(
            _still_wanted(now),
            survey__reminder_after_days__isnull=False,
            sent_at__isnull=False,
            reminded_at=None,
        )
        .exclude(responses__state=ResponseState.COMPLETED)
        .exclude(pk__in=references(REMINDER))
        .values_list("pk", "contact__email", "sent_at", "survey__reminder_after_days")
    )
    return [
        (pk, email)
        for pk, email, sent_at, days in candidates
        if sent_at <= now - dt.timedelta(days=days)
    ]


def due_reminders(now: dt.datetime) -> list[int]:
    """Invitations whose survey reminds after N days, sent at least N days ago, unfinished and
    with no reminder queued yet."""
    return [pk for pk, _ in _due_reminders(now)]


def queue_reminders(now: dt.datetime) -> int:
    """Queue the reminders due at ``now``; returns how many."""
    with transaction.atomic():
        return enqueue_references(REMINDER, _due_reminders(now), now=now)


def _build(reminder: bool):
    stamp = "reminded_at" if reminder else "sent_at"

    def build(messages: list[kinds.Pending], memo: dict) -> dict[int, bytes | None]:
        """The e-mails of ``messages``; None for an invitation no longer to be sent (finished,
        expired, opted out, survey closed, sent already)."""
        now = timezone.now()
        invitees = {
            row[0]: Invitee._make(row)
            for row in Invitation.objects.filter(
                _still_wanted(now), pk__in=[m.ref for m in messages], **{stamp: None}
            )
            .exclude(responses__state=ResponseState.COMPLETED)
            .values_list(*INVITEE_FIELDS)
        }
        if "mail" not in memo:
            memo["mail"] = InvitationMail({}, reminder=reminder)
        mail = memo["mail"]
        missing = {i.survey_id for i in invitees.values()} - mail.surveys.keys()
        mail.surveys.update(Survey.objects.in_bulk(missing))
        return {
            m.pk: mail.message(invitees[m.ref], message_id=m.message_id)
            if m.ref in invitees
            else None
            for m in messages
        }

    return build


_TABLE = Invitation._meta.db_table


def _settle(reminder: bool):
    stamp = {"sent": "reminded_at" if reminder else "sent_at", "refused": "bounced_at"}

    def settle(cursor, state: str, refs: list[int], at) -> None:
        if state in stamp:
            marks = ", ".join(["%s"] * len(refs))
            sql = f"UPDATE {_TABLE} SET {stamp[state]} = %s WHERE id IN ({marks})"
            cursor.execute(sql, [at, *refs])

    return settle


def register_kinds() -> None:
    """Tell the outbox how to build and settle invitations and reminders (from ``ready()``)."""
    kinds.register(INVITATION, kinds.Kind(build=_build(False), settle=_settle(False)))
    kinds.register(REMINDER, kinds.Kind(build=_build(True), settle=_settle(True)))
