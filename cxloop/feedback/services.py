"""Write side of feedback: the one way in for responses that arrive whole (the API, imports,
face-to-face records), which owns their rules — scope, closed and pulse surveys, idempotency,
clock skew — and leaves them unannounced, for the worker to announce once committed
(:mod:`cxloop.surveys.announce`). Respondents' pages save page by page through
:mod:`cxloop.surveys.services`, whose completion takes the same announcement path. See
docs/decisions/012-one-way-in.md.
"""

import datetime as dt
import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cxloop.customers.queries import owner_teams
from cxloop.feedback.models import FaceToFaceRecord, FollowUp
from cxloop.people.queries import ORGANISATION_WIDE, may_record_for_team, role_records_feedback
from cxloop.people.services import OutOfScope
from cxloop.prefetch import attach
from cxloop.rows import insert, insert_many
from cxloop.surveys.models import Answer, Question, Response, ResponseState, Survey, SurveyKind
from cxloop.surveys.services import (
    AnswerError,
    clean_answers,
    draft_answers,
    questions_by_number,
)

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
    _check_scope_of(by, None if customer is None else customer.pk)


def _check_scope_of(by, customer_id: int | None) -> None:
    """:func:`check_scope` by the customer's id."""
    if by is None:
        return
    if not role_records_feedback(by.role):
        raise OutOfScope("a viewer may read feedback but not record it")
    if customer_id is None or by.role in ORGANISATION_WIDE:
        return
    teams = owner_teams(customer_id)
    allowed = teams is not None and may_record_for_team(
        by, teams.team_id, with_parents=teams.with_parents
    )
    if not allowed:
        raise OutOfScope(f"customer {customer_id} is outside the teams of employee {by.pk}")


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
            (response.pk, response.touchpoint_id, questions[pk], value)
            for response, cleaned in fresh
            for pk, value in cleaned.items()
            if value not in (None, "", [])
        )
    return IngestedMany(created=len(fresh), unchanged=len(items) - len(fresh))


@dataclass(frozen=True)
class Submission:
    """One whole response for :func:`ingest_each`, to ``survey``; the other fields mean what
    :func:`ingest`'s do."""

    survey: Survey
    answers: Mapping[int, object]
    channel: str
    submitted_at: dt.datetime | None = None
    language: str = "ru"
    # Records, or anything with their ``pk`` (a contact's ``customer_id`` too): a batch's
    # look-ups read these columns and not whole records, four times faster.
    customer: object = None  # customers.Customer
    contact: object = None  # customers.Contact
    touchpoint: object = None  # journeys.Touchpoint
    source_key: str = ""


@dataclass(frozen=True)
class Outcome:
    """What :func:`ingest_each` did with one submission."""

    response_id: int | None  # the response stored now or before; None when refused
    created: bool = False  # False: stored before under its source key (or by an earlier item)
    refusal: Exception | None = None  # what ingest() would have raised; nothing was stored


# What ingest() raises for a submission it does not take, having written nothing.
REFUSALS = (Refused, AnswerError, OutOfScope)


def ingest_each(items: Sequence[Submission], *, by=None) -> list[Outcome]:
    """Store each whole response that :func:`ingest` would store and refuse the others: an
    outcome per item, in their order. For the API's batches, where a bad item must not cost
    the good ones. Each item follows ingest's rules (scope for employee ``by``, pulse and
    closed surveys, the clock, the answers, idempotency by source key per survey) and is
    stored whole or not at all; a key repeated among the items is stored once, by the first
    item that passes the rules. Pass surveys from
    :func:`cxloop.surveys.queries.survey_for_submission`, whose questions are read from memory.

    Every item is checked, and its rows prepared, before the transaction; the transaction
    inserts them together, so that SQLite's write lock is held for the inserts alone and taken
    once. 1,000 responses took 65 ms this way and 700 ms through ``ingest`` one by one
    (SQLite, two answers each). A writer that stores one of the
    keys after they were looked up makes the insert fail with IntegrityError, having written
    nothing: then the keys are looked up again and the items inserted one at a time, each in
    a savepoint, and an item whose key turns out to be stored is answered with that
    response."""
    now = timezone.now()
    outcomes: list[Outcome | None] = [None] * len(items)
    accepted, scope_refusals, questions = [], {}, {}
    for position, item in enumerate(items):
        try:
            accepted.append(_accepted(position, item, now, by, scope_refusals, questions))
        except REFUSALS as refusal:
            outcomes[position] = Outcome(None, refusal=refusal)
    try:
        _store(accepted, outcomes, insert=_insert_together)
    except IntegrityError:
        _store(accepted, outcomes, insert=_insert_one_by_one)
    return outcomes


