"""The public inquiry form's write side: a customer's question becomes a case for the topic's
specialists, who answer it by e-mail; the customer answers back through a private link.

The private link's token is an HMAC of the inquiry's fingerprint under the site's secret key: it
can be given again in every answer e-mail although only its hash is stored (a copy of the
database alone opens no thread). Rotating ``SECRET_KEY`` retires the links already sent.

Spam is kept out without an outside service: a honeypot field (the view's), a minimum time to
fill the form (:func:`fill_stamp`), a per-address rate limit (:func:`over_rate`) and a
fingerprint that makes a question sent twice one case."""

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from cxloop.cases import services, webhook_events
from cxloop.cases.choices import OPEN_STATES, CaseState, EventKind, LoopChannel, Origin
from cxloop.cases.evaluate import Router
from cxloop.cases.models import Case, Inquiry, InquiryTopic
from cxloop.customers.queries import contacts_with_email
from cxloop.outbox.services import enqueue_email

MAX_TEXT = 5000  # characters of a question, an answer or a reply
MIN_FILL_SECONDS = 3  # people take longer than this to read the form and type a question
# Inquiries per e-mail address, and per client address (an office behind one NAT sends for many
# people, hence more), in that many seconds.
EMAIL_RATE = (5, 3600)
CLIENT_RATE = (20, 3600)
# The customer's messages on one question: each tells its owner, so a flood is held back.
REPLY_RATE = (10, 3600)
_STAMP_SALT = "cxloop.cases.inquiry.stamp"
_LINK_SALT = "cxloop.cases.inquiry.link"


@dataclass(frozen=True)
class Submitted:
    """The case a question became (its reference for the thank-you page); ``created`` False
    when the question had been asked before."""

    case_id: int
    reference: str
    created: bool


@dataclass(frozen=True)
class Message:
    """One entry of an inquiry's thread as the customer and the specialist see it."""

    at: dt.datetime
    text: str
    from_customer: bool
    author: str


# --- spam checks -------------------------------------------------------------------------------


def fill_stamp(now: dt.datetime) -> str:
    """A signed note of when the form was shown, carried in a hidden field."""
    return signing.dumps(now.timestamp(), salt=_STAMP_SALT)


