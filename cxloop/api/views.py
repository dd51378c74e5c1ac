"""The API's endpoints; each reads through the apps' queries and writes through their services.

Reads are scoped as the pages are: a token sees the responses of customers owned by the teams
its employee's role shows (:func:`cxloop.people.queries.visible_team_ids`).
"""

from collections.abc import Iterable
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.utils import OperationalError
from django.http import HttpRequest, HttpResponse
from ninja import Body, Header, Query, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.renderers import JSONRenderer
from pydantic import ValidationError

from cxloop.api import auth
from cxloop.api.cursor import CursorError, decode_cursor, encode_cursor
from cxloop.api.docs import BundledSwagger
from cxloop.api.schemas import (
    BATCH_LIMIT,
    AnswerProblem,
    BatchResult,
    Error,
    InvalidRequest,
    ResponseBatch,
    ResponseBatchItem,
    ResponseFilters,
    ResponseIn,
    ResponseOut,
    ResponsePage,
    RowId,
    SubmittedResponse,
    SurveyOut,
)
from cxloop.api.webhook_docs import NinjaAPIWithWebhooks
from cxloop.customers.queries import (
    EmailContact,
    contacts_by_lower_email,
    contacts_with_email,
    customer_by_external_id,
    customer_ids_by_external_id,
)
from cxloop.feedback.services import (
    FutureSubmission,
    Outcome,
    Refused,
    Submission,
    ingest,
    ingest_each,
)
from cxloop.people.queries import visible_team_ids
from cxloop.people.services import OutOfScope
from cxloop.surveys.choices import Channel
from cxloop.surveys.queries import (
    all_surveys,
    completed_responses,
    survey_for_submission,
    survey_touchpoint,
)
from cxloop.surveys.services import AnswerError
from cxloop.timeouts import is_timeout, timeout_response


class Utf8JSONRenderer(JSONRenderer):
    # Russian names and comments as they are, not as \u escapes.
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPIWithWebhooks(
    title="cxloop API",
    version="1",
    description=(
        "Submit survey responses and read them back; read the figures the analytical pages "
        "show (journey map, comparisons, scorecards). Authenticate with "
        "`Authorization: Bearer <token>`; an administrator makes tokens with "
        "`cxloop api_token create --username U --name N`. Errors come as "
        '`{"detail": …}` in English.'
    ),
    docs=BundledSwagger(),
    renderer=Utf8JSONRenderer(),
    urls_namespace="api",
)

UNAUTHORIZED = {401: Error}
INVALID = {422: Error | InvalidRequest}


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "Send a valid token as Authorization: Bearer <token>."}, status=401
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(OperationalError)
def database_stopped(request: HttpRequest, error: OperationalError) -> HttpResponse:
    """A statement stopped by the request's time limit answers 503 with a message; any other
    database failure goes on to Django (a 500 without details)."""
    if is_timeout(error):
        return timeout_response(request)
    raise error


@api.exception_handler(AnswerError)
def answer_problem(request: HttpRequest, error: AnswerError) -> HttpResponse:
    body = {
        "detail": str(error),
        "question": error.question,
        "value": error.value,
        "reason": error.reason,
    }
    return api.create_response(request, body, status=422)


@api.exception_handler(Refused)
def refused(request: HttpRequest, error: Refused) -> HttpResponse:
    """A pulse or closed survey, a submission time in the future: 422 with the one way in's
    message, which names the survey or the field."""
    return api.create_response(request, {"detail": str(error)}, status=422)


def _team_ids(request: HttpRequest) -> list[int] | None:
    return visible_team_ids(request.auth.employee.user)


@api.get(
    "/surveys",
    response={200: list[SurveyOut], **UNAUTHORIZED},
    auth=auth.read,
    tags=["surveys"],
    summary="List surveys with their questions",
    operation_id="list_surveys",
)
def list_surveys(request: HttpRequest):
    return all_surveys()


@api.get(
    "/surveys/{survey_id}",
    response={200: SurveyOut, 404: Error, **INVALID, **UNAUTHORIZED},
    auth=auth.read,
    tags=["surveys"],
    summary="A survey with its questions",
    operation_id="get_survey",
)
def get_survey(request: HttpRequest, survey_id: RowId):
    survey = all_surveys().filter(pk=survey_id).first()
    if survey is None:
        raise HttpError(404, f"survey {survey_id} does not exist")
    return survey


