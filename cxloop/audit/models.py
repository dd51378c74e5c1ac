from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cxloop.audit.choices import Action


class AppendOnlyError(RuntimeError):
    """The audit log is only ever added to; only the retention purge removes old events."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events cannot be changed")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted (the retention purge removes them)")


class AuditEvent(models.Model):
    """One thing someone did. The actor's id and name are copies, not a foreign key, so the event
    outlives the user; ``object_id`` and ``label`` never carry a contact's name or address, so an
    erased contact leaves only the fact that something happened to record #id."""

    at = models.DateTimeField(_("when"), default=timezone.now)
    actor_id = models.BigIntegerField(_("user id"), null=True, blank=True)
    actor = models.CharField(
        _("who"), max_length=150, help_text=_('A user name, or "system" with the command.')
    )
    address = models.CharField(_("address"), max_length=45, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action)
    object_kind = models.CharField(_("kind of record"), max_length=50, blank=True)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    label = models.CharField(_("record"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["at"], name="audit_at"),
            models.Index(fields=["object_kind", "object_id"], name="audit_object"),
            models.Index(fields=["actor", "at"], name="audit_actor"),
            models.Index(fields=["action", "at"], name="audit_action"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=Action.values), name="audit_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_kind} {self.label}"
        )

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted (the retention purge removes them)")
