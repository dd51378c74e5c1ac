"""Distribution: who may be invited now, the invitation e-mails and their reminders.

Sending is a task (``cxloop.surveys.tasks``): the invitations and the task that e-mails them are
written in one transaction, so an invitation is never created without its e-mail queued (an
outbox). Each send is claimed with a conditional UPDATE, so two workers never send one e-mail
twice, and a refusal by the SMTP server marks the invitation bounced.
"""

import datetime as dt
import smtplib
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cxloop.surveys.mail import INVITEE_FIELDS, InvitationMail, Invitee, mailer
from cxloop.surveys.models import Invitation, ResponseState, Survey
from cxloop.surveys.services import new_invitation

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
    e-mail, or invited to any survey in the last ``fatigue_days`` days (the fatigue rule)."""
    contacts = list(contacts)
    recent = set(
        Invitation.objects.filter(
            contact__in=contacts, created_at__gt=now - dt.timedelta(days=fatigue_days)
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
    from cxloop.surveys.tasks import send_invitations  # tasks import this module

    plan = plan_invitations(contacts, now=now, fatigue_days=fatigue_days)
    with transaction.atomic():
        invitations = Invitation.objects.bulk_create(
            new_invitation(survey, contact, now=now) for contact in plan.invite
        )
        if invitations:
            send_invitations.enqueue([i.pk for i in invitations])
    return plan


def _still_wanted(now: dt.datetime) -> Q:
    return Q(
        completed_at=None,
        bounced_at=None,
        expires_at__gt=now,
        contact__opted_out_at=None,
        survey__is_active=True,
    )


# Invitations one statement names: short transactions, and far below the parameter limits of
# SQLite (32,766 in default builds) and of PostgreSQL with server-side binding (65,535).
CHUNK = 500


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    return (ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK))


def _claim(ids: list[int], *, stamp: str, now: dt.datetime) -> list[Invitee]:
    """Mark as being sent those of ``ids`` still to send, and return what their e-mails need;
    rows another worker holds are skipped (PostgreSQL), or wait for it (SQLite takes the write
    lock at BEGIN). Only the invitations are locked: two workers share contacts and surveys."""
    claimed: list[Invitee] = []
    for chunk in _chunks(ids):
        with transaction.atomic():
            free = [
                Invitee._make(row)
                for row in Invitation.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(_still_wanted(now), pk__in=chunk, **{stamp: None})
                .exclude(responses__state=ResponseState.COMPLETED)
                .values_list(*INVITEE_FIELDS)
            ]
            _update([invitee.pk for invitee in free], **{stamp: now})
        claimed += free
    return claimed


def _update(ids: list[int], **values) -> None:
    for chunk in _chunks(ids):
        Invitation.objects.filter(pk__in=chunk).update(**values)


# An SMTP exchange mostly waits for the server: 8 overlapping ones sent 2,850 e-mails/s to a
# local server where 4 sent 2,150/s and 12 no more than 8 (bench/README.md).
SMTP_CONNECTIONS = 8


@dataclass
class _Stream:
    """What one SMTP connection did with its share of the invitations."""

    sent: list[int] = field(default_factory=list)
    bounced: list[int] = field(default_factory=list)
    error: Exception | None = None


def _send_stream(invitees: list[Invitee], mail: InvitationMail) -> _Stream:
    stream = _Stream()
    try:
        with mailer() as send:
            for invitee in invitees:
                try:
                    send(invitee.email, mail.message(invitee))
                    stream.sent.append(invitee.pk)
                except smtplib.SMTPRecipientsRefused:
                    stream.bounced.append(invitee.pk)
                except smtplib.SMTPResponseException as error:
                    if error.smtp_code < 500:  # temporary: try again later
                        raise
                    stream.bounced.append(invitee.pk)  # a permanent refusal of this message
    except (OSError, smtplib.SMTPException) as error:
        stream.error = error
    return stream


def send_invitations_now(
    ids: list[int], *, now: dt.datetime, reminder: bool = False
) -> Counter[str]:
    """E-mail the invitations (or reminders) of ``ids`` over SMTP_CONNECTIONS connections; counts
    what happened: "sent", "bounced" (the server refused the recipient or the message) and
    "skipped" (sent by another worker, finished, expired, opted out …). When the server cannot
    be reached the claims of the unsent ones are released, so a retry sends them, and the error
    is raised."""
    stamp = "reminded_at" if reminder else "sent_at"
    invitees = _claim(ids, stamp=stamp, now=now)
    surveys = Survey.objects.in_bulk({invitee.survey_id for invitee in invitees})
    mail = InvitationMail(surveys, reminder=reminder)
    shares = [invitees[i::SMTP_CONNECTIONS] for i in range(SMTP_CONNECTIONS)]
    with ThreadPoolExecutor(SMTP_CONNECTIONS) as pool:
        streams = list(pool.map(_send_stream, [s for s in shares if s], repeat(mail)))
    done = {pk for stream in streams for pk in stream.sent + stream.bounced}
    bounced = [pk for stream in streams for pk in stream.bounced]
    _update(bounced, bounced_at=now)
    errors = [stream.error for stream in streams if stream.error is not None]
    if errors:
        _update([i.pk for i in invitees if i.pk not in done], **{stamp: None})
        raise errors[0]
    return +Counter(
        skipped=len(ids) - len(invitees), sent=len(done) - len(bounced), bounced=len(bounced)
    )


def due_reminders(now: dt.datetime) -> list[int]:
    """Invitations whose survey reminds after N days, sent at least N days ago, unfinished and not
    yet reminded."""
    candidates = (
        Invitation.objects.filter(
            _still_wanted(now),
            survey__reminder_after_days__isnull=False,
            sent_at__isnull=False,
            reminded_at=None,
        )
        .exclude(responses__state=ResponseState.COMPLETED)
        .values_list("pk", "sent_at", "survey__reminder_after_days")
    )
    return [pk for pk, sent_at, days in candidates if sent_at <= now - dt.timedelta(days=days)]