@api.get(
    "/responses",
    response={200: ResponsePage, **INVALID, **UNAUTHORIZED},
    auth=auth.read,
    tags=["responses"],
    summary="List completed responses, newest first, a page at a time",
    operation_id="list_responses",
)
def list_responses(request: HttpRequest, filters: Query[ResponseFilters]):
    """Pages are cut by a cursor (the last item's submitted time and id), so walking them with
    `next` visits every response once even while new ones arrive."""
    try:
        after = decode_cursor(filters.cursor) if filters.cursor else None
    except CursorError as error:
        raise HttpError(422, f"cursor: {error}") from None
    responses = completed_responses(
        _team_ids(request),
        survey_id=filters.survey_id,
        channel=filters.channel,
        customer_external_id=filters.customer_external_id,
        touchpoint_code=filters.touchpoint_code,
        since=filters.since,
        until=filters.until,
        after=after,
    )
    items = list(responses[: filters.limit + 1])
    more = len(items) > filters.limit
    items = items[: filters.limit]
    last = items[-1] if items else None
    return {"items": items, "next": encode_cursor(last.submitted_at, last.pk) if more else None}


class FieldRefused(HttpError):
    """A submission refused for one of its fields (``field``; None: the item as a whole). The
    API answers it as any HttpError, ``{"detail": message}``; a batch reports it per item."""

    def __init__(self, status_code: int, field: str | None, message: str):
        super().__init__(status_code, message)
        self.field = field


@api.post(
    "/responses",
    response={
        200: ResponseOut,
        201: ResponseOut,
        400: Error,
        403: Error,
        404: Error,
        409: Error,
        422: AnswerProblem | Error | InvalidRequest,
        **UNAUTHORIZED,
    },
    auth=auth.write,
    tags=["responses"],
    summary="Submit a completed response",
    operation_id="submit_response",
)
def submit_response(
    request: HttpRequest,
    payload: ResponseIn,
    idempotency_key: str = Header(
        ...,
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Your id for this submission (a UUID, say). Sending it again returns "
        "the response stored the first time, with 200, and changes nothing.",
    ),
):
    """201 with the stored response; 200 with the same response when the `Idempotency-Key`
    was already used for this survey. An answer that does not fit its question is refused
    with 422 naming the question, the value and the reason, and nothing is stored."""
    submission = _submission(payload, idempotency_key, _Lookups())
    try:
        result = ingest(
            survey=submission.survey,
            answers=submission.answers,
            channel=submission.channel,
            submitted_at=submission.submitted_at,
            language=submission.language,
            customer=submission.customer,
            contact=submission.contact,
            touchpoint=submission.touchpoint,
            source_key=submission.source_key,
            by=request.auth.employee,
        )
    except OutOfScope:
        # Answered as for an unknown customer: another team's customers are not to be told apart
        # from customers that do not exist.
        raise HttpError(422, _unknown_respondent(payload)) from None
    if not result.created:  # the key was used before, perhaps by a request a moment ago
        stored = completed_responses(None).get(pk=result.response.pk)
        return Status(200, _replayed(request, stored))
    return Status(201, result.response)


BATCH_EXAMPLE = [
    {
        "survey_id": 1,
        "answers": {"1": 9, "2": 4, "4": "Quick and friendly."},
        "submitted_at": "2026-03-01T10:00:00+03:00",
        "customer_external_id": "C-1",
        "idempotency_key": "crm-2026-03-01-0007",
    },
    {"survey_id": 1, "answers": {"1": 11}, "idempotency_key": "crm-2026-03-01-0008"},
]
BATCH_RESULT_EXAMPLE = {
    "created": 1,
    "replayed": 0,
    "refused": 1,
    "items": [
        {"index": 0, "status": 201, "id": 5120, "detail": None, "field": None},
        {
            "index": 1,
            "status": 422,
            "id": None,
            "detail": "item 1: question 1: 11 — expected a whole number 0–10",
            "field": "answers.1",
        },
    ],
}


