"""Distribution: who may be invited now, the invitation e-mails and their reminders.

Sending is a task (``cxloop.surveys.tasks``): the invitations and the task that e-mails them are
written in one transaction, so an invitation is never created without its e-mail queued (an
outbox). Each send is claimed with a conditional UPDATE, so two workers never send one e-mail
twice, and a refusal by the SMTP server marks the invitation bounced.
"""

import datetime as dt
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
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


def send_invitation(invitation_id: int, *, now: dt.datetime, reminder: bool = False) -> str:
    """E-mail one invitation (or its reminder); returns what happened: "sent", "bounced" or
    "skipped" (already sent by another worker, finished, expired, opted out …)."""
    stamp = "reminded_at" if reminder else "sent_at"
    claimed = (
        Invitation.objects.filter(_still_wanted(now), pk=invitation_id, **{stamp: None})
        .exclude(responses__state=ResponseState.COMPLETED)
        .update(**{stamp: now})
    )
    if not claimed:
        return "skipped"
    invitation = Invitation.objects.select_related("survey", "contact").get(pk=invitation_id)
    try:
        invitation_email(invitation, reminder=reminder).send()
    except smtplib.SMTPRecipientsRefused:
        Invitation.objects.filter(pk=invitation_id).update(bounced_at=now)
        return "bounced"
    except smtplib.SMTPResponseException as error:
        if error.smtp_code >= 500:  # a permanent refusal of this message
            Invitation.objects.filter(pk=invitation_id).update(bounced_at=now)
            return "bounced"
        Invitation.objects.filter(pk=invitation_id).update(**{stamp: None})
        raise
    except OSError:
        # The server could not be reached: release the claim so that a retry sends it.
        Invitation.objects.filter(pk=invitation_id).update(**{stamp: None})
        raise
    return "sent"


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
