"""Read side of feedback."""

from django.db.models import Count, OuterRef, QuerySet, Subquery

from cxloop.feedback.models import FaceToFaceRecord
from cxloop.surveys.models import Answer, Response, ResponseState, SurveyKind


def face_to_face_records(team_ids: list[int] | None) -> QuerySet[FaceToFaceRecord]:
    """Records, newest first, with their NPS; only those logged by ``team_ids`` unless None."""
    nps = Answer.objects.filter(response=OuterRef("response"), kind="nps").values("score")[:1]
    records = (
        FaceToFaceRecord.objects.select_related("customer", "employee__user", "employee__team")
        .annotate(nps=Subquery(nps), follow_up_count=Count("follow_ups"))
        .order_by("-met_on", "-pk")
    )
    return records if team_ids is None else records.filter(employee__team_id__in=team_ids)


def feedback_feed(
    team_ids: list[int] | None, *, channel: str = "", survey_id: int | None = None
) -> QuerySet[Response]:
    """Completed customer feedback of every channel — surveys, meetings, imports, the API —
    newest first, with its headline score and comment; only the customers of ``team_ids``
    (their owner's team) unless None. Employee pulse answers are never listed."""
    answers = Answer.objects.filter(response=OuterRef("pk"))
    responses = (
        Response.objects.filter(state=ResponseState.COMPLETED, submitted_at__isnull=False)
        .exclude(survey__kind=SurveyKind.PULSE)
        .select_related("survey", "customer", "touchpoint")
        .annotate(
            score_kind=Subquery(
                answers.exclude(score=None).order_by("question__order").values("kind")[:1]
            ),
            score=Subquery(
                answers.exclude(score=None).order_by("question__order").values("score")[:1]
            ),
            comment=Subquery(answers.filter(kind="text").exclude(text="").values("text")[:1]),
        )
        .order_by("-submitted_at", "-pk")
    )
    if team_ids is not None:
        responses = responses.filter(customer__owner__team_id__in=team_ids)
    if channel:
        responses = responses.filter(channel=channel)
    if survey_id:
        responses = responses.filter(survey_id=survey_id)
    return responses
