"""Read side of surveys."""

from django.db.models import Count, Max, Q, QuerySet

from cxloop.surveys.models import ResponseState, Survey


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
