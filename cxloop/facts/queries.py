"""What the fact store reads from the database: only the columns it stores, in chunks.

Responses are selected by ``survey_id IN (…) AND submitted_at`` in a month, which the index
``response_survey_time`` (survey, submitted_at) serves on SQLite and PostgreSQL alike; the
survey list is also what leaves employee pulse surveys out.
"""

import datetime as dt
import logging
from collections.abc import Sequence

from django.db import connection
from django.db.models import F, IntegerField, Max, Min, QuerySet, Subquery, Value

from cxloop.customers.queries import all_customers, all_segments, segment_customers
from cxloop.customers.rules import RuleError
from cxloop.facts.schema import EXCLUDED_SURVEY_KINDS, SCORED_KINDS
from cxloop.facts.store import month_bounds, read_manifest
from cxloop.surveys.models import Answer, Question, Response, ResponseState, Survey

logger = logging.getLogger(__name__)

RESPONSE_COLUMNS = (
    "id",
    "submitted_at",
    "survey_id",
    "channel",
    "customer_id",
    "touchpoint_id",
    "language",
)
ANSWER_COLUMNS = ("response_id", "question_id", "touchpoint_id", "kind", "score")
CUSTOMER_COLUMNS = (
    "id",
    "owner__team_id",
    "owner_id",
    "annual_value",
    "currency",
    "tier",
    "lifecycle_stage",
)


def analyze_for_rebuild() -> None:
    """On PostgreSQL, bring the planner's statistics of the tables a rebuild reads up to date.
    A rebuild follows bulk loads (the demo, an import of history): until autovacuum has run,
    the planner takes the fresh tables for empty and joins answers to responses by nested
    loops, minutes a month where the plan by index and hash join takes a fraction of a second
    (the demo's PostgreSQL tests spent most of their time there). SQLite plans by its indexes
    alone and has nothing to do."""
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in (Response, Answer, Survey, Question)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))


def first_completed_after(moment: dt.datetime) -> dt.datetime | None:
    """When the first completed response the store takes, submitted after ``moment``, was
    submitted (None: none since); a seek in the index ``response_state_time``."""
    return (
        Response.objects.filter(state=ResponseState.COMPLETED, submitted_at__gt=moment)
        .exclude(survey__kind__in=EXCLUDED_SURVEY_KINDS)
        .order_by("submitted_at")
        .values_list("submitted_at", flat=True)
        .first()
    )


def store_lag(now: dt.datetime) -> dt.timedelta:
    """How long the oldest completed response the fact store lacks has waited (by submission
    time, so that answers dated in the past, an import's, are not seen); a store never
    written lacks every response."""
    manifest = read_manifest()
    written_at = manifest.written_at if manifest else dt.datetime.min.replace(tzinfo=dt.UTC)
    first_lacking = first_completed_after(written_at)
    return max(now - first_lacking, dt.timedelta(0)) if first_lacking else dt.timedelta(0)


def included_surveys() -> dict[int, str]:
    """survey id → kind, of every survey whose responses the store holds (not pulse)."""
    return dict(
        Survey.objects.exclude(kind__in=EXCLUDED_SURVEY_KINDS)
        .order_by("pk")
        .values_list("pk", "kind")
    )


def _completed(survey_ids: list[int]):
    return Response.objects.filter(state=ResponseState.COMPLETED, survey_id__in=survey_ids)


def response_ids(survey_ids: list[int], month: str) -> QuerySet:
    """The ids of the completed responses of ``month`` to ``survey_ids``."""
    start, end = month_bounds(month)
    rows = _completed(survey_ids).filter(submitted_at__gte=start, submitted_at__lt=end)
    return rows.order_by().values_list("id")


def response_rows(survey_ids: list[int], month: str, ids: Sequence[int] | None = None) -> QuerySet:
    """(id, submitted_at, survey_id, channel, customer_id, touchpoint_id, language) of the
    completed responses of ``month`` to ``survey_ids`` (of those with ``ids`` when given)."""
    start, end = month_bounds(month)
    rows = _completed(survey_ids).filter(submitted_at__gte=start, submitted_at__lt=end)
    if ids is not None:
        rows = rows.filter(id__in=list(ids))
    return rows.order_by().values_list(*RESPONSE_COLUMNS)


