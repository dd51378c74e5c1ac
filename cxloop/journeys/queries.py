"""Read side of journeys."""

from django.db.models import Count, Prefetch, QuerySet

from cxloop.journeys.models import Journey, Stage, Touchpoint


def active_journeys() -> QuerySet[Journey]:
    stages = Stage.objects.order_by("order").prefetch_related(
        Prefetch("touchpoints", queryset=Touchpoint.objects.order_by("order"))
    )
    return (
        Journey.objects.filter(is_active=True)
        .annotate(touchpoint_count=Count("stages__touchpoints"))
        .prefetch_related(Prefetch("stages", queryset=stages))
    )


def journey_touchpoints() -> list[Touchpoint]:
    """The touchpoints of the active journeys, in journey, stage and touchpoint order."""
    return list(
        Touchpoint.objects.filter(stage__journey__is_active=True)
        .select_related("stage")
        .order_by("stage__journey_id", "stage__order", "order")
    )


def touchpoints_with_stage() -> QuerySet[Touchpoint]:
    return Touchpoint.objects.select_related("stage")


def touchpoints_owned() -> dict[int, list[int]]:
    """The touchpoints each team owns (``Touchpoint.team``), by team id."""
    owned: dict[int, list[int]] = {}
    rows = Touchpoint.objects.filter(team__isnull=False).values_list("pk", "team_id")
    for pk, team_id in rows.order_by("pk"):
        owned.setdefault(team_id, []).append(pk)
    return owned
