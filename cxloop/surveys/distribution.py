"""Distribution: who may be invited now, the invitation e-mails and their reminders.

Sending is a task (``cxloop.surveys.tasks``): the invitations and the task that e-mails them are
written in one transaction, so an invitation is never created without its e-mail queued (an
outbox). Each send is claimed with a conditional UPDATE, so two workers never send one e-mail
twice, and a refusal by the SMTP server marks the invitation bounced.
"""

import datetime as dt
import smtplib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
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


def invitation_email(invitation: Invitation, *, reminder: bool) -> EmailMessage:
    """The personal e-mail for ``invitation``, in the contact's language."""
    contact = invitation.contact
    with translation.override(contact.language):
        context = {
            "contact": contact,
            "survey": invitation.survey,
            "link": link("respond", invitation),
            "unsubscribe": link("unsubscribe", invitation),
            "expires_at": invitation.expires_at,
            "reminder": reminder,
        }
        subject = render_to_string("surveys/email/invitation_subject.txt", context).strip()
        body = render_to_string("surveys/email/invitation_body.txt", context)
    return EmailMessage(
        subject,
        body,
        to=[contact.email],
        headers={"List-Unsubscribe": f"<{context['unsubscribe']}>"},
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


def send_invitations_now(
    ids: list[int], *, now: dt.datetime, reminder: bool = False
) -> Counter[str]:
    """E-mail the invitations (or reminders) of ``ids`` over one SMTP connection; counts what
    happened: "sent", "bounced" (the server refused the recipient or the message) and "skipped"
    (sent by another worker, finished, expired, opted out …). When the server cannot be reached
    the claims of the unsent ones are released, so a retry sends them, and the error is raised."""
    stamp = "reminded_at" if reminder else "sent_at"
    claimed = _claim(ids, stamp=stamp, now=now)
    outcomes = Counter(skipped=len(ids) - len(claimed))
    invitations = Invitation.objects.select_related("survey", "contact").filter(pk__in=claimed)
    bounced: list[int] = []
    pending = set(claimed)
    try:
        with get_connection() as connection:
            for invitation in invitations.iterator(chunk_size=1000):
                try:
                    connection.send_messages([invitation_email(invitation, reminder=reminder)])
                except smtplib.SMTPRecipientsRefused:
                    bounced.append(invitation.pk)
                except smtplib.SMTPResponseException as error:
                    if error.smtp_code < 500:  # temporary: try again later
                        raise
                    bounced.append(invitation.pk)  # a permanent refusal of this message
                pending.discard(invitation.pk)
    except (OSError, smtplib.SMTPException):
        Invitation.objects.filter(pk__in=pending).update(**{stamp: None})
        raise
    finally:
        Invitation.objects.filter(pk__in=bounced).update(bounced_at=now)
    outcomes.update(sent=len(claimed) - len(bounced), bounced=len(bounced))
    return +outcomes


def send_invitation(invitation_id: int, *, now: dt.datetime, reminder: bool = False) -> str:
    """E-mail one invitation: "sent", "bounced" or "skipped" (see send_invitations_now)."""
    (outcome,) = send_invitations_now([invitation_id], now=now, reminder=reminder)
    return outcome


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