def answer_rows(survey_ids: list[int], month: str, ids: Sequence[int] | None = None) -> QuerySet:
    """(response_id, question_id, touchpoint_id, kind, score) of the scored answers of the
    completed responses of ``month`` to ``survey_ids`` (of the responses with ``ids`` when
    given).

    The answers are also bounded by the month's lowest and highest response id (subqueries on
    the index ``response_survey_time`` in the same statement, so of the same snapshot as the
    answers): without it PostgreSQL joins by scanning every answer of the database for each
    month (7.9 s a month at 59 M answers, where the range on the answers' ``response_id``
    index, bounds included, takes 1.55 s). Ids grow with time, so the range is about the
    month's; history imported later widens it, which costs time, never rows."""
    start, end = month_bounds(month)
    responses = _completed(survey_ids).filter(submitted_at__gte=start, submitted_at__lt=end)
    if ids is not None:
        bounds = {"response_id__in": list(ids)}
    else:
        bounds = {
            "response_id__gte": _id_bound(responses, Min),
            "response_id__lte": _id_bound(responses, Max),
        }
    rows = Answer.objects.filter(
        **bounds,
        response__state=ResponseState.COMPLETED,
        response__survey_id__in=survey_ids,
        response__submitted_at__gte=start,
        response__submitted_at__lt=end,
        kind__in=SCORED_KINDS,
        score__isnull=False,
    )
    return rows.order_by().values_list(*ANSWER_COLUMNS)


def _id_bound(responses: QuerySet, aggregate) -> Subquery:
    """``SELECT min/max(id + 0)`` of ``responses``: "id + 0", because min(id) alone is planned
    as a walk of the primary key from one end, which passes every other month's responses
    first (1.6 s a month at 10 M); this reads the month's rows by their index."""
    whole = responses.order_by().annotate(whole=Value(1)).values("whole")
    return Subquery(whole.annotate(bound=aggregate(F("id") + 0)).values("bound"))


def question_orders() -> dict[int, int]:
    """question id → its number in the survey, of scored questions (to order answers)."""
    return dict(Question.objects.filter(kind__in=SCORED_KINDS).values_list("pk", "order"))


def customer_rows() -> QuerySet:
    """(id, owner's team id, owner's id, annual_value, currency, tier, lifecycle_stage) of
    every customer."""
    return all_customers().order_by("pk").values_list(*CUSTOMER_COLUMNS)


# Segments per statement: SQLite allows 500 terms in a compound SELECT.
SEGMENTS_PER_STATEMENT = 400


def segment_memberships() -> list[QuerySet]:
    """(customer id, segment id) for the current members of every segment, as a few UNION ALL
    statements; a segment whose stored rule cannot be applied is left out with a warning rather
    than stopping the store."""
    members = []
    for segment in all_segments().order_by("pk"):
        try:
            customers = segment_customers(segment)
        except RuleError as error:
            logger.warning("segment %s left out of the fact store: %s", segment.pk, error)
            continue
        pairs = customers.order_by().annotate(segment=Value(segment.pk, IntegerField()))
        members.append(pairs.values_list("pk", "segment"))
    step = SEGMENTS_PER_STATEMENT
    return [
        members[i].union(*members[i + 1 : i + step], all=True) for i in range(0, len(members), step)
    ]


def months_between(first: dt.datetime, last: dt.datetime) -> list[str]:
    """Every "YYYY-MM" (UTC) from ``first``'s month to ``last``'s."""
    first, last = first.astimezone(dt.UTC), last.astimezone(dt.UTC)
    return [
        f"{index // 12:04d}-{index % 12 + 1:02d}"
        for index in range(first.year * 12 + first.month - 1, last.year * 12 + last.month)
    ]


def completed_by_month(survey_ids: list[int]) -> dict[str, int]:
    """ "YYYY-MM" (UTC) → the number of completed responses to ``survey_ids`` that month, for the
    months that have some. One count a month over the (survey, submitted_at) index: grouping by
    a truncated date makes SQLite call a Python function for every row, 6 times slower."""
    completed = _completed(survey_ids).order_by()
    span = completed.aggregate(first=Min("submitted_at"), last=Max("submitted_at"))
    if span["first"] is None:
        return {}
    counts = {}
    for month in months_between(span["first"], span["last"]):
        start, end = month_bounds(month)
        count = completed.filter(submitted_at__gte=start, submitted_at__lt=end).count()
        if count:
            counts[month] = count
    return counts
