"""Read side of surveys."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from cxloop.customers.queries import segment_by_id, segment_customers
from cxloop.journeys.models import Touchpoint
from cxloop.lib.months import utc_month
from cxloop.prefetch import attach
from cxloop.rows import value_batches
from cxloop.search import contains_text
from cxloop.surveys.models import (
    Answer,
    Invitation,
    Question,
    QuestionKind,
    Response,
    ResponseState,
    Survey,
    SurveyKind,
)
from cxloop.surveys.services import open_link_signature


def unannounced_responses() -> QuerySet[Response]:
    """Completed responses not yet announced to their consumers: the announcer's queue, read
    through the partial index ``response_unannounced`` (a response leaves it within a round of
    ``cxloop worker``; a queue that grows means no worker runs, or its announcements fail)."""
    return Response.objects.filter(announced_at=None, state=ResponseState.COMPLETED)


def active_surveys() -> QuerySet[Survey]:
    completed = Q(responses__state=ResponseState.COMPLETED)
    return (
        Survey.objects.filter(is_active=True)
        .annotate(
            completed_count=Count("responses", filter=completed),
            last_submitted_at=Max("responses__submitted_at"),
        )
        .order_by("kind", "name_en")
    )


@dataclass(frozen=True)
class Funnel:
    """How a survey's invitations progressed, step by step."""

    invited: int
    sent: int
    opened: int
    started: int
    completed: int
    bounced: int

    @property
    def delivered(self) -> int:
        return self.sent - self.bounced

    @property
    def response_rate(self) -> float | None:
        """Completed per delivered invitation; None before any was delivered."""
        return self.completed / self.delivered if self.delivered else None


def funnel(survey: Survey) -> Funnel:
    counts = Invitation.objects.filter(survey=survey).aggregate(
        invited=Count("id"),
        sent=Count("sent_at"),
        opened=Count("opened_at"),
        started=Count("started_at"),
        completed=Count("completed_at"),
        bounced=Count("bounced_at"),
    )
    return Funnel(**counts)


def survey_with_questions(pk: int) -> Survey:
    """The survey with its questions; Http404 when there is none."""
    return get_object_or_404(Survey.objects.prefetch_related("questions__touchpoint"), pk=pk)


def interview_guides() -> QuerySet[Survey]:
    """Surveys used as the questionnaire of face-to-face meetings."""
    return Survey.objects.filter(kind=SurveyKind.INTERVIEW, is_active=True).prefetch_related(
        "questions__touchpoint"
    )


def open_pulse_survey(pk: int) -> Survey:
    """An active employee pulse survey; Http404 otherwise."""
    return get_object_or_404(
        Survey.objects.filter(kind=SurveyKind.PULSE, is_active=True).prefetch_related("questions"),
        pk=pk,
    )


def has_answered_pulse(survey: Survey, employee) -> bool:
    return survey.participations.filter(employee=employee).exists()


def all_surveys() -> QuerySet[Survey]:
    """Every survey, oldest first, with its questions in order and their touchpoints."""
    questions = Question.objects.select_related("touchpoint").order_by("order")
    return Survey.objects.order_by("pk").prefetch_related(Prefetch("questions", queryset=questions))


_SURVEY_WITH_QUESTIONS = """
    SELECT s.id, s.kind, s.is_active, s.is_anonymous, s.languages,
           q.id, q."order", q.page, q.kind, q.required, q.choices, q.display_condition,
           t.id, t.code
    FROM {survey} s
    LEFT JOIN {question} q ON q.survey_id = s.id
    LEFT JOIN {touchpoint} t ON t.id = q.touchpoint_id
    WHERE s.id = %s
    ORDER BY q."order"
"""


