"""What goes in and out of the API, as pydantic schemas (they are also the OpenAPI document)."""

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    AllowInfNan,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    SkipValidation,
    StrictFloat,
    StrictInt,
    StrictStr,
)

from cxloop.lib.params import text_problem
from cxloop.surveys.choices import Channel, QuestionKind, SurveyKind


def _storable(value: str) -> str:
    # NUL and lone surrogates cannot be stored (PostgreSQL refuses NUL, UTF-8 has no surrogates):
    # refused, naming the field (docs/decisions/007-strict-input.md).
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# Text that can be stored as it is.
Text = Annotated[str, AfterValidator(_storable)]
StrictText = Annotated[StrictStr, AfterValidator(_storable)]

# What one answer may be: a score (a whole number, or a float or string that is one), a choice
# value or a list of them, or a text; null or "" for no answer. Strict, so that true is not 1;
# finite, because Python's JSON parser reads NaN and 1e999 and no score can be either.
FiniteFloat = Annotated[StrictFloat, AllowInfNan(False)]
AnswerValue = StrictInt | FiniteFloat | StrictText | list[StrictText | StrictInt] | None


# A row id: positive and within a 64-bit integer, which every database can compare with.
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]

EARLIEST, LATEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC), dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


def _iso_8601(value: object) -> object:
    # pydantic would also read a number as seconds since 1970; the API takes only ISO 8601.
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date and time with a time zone")
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("expected an ISO 8601 date and time with a time zone") from None


def _plausible(moment: dt.datetime) -> dt.datetime:
    # Far-off years overflow when converted to UTC for the database.
    if not EARLIEST <= moment < LATEST:
        raise ValueError("expected a moment between 1970 and 9000")
    return moment


def _clamped(moment: dt.datetime) -> dt.datetime:
    # For a filter, a bound before 1970 or after 9000 is as good as that year: no response is
    # dated outside it.
    return min(max(moment, EARLIEST), LATEST)


# An ISO 8601 date and time with a time zone: ``Moment`` between 1970 and 9000, ``Bound`` any
# (brought within those years).
Moment = Annotated[AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_plausible)]
Bound = Annotated[AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_clamped)]


class Error(Schema):
    detail: str = Field(description="What went wrong, in English.")


class InvalidRequest(Schema):
    """A request that does not match its schema, as pydantic reports it."""

    detail: list[dict[str, Any]]


class AnswerProblem(Schema):
    """An answer that does not fit its question; nothing was stored."""

    detail: str = Field(examples=["question 1: 11 — expected a whole number 0–10"])
    question: int | str = Field(description="The question's number.")
    value: Any = Field(description="The value given (long texts shortened).")
    reason: str = Field(examples=["expected a whole number 0–10"])


class ChoiceOut(Schema):
    value: str | int
    ru: str
    en: str


class QuestionOut(Schema):
    number: int = Field(description="The question's order in the survey; answers are keyed by it.")
    page: int
    kind: QuestionKind
    text_ru: str
    text_en: str
    required: bool
    choices: list[ChoiceOut] = Field(description="For single and multiple choice questions.")
    touchpoint_code: str | None = Field(description="The touchpoint a rating is about.")

    @staticmethod
    def resolve_number(question) -> int:
        return question.order

    @staticmethod
    def resolve_touchpoint_code(question) -> str | None:
        return question.touchpoint.code if question.touchpoint else None


class SurveyOut(Schema):
    id: int
    name_ru: str
    name_en: str
    kind: SurveyKind
    languages: list[str]
    is_anonymous: bool = Field(description="Answers are not linked to a contact.")
    is_active: bool = Field(description="Only active surveys take new responses.")
    questions: list[QuestionOut]

    @staticmethod
    def resolve_questions(survey) -> list:
        return list(survey.questions.all())


# JSON comes in, so a plain pydantic model: a ninja Schema reads its input through DjangoGetter,
# which made a batch item's validation three times slower (18 µs against 5.5 µs).
class SubmittedResponse(BaseModel):
    """One submitted response."""

    survey_id: RowId
    answers: dict[int, AnswerValue] = Field(
        description="Values keyed by question number: a whole number for NPS (0–10), CSAT "
        "(1–5), CES (1–7) and ratings (1–5); a choice value (or a list of them for multiple "
        "choice); text for free-text questions. Every required question needs an answer.",
        examples=[{"1": 9, "2": 4, "4": "Quick and friendly."}],
    )
    submitted_at: Moment | None = Field(
        None,
        description="When the customer answered: ISO 8601 with a time zone, between 1970 and "
        "9000 and not in the future; now if left out.",
    )
    customer_external_id: Text | None = Field(
        None, min_length=1, max_length=100, description="The customer's id in the CRM or ERP."
    )
    contact_email: Text | None = Field(
        None,
        min_length=1,
        max_length=254,
        description="The contact who answered; with customer_external_id when the address "
        "belongs to contacts of several customers.",
    )
    touchpoint_code: Text | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="For a transactional survey: the event it asks about.",
    )
    language: Literal["ru", "en"] | None = Field(
        None, description="The language answered in; the contact's, else the survey's first."
    )


