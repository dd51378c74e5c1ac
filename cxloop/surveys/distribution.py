"""Distribution: who may be invited now, the invitation e-mails and their reminders.

Sending is a task (``cxloop.surveys.tasks``): the invitations and the task that e-mails them are
written in one transaction, so an invitation is never created without its e-mail queued (an
outbox). Each send is claimed with a conditional UPDATE, so two workers never send one e-mail
twice, and a refusal by the SMTP server marks the invitation bounced.
"""

import datetime as dt
import functools
import smtplib
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cxloop.surveys.models import Invitation, ResponseState, Survey
from cxloop.surveys.services import invitation_token, new_invitation

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


def link(name: str, invitation: Invitation) -> str:
    return settings.BASE_URL + reverse(name, args=[invitation_token(invitation.nonce)])


# Stand-ins rendered into the cached texts and replaced per message; NUL never occurs in text.
_PERSONAL = {key: f"\x00{key}\x00" for key in ("name", "link", "unsubscribe", "expires_on")}


@functools.lru_cache(maxsize=512)
def _email_texts(survey_name: str, language: str, reminder: bool) -> tuple[str, str]:
    """Subject and body of an invitation with stand-ins for the personal parts: the templates
    are rendered once per survey, language and kind, not once per e-mail (0.4 ms each)."""
    context = {
        "contact": {"name": _PERSONAL["name"]},
        "survey": {"name": survey_name},
        "link": _PERSONAL["link"],
        "unsubscribe": _PERSONAL["unsubscribe"],
        "expires_on": _PERSONAL["expires_on"],
        "reminder": reminder,
    }
    with translation.override(language):
        subject = render_to_string("surveys/email/invitation_subject.txt", context).strip()
        body = render_to_string("surveys/email/invitation_body.txt", context)
    return subject, body


def invitation_email(invitation: Invitation, *, reminder: bool) -> EmailMessage:
    """The personal e-mail for ``invitation``, in the contact's language."""
    contact = invitation.contact
    with translation.override(contact.language):
        survey_name = invitation.survey.name
        personal = {
            "name": contact.name,
            "link": link("respond", invitation),
            "unsubscribe": link("unsubscribe", invitation),
            "expires_on": formats.date_format(invitation.expires_at, "DATE_FORMAT"),
        }
    subject, body = _email_texts(survey_name, contact.language, reminder)
    for key, value in personal.items():
        subject = subject.replace(_PERSONAL[key], value)
        body = body.replace(_PERSONAL[key], value)
    return EmailMessage(
        subject,
        body,
        to=[contact.email],
        headers={"List-Unsubscribe": f"<{personal['unsubscribe']}>"},
    )


def _still_wanted(now: dt.datetime) -> Q:
    return Q(
        completed_at=None,
        bounced_at=None,
        expires_at__gt=now,
        contact__opted_out_at=None,
        survey__is_active=True,
    )


CLAIM_CHUNK = 500


def _claim(ids: list[int], *, stamp: str, now: dt.datetime) -> list[int]:
    """Mark as being sent those of ``ids`` still to send, and return them; rows another worker
    holds are skipped (PostgreSQL), or wait for it (SQLite takes the write lock at BEGIN)."""
    claimed: list[int] = []
    for start in range(0, len(ids), CLAIM_CHUNK):
        with transaction.atomic():
            chunk = list(
                Invitation.objects.select_for_update(skip_locked=True)
                .filter(
                    _still_wanted(now), pk__in=ids[start : start + CLAIM_CHUNK], **{stamp: None}
                )
                .exclude(responses__state=ResponseState.COMPLETED)
                .values_list("pk", flat=True)
            )
            Invitation.objects.filter(pk__in=chunk).update(**{stamp: now})
        claimed += chunk
    return claimed


SMTP_CONNECTIONS = 4  # an SMTP exchange mostly waits for the server: overlap four of them


@dataclass
class _Stream:
    """What one SMTP connection did with its share of the invitations."""

    sent: list[int] = field(default_factory=list)
    bounced: list[int] = field(default_factory=list)
    error: Exception | None = None


def _send_stream(invitations: list[Invitation], reminder: bool) -> _Stream:
    stream = _Stream()
    try:
        with get_connection() as connection:
            for invitation in invitations:
                try:
                    connection.send_messages([invitation_email(invitation, reminder=reminder)])
                    stream.sent.append(invitation.pk)
                except smtplib.SMTPRecipientsRefused:
                    stream.bounced.append(invitation.pk)
                except smtplib.SMTPResponseException as error:
                    if error.smtp_code < 500:  # temporary: try again later
                        raise
                    stream.bounced.append(invitation.pk)  # a permanent refusal of this message
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
    claimed = _claim(ids, stamp=stamp, now=now)
    invitations = list(
        Invitation.objects.select_related("survey", "contact").filter(pk__in=claimed)
    )
    shares = [invitations[i::SMTP_CONNECTIONS] for i in range(SMTP_CONNECTIONS)]
    with ThreadPoolExecutor(SMTP_CONNECTIONS) as pool:
        streams = list(pool.map(_send_stream, [s for s in shares if s], repeat(reminder)))
    done = {pk for stream in streams for pk in stream.sent + stream.bounced}
    bounced = [pk for stream in streams for pk in stream.bounced]
    Invitation.objects.filter(pk__in=bounced).update(bounced_at=now)
    errors = [stream.error for stream in streams if stream.error is not None]
    if errors:
        Invitation.objects.filter(pk__in=set(claimed) - done).update(**{stamp: None})
        raise errors[0]
    return +Counter(
        skipped=len(ids) - len(claimed), sent=len(done) - len(bounced), bounced=len(bounced)
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