def survey_for_submission(pk: int) -> Survey | None:
    """The survey ``pk`` with its questions (in order) and their touchpoints prefetched, as
    ``prefetch_related("questions__touchpoint")`` would give them, in one statement; None when
    there is no such survey. The survey carries the fields a submission needs (kind, is_active,
    is_anonymous, languages) and each touchpoint its id and code; the submission path takes this
    road because compiling the three ORM queries costs more than everything else it does."""
    sql = _SURVEY_WITH_QUESTIONS.format(
        survey=Survey._meta.db_table,
        question=Question._meta.db_table,
        touchpoint=Touchpoint._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        rows = cursor.fetchall()
    if not rows:
        return None
    survey_id, kind, is_active, is_anonymous, languages = rows[0][:5]
    survey = Survey(
        id=survey_id,
        kind=kind,
        is_active=bool(is_active),
        is_anonymous=bool(is_anonymous),
        languages=_json(Survey, "languages", languages),
    )
    questions = [_question(survey, row[5:]) for row in rows if row[5] is not None]
    attach(survey, "questions", questions)
    return survey


def _question(survey: Survey, row: tuple) -> Question:
    pk, order, page, kind, required, choices, condition, touchpoint_id, code = row
    question = Question(
        id=pk,
        survey=survey,
        order=order,
        page=page,
        kind=kind,
        required=bool(required),
        choices=_json(Question, "choices", choices),
        display_condition=_json(Question, "display_condition", condition),
    )
    question.touchpoint = None if touchpoint_id is None else Touchpoint(id=touchpoint_id, code=code)
    return question


def _json(model, name: str, value):
    """A JSON column as the ORM gives it: both backends return the JSON text."""
    return model._meta.get_field(name).from_db_value(value, None, connection)


def survey_touchpoint(survey: Survey, code: str):
    """The touchpoint with ``code`` among those ``survey`` asks about, or None."""
    return survey.touchpoints.filter(code=code).first()


def completed_responses(
    team_ids: list[int] | None,
    *,
    survey_id: int | None = None,
    channel: str | None = None,
    customer_external_id: str | None = None,
    touchpoint_code: str | None = None,
    source_key: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    after: tuple[dt.datetime, int] | None = None,
) -> QuerySet[Response]:
    """Completed customer responses, newest first by (submitted_at, id), with their customer,
    contact, touchpoint and answers (in question order). Employee pulse answers are never listed
    one by one: they are anonymous and shown only as results of groups of five or more.

    Only responses of customers owned by ``team_ids`` unless None (the whole organisation), as
    :func:`cxloop.people.queries.visible_team_ids` gives them. ``touchpoint_code`` keeps responses
    about that touchpoint or with an answer on it; ``source_key`` the one stored under that key
    (per survey); ``since`` is inclusive, ``until`` exclusive.
    ``after`` = (submitted_at, id) of a response keeps only those that come after it in this
    order, so that pages cut this way neither repeat nor skip a response when new ones arrive.
    """
    answers = Answer.objects.select_related("question", "touchpoint").order_by("question__order")
    responses = (
        Response.objects.filter(state=ResponseState.COMPLETED)
        .exclude(survey__kind=SurveyKind.PULSE)
        .select_related("survey", "customer", "contact", "touchpoint")
        .prefetch_related(Prefetch("answers", queryset=answers))
        .order_by("-submitted_at", "-pk")
    )
    if team_ids is not None:
        responses = responses.filter(customer__owner__team_id__in=team_ids)
    if survey_id is not None:
        responses = responses.filter(survey_id=survey_id)
    if channel is not None:
        responses = responses.filter(channel=channel)
    if customer_external_id is not None:
        responses = responses.filter(customer__external_id=customer_external_id)
    if touchpoint_code is not None:
        # One set of response ids, read once through the answers' touchpoint index, not an
        # EXISTS per response: SQLite ran that by the touchpoint index too, re-reading every
        # answer on the touchpoint for each response (238 s on the demo's 57,000 responses).
        # Codes are unique: one id, compared with =, which the planner knows picks few rows
        # (with IN it guessed many and scanned every answer).
        touchpoint_id = Subquery(
            Touchpoint.objects.filter(code=touchpoint_code).order_by().values("pk")
        )
        answered = Answer.objects.filter(touchpoint_id=touchpoint_id).values("response_id")
        responses = responses.filter(Q(touchpoint_id=touchpoint_id) | Q(pk__in=answered))
    if source_key is not None:
        responses = responses.filter(source_key=source_key)
    if since is not None:
        responses = responses.filter(submitted_at__gte=since)
    if until is not None:
        responses = responses.filter(submitted_at__lt=until)
    if after is not None:
        submitted_at, pk = after
        # The bound before the OR, so that the index on submitted_at seeks to the page
        # instead of walking every newer response again.
        responses = responses.filter(submitted_at__lte=submitted_at).filter(
            Q(submitted_at__lt=submitted_at) | Q(submitted_at=submitted_at, pk__lt=pk)
        )
    return responses


def open_link(survey: Survey, *, via_qr: bool = False) -> str | None:
    """The survey's public web link, or None when it takes no open answers."""
    if not survey.accepts_open_link:
        return None
    path = reverse("respond_open", args=[survey.pk, open_link_signature(survey.pk)])
    return settings.BASE_URL + path + ("?via=qr" if via_qr else "")


def latest_comments(
    team_ids: list[int] | None, touchpoint_id: int, *, since: dt.date | None = None, limit: int = 10
) -> list[Answer]:
    """The newest free-text answers about a touchpoint, with their response and customer, of
    customers owned by ``team_ids`` (None: all). Employee pulse answers are never listed."""
    answers = (
        Answer.objects.filter(
            kind=QuestionKind.TEXT,
            touchpoint_id=touchpoint_id,
            response__state=ResponseState.COMPLETED,
        )
        .exclude(text="")
        .exclude(response__survey__kind=SurveyKind.PULSE)
        .select_related("response__customer")
        .order_by("-response__submitted_at", "-pk")
    )
    if team_ids is not None:
        answers = answers.filter(response__customer__owner__team_id__in=team_ids)
    if since is not None:
        answers = answers.filter(response__submitted_at__gte=_day_start(since))
    return list(answers[:limit])


def _day_start(day: dt.date) -> dt.datetime:
    """The first moment of ``day`` in the site's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def invitation_counts(
    team_ids: list[int] | None, *, since: dt.date | None = None, until: dt.date | None = None
) -> QuerySet:
    """Per survey (``survey_id``, ``name_ru``, ``name_en``): invitations ``delivered`` (sent
    and not bounced) and ``completed``, of invitations made in the period to contacts of
    customers owned by ``team_ids`` (None: all)."""
    invitations = Invitation.objects.all()
    if team_ids is not None:
        invitations = invitations.filter(contact__customer__owner__team_id__in=team_ids)
    # Bounds as moments, not created_at__date: a date cast of every row defeats the index (and
    # on SQLite calls Python once per row: 0.9 s over the demo's 100,000 invitations).
    if since is not None:
        invitations = invitations.filter(created_at__gte=_day_start(since))
    if until is not None:
        invitations = invitations.filter(created_at__lt=_day_start(until + dt.timedelta(days=1)))
    return (
        invitations.values("survey_id", "survey__name_ru", "survey__name_en")
        .annotate(
            delivered=Count("id", filter=Q(sent_at__isnull=False, bounced_at__isnull=True)),
            completed=Count("id", filter=Q(completed_at__isnull=False)),
        )
        .order_by("survey__name_en")
    )


@dataclass(frozen=True)
class ResponseFilter:
    """What a list of "the responses behind a number" is narrowed to; every field optional.

    ``since`` inclusive and ``until`` exclusive are moments; ``team_ids`` the teams whose
    customers are kept (a team with those below it); ``segment_id`` customers in the segment
    now; ``touchpoint_id`` responses about the touchpoint or with an answer on it; ``kind``
    responses with an answer on that scale, and with ``score_min``–``score_max`` (inclusive)
    only those whose answer on it lies there — with a touchpoint too, the answer about that
    touchpoint; ``text`` a comment containing it."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    team_ids: tuple[int, ...] | None = None
    segment_id: int | None = None
    touchpoint_id: int | None = None
    channel: str | None = None
    survey_id: int | None = None
    kind: str | None = None
    score_min: int | None = None
    score_max: int | None = None
    text: str | None = None
    customer_id: int | None = None
    contact_id: int | None = None
    owner_id: int | None = None  # customers this employee owns now (a scorecard's answers)


def responses_matching(team_ids: list[int] | None, where: ResponseFilter) -> QuerySet[Response]:
    """Completed customer responses visible to ``team_ids`` (None: all), narrowed by ``where``,
    newest first, with their survey, customer, contact, touchpoint and answers in question
    order (see :func:`completed_responses`).

    Each condition on answers is one set of response ids read once from the answers table
    (by its touchpoint index, or its (kind, score) one), not a correlated EXISTS per
    response; the responses are then read in (submitted_at, id) order from their index."""
    responses = completed_responses(
        team_ids, survey_id=where.survey_id, channel=where.channel, since=where.since
    )
    responses = responses.select_related("customer__owner__team")
    if where.until is not None:
        responses = responses.filter(submitted_at__lt=where.until)
    if where.team_ids is not None:
        responses = responses.filter(customer__owner__team_id__in=where.team_ids)
    if where.segment_id is not None:
        segment = segment_by_id(where.segment_id)
        members = segment_customers(segment).values("pk") if segment else []
        responses = responses.filter(customer_id__in=members)
    if where.customer_id is not None:
        responses = responses.filter(customer_id=where.customer_id)
    if where.contact_id is not None:
        responses = responses.filter(contact_id=where.contact_id)
    if where.owner_id is not None:
        responses = responses.filter(customer__owner_id=where.owner_id)
    if where.touchpoint_id is not None:
        answered = Answer.objects.filter(touchpoint_id=where.touchpoint_id).values("response_id")
        responses = responses.filter(Q(touchpoint_id=where.touchpoint_id) | Q(pk__in=answered))
    if where.kind is not None:
        scored = Answer.objects.filter(kind=where.kind)
        if where.score_min is not None:
            scored = scored.filter(score__gte=where.score_min)
        if where.score_max is not None:
            scored = scored.filter(score__lte=where.score_max)
        if where.touchpoint_id is None:
            responses = responses.filter(pk__in=scored.values("response_id"))
        else:
            # "Low ratings of billing" means the answer about billing is low, not that some
            # answer is low and another is about billing: the answer's own touchpoint, or for
            # a question about no touchpoint, the event the response is about.
            on_it = scored.filter(touchpoint_id=where.touchpoint_id).values("response_id")
            about_it = scored.filter(touchpoint=None).values("response_id")
            responses = responses.filter(
                Q(pk__in=on_it) | Q(touchpoint_id=where.touchpoint_id, pk__in=about_it)
            )
    if where.text:
        comments = contains_text(Answer.objects.filter(kind=QuestionKind.TEXT), where.text, "text")
        responses = responses.filter(pk__in=comments.values("response_id"))
    return responses


def visible_response(team_ids: list[int] | None, pk: int) -> Response:
    """The completed customer response ``pk`` with its answers, invitation, customer (and its
    owner's team) and contact; Http404 when there is none or ``team_ids`` (None: all) may not
    see it — a response of another team's customer is answered as one that does not exist."""
    responses = completed_responses(team_ids).select_related(
        "invitation", "customer__owner__team", "customer__owner__user"
    )
    return get_object_or_404(responses, pk=pk)


def nps_answers(*, customer_id: int | None = None, contact_id: int | None = None) -> list:
    """(submitted_at, score) of every completed NPS answer of a customer or a contact, oldest
    first: the few dozen points of one customer's NPS history."""
    responses = Response.objects.filter(state=ResponseState.COMPLETED).exclude(
        survey__kind=SurveyKind.PULSE
    )
    if customer_id is not None:
        responses = responses.filter(customer_id=customer_id)
    if contact_id is not None:
        responses = responses.filter(contact_id=contact_id)
    # The customer's responses first (by their index), then their NPS answers: joined the other
    # way round, SQLite read every NPS answer of the firm through the answers' kind index
    # (210 ms on the full demo against 2 ms).
    answers = Answer.objects.filter(kind=QuestionKind.NPS, response__in=responses.values("pk"))
    return list(
        answers.order_by("response__submitted_at").values_list("response__submitted_at", "score")
    )


@dataclass(frozen=True)
class FeedbackSummary:
    """A customer's completed responses: how many, and when the latest came."""

    count: int
    latest: dt.datetime | None


def feedback_by_customer(customer_ids: list[int]) -> dict[int, FeedbackSummary]:
    """:class:`FeedbackSummary` per customer id (those with none are left out)."""
    rows = (
        Response.objects.filter(customer_id__in=customer_ids, state=ResponseState.COMPLETED)
        .exclude(survey__kind=SurveyKind.PULSE)
        .order_by()
        .values("customer_id")
        .annotate(count=Count("id"), latest=Max("submitted_at"))
    )
    return {row["customer_id"]: FeedbackSummary(row["count"], row["latest"]) for row in rows}


def customer_surveys() -> QuerySet[Survey]:
    """Every survey customers answer (no employee pulse), by kind and name: the choices of a
    filter. No counts: a filter's list need not aggregate every response."""
    return Survey.objects.exclude(kind=SurveyKind.PULSE).order_by("kind", "name_en")


def invitation_counts_by_owner(
    owner_ids: list[int], *, since: dt.date, until: dt.date
) -> dict[int, tuple[int, int]]:
    """Per relationship owner (an employee id): invitations ``delivered`` (sent, not bounced)
    and ``completed`` of those made from ``since`` to ``until`` (inclusive) to contacts of the
    customers they own now; owners without any are left out."""
    rows = (
        Invitation.objects.filter(
            contact__customer__owner_id__in=owner_ids,
            created_at__gte=_day_start(since),
            created_at__lt=_day_start(until + dt.timedelta(days=1)),
        )
        .values("contact__customer__owner_id")
        .annotate(
            delivered=Count("id", filter=Q(sent_at__isnull=False, bounced_at__isnull=True)),
            completed=Count("id", filter=Q(completed_at__isnull=False)),
        )
    )
    return {
        row["contact__customer__owner_id"]: (row["delivered"], row["completed"]) for row in rows
    }


def submission_months(response_ids) -> set[str]:
    """The months (:func:`~cxloop.lib.months.utc_month`) of these responses' submissions."""
    rows = Response.objects.filter(pk__in=list(response_ids), submitted_at__isnull=False)
    return {utc_month(moment) for moment in rows.values_list("submitted_at", flat=True)}


AnswerCell = tuple[int, str, int | None, str, int | None]


def answer_cells(response_ids: list[int]) -> dict[int, list[AnswerCell]]:
    """(response id, kind, score, text, touchpoint id) of every answer of each of
    ``response_ids``, by response, in question order: an export's cells, read as plain rows (a
    million responses' answers would be millions of objects)."""
    cells: dict[int, list] = {}
    rows = (
        Answer.objects.filter(response_id__in=response_ids)
        .order_by("response_id", "question__order")
        .values_list("response_id", "kind", "score", "text", "touchpoint_id")
    )
    for batch in value_batches(rows, 10_000):
        for row in batch:
            cells.setdefault(row[0], []).append(row)
    return cells
