"""The audit log's read side: events filtered as the admin's page asks."""

import datetime as dt

from django.apps import apps
from django.db.models import QuerySet

from cxloop.audit.models import AuditEvent


def events(
    *,
    actor: str = "",
    action: str = "",
    kind: str = "",
    object_id: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Newest first; ``actor`` matches the start of a user name, the others exactly; ``until``
    is exclusive."""
    found = AuditEvent.objects.all()
    if actor:
        found = found.filter(actor__startswith=actor)
    if action:
        found = found.filter(action=action)
    if kind:
        found = found.filter(object_kind=kind)
    if object_id:
        found = found.filter(object_id=object_id)
    if since is not None:
        found = found.filter(at__gte=since)
    if until is not None:
        found = found.filter(at__lt=until)
    return found.order_by("-at", "-id")


def kinds() -> list[str]:
    return sorted(
        k for k in AuditEvent.objects.values_list("object_kind", flat=True).distinct() if k
    )


def kind_labels() -> dict[str, str]:
    """The name of each kind of record in the page's language: kinds are model names
    ("survey"), named by their model's verbose name ("опрос")."""
    return {model._meta.model_name: str(model._meta.verbose_name) for model in apps.get_models()}