@dataclass(frozen=True)
class _Accepted:
    """A submission that passed :func:`ingest_each`'s checks, with its answers cleaned (by
    question id); ``values`` None for a closed survey, which only a stored key can answer."""

    position: int
    item: Submission
    key: tuple[int, str]  # (survey id, source key)
    submitted_at: dt.datetime | None
    values: dict[int, object] | None


def _accepted(
    position: int, item: Submission, now: dt.datetime, by, scope_refusals: dict, questions: dict
) -> _Accepted:
    """``item`` checked in :func:`ingest`'s order; raises what ingest would. ``questions``:
    each survey's by number (:func:`questions_by_number`), filled in as they are met."""
    survey, customer, contact = item.survey, item.customer, item.contact
    check_survey(survey)
    if not survey.is_active:
        return _Accepted(position, item, (survey.pk, item.source_key), None, None)
    submitted_at = item.submitted_at or now
    check_submitted_at(submitted_at, now)
    _check_scope_once(by, _customer_id(item), scope_refusals)
    if customer is not None and contact is not None and contact.customer_id != customer.pk:
        raise OutOfScope(f"contact {contact.pk} is not a contact of customer {customer.pk}")
    if survey.pk not in questions:
        questions[survey.pk] = questions_by_number(survey)
    values = clean_answers(survey, item.answers, questions=questions[survey.pk])
    return _Accepted(position, item, (survey.pk, item.source_key), submitted_at, values)


def _customer_id(item: Submission) -> int | None:
    """The customer the item is about: the one named, else the contact's."""
    if item.customer is not None:
        return item.customer.pk
    return None if item.contact is None else item.contact.customer_id


def _check_scope_once(by, customer_id: int | None, refusals: dict[int | None, str]) -> None:
    """:func:`check_scope` once per customer of a batch (it reads the customer's teams); its
    refusals are kept in ``refusals`` by customer id, its passes as ""."""
    if customer_id not in refusals:
        try:
            _check_scope_of(by, customer_id)
            refusals[customer_id] = ""
        except OutOfScope as refusal:
            refusals[customer_id] = str(refusal)
    if refusals[customer_id]:
        raise OutOfScope(refusals[customer_id])


def _store(accepted: Sequence[_Accepted], outcomes: list, *, insert) -> None:
    """Fill in the outcomes of ``accepted``: a key stored before is answered with its response,
    a closed survey's other items are refused, the rest are inserted by ``insert`` in one
    transaction."""
    stored = _stored_ids({a.key for a in accepted if a.item.source_key})
    fresh, repeated, claimed = [], [], set()
    for a in accepted:
        if a.key in stored:
            outcomes[a.position] = Outcome(stored[a.key])
        elif a.values is None:
            outcomes[a.position] = Outcome(None, refusal=ClosedSurvey(a.item.survey))
        elif a.key in claimed:
            repeated.append(a)
        else:
            if a.item.source_key:
                claimed.add(a.key)
            fresh.append(a)
    if fresh:
        # Inserted in the keys' order: two batches that share keys wait for one another on
        # PostgreSQL (the second then finds the keys stored) instead of deadlocking.
        fresh.sort(key=lambda a: a.key)
        rows = _Rows.of(fresh)
        with transaction.atomic():
            inserted = insert(rows)
        for a, (response_id, created) in zip(fresh, inserted, strict=True):
            outcomes[a.position] = Outcome(response_id, created=created)
            stored[a.key] = response_id
    for a in repeated:
        outcomes[a.position] = Outcome(stored[a.key])


RESPONSE_COLUMNS = (
    "survey",
    "contact",
    "customer",
    "touchpoint",
    "channel",
    "language",
    "state",
    "started_at",
    "submitted_at",
    "last_page",
    "source_key",
)


@dataclass(frozen=True)
class _Rows:
    """Accepted items' rows as the database takes them, made before the transaction: a
    response's (RESPONSE_COLUMNS) per item, and their answers' (ANSWER_COLUMNS), each answer's
    first column the index of its response in ``responses`` until the ids are known."""

    responses: list[tuple]
    answers: list[tuple]

    @classmethod
    def of(cls, accepted: Sequence[_Accepted]) -> "_Rows":
        """As :func:`_response` and :func:`draft_answers` make them."""
        adapt, moments = connection.ops.adapt_datetimefield_value, {}
        questions = {}  # by survey id, then by question id
        responses, answers = [], []
        for index, a in enumerate(accepted):
            item, survey, survey_id = a.item, a.item.survey, a.key[0]
            if survey_id not in questions:
                questions[survey_id] = {q.pk: q for q in survey.questions.all()}
            if a.submitted_at not in moments:  # a batch often shares one: now
                moments[a.submitted_at] = adapt(a.submitted_at)
            at = moments[a.submitted_at]
            touchpoint_id = None if item.touchpoint is None else item.touchpoint.pk
            contact_id = None if item.contact is None or survey.is_anonymous else item.contact.pk
            responses.append(
                (
                    survey_id,
                    contact_id,
                    _customer_id(item),
                    touchpoint_id,
                    item.channel,
                    item.language,
                    ResponseState.COMPLETED.value,
                    at,
                    at,
                    0,
                    item.source_key,
                )
            )
            answers.extend(
                (index, touchpoint_id, questions[survey_id][pk], value)
                for pk, value in a.values.items()
                if value not in (None, "", [])
            )
        return cls(responses, list(_answer_rows(answers)))

    def key(self, index: int) -> tuple[int, str]:
        """The (survey id, source key) of response ``index``."""
        response = self.responses[index]
        return response[0], response[-1]


