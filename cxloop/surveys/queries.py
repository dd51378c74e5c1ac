"""Read side of surveys."""

from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet
from django.shortcuts import get_object_or_404

from cxloop.surveys.models import Invitation, ResponseState, Survey, SurveyKind


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
