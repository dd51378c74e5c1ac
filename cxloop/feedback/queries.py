"""Read side of feedback."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from cxloop.feedback.models import FaceToFaceRecord, FollowUp
from cxloop.surveys.models import Answer, Response
from cxloop.surveys.queries import completed_responses


@dataclass(frozen=True)
class MeetingFilter:
    """Which meetings a list shows: led by one employee, or by the people of one team (its
    own, as a team's scorecard counts them), from ``since`` to ``until`` (inclusive)."""

    led_by: int | None = None
    led_by_team: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def apply(self, records: QuerySet[FaceToFaceRecord]) -> QuerySet[FaceToFaceRecord]:
        lookups = {
            "employee_id": self.led_by,
            "employee__team_id": self.led_by_team,
            "met_on__gte": self.since,
            "met_on__lte": self.until,
        }
        return records.filter(**{k: v for k, v in lookups.items() if v is not None})


def face_to_face_records(team_ids: list[int] | None) -> QuerySet[FaceToFaceRecord]:
    """Records, newest first, with their NPS; only those about customers owned by ``team_ids``
    unless None — the customer's team decides, as for every other feedback, not the team of
    whoever recorded the meeting (who may since have moved, or the customer with them)."""
    nps = Answer.objects.filter(response=OuterRef("response"), kind="nps").values("score")[:1]
    # Counted per record in a subquery rather than by a join and GROUP BY: the pager's count then
    # leaves both annotations out and counts the records alone (the grouped count of the
    # demo's meetings took 140 ms).
    follow_ups = (
        FollowUp.objects.filter(record=OuterRef("pk"))
        .order_by()
        .values("record")
        .annotate(n=Count("pk"))
        .values("n")
    )
    records = (
        FaceToFaceRecord.objects.select_related("customer", "employee__user", "employee__team")
        .annotate(nps=Subquery(nps), follow_up_count=Coalesce(Subquery(follow_ups), 0))
        .order_by("-met_on", "-pk")
    )
    return records if team_ids is None else records.filter(customer__owner__team_id__in=team_ids)


def feedback_feed(
    team_ids: list[int] | None, *, channel: str = "", survey_id: int | None = None
) -> QuerySet[Response]:
    """Completed customer feedback of every channel — surveys, meetings, imports, the API —
    newest first (see :func:`cxloop.surveys.queries.completed_responses`), with its first score
    and its comment."""
    answers = Answer.objects.filter(response=OuterRef("pk"))
    scored = answers.exclude(score=None).order_by("question__order")
    return completed_responses(team_ids, channel=channel or None, survey_id=survey_id).annotate(
        score_kind=Subquery(scored.values("kind")[:1]),
        score=Subquery(scored.values("score")[:1]),
        comment=Subquery(answers.filter(kind="text").exclude(text="").values("text")[:1]),
    )


def meetings_about(
    *, customer_id: int | None = None, contact_id: int | None = None
) -> QuerySet[FaceToFaceRecord]:
    """Face-to-face records about a customer, or with a contact among the client's
    participants, newest first, with their NPS, who met, and their follow-ups (with owners).
    The caller has checked that the customer (the contact's customer) is in its scope."""
    follow_ups = FollowUp.objects.select_related("owner__user").order_by("due_on", "pk")
    records = face_to_face_records(None).prefetch_related(
        Prefetch("follow_ups", queryset=follow_ups)
    )
    if customer_id is not None:
        records = records.filter(customer_id=customer_id)
    if contact_id is not None:
        records = records.filter(contacts__id=contact_id)
    return records


def meetings_led(employee_ids, since, until) -> dict[int, int]:
    """How many face-to-face records each employee led ("met by") from ``since`` to ``until``
    (days, inclusive), by employee id; none: absent."""
    rows = FaceToFaceRecord.objects.filter(
        employee_id__in=list(employee_ids), met_on__gte=since, met_on__lte=until
    )
    return dict(rows.values("employee_id").annotate(n=Count("pk")).values_list("employee_id", "n"))