@api.post(
    "/responses/batch",
    response={
        200: BatchResult,
        400: Error,
        403: Error,
        413: Error,
        422: Error | InvalidRequest,
        **UNAUTHORIZED,
    },
    auth=auth.write,
    tags=["responses"],
    summary=f"Submit up to {BATCH_LIMIT:,} completed responses at once",
    operation_id="submit_response_batch",
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"example": BATCH_EXAMPLE}},
        },
        "responses": {
            200: {"content": {"application/json": {"example": BATCH_RESULT_EXAMPLE}}},
        },
    },
)
def submit_response_batch(request: HttpRequest, items: Body[ResponseBatch]):
    """A JSON array of up to 1,000 responses, each shaped as for `POST /api/responses` and
    with its own `idempotency_key`. Each item is checked and stored on its own, whole or not
    at all: a refused item costs the others nothing. The answer lists every item in the
    request's order: 201 stored; 200 stored before under the same key for the survey (or by
    an earlier item of the batch), unchanged, so that a batch can be sent again safely;
    404, 409 or 422 refused, with a `detail` naming the item, the field and the value. A
    body that is not a JSON array, or holds more than 1,000 items, is refused whole with 400
    or 422, and one over Django's upload limit (2.5 MB unless set) with 413: nothing is
    stored."""
    if not isinstance(items, list):
        raise HttpError(422, f"expected a JSON array of at most {BATCH_LIMIT} responses")
    if len(items) > BATCH_LIMIT:
        raise HttpError(
            422,
            f"a batch holds at most {BATCH_LIMIT} responses and this one has {len(items)}: "
            "send them in several requests; nothing was stored",
        )
    results: list[dict | None] = [None] * len(items)
    valid: dict[int, ResponseBatchItem] = {}
    for index, raw in enumerate(items):
        try:
            valid[index] = _batch_item(raw)
        except FieldRefused as refusal:
            results[index] = _refused(index, refusal)
    lookups = _BatchLookups(valid.values())
    submissions: dict[int, Submission] = {}
    for index, item in valid.items():
        try:
            submissions[index] = _submission(item, item.idempotency_key, lookups)
        except FieldRefused as refusal:
            results[index] = _refused(index, refusal)
    outcomes = ingest_each(list(submissions.values()), by=request.auth.employee)
    replayable = _replayable(request, [o.response_id for o in outcomes if not o.created])
    for index, outcome in zip(submissions, outcomes, strict=True):
        results[index] = _item_result(index, valid[index], outcome, replayable)
    return _batch_result(results)


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    """A body over Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB unless set): 413 saying so."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return api.create_response(
        request,
        {"detail": f"the body is larger than {limit:,} bytes: send it in several requests"},
        status=413,
    )


def _batch_result(results: list[dict]) -> dict:
    statuses = [result["status"] for result in results]
    created, replayed = statuses.count(201), statuses.count(200)
    return {
        "created": created,
        "replayed": replayed,
        "refused": len(statuses) - created - replayed,
        "items": results,
    }


def _batch_item(raw: object) -> ResponseBatchItem:
    if not isinstance(raw, dict):
        raise FieldRefused(
            422,
            None,
            f"expected an object with survey_id, answers and idempotency_key, got {_shown(raw)}",
        )
    try:
        return ResponseBatchItem.model_validate(raw)
    except ValidationError as error:
        raise _invalid(error, raw) from None


def _invalid(error: ValidationError, raw: dict) -> FieldRefused:
    """The first problem pydantic found in a batch item, as one message naming the field and
    the value. An answer that is no answer at all is told as the answers' rules tell theirs
    (:class:`~cxloop.surveys.services.AnswerError`); pydantic would list one error per kind
    of answer it tried."""
    problems = error.errors(include_url=False)
    problem = problems[0]
    where = problem["loc"]
    if where[:1] == ("answers",) and where[2:3] == ("[key]",):
        return FieldRefused(422, "answers", f"answers: {where[1]!r} is not a question number")
    if where[:1] == ("answers",) and len(where) > 1:
        number = where[1]
        value = raw["answers"].get(number) if isinstance(raw.get("answers"), dict) else None
        # A text that cannot be stored says why; any other value is of no kind an answer has.
        reasons = [
            p["msg"].removeprefix("Value error, ")
            for p in problems
            if p["loc"][:2] == ("answers", number) and p["type"] == "value_error"
        ]
        reason = reasons[0] if reasons else ANSWER_KINDS
        return FieldRefused(
            422, f"answers.{number}", f"question {number}: {_shown(value)} — {reason}"
        )
    field = ".".join(str(part) for part in where)
    message = f"{field}: {problem['msg'].removeprefix('Value error, ')}"
    if problem["type"] != "missing":
        message += f", got {_shown(problem['input'])}"
    return FieldRefused(422, field, message)


ANSWER_KINDS = "expected a number, a text, a list of choices or null"


def _shown(value: object) -> str:
    """``value`` as a message shows it: a long one shortened, as AnswerError does."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:59] + "…"