def _insert_together(rows: _Rows) -> list[tuple[int, bool]]:
    """Insert the responses and their answers in bulk; (id, True) for each."""
    ids = _insert_responses(rows.responses)
    _insert_answer_rows((ids[answer[0]], *answer[1:]) for answer in rows.answers)
    return [(response_id, True) for response_id in ids]


def _insert_one_by_one(rows: _Rows) -> list[tuple[int, bool]]:
    """Insert each response and its answers in a savepoint of its own; (id, False) for one
    whose key another writer stored meanwhile."""
    answers = {}  # each response's answers, as the first of one response
    for answer in rows.answers:
        answers.setdefault(answer[0], []).append((0, *answer[1:]))
    results = []
    for index, response in enumerate(rows.responses):
        try:
            with transaction.atomic():
                results.extend(_insert_together(_Rows([response], answers.get(index, []))))
        except IntegrityError:
            key = rows.key(index)
            stored = _stored_ids({key}).get(key) if key[1] else None
            if stored is None:
                raise
            results.append((stored, False))
    return results


def _insert_responses(rows: Sequence[tuple]) -> list[int]:
    """INSERT responses (rows of RESPONSE_COLUMNS), bypassing model instances as
    :func:`_insert_answers` does; their ids, in the rows' order."""
    meta, quote = Response._meta, connection.ops.quote_name
    table, id_column = quote(meta.db_table), quote(meta.pk.column)
    columns = [quote(meta.get_field(name).column) for name in RESPONSE_COLUMNS]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # COPY returns no ids: they are drawn from the sequence first, in one statement.
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            rows_with_ids = ((pk, *row) for pk, row in zip(ids, rows, strict=True))
            _copy(cursor, table, [id_column, *columns], rows_with_ids)
            return ids
    ids = []
    row_sql = "(" + ", ".join(["?"] * len(columns)) + ")"
    for chunk in _sqlite_chunks(rows, len(columns)):
        inserted = _sqlite_execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
            + ", ".join([row_sql] * len(chunk))
            + f" RETURNING {id_column}",
            list(itertools.chain.from_iterable(chunk)),
        )
        # SQLite does not promise RETURNING's order, but AUTOINCREMENT gives each row a
        # larger id than the row before it: ascending ids are the rows' order.
        ids.extend(sorted(pk for (pk,) in inserted.fetchall()))
    return ids


# Rows in one of SQLite's multi-row INSERTs, at most: a 1,000-response batch in one statement,
# whose text SQLite's statement cache keeps from one batch to the next.
SQLITE_ROWS = 1000


