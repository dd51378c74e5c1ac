"""Read side of feedback."""

from django.db.models import Count, OuterRef, QuerySet, Subquery

from cxloop.feedback.models import FaceToFaceRecord
from cxloop.surveys.models import Answer


def face_to_face_records(team_ids: list[int] | None) -> QuerySet[FaceToFaceRecord]:
    """Records, newest first, with their NPS; only those logged by ``team_ids`` unless None."""
    nps = Answer.objects.filter(response=OuterRef("response"), kind="nps").values("score")[:1]
    records = (
        FaceToFaceRecord.objects.select_related("customer", "employee__user", "employee__team")
        .annotate(nps=Subquery(nps), follow_up_count=Count("follow_ups"))
        .order_by("-met_on", "-pk")
    )
    return records if team_ids is None else records.filter(employee__team_id__in=team_ids)
