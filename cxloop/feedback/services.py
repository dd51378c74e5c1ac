"""Write side of feedback: the one way in for responses that arrive whole (the API, imports,
face-to-face records), which owns their rules — scope, closed and pulse surveys, idempotency,
clock skew — and asks for their announcement after the commit (:mod:`cxloop.surveys.announce`).
Respondents' pages save page by page through :mod:`cxloop.surveys.services`, whose completion
takes the same announcement path. See docs/decisions/012-one-way-in.md.
"""

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cxloop.customers.queries import owner_teams
from cxloop.feedback.models import FaceToFaceRecord, FollowUp
from cxloop.people.queries import ORGANISATION_WIDE, may_record_for_team, role_records_feedback
from cxloop.people.services import OutOfScope
from cxloop.prefetch import attach
from cxloop.rows import insert, insert_many
from cxloop.surveys.announce import announce_after_commit
from cxloop.surveys.models import Answer, Question, Response, ResponseState, Survey, SurveyKind
from cxloop.surveys.services import AnswerError, clean_answers, draft_answers

# A sender's clock may run a little ahead of ours; more than this is a mistake.
CLOCK_SKEW = dt.timedelta(minutes=5)


class Refused(ValueError):
    """A response the one way in does not take, whatever its answers; nothing was written. The
    message (English, like the API's) names the survey or the field."""


class PulseSurvey(Refused):
    def __init__(self, survey: Survey):
        super().__init__(
            f"survey {survey.pk} is an employee pulse: employees answer it on its page"
        )


class ClosedSurvey(Refused):
    def __init__(self, survey: Survey):
        super().__init__(f"survey {survey.pk} is closed: it takes no new responses")


class FutureSubmission(Refused):
    def __init__(self, submitted_at: dt.datetime):
        super().__init__(f"submitted_at: {submitted_at.isoformat()} is in the future")
        self.submitted_at = submitted_at


def check_survey(survey: Survey) -> None:
    """Raise PulseSurvey for an employee pulse: its answers are anonymous and stay on its page."""
    if survey.kind == SurveyKind.PULSE:
        raise PulseSurvey(survey)


def check_submitted_at(submitted_at: dt.datetime, now: dt.datetime) -> None:
    if submitted_at > now + CLOCK_SKEW:
        raise FutureSubmission(submitted_at)


def check_scope(by, customer) -> None:
    """Raise OutOfScope unless employee ``by`` may record feedback about ``customer`` (None:
    feedback tied to no customer, which any role but a viewer's may record); see
    :func:`cxloop.people.queries.may_record_for_team`. ``by`` None is a trusted channel with no
    acting employee: an import the CX lead runs, a command, the demo.

    At most one statement, and none for administrators and executives: the API's submission
    path runs it on every request."""
    if by is None:
        return
    if not role_records_feedback(by.role):
        raise OutOfScope("a viewer may read feedback but not record it")
    if customer is None or by.role in ORGANISATION_WIDE:
        return
    teams = owner_teams(customer.pk)
    allowed = teams is not None and may_record_for_team(
        by, teams.team_id, with_parents=teams.with_parents
    )
    if not allowed:
        raise OutOfScope(f"customer {customer.pk} is outside the teams of employee {by.pk}")


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
    by=None,
) -> FaceToFaceRecord:
    """Record a meeting; its scores (``values`` by question id of the interview ``guide``) become
    a completed response whose channel is the meeting's kind. All or nothing.

    ``by`` is the employee recording it (see :func:`check_scope`); OutOfScope, with nothing
    written, when the customer is not theirs to record for, or a contact is not the customer's."""
    check_scope(by, customer)
    if any(contact.customer_id != customer.pk for contact in contacts):
        raise OutOfScope(f"a contact of another customer is not a participant of {customer}")
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
        announce_after_commit()
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
    submitted_at: dt.datetime | None = None,
    language: str = "ru",
    customer=None,
    contact=None,
    touchpoint=None,
    source_key: str = "",
    by=None,
) -> Ingested:
    """Store feedback that arrives whole (an API call, a single record): one completed response
    with ``answers`` keyed by question number, submitted at ``submitted_at`` (now when None).
    Idempotent by ``source_key``: a key already stored for the survey returns that response and
    changes nothing, even once the survey is closed. Raises, having written nothing,
    PulseSurvey, ClosedSurvey, FutureSubmission (more than :data:`CLOCK_SKEW` ahead), and
    AnswerError when an answer does not fit its question.

    The stored response comes back with its answers attached (``response.answers.all()`` reads
    no database), so a caller can reply from what was written. ``survey.questions`` is read
    once; pass a survey from :func:`cxloop.surveys.queries.survey_for_submission` to read it
    from memory.

    ``by`` is the employee submitting it; OutOfScope, with nothing written, when the customer
    (or the contact's customer) is not theirs to record for (:func:`check_scope`)."""
    check_survey(survey)
    if not survey.is_active:
        existing = _stored_response(survey, source_key)
        if existing is None:
            raise ClosedSurvey(survey)
        return Ingested(existing, created=False)
    now = timezone.now()
    submitted_at = submitted_at or now
    check_submitted_at(submitted_at, now)
    check_scope(by, customer or (contact.customer if contact else None))
    if customer is not None and contact is not None and contact.customer_id != customer.pk:
        raise OutOfScope(f"contact {contact.pk} is not a contact of customer {customer.pk}")
    values = clean_answers(survey, answers)
    item = Feedback(
        answers=answers,
        submitted_at=submitted_at,
        channel=channel,
        language=language,
        customer=customer,
        contact=contact,
        touchpoint=touchpoint,
        source_key=source_key,
    )
    response = _response(survey, item)
    try:
        with transaction.atomic():
            # No look-up of the key first: the unique constraint on (survey, source key) tells,
            # and a new key, the usual case, costs one statement less.
            insert(response)
            stored = list(draft_answers(response, survey.questions.all(), values).values())
            insert_many(stored)
            announce_after_commit()
    except IntegrityError:
        existing = _stored_response(survey, source_key)
        if existing is None:
            raise
        return Ingested(existing, created=False)
    attach(response, "answers", stored)
    return Ingested(response, created=True)