def _sqlite_chunks(rows: Iterable[tuple], columns: int) -> Iterator[list[tuple]]:
    """``rows`` in lists as long as one INSERT takes: :data:`SQLITE_ROWS`, or fewer where the
    connection's limit on parameters (32,766 since SQLite 3.32) is lower."""
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    size = max(1, min(SQLITE_ROWS, limit // columns))
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def _sqlite_execute(sql: str, params: list) -> sqlite3.Cursor:
    """``sql``, written with SQLite's own ``?``, on the raw connection, in the transaction of
    Django's. Django's cursor rewrites each ``%s`` with a regular expression over the whole
    text first (5 ms of a 1,000-response batch, cProfile) and takes at most 999 parameters a
    statement: twelve INSERTs for a batch's responses, 14 ms, where one takes 9 ms. Errors
    become Django's as through its cursor (a unique key's IntegrityError is caught above);
    the request's deadline still stops the statement (SQLite's progress handler,
    :mod:`cxloop.timeouts`)."""
    with connection.wrap_database_errors:
        return connection.connection.execute(sql, params)


def _copy(cursor, table: str, columns: list[str], rows: Iterable[tuple]) -> None:
    """COPY ``rows`` into ``table`` (PostgreSQL). COPY goes to psycopg itself: its errors are
    made Django's, as ``execute``'s are, so that a unique key's IntegrityError is caught."""
    copying = cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
    with connection.wrap_database_errors, copying as copy:
        for row in rows:
            copy.write_row(row)


ANSWER_COLUMNS = ("response", "question", "kind", "touchpoint", "score", "text", "choices")


def _insert_answers(answers: Iterable[tuple[int, int | None, Question, object]]) -> None:
    """Insert answers (response id, the response's touchpoint id, question, cleaned value) as
    :func:`draft_answers` makes them, bypassing model instances: for the ~400,000 answers of a
    large import, ``bulk_create`` spent four fifths of its time building instances and compiling
    each value. PostgreSQL takes them by COPY (a multi-row INSERT there spent 25 s quoting
    parameters); SQLite by multi-row INSERTs."""
    _insert_answer_rows(_answer_rows(answers))


def _answer_rows(
    answers: Iterable[tuple[int | None, int | None, Question, object]],
) -> Iterator[tuple]:
    """Rows of ANSWER_COLUMNS for :func:`_insert_answers`'s answers."""
    choices = Answer._meta.get_field("choices")
    # Most answers have no choice: its JSON text, which SQLite stores and COPY reads, once (on
    # PostgreSQL the field's own value is a wrapper that psycopg dumped anew for every row).
    no_choices = "[]"
    return (
        (
            response_id,
            question.pk,
            question.kind,
            question.touchpoint_id or touchpoint_id,
            value if isinstance(value, int) else None,
            value if isinstance(value, str) else "",
            choices.get_db_prep_save(value, connection) if isinstance(value, list) else no_choices,
        )
        for response_id, touchpoint_id, question, value in answers
    )


def _insert_answer_rows(rows: Iterable[tuple]) -> None:
    """INSERT answers (rows of ANSWER_COLUMNS): by COPY on PostgreSQL, else multi-row."""
    quote = connection.ops.quote_name
    table = quote(Answer._meta.db_table)
    columns = [quote(Answer._meta.get_field(name).column) for name in ANSWER_COLUMNS]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            _copy(cursor, table, columns, rows)
        return
    row_sql = "(" + ", ".join(["?"] * len(columns)) + ")"
    for chunk in _sqlite_chunks(rows, len(columns)):
        _sqlite_execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
            + ", ".join([row_sql] * len(chunk)),
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


def _stored_ids(keys: set[tuple[int, str]], chunk: int = 500) -> dict[tuple[int, str], int]:
    """The ids of the responses stored under (survey id, source key) ``keys``.

    Hand-written: the ORM spent 3 ms preparing the 1,000 values of a batch's ``IN``. A probe
    per key, which only the unique index on (survey, source key) can answer: given an ``IN``
    list, PostgreSQL without fresh statistics (after a bulk load) read every response of the
    survey, 30 ms for 500 keys at 200,000 responses against 0.7 ms. The index's own condition
    is repeated so that the database may read it."""
    by_survey: dict[int, list[str]] = {}
    for survey_id, key in sorted(keys):
        by_survey.setdefault(survey_id, []).append(key)
    meta, quote = Response._meta, connection.ops.quote_name
    key, survey = quote(meta.get_field("source_key").column), quote(meta.get_field("survey").column)
    probe = (
        f"SELECT {quote(meta.pk.column)} FROM {quote(meta.db_table)} "
        f"WHERE {survey} = %s AND {key} = given.key AND NOT ({key} = '')"
    )
    found = {}
    with connection.cursor() as cursor:
        for survey_id, survey_keys in by_survey.items():
            for given, params in _given_keys(survey_keys, chunk):
                cursor.execute(f"SELECT given.key, ({probe}) FROM {given}", [survey_id, *params])
                found.update(((survey_id, k), pk) for k, pk in cursor.fetchall() if pk)
    return found


def _given_keys(keys: list[str], chunk: int) -> Iterator[tuple[str, list]]:
    """``keys`` as a table ``given(key)`` for :func:`_stored_ids`: (its SQL, its parameters).
    PostgreSQL takes them as one array: psycopg parses the text of a statement with more than
    50 parameters anew each time, a tenth of a batch's time. SQLite takes up to 999 parameters
    a statement, so ``chunk`` at a time."""
    if connection.vendor == "postgresql":
        yield "unnest(%s::text[]) AS given(key)", [keys]
        return
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        rows = ", ".join(["(%s)"] * len(part))
        yield f"(SELECT column1 AS key FROM (VALUES {rows})) AS given", part


def _stored_source_keys(survey: Survey, keys: set[str], chunk: int = 900) -> set[str]:
    ordered, stored = sorted(keys), set()
    for start in range(0, len(ordered), chunk):
        stored |= set(
            Response.objects.filter(
                survey=survey, source_key__in=ordered[start : start + chunk]
            ).values_list("source_key", flat=True)
        )
    return stored
