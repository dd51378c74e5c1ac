"""Write side of feedback: face-to-face records, stored as responses like any other feedback."""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from cxloop.feedback.models import FaceToFaceRecord, FollowUp
from cxloop.surveys.models import Answer, Response, ResponseState, Survey
from cxloop.surveys.services import clean_answers, draft_answers


@dataclass(frozen=True)
class AgreedFollowUp:
    description: str
    owner: object  # people.Employee
    due_on: dt.date


def log_face_to_face(
    *,
    guide: Survey,
    kind: str,
    customer,
    employee,
    met_on: dt.date,
    language: str,
    values: Mapping[int, object],
    contacts: Sequence = (),
    notes: str = "",
    source: str = "",
    follow_ups: Sequence[AgreedFollowUp] = (),
) -> FaceToFaceRecord:
    """Record a meeting; its scores (``values`` by question id of the interview ``guide``) become
    a completed response whose channel is the meeting's kind. All or nothing."""
    met_at = dt.datetime.combine(met_on, dt.time(12), tzinfo=dt.UTC)
    with transaction.atomic():
        response = Response.objects.create(
            survey=guide,
            customer=customer,
            contact=contacts[0] if contacts else None,
            channel=kind,
            language=language,
            state=ResponseState.COMPLETED,
            started_at=met_at,
            submitted_at=met_at,
        )
        Answer.objects.bulk_create(draft_answers(response, guide.questions.all(), values).values())
        record = FaceToFaceRecord.objects.create(
            kind=kind,
            customer=customer,
            employee=employee,
            met_on=met_on,
            language=language,
            notes=notes,
            source=source,
            response=response,
        )
        record.contacts.set(contacts)
        FollowUp.objects.bulk_create(
            FollowUp(record=record, description=f.description, owner=f.owner, due_on=f.due_on)
            for f in follow_ups
        )
    return record


@dataclass(frozen=True)
class Ingested:
    response: Response
    created: bool  # False when a response with the same source key was already stored


def ingest(
    *,
    survey: Survey,
    answers: Mapping[int, object],
    channel: str,
    submitted_at: dt.datetime,
    language: str = "ru",
    customer=None,
    contact=None,
    touchpoint=None,
    source_key: str = "",
) -> Ingested:
    """Store feedback that arrives whole (an import row, an API call): one completed response
    with ``answers`` keyed by question number. Idempotent by ``source_key``: a key already stored
    for the survey returns that response and changes nothing. Raises AnswerError, having written
    nothing, when an answer does not fit its question."""
    if source_key:
        existing = Response.objects.filter(survey=survey, source_key=source_key).first()
        if existing is not None:
            return Ingested(existing, created=False)
    values = clean_answers(survey, answers)
    try:
        with transaction.atomic():
            response = Response.objects.create(
                survey=survey,
                customer=customer or (contact.customer if contact else None),
                contact=None if survey.is_anonymous else contact,
                touchpoint=touchpoint,
                channel=channel,
                language=language,
                state=ResponseState.COMPLETED,
                started_at=submitted_at,
                submitted_at=submitted_at,
                source_key=source_key,
            )
            Answer.objects.bulk_create(
                draft_answers(response, survey.questions.all(), values).values()
            )
    except IntegrityError:
        # Another request stored the same key between our look-up and our insert.
        existing = Response.objects.filter(survey=survey, source_key=source_key).first()
        if not source_key or existing is None:
            raise
        return Ingested(existing, created=False)
    return Ingested(response, created=True)