@dataclass(frozen=True)
class Feedback:
    """One whole response for :func:`ingest_many`; the fields mean what :func:`ingest`'s do."""

    answers: Mapping[int, object]
    submitted_at: dt.datetime
    channel: str
    language: str = "ru"
    customer: object = None  # customers.Customer
    contact: object = None  # customers.Contact
    touchpoint: object = None  # journeys.Touchpoint
    source_key: str = ""


@dataclass(frozen=True)
class IngestedMany:
    created: int
    unchanged: int  # items whose source key was already stored (or came earlier in the batch)


def ingest_many(
    *, survey: Survey, items: Sequence[Feedback], batch_size: int = 1000
) -> IngestedMany:
    """Store many whole responses at once, all or nothing: :func:`ingest` for imports, where
    one insert per response would take minutes. Each item is checked with the same
    :func:`clean_answers` and clock; an AnswerError or FutureSubmission (noted with the item's
    position, from 1) stops the batch before anything is written. Idempotent by source key like
    :func:`ingest`: a key already stored for the survey, or repeated in ``items``, stores
    nothing more. A closed survey takes them (an import brings in answers given earlier,
    elsewhere; closing a survey stops collecting, not record-keeping); a pulse does not.

    Two batches with a common key at the same moment: on SQLite the second waits for the
    first's write lock and then finds the key; on PostgreSQL one of them fails with
    IntegrityError, having written nothing, and finds the keys when run again.
    """
    survey = Survey.objects.prefetch_related("questions__touchpoint").get(pk=survey.pk)
    check_survey(survey)
    questions = {q.pk: q for q in survey.questions.all()}  # clean_answers reads the same list
    values = []
    now = timezone.now()
    for position, item in enumerate(items, start=1):
        try:
            check_submitted_at(item.submitted_at, now)
            values.append(clean_answers(survey, item.answers))
        except (AnswerError, FutureSubmission) as error:
            error.add_note(f"item {position}")
            raise
    with transaction.atomic():
        seen = _stored_source_keys(survey, {item.source_key for item in items} - {""})
        fresh = []
        for item, cleaned in zip(items, values, strict=True):
            if item.source_key in seen:
                continue
            if item.source_key:
                seen.add(item.source_key)
            fresh.append((_response(survey, item), cleaned))
        Response.objects.bulk_create([response for response, _ in fresh], batch_size=batch_size)
        _insert_answers(
            (response, questions[pk], value)
            for response, cleaned in fresh
            for pk, value in cleaned.items()
            if value not in (None, "", [])
        )
        if fresh:
            announce_after_commit()
    return IngestedMany(created=len(fresh), unchanged=len(items) - len(fresh))


ANSWER_COLUMNS = ("response", "question", "kind", "touchpoint", "score", "text", "choices")


def _insert_answers(answers: Iterable[tuple[Response, Question, object]]) -> None:
    """Insert answers (response, question, cleaned value) as :func:`draft_answers` makes them,
    bypassing model instances: for the ~400,000 answers of a large import, ``bulk_create`` spent
    four fifths of its time building instances and compiling each value. PostgreSQL takes them
    by COPY (a multi-row INSERT there spent 25 s quoting parameters); SQLite by multi-row
    INSERTs."""
    fields = [Answer._meta.get_field(name) for name in ANSWER_COLUMNS]
    choices = fields[-1]
    no_choices = choices.get_db_prep_save([], connection)  # most answers: once, not per answer
    rows = (
        (
            response.pk,
            question.pk,
            question.kind,
            question.touchpoint_id or response.touchpoint_id,
            value if isinstance(value, int) else None,
            value if isinstance(value, str) else "",
            choices.get_db_prep_save(value, connection) if isinstance(value, list) else no_choices,
        )
        for response, question, value in answers
    )
    quote = connection.ops.quote_name
    table = quote(Answer._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        batch = min(1000, (connection.features.max_query_params or 65535) // len(fields))
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        while chunk := list(itertools.islice(rows, batch)):
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([row_sql] * len(chunk)),
                list(itertools.chain.from_iterable(chunk)),
            )


def _response(survey: Survey, item: Feedback) -> Response:
    contact = item.contact
    return Response(
        survey=survey,
        customer=item.customer or (contact.customer if contact else None),
        contact=None if survey.is_anonymous else contact,
        touchpoint=item.touchpoint,
        channel=item.channel,
        language=item.language,
        state=ResponseState.COMPLETED,
        started_at=item.submitted_at,
        submitted_at=item.submitted_at,
        source_key=item.source_key,
    )


def _stored_response(survey: Survey, source_key: str) -> Response | None:
    if not source_key:
        return None
    return Response.objects.filter(survey=survey, source_key=source_key).first()


def _stored_source_keys(survey: Survey, keys: set[str], chunk: int = 900) -> set[str]:
    ordered, stored = sorted(keys), set()
    for start in range(0, len(ordered), chunk):
        stored |= set(
            Response.objects.filter(
                survey=survey, source_key__in=ordered[start : start + chunk]
            ).values_list("source_key", flat=True)
        )
    return stored
