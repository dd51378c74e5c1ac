"""Everything held about one contact: export it, erase it, and the retention rules.

Erasing is the one write that must reach every app holding a contact's data, so it lives here
and touches their models directly (decision 006): the contact and their invitations are
deleted; their responses stay as anonymous scores (no contact, invitation or source key; free
text blanked); face-to-face notes lose their name, e-mail and phone; the fact store's months of
those responses are rewritten at once and Django's cache (the insights' results) is cleared.
The audit log keeps that an erasure happened, by the contact's id alone.
"""

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction
from django.db.models import Max, Q
from django.utils import timezone

from cxloop.audit import services as audit
from cxloop.audit.choices import Action
from cxloop.audit.models import AuditEvent
from cxloop.comments.services import forget_blanked
from cxloop.customers.models import Contact
from cxloop.facts import store, sync
from cxloop.feedback.models import FaceToFaceRecord, FollowUp
from cxloop.surveys.models import Answer, Invitation, Response
from cxloop.surveys.queries import submission_months
from cxloop.webhooks.services import purge_delivered

ERASED = "[erased]"

CONTACT_FIELDS = (
    "id",
    "name",
    "email",
    "phone",
    "job_title",
    "language",
    "consent",
    "opted_out_at",
)
CUSTOMER_FIELDS = ("id", "external_id", "name", "industry", "attributes")
INVITATION_FIELDS = (
    "id",
    "survey_id",
    "channel",
    "touchpoint_id",
    "created_at",
    "sent_at",
    "opened_at",
    "started_at",
    "completed_at",
    "bounced_at",
    "reminded_at",
    "expires_at",
)


class ContactNotFound(LookupError):
    pass