def _refused(index: int, refusal: FieldRefused) -> dict:
    return {
        "index": index,
        "status": refusal.status_code,
        "id": None,
        "detail": f"item {index}: {refusal.message}",
        "field": refusal.field,
    }


def _item_result(
    index: int, item: ResponseBatchItem, outcome: Outcome, replayable: set[int]
) -> dict:
    """One item's entry in the answer, from what ingest_each did with it."""
    if outcome.refusal is not None:
        return _refused(index, _refusal(outcome.refusal, item))
    if outcome.created or outcome.response_id in replayable:
        status = 201 if outcome.created else 200
        return {"index": index, "status": status, "id": outcome.response_id}
    return _refused(
        index,
        FieldRefused(
            409,
            "idempotency_key",
            f"idempotency_key {item.idempotency_key!r} was already used for another response "
            f"to survey {item.survey_id}; use a new key",
        ),
    )


def _refusal(error: Exception, item: ResponseBatchItem) -> FieldRefused:
    """One of ingest's refusals (:data:`~cxloop.feedback.services.REFUSALS`) as the single
    endpoint answers it."""
    if isinstance(error, OutOfScope):
        field = "customer_external_id" if item.customer_external_id else "contact_email"
        return FieldRefused(422, field, _unknown_respondent(item))
    if isinstance(error, AnswerError):
        return FieldRefused(422, f"answers.{error.question}", str(error))
    if isinstance(error, FutureSubmission):
        return FieldRefused(422, "submitted_at", str(error))
    return FieldRefused(422, "survey_id", str(error))


def _replayable(request: HttpRequest, ids: Iterable[int | None]) -> set[int]:
    """Of the responses stored before under a batch's keys, those its token may see again: sent
    through the API, to a customer of its teams (as :func:`_replayed` decides for one)."""
    ids = [pk for pk in ids if pk is not None]
    if not ids:
        return set()
    visible = completed_responses(_team_ids(request)).filter(pk__in=ids, channel=Channel.API)
    return set(visible.values_list("pk", flat=True))


def _replayed(request: HttpRequest, stored):
    """The response stored under an idempotency key, if it is one this token may see again."""
    team_ids = _team_ids(request)
    visible = team_ids is None or completed_responses(team_ids).filter(pk=stored.pk).exists()
    if stored.channel != Channel.API or not visible:
        raise HttpError(
            409,
            f"Idempotency-Key {stored.source_key!r} was already used for another response "
            f"to survey {stored.survey_id}; use a new key",
        )
    return stored


class _Lookups:
    """How a submission's survey, customer, contacts and touchpoint are found: a statement each."""

    def survey(self, pk: int):
        return survey_for_submission(pk)

    def customer(self, external_id: str):
        return customer_by_external_id(external_id)

    def contacts(self, email: str, customer) -> list:
        """Up to two contacts with ``email`` (of ``customer`` unless None): one is the answer,
        two mean the address is ambiguous."""
        return list(contacts_with_email(email, customer=customer)[:2])

    def touchpoint(self, survey, code: str):
        return survey_touchpoint(survey, code)


class _Customer(NamedTuple):
    """A customer as a batch reads it: what the API and ingest_each use of one."""

    pk: int


