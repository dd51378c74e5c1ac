"""The API's endpoints; each reads through the apps' queries and writes through their services.

Reads are scoped as the pages are: a token sees the responses of customers owned by the teams
its employee's role shows (:func:`cxloop.people.queries.visible_team_ids`).
"""

from django.db.utils import OperationalError
from django.http import HttpRequest, HttpResponse
from ninja import Header, NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.renderers import JSONRenderer

from cxloop.api import auth
from cxloop.api.cursor import CursorError, decode_cursor, encode_cursor
from cxloop.api.docs import BundledSwagger
from cxloop.api.schemas import (
    AnswerProblem,
    Error,
    InvalidRequest,
    ResponseFilters,
    ResponseIn,
    ResponseOut,
    ResponsePage,
    RowId,
    SurveyOut,
)
from cxloop.customers.queries import contacts_with_email, customer_by_external_id
from cxloop.feedback.services import Refused, ingest
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


api = NinjaAPI(
    title="cxloop API",
    version="1",
    description=(
        "Submit survey responses and read them back. Authenticate with "
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
    survey = survey_for_submission(payload.survey_id)
    if survey is None:
        raise HttpError(404, f"survey {payload.survey_id} does not exist")
    customer, contact = _respondent(payload.customer_external_id, payload.contact_email)
    touchpoint = None
    if payload.touchpoint_code is not None:
        touchpoint = survey_touchpoint(survey, payload.touchpoint_code)
        if touchpoint is None:
            raise HttpError(
                422,
                f"touchpoint_code: survey {survey.pk} does not ask about "
                f"touchpoint {payload.touchpoint_code!r}",
            )
    try:
        result = ingest(
            survey=survey,
            answers=payload.answers,
            channel=Channel.API,
            submitted_at=payload.submitted_at,
            language=payload.language or _language(survey, contact),
            customer=customer,
            contact=contact,
            touchpoint=touchpoint,
            source_key=idempotency_key,
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


def _respondent(customer_external_id: str | None, contact_email: str | None):
    """The (customer, contact) named by the request; HttpError 422 naming what is unknown."""
    customer = contact = None
    if customer_external_id is not None:
        customer = customer_by_external_id(customer_external_id)
        if customer is None:
            raise HttpError(
                422, f"customer_external_id: no customer has external id {customer_external_id!r}"
            )
    if contact_email is not None:
        contacts = list(contacts_with_email(contact_email, customer=customer)[:2])
        if not contacts:
            where = f" at customer {customer_external_id!r}" if customer else ""
            raise HttpError(422, f"contact_email: no contact{where} has e-mail {contact_email!r}")
        if len(contacts) > 1:
            raise HttpError(
                422,
                f"contact_email: contacts of several customers have e-mail {contact_email!r}; "
                "say which with customer_external_id",
            )
        contact = contacts[0]
    return customer, contact


def _unknown_respondent(payload: ResponseIn) -> str:
    if payload.customer_external_id is not None:
        external_id = payload.customer_external_id
        return f"customer_external_id: no customer has external id {external_id!r}"
    return f"contact_email: no contact has e-mail {payload.contact_email!r}"


def _language(survey, contact) -> str:
    """The contact's language, else the survey's first, else Russian."""
    if contact is not None and contact.language in ("ru", "en"):
        return contact.language
    return next((code for code in survey.languages if code in ("ru", "en")), "ru")