def _contact(contact_id: int) -> Contact:
    try:
        return Contact.objects.select_related("customer").get(pk=contact_id)
    except Contact.DoesNotExist:
        raise ContactNotFound(f"no contact with id {contact_id}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _row(instance: models.Model, names: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(getattr(instance, name)) for name in names}


def _responses_of(contact: Contact):
    return Response.objects.filter(Q(contact=contact) | Q(invitation__contact=contact)).distinct()


def _records_of(contact: Contact):
    return FaceToFaceRecord.objects.filter(contacts=contact).distinct()


# Export -------------------------------------------------------------------------------------


def contact_data(contact_id: int) -> dict[str, Any]:
    """Everything cxloop holds about one contact, as plain JSON-ready values."""
    contact = _contact(contact_id)
    responses = []
    for response in _responses_of(contact).select_related("survey").order_by("started_at"):
        answers = [
            {
                "question_id": answer.question_id,
                "question": answer.question.text_en,
                "kind": answer.kind,
                "score": answer.score,
                "text": answer.text,
                "choices": answer.choices,
            }
            for answer in response.answers.select_related("question").order_by("question__order")
        ]
        responses.append(
            {
                "id": response.pk,
                "survey_id": response.survey_id,
                "survey": response.survey.name_en,
                "channel": response.channel,
                "language": response.language,
                "state": response.state,
                "started_at": _plain(response.started_at),
                "submitted_at": _plain(response.submitted_at),
                "answers": answers,
            }
        )
    records = [
        {
            "id": record.pk,
            "kind": record.kind,
            "met_on": _plain(record.met_on),
            "customer_id": record.customer_id,
            "notes": record.notes,
            "follow_ups": [f.description for f in FollowUp.objects.filter(record=record)],
        }
        for record in _records_of(contact).order_by("met_on")
    ]
    events = [
        {
            "at": _plain(e.at),
            "actor": e.actor,
            "address": e.address,
            "action": e.action,
            "details": e.details,
        }
        for e in AuditEvent.objects.filter(
            object_kind="contact", object_id=str(contact.pk)
        ).order_by("at", "id")
    ]
    return {
        "contact": _row(contact, CONTACT_FIELDS),
        "customer": _row(contact.customer, CUSTOMER_FIELDS),
        "invitations": [
            _row(i, INVITATION_FIELDS) for i in Invitation.objects.filter(contact=contact)
        ],
        "responses": responses,
        "face_to_face_records": records,
        "audit_events": events,
    }


def _safe_cell(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula is written as text (prefixed with ')."""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _safe_cell(v) for k, v in row.items()})
    return out.getvalue()


def export_files(contact_id: int) -> dict[str, str]:
    """File name → text: ``contact-ID.json`` with everything, and one CSV per kind of data.
    Records an export event."""
    data = contact_data(contact_id)
    answers = [
        {"response_id": r["id"], "survey": r["survey"], "submitted_at": r["submitted_at"], **a}
        for r in data["responses"]
        for a in r["answers"]
    ]
    files = {
        f"contact-{contact_id}.json": json.dumps(data, ensure_ascii=False, indent=2),
        "contact.csv": _csv([data["contact"] | {"customer": data["customer"]["name"]}]),
        "invitations.csv": _csv(data["invitations"]),
        "answers.csv": _csv(answers),
        "face_to_face_records.csv": _csv(data["face_to_face_records"]),
        "audit_events.csv": _csv(data["audit_events"]),
    }
    audit.record(
        Action.EXPORT,
        kind="contact",
        object_id=contact_id,
        label=f"#{contact_id}",
        details={"responses": len(data["responses"]), "files": sorted(files)},
    )
    return files


def export_to_directory(contact_id: int, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in export_files(contact_id).items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def export_zip(contact_id: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in export_files(contact_id).items():
            archive.writestr(name, text)
    return buffer.getvalue()


# Erase --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erased:
    contact_id: int
    responses: int  # kept as anonymous scores
    comments: int  # free-text answers blanked
    invitations: int  # deleted
    records: int  # face-to-face records whose notes were cleaned
    messages: int  # e-mails to them deleted from the outbox
    months: tuple[str, ...]  # of the fact store, rewritten
    traces: tuple[str, ...] = field(default=())  # table.column still holding the data

    def to_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "responses": self.responses,
            "comments": self.comments,
            "invitations": self.invitations,
            "records": self.records,
            "messages": self.messages,
            "months": list(self.months),
            "traces": list(self.traces),
        }


def _needles(contact: Contact) -> list[str]:
    return [v for v in (contact.name, contact.email, contact.phone) if v and len(v.strip()) >= 3]


def _scrub(text: str, needles: list[str]) -> str:
    lowered = text.lower()
    for needle in needles:
        start = lowered.find(needle.lower())
        while start >= 0:
            text = text[:start] + ERASED + text[start + len(needle) :]
            lowered = text.lower()
            start = lowered.find(needle.lower(), start + len(ERASED))
    return text


def _after_write(months: set[str]) -> None:
    """Rewrite the fact store's months now (not in a debounced task: the erasure is not done
    while an old file still holds the data) and drop every cached result."""
    if months and store.read_manifest() is not None:
        sync.refresh_months(sorted(months))
    cache.clear()


def _delete_mail_to(email: str) -> int:
    """Delete the outbox's e-mails to ``email``, sent or not: their address and text are the
    contact's data, and a contact being erased is asked nothing more. Looked up by label so
    that erasing works with or without the outbox installed."""
    if not email or not apps.is_installed("cxloop.outbox"):
        return 0
    message = apps.get_model("outbox", "OutboxMessage")
    return message.objects.filter(recipient__icontains=email).delete()[0]


def erase_contact(contact_id: int) -> Erased:
    """Remove or anonymise everything held about one contact (see the module's docstring)."""
    with transaction.atomic():
        contact = _contact(contact_id)
        needles = _needles(contact)
        response_ids = list(_responses_of(contact).values_list("pk", flat=True))
        months = submission_months(response_ids)
        comments = Answer.objects.filter(response_id__in=response_ids).exclude(text="")
        comment_count = comments.update(text="")
        forget_blanked()
        Response.objects.filter(pk__in=response_ids).update(
            contact=None, invitation=None, source_key=""
        )
        records = list(_records_of(contact))
        for record in records:
            record.notes = _scrub(record.notes, needles)
            record.save(update_fields=["notes"])
            for follow_up in FollowUp.objects.filter(record=record):
                follow_up.description = _scrub(follow_up.description, needles)
                follow_up.save(update_fields=["description"])
        invitations = Invitation.objects.filter(contact=contact).count()
        messages = _delete_mail_to(contact.email)
        contact.delete()  # its invitations and meeting participations go with it
        audit.record(
            Action.ERASE,
            kind="contact",
            object_id=contact_id,
            label=f"#{contact_id}",
            details={
                "responses": len(response_ids),
                "comments": comment_count,
                "invitations": invitations,
                "records": len(records),
                "messages": messages,
            },
        )
    _after_write(months)
    return Erased(
        contact_id=contact_id,
        responses=len(response_ids),
        comments=comment_count,
        invitations=invitations,
        records=len(records),
        messages=messages,
        months=tuple(sorted(months)),
        traces=tuple(find_traces(needles)),
    )


# Traces -------------------------------------------------------------------------------------

_TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def _like(needle: str) -> str:
    escaped = needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_traces(needles: Iterable[str]) -> list[str]:
    """The ``table.column`` of every text column of every model that still holds one of
    ``needles`` (case-insensitive; JSON columns also in their escaped form)."""
    patterns = set()
    for needle in needles:
        patterns.add(_like(needle))
        patterns.add(_like(json.dumps(needle)[1:-1]))  # "\u0418…" as SQLite's JSON holds it
    if not patterns:
        return []
    found = []
    quote = connection.ops.quote_name
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:
            continue
        table = model._meta.db_table
        for column in [f.column for f in model._meta.local_fields if isinstance(f, _TEXT_FIELDS)]:
            text = f"LOWER(CAST({quote(column)} AS TEXT))"
            where = " OR ".join(f"{text} LIKE %s ESCAPE '\\'" for _ in patterns)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT 1 FROM {quote(table)} WHERE {where} LIMIT 1",  # noqa: S608
                    list(patterns),
                )
                if cursor.fetchone():
                    found.append(f"{table}.{column}")
    return found


# Retention ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retained:
    responses_deleted: int = 0
    comments_blanked: int = 0
    contacts_erased: int = 0
    audit_events_purged: int = 0
    webhook_deliveries_purged: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "responses_deleted": self.responses_deleted,
            "comments_blanked": self.comments_blanked,
            "contacts_erased": self.contacts_erased,
            "audit_events_purged": self.audit_events_purged,
            "webhook_deliveries_purged": self.webhook_deliveries_purged,
        }


def _before(days: int, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=days)


def inactive_contacts(days: int, now: dt.datetime) -> list[int]:
    """Contacts with no invitation, response, meeting or audited change for ``days`` days. A
    contact with no dated trace at all (created before the audit log) is kept: its age is not
    known."""
    cutoff = _before(days, now)
    last = Contact.objects.annotate(
        invited=Max("invitations__created_at"),
        answered=Max("responses__started_at"),
        met=Max("facetofacerecord__met_on"),
    ).values_list("pk", "invited", "answered", "met")
    changed = dict(
        AuditEvent.objects.filter(object_kind="contact")
        .exclude(action=Action.READ)
        .values("object_id")
        .annotate(last=Max("at"))
        .values_list("object_id", "last")
    )
    stale = []
    for pk, invited, answered, met in last:
        moments = [m for m in (invited, answered, changed.get(str(pk))) if m is not None]
        if met is not None:
            moments.append(dt.datetime.combine(met, dt.time(), tzinfo=dt.UTC))
        if moments and max(moments) < cutoff:
            stale.append(pk)
    return stale


def apply_retention(*, now: dt.datetime | None = None) -> Retained:
    """Apply the rules of ``CXLOOP_RETENTION_*_DAYS`` and ``CXLOOP_AUDIT_RETENTION_DAYS``;
    idempotent, so the worker may run it as often as it likes (it runs it daily)."""
    now = now or timezone.now()
    deleted = blanked = erased = 0
    months: set[str] = set()
    if settings.RETENTION_RESPONSES_DAYS:
        with transaction.atomic():
            old = Response.objects.filter(
                started_at__lt=_before(settings.RETENTION_RESPONSES_DAYS, now)
            )
            ids = list(old.values_list("pk", flat=True))
            months |= submission_months(ids)
            Answer.objects.filter(response_id__in=ids).delete()
            deleted = Response.objects.filter(pk__in=ids).delete()[1].get("surveys.Response", 0)
            if deleted:
                audit.record(
                    Action.ERASE,
                    kind="response",
                    details={"rule": "CXLOOP_RETENTION_RESPONSES_DAYS", "count": deleted},
                )
    if settings.RETENTION_COMMENTS_DAYS:
        with transaction.atomic():
            blanked = (
                Answer.objects.filter(
                    response__started_at__lt=_before(settings.RETENTION_COMMENTS_DAYS, now)
                )
                .exclude(text="")
                .update(text="")
            )
            forget_blanked()
            if blanked:
                audit.record(
                    Action.ERASE,
                    kind="answer",
                    details={"rule": "CXLOOP_RETENTION_COMMENTS_DAYS", "count": blanked},
                )
    if settings.RETENTION_CONTACTS_DAYS:
        for pk in inactive_contacts(settings.RETENTION_CONTACTS_DAYS, now):
            erase_contact(pk)
            erased += 1
    if months:
        _after_write(months)
    purged = audit.purge_expired(now=now)
    return Retained(deleted, blanked, erased, purged, purge_delivered(now=now))


RETENTION_CACHE_KEY = "cxloop:privacy:retention-day"


def apply_retention_daily(*, now: dt.datetime | None = None) -> Retained | None:
    """:func:`apply_retention` at most once a calendar day (UTC); None when it already ran today.
    For the worker's loop to call on every pass."""
    now = now or timezone.now()
    today = now.astimezone(dt.UTC).date().isoformat()
    # The day is claimed before the work, so that of several workers one does it (an atomic
    # SET NX on Redis); a run that fails gives the day back for the next round.
    claim = f"{RETENTION_CACHE_KEY}:{today}"
    if not cache.add(claim, True, 2 * 24 * 3600):
        return None
    try:
        return apply_retention(now=now)
    except BaseException:
        cache.delete(claim)
        raise
