"""Write side of surveys: invitations and their e-mails, and answers from respondents.

A respondent's answers are stored as soon as each page is submitted, so nothing they saw
acknowledged is lost; completion is claimed with a conditional UPDATE, so that two simultaneous
submissions for one invitation make one completed response and the other is told it was answered.
"""

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from cxloop.lib.scales import SCORE_RANGES
from cxloop.surveys.models import (
    Answer,
    Channel,
    Invitation,
    PulseParticipation,
    Question,
    QuestionKind,
    Response,
    ResponseState,
    Survey,
)

TOKEN_BYTES = 24  # 192 bits in the link
INVITATION_LIFETIME = dt.timedelta(days=30)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_token(nonce: str) -> str:
    """The link token of the invitation with ``nonce``: HMAC-SHA256 of 128 random bits under the
    secret key, so that the database holds only its hash and a reminder can show the same link."""
    key = settings.SECRET_KEY.encode()
    digest = hmac.new(key, f"cxloop.invitation:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).decode()


def new_invitation(
    survey: Survey, contact, *, now: dt.datetime, channel: str = Channel.EMAIL, touchpoint=None
) -> Invitation:
    """An unsaved invitation with a fresh nonce and the hash of its token."""
    nonce = secrets.token_hex(16)
    return Invitation(
        survey=survey,
        contact=contact,
        nonce=nonce,
        token_hash=hash_token(invitation_token(nonce)),
        channel=channel,
        touchpoint=touchpoint,
        created_at=now,
        expires_at=now + dt.timedelta(days=survey.invitation_lifetime_days),
    )


def issue_invitation(
    survey: Survey, contact, *, now: dt.datetime, channel: str = Channel.EMAIL, touchpoint=None
) -> tuple[Invitation, str]:
    """A new, saved invitation and the token for its link."""
    invitation = new_invitation(survey, contact, now=now, channel=channel, touchpoint=touchpoint)
    invitation.save()
    return invitation, invitation_token(invitation.nonce)


def open_link_signature(survey_pk: int) -> str:
    """The unguessable part of a survey's open link, so that surveys cannot be enumerated."""
    key = settings.SECRET_KEY.encode()
    digest = hmac.new(key, f"cxloop.open:{survey_pk}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def survey_for_open_link(pk: int, signature: str) -> Survey | None:
    if not hmac.compare_digest(open_link_signature(pk), signature):
        return None
    return Survey.objects.filter(pk=pk).first()


def begin_open(survey: Survey, *, channel: str, language: str, now: dt.datetime) -> Response:
    """A new anonymous response through a survey's open link (or its QR code)."""
    return Response.objects.create(
        survey=survey,
        channel=channel,
        language=language,
        state=ResponseState.STARTED,
        started_at=now,
    )


def invitation_for_token(token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("survey", "contact__customer", "touchpoint")
        .filter(token_hash=hash_token(token))
        .first()
    )


def condition_holds(condition: Mapping | None, answers: Mapping[int, Answer]) -> bool:
    """Whether a display condition holds for the answers given so far (keyed by question
    number); a condition on an unanswered question does not hold."""
    if not condition:
        return True
    answer = answers.get(condition["question"])
    if answer is None:
        return False
    (operator,) = set(condition) - {"question"}
    expected = condition[operator]
    given = answer.score if answer.score is not None else (answer.choices or answer.text)
    if isinstance(given, list):  # a multiple choice holds when any chosen value matches
        return any(_compare(operator, value, expected) for value in given)
    return _compare(operator, given, expected)


def _compare(operator: str, given, expected) -> bool:
    if operator == "in":
        return given in expected
    if operator == "eq":
        return given == expected
    if operator == "ne":
        return given != expected
    if not isinstance(given, int | float) or not isinstance(expected, int | float):
        return False
    return given <= expected if operator == "lte" else given >= expected


def answers_by_number(response: Response) -> dict[int, Answer]:
    return {a.question.order: a for a in response.answers.select_related("question")}


def visible_pages(questions: Iterable[Question], answers: Mapping[int, Answer]) -> list[int]:
    """The page numbers that show at least one question, given the answers so far."""
    return sorted({q.page for q in questions if condition_holds(q.display_condition, answers)})


def begin(invitation: Invitation, *, now: dt.datetime) -> Response:
    """The respondent's response for ``invitation``: the unfinished one, or a new one.

    The invitation row is locked (PostgreSQL) or the write lock taken (SQLite, IMMEDIATE) first,
    so two first visits at the same moment make one response.
    """
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        response = invitation.responses.order_by("-started_at").first()
        if response is None:
            response = Response.objects.create(
                survey=invitation.survey,
                invitation=invitation,
                contact=None if invitation.survey.is_anonymous else invitation.contact,
                customer=invitation.contact.customer,
                touchpoint=invitation.touchpoint,
                channel=invitation.channel,
                language=invitation.contact.language,
                state=ResponseState.STARTED,
                started_at=now,
            )
        Invitation.objects.filter(pk=invitation.pk, opened_at=None).update(opened_at=now)
    return response


def _answer_fields(question: Question, value) -> dict:
    if question.kind == QuestionKind.TEXT:
        return {"score": None, "text": value, "choices": []}
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        chosen = value if isinstance(value, list) else [value]
        return {"score": None, "text": "", "choices": chosen}
    return {"score": int(value), "text": "", "choices": []}


def draft_answers(
    response: Response, questions: Iterable[Question], values: Mapping[int, object]
) -> dict[int, Answer]:
    """Unsaved answers for the questions given a value (``values`` by question id), keyed by
    question number like :func:`answers_by_number`."""
    return {
        q.order: Answer(
            response=response,
            question=q,
            kind=q.kind,
            touchpoint=q.touchpoint or response.touchpoint,
            **_answer_fields(q, values[q.pk]),
        )
        for q in questions
        if values.get(q.pk) not in (None, "", [])
    }


def preview_answers(
    survey: Survey, questions: Iterable[Question], values: Mapping[int, object]
) -> dict[int, Answer]:
    """:func:`draft_answers` on an unsaved response: a survey's preview runs the respondent's
    flow and stores nothing."""
    return draft_answers(Response(survey=survey), questions, values)


def save_page(
    response: Response,
    questions: Iterable[Question],
    values: Mapping[int, object],
    *,
    page: int,
    language: str,
    now: dt.datetime,
    finish: bool = False,
) -> bool:
    """Store the answers of one page (``values`` by question id; empty means no answer) and, with
    ``finish``, complete the response. False, with nothing written, when it was already completed.

    A page submitted again replaces its earlier answers, so going back and changing an answer
    keeps one answer per question. The response row is locked first: of two submissions at the
    same moment, the second finds it completed.
    """
    questions = list(questions)
    with transaction.atomic():
        unfinished = (
            Response.objects.select_for_update()
            .filter(pk=response.pk)
            .exclude(state=ResponseState.COMPLETED)
        )
        if not unfinished.exists():
            return False
        Answer.objects.filter(response=response, question__in=questions).delete()
        Answer.objects.bulk_create(draft_answers(response, questions, values).values())
        state = {"state": ResponseState.PARTIAL, "last_page": max(page, response.last_page)}
        if finish:
            state = {"state": ResponseState.COMPLETED, "submitted_at": now, "last_page": page}
        unfinished.update(language=language, **state)
        if response.invitation_id:
            invitation = Invitation.objects.filter(pk=response.invitation_id)
            invitation.filter(started_at=None).update(started_at=now)
            if finish:
                invitation.update(completed_at=now)
    return True


class AnswerError(ValueError):
    """An answer that does not fit its question; says which question, what value and why."""

    def __init__(self, question: int | str, value: object, reason: str):
        shown = repr(value)
        if len(shown) > 60:  # a message names the value; it need not repeat 5,000 digits
            shown = shown[:59] + "…"
        super().__init__(f"question {question}: {shown} — {reason}")
        self.question, self.value, self.reason = question, value, reason


def clean_value(question: Question, raw: object) -> object:
    """``raw`` as the value an answer to ``question`` stores (int score, choice list or text);
    None for no answer. Raises AnswerError when it does not fit."""
    if raw is None or raw == "" or raw == []:
        return None
    if question.kind in SCORE_RANGES:
        low, high = SCORE_RANGES[question.kind]
        try:
            score = float(raw)
        except (TypeError, ValueError):
            raise AnswerError(
                question.order, raw, f"expected a whole number {low}–{high}"
            ) from None
        # The range test first: it is False for nan and inf, which int() cannot take.
        if not low <= score <= high or score != int(score):
            raise AnswerError(question.order, raw, f"expected a whole number {low}–{high}")
        return int(score)
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        chosen = raw if isinstance(raw, list) else [raw]
        allowed = {str(c["value"]) for c in question.choices}
        unknown = [c for c in chosen if str(c) not in allowed]
        if unknown or (question.kind == QuestionKind.SINGLE and len(chosen) != 1):
            raise AnswerError(question.order, raw, "expected one of " + ", ".join(sorted(allowed)))
        return [str(c) for c in chosen]
    text = str(raw).strip()
    if len(text) > 5000:
        raise AnswerError(question.order, f"{text[:20]}…", "longer than 5,000 characters")
    return text


def questions_by_number(survey: Survey) -> dict[int, Question]:
    """The questions of ``survey`` by number, as :func:`clean_answers` takes them."""
    return {q.order: q for q in survey.questions.all()}


def clean_answers(
    survey: Survey,
    answers: Mapping[int, object],
    *,
    questions: Mapping[int, Question] | None = None,
) -> dict[int, object]:
    """Answers keyed by question number → cleaned values keyed by question id, every required
    question answered; raises AnswerError for the first that does not fit. ``questions``: the
    survey's by number, when the caller has them (a batch's items, one survey: reading
    ``survey.questions`` anew for each took 5 % of a batch's CPU)."""
    if questions is None:
        questions = questions_by_number(survey)
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        raise AnswerError(unknown[0], answers[unknown[0]], "the survey has no such question")
    values = {questions[n].pk: clean_value(questions[n], raw) for n, raw in answers.items()}
    for number, question in questions.items():
        if question.required and values.get(question.pk) is None:
            raise AnswerError(number, None, "an answer is required")
    return values


def answer_pulse(
    survey: Survey, employee, values: Mapping[int, object], *, now: dt.datetime
) -> bool:
    """Store an employee's anonymous pulse answers (``values`` by question id): a response that
    keeps only their team and the day, and apart from it the fact that they took part. False,
    with nothing written, when they already had."""
    day = now.replace(hour=12, minute=0, second=0, microsecond=0)  # the time could identify them
    with transaction.atomic():
        _, first_time = PulseParticipation.objects.get_or_create(survey=survey, employee=employee)
        if not first_time:
            return False
        response = Response.objects.create(
            survey=survey,
            team=employee.team,
            channel=Channel.WEB,
            state=ResponseState.COMPLETED,
            started_at=day,
            submitted_at=day,
            # Announced to no one: pulse answers stay out of the fact store and the alert rules.
            announced_at=day,
        )
        Answer.objects.bulk_create(draft_answers(response, survey.questions.all(), values).values())
    return True


class SurveyChangeError(ValueError):
    """A change that would corrupt answers already given; the message says why."""


def add_question(survey: Survey, question: Question) -> Question:
    """Append ``question`` (unsaved) to the survey with the next free number."""
    last = survey.questions.order_by("-order").values_list("order", flat=True).first()
    question.survey, question.order = survey, (last or 0) + 1
    question.save()
    return question


def update_question(question: Question) -> None:
    """Save an edited question; its kind cannot change once it has answers."""
    stored = Question.objects.get(pk=question.pk)
    if stored.kind != question.kind and stored.answers.exists():
        raise SurveyChangeError(
            _(
                "Question %(number)s already has answers of its kind; add a new question "
                "instead of changing the kind."
            )
            % {"number": question.order}
        )
    question.save()


def delete_question(question: Question) -> None:
    if question.answers.exists():
        raise SurveyChangeError(
            _("Question %(number)s already has answers, so it stays.") % {"number": question.order}
        )
    dependants = question.survey.questions.filter(display_condition__question=question.order)
    if dependants.exists():
        numbers = ", ".join(str(q.order) for q in dependants)
        raise SurveyChangeError(
            _("Questions %(numbers)s are shown depending on question %(number)s.")
            % {"numbers": numbers, "number": question.order}
        )
    question.delete()


def set_open(survey: Survey, is_open: bool) -> None:
    """Publish (True) or close (False) a survey."""
    Survey.objects.filter(pk=survey.pk).update(is_active=is_open)