def filled_too_fast(stamp: str, now: dt.datetime) -> bool:
    """Whether the form came back sooner than a person could fill it; a missing or forged stamp
    counts as too fast (the form is shown again with a fresh one)."""
    try:
        shown = float(signing.loads(stamp, salt=_STAMP_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return True
    return now.timestamp() - shown < MIN_FILL_SECONDS


def _counted_over(key: str, limit: int, seconds: int) -> bool:
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        return False


def over_rate(email: str, client: str) -> bool:
    """Count one inquiry for ``email`` and the ``client`` address; True when either has sent
    more than its limit lately (see :data:`EMAIL_RATE`, :data:`CLIENT_RATE`)."""
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    by_email = _counted_over(f"cxloop.inquiry-rate.email.{address}", *EMAIL_RATE)
    by_client = _counted_over(f"cxloop.inquiry-rate.client.{client}", *CLIENT_RATE)
    return by_email or by_client


def replies_over_rate(inquiry: Inquiry) -> bool:
    """Count one reply on ``inquiry``; True past :data:`REPLY_RATE`."""
    return _counted_over(f"cxloop.inquiry-rate.reply.{inquiry.pk}", *REPLY_RATE)


# --- the private link --------------------------------------------------------------------------


def fingerprint_of(email: str, topic_id: int, text: str) -> str:
    """The same address, topic and question (whatever its spacing and letter case) give one."""
    normal = " ".join(text.split()).casefold()
    return hashlib.sha256(f"{email.strip().lower()}\n{topic_id}\n{normal}".encode()).hexdigest()


def link_token(inquiry: Inquiry) -> str:
    digest = salted_hmac(_LINK_SALT, inquiry.fingerprint, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def private_link(inquiry: Inquiry) -> str:
    return settings.BASE_URL + reverse("inquiry_thread", args=[link_token(inquiry)])


def inquiry_for_token(token: str) -> Inquiry | None:
    return (
        Inquiry.objects.select_related("case", "topic")
        .filter(token_hash=_token_hash(token))
        .first()
    )


# --- reads ------------------------------------------------------------------------------------


def active_topics():
    return InquiryTopic.objects.filter(is_active=True)


def topics():
    """Every topic, shown on the form or not, with its team and SLA policy."""
    return InquiryTopic.objects.select_related("team", "sla_policy")


def topic_by_id(pk: int) -> InquiryTopic | None:
    return InquiryTopic.objects.filter(pk=pk).first()


def inquiry_of(case: Case) -> Inquiry | None:
    return Inquiry.objects.select_related("topic").filter(case=case).first()


def already_asked(email: str, topic_id: int, text: str) -> Inquiry | None:
    fingerprint = fingerprint_of(email, topic_id, text)
    return Inquiry.objects.select_related("case").filter(fingerprint=fingerprint).first()


def thread(inquiry: Inquiry) -> list[Message]:
    """The question, the specialists' answers and the customer's replies, oldest first."""
    messages = [Message(inquiry.created_at, inquiry.text, True, inquiry.name)]
    events = inquiry.case.events.filter(
        kind__in=[EventKind.MESSAGE_OUT, EventKind.MESSAGE_IN]
    ).select_related("by__user")
    for event in events:
        from_customer = event.kind == EventKind.MESSAGE_IN
        author = inquiry.name if from_customer else _specialist_name(event.by)
        messages.append(Message(event.at, event.text, from_customer, author))
    return messages


def _specialist_name(employee) -> str:
    # The customer sees a first name, not the specialist's whole name and login.
    if employee is None:
        return ""
    return employee.user.first_name or str(employee)


# --- writes -----------------------------------------------------------------------------------


def _titles(topic: InquiryTopic, text: str) -> tuple[str, str]:
    """The case's summary in the firm's language and in English: the topic and the question's
    first words (in the customer's own language)."""
    words = Truncator(" ".join(text.split())).words(10)
    return f"{topic.name_ru}: {words}", f"{topic.name_en or topic.name_ru}: {words}"


def submit(
    *,
    topic: InquiryTopic,
    name: str,
    email: str,
    text: str,
    language: str,
    now: dt.datetime,
    phone: str = "",
    company: str = "",
) -> Submitted:
    """Open the case for a question asked through the form (owner: the topic's team members in
    turn; deadlines: the topic's SLA policy), link it to the contact with this address when
    there is exactly one, and queue the acknowledgement e-mail with the reference and the
    private link, all in one transaction. The same question asked again opens nothing and
    sends nothing: it returns the first one's reference."""
    repeat = already_asked(email, topic.pk, text)
    if repeat is not None:
        return Submitted(repeat.case_id, repeat.case.reference, created=False)
    contacts = list(contacts_with_email(email)[:2])
    title, title_en = _titles(topic, text)
    try:
        with transaction.atomic():
            case = services.open_case(
                origin=Origin.INQUIRY,
                title=title,
                title_en=title_en,
                now=now,
                contact=contacts[0] if len(contacts) == 1 else None,
                owner=Router().next_member(topic.team_id),
                team=topic.team,
                sla_policy=topic.sla_policy,
            )
            inquiry = Inquiry(
                case=case,
                topic=topic,
                name=name,
                email=email,
                phone=phone,
                company=company,
                language=language,
                text=text,
                fingerprint=fingerprint_of(email, topic.pk, text),
                created_at=now,
            )
            inquiry.token_hash = _token_hash(link_token(inquiry))
            inquiry.save()
            webhook_events.inquiry_received(inquiry, case, now=now)
            _email(inquiry, "inquiry_ack", key=f"inquiry-ack:{inquiry.pk}", now=now)
    except IntegrityError:
        # The same question from a second request at the same moment: that one made the case.
        repeat = already_asked(email, topic.pk, text)
        if repeat is None:
            raise
        return Submitted(repeat.case_id, repeat.case.reference, created=False)
    return Submitted(case.pk, case.reference, created=True)


def _checked_text(text: str, empty_message: str) -> str:
    text = text.strip()
    if not text:
        raise services.CaseError(empty_message)
    if len(text) > MAX_TEXT:
        raise services.CaseError(
            _("The text is %(length)s characters long; the most is %(limit)s.")
            % {"length": len(text), "limit": MAX_TEXT}
        )
    return text


def answer(case: Case, text: str, *, by, now: dt.datetime) -> Case:
    """A specialist's answer: kept in the case's history, e-mailed to the customer with the
    private link, counted as the first contact (by e-mail) if none came before, and the case
    then waits on the customer (its clocks stop until they reply)."""
    text = _checked_text(text, _("Write the answer first."))
    inquiry = inquiry_of(case)
    if inquiry is None:
        raise services.CaseError(_("This case did not come from the inquiry form."))
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.state not in OPEN_STATES:
            raise services.CaseError(_("Reopen the case to answer the customer."))
        event = services.record(case, EventKind.MESSAGE_OUT, by=by, now=now, text=text)
        if case.first_contacted_at is None:
            case = services.record_contact(case, LoopChannel.EMAIL, by=by, now=now)
        if case.state != CaseState.WAITING:
            case = services.change_state(case, CaseState.WAITING, by=by, now=now)
        inquiry.case = case
        _email(
            inquiry,
            "inquiry_answer",
            key=f"inquiry-answer:{event.pk}",
            now=now,
            answer=text,
            specialist=_specialist_name(by),
        )
    return case


def reply(inquiry: Inquiry, text: str, *, now: dt.datetime) -> Case:
    """The customer's answer through the private link: the case goes back to work, its clocks
    restart and its owner is told (:func:`cxloop.cases.services.customer_replied`)."""
    text = _checked_text(text, _("Write your message first."))
    return services.customer_replied(inquiry.case, text, now=now, via="inquiry_link")


def _email(inquiry: Inquiry, template: str, *, key: str, now: dt.datetime, **extra) -> None:
    """Queue one e-mail to the customer in their language, as plain text and HTML."""
    with translation.override(inquiry.language):
        context = {
            "name": inquiry.name,
            "reference": inquiry.case.reference,
            "topic": inquiry.topic.label,
            "question": inquiry.text,
            "link": private_link(inquiry),
            "LANGUAGE_CODE": inquiry.language,
            **extra,
        }
        subject = render_to_string(f"cases/email/{template}_subject.txt", context)
        text = render_to_string(f"cases/email/{template}.txt", context)
        html = render_to_string(f"cases/email/{template}.html", context)
    enqueue_email(
        inquiry.email,
        " ".join(subject.split()),
        text,
        html=html,
        kind="inquiry",
        key=key,
        now=now,
    )