class ResponseIn(Schema, SubmittedResponse):
    """One response for `POST /api/responses`; its idempotency key comes as a header."""


# The most responses one POST /api/responses/batch takes.
BATCH_LIMIT = 1000


class ResponseBatchItem(SubmittedResponse):
    """One response of a batch, with its own idempotency key."""

    idempotency_key: Text = Field(
        min_length=1,
        max_length=200,
        description="Your id for this response (a UUID, say). A key already stored for the "
        "survey returns that response with 200 and changes nothing; a key repeated in the "
        "batch is stored once, by its first item that is not refused.",
        examples=["crm-2026-03-01-0007"],
    )


# The body: a JSON array of ResponseBatchItem. Validated item by item in the view, so that one
# bad item refuses itself and not the batch; SkipValidation keeps the type for the OpenAPI
# document only.
ResponseBatch = SkipValidation[Annotated[list[ResponseBatchItem], Field(max_length=BATCH_LIMIT)]]


# Plain pydantic models, as SubmittedResponse is: a batch's 1,000 results are checked on the way
# out.
class BatchItemResult(BaseModel):
    """What became of one item of a batch."""

    index: int = Field(description="The item's position in the request, from 0.")
    status: int = Field(
        description="201: stored. 200: stored before under this idempotency key (or by an "
        "earlier item of the batch), unchanged. 404: the survey does not exist. 409: the key "
        "was used for another response. 422: refused, see `detail`.",
        examples=[201],
    )
    id: int | None = Field(description="The stored response's id; null when refused.")
    detail: str | None = Field(
        None,
        description="Why the item was refused: its index, the field and the value, in English.",
        examples=["item 3: question 1: 11 — expected a whole number 0–10"],
    )
    field: str | None = Field(
        None,
        description="The field refused: `answers.1` for question 1's answer.",
        examples=["answers.1"],
    )


class BatchResult(BaseModel):
    """A batch's outcome: nothing of a refused item was stored, every other item was."""

    created: int = Field(description="Items stored now (status 201).")
    replayed: int = Field(description="Items whose key was stored before (status 200).")
    refused: int = Field(description="Items refused (4xx), with nothing stored.")
    items: list[BatchItemResult] = Field(description="One per item, in the request's order.")


class AnswerOut(Schema):
    question_number: int
    kind: QuestionKind
    score: int | None
    choices: list[str | int]
    text: str
    touchpoint_code: str | None

    @staticmethod
    def resolve_question_number(answer) -> int:
        return answer.question.order

    @staticmethod
    def resolve_touchpoint_code(answer) -> str | None:
        return answer.touchpoint.code if answer.touchpoint else None


class ResponseOut(Schema):
    id: int
    survey_id: int
    channel: Channel
    language: str
    submitted_at: dt.datetime
    customer_external_id: str | None
    contact_email: str | None
    touchpoint_code: str | None
    idempotency_key: str = Field(description="The key it was submitted with; empty if none.")
    answers: list[AnswerOut]

    @staticmethod
    def resolve_customer_external_id(response) -> str | None:
        return response.customer.external_id if response.customer else None

    @staticmethod
    def resolve_contact_email(response) -> str | None:
        return response.contact.email or None if response.contact else None

    @staticmethod
    def resolve_touchpoint_code(response) -> str | None:
        return response.touchpoint.code if response.touchpoint else None

    @staticmethod
    def resolve_idempotency_key(response) -> str:
        return response.source_key

    @staticmethod
    def resolve_answers(response) -> list:
        return list(response.answers.all())


class ResponsePage(Schema):
    items: list[ResponseOut]
    next: str | None = Field(
        description="Pass as `cursor` for the next page (with the same filters); null on the "
        "last page."
    )


class ResponseFilters(Schema):
    survey_id: RowId | None = None
    channel: Channel | None = None
    customer_external_id: Text | None = Field(None, description="The customer's external id.")
    touchpoint_code: Text | None = Field(
        None, description="Responses about this touchpoint or with an answer on it."
    )
    since: Bound | None = Field(None, description="Submitted at or after (with a time zone).")
    until: Bound | None = Field(None, description="Submitted before (with a time zone).")
    cursor: Text | None = Field(None, description="`next` of the previous page.")
    limit: int = Field(100, ge=1, le=500, description="Responses per page, at most 500.")