class _BatchLookups(_Lookups):
    """The same for a batch's items: each survey and touchpoint once; the customers and contacts
    in a statement (per 500), as the few columns used (:class:`EmailContact`): as whole records,
    the customers and contacts of 1,000 items took 31 ms, a quarter of the request, through
    the ORM's ``IN`` 10 ms of CPU, and hand-written 4 ms."""

    def __init__(self, items: Iterable[SubmittedResponse]):
        items = list(items)
        self.customers = {
            external_id: _Customer(pk)
            for external_id, pk in customer_ids_by_external_id(
                {i.customer_external_id for i in items} - {None}
            ).items()
        }
        # Matched whatever the letter case on either side, as contacts_with_email matches.
        self.by_email: dict[str, list[EmailContact]] = {}
        for contact in contacts_by_lower_email(
            {i.contact_email.lower() for i in items if i.contact_email}
        ):
            self.by_email.setdefault(contact.address, []).append(contact)
        self.surveys, self.touchpoints = {}, {}

    def survey(self, pk: int):
        if pk not in self.surveys:
            self.surveys[pk] = super().survey(pk)
        return self.surveys[pk]

    def customer(self, external_id: str):
        return self.customers.get(external_id)

    def contacts(self, email: str, customer) -> list:
        found = self.by_email.get(email.lower(), [])
        return [c for c in found if customer is None or c.customer_id == customer.pk][:2]

    def touchpoint(self, survey, code: str):
        if (survey.pk, code) not in self.touchpoints:
            self.touchpoints[survey.pk, code] = super().touchpoint(survey, code)
        return self.touchpoints[survey.pk, code]


def _submission(payload: SubmittedResponse, key: str, lookups: _Lookups) -> Submission:
    """What ``payload`` names, found by ``lookups``; FieldRefused naming what is unknown."""
    survey = lookups.survey(payload.survey_id)
    if survey is None:
        raise FieldRefused(404, "survey_id", f"survey {payload.survey_id} does not exist")
    customer, contact = _respondent(payload, lookups)
    touchpoint = None
    if payload.touchpoint_code is not None:
        touchpoint = lookups.touchpoint(survey, payload.touchpoint_code)
        if touchpoint is None:
            raise FieldRefused(
                422,
                "touchpoint_code",
                f"touchpoint_code: survey {survey.pk} does not ask about "
                f"touchpoint {payload.touchpoint_code!r}",
            )
    return Submission(
        survey=survey,
        answers=payload.answers,
        channel=Channel.API,
        submitted_at=payload.submitted_at,
        language=payload.language or _language(survey, contact),
        customer=customer,
        contact=contact,
        touchpoint=touchpoint,
        source_key=key,
    )


def _respondent(payload: SubmittedResponse, lookups: _Lookups):
    """The (customer, contact) named by the request; FieldRefused 422 naming what is unknown."""
    external_id, email = payload.customer_external_id, payload.contact_email
    customer = contact = None
    if external_id is not None:
        customer = lookups.customer(external_id)
        if customer is None:
            raise FieldRefused(
                422,
                "customer_external_id",
                f"customer_external_id: no customer has external id {external_id!r}",
            )
    if email is not None:
        contacts = lookups.contacts(email, customer)
        if not contacts:
            where = f" at customer {external_id!r}" if customer else ""
            raise FieldRefused(
                422, "contact_email", f"contact_email: no contact{where} has e-mail {email!r}"
            )
        if len(contacts) > 1:
            raise FieldRefused(
                422,
                "contact_email",
                f"contact_email: contacts of several customers have e-mail {email!r}; "
                "say which with customer_external_id",
            )
        contact = contacts[0]
    return customer, contact


def _unknown_respondent(payload: SubmittedResponse) -> str:
    if payload.customer_external_id is not None:
        external_id = payload.customer_external_id
        return f"customer_external_id: no customer has external id {external_id!r}"
    return f"contact_email: no contact has e-mail {payload.contact_email!r}"


def _language(survey, contact) -> str:
    """The contact's language, else the survey's first, else Russian."""
    if contact is not None and contact.language in ("ru", "en"):
        return contact.language
    return next((code for code in survey.languages if code in ("ru", "en")), "ru")
