"""Append-only history records: one row per change of a record (a case, an initiative, a
decision), written in the same transaction as the change and never changed or deleted, so that
the record's page can show how it came to be and the loop's figures can be recomputed."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def actor_field(verbose_name: str, *, help_text: str = "") -> models.ForeignKey:
    """The person who did something (made a change, approved, ticked an item off); empty where
    no person did it, and ``help_text`` says who did then (the system, the customer)."""
    return models.ForeignKey(
        "people.Employee",
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=help_text,
    )


class AppendOnlyEvent(models.Model):
    """One change: when, by whom, what kind and its details. A subclass adds the foreign key to
    the record it belongs to, names that history in ``history_name`` (the error a rewrite
    meets) and narrows ``kind`` to its own choices."""

    history_name: str  # "a case's history"

    at = models.DateTimeField(_("when"))
    by = actor_field(_("by"))
    kind = models.CharField(_("what"), max_length=16)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError(f"{self.history_name} is not rewritten")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(f"{self.history_name} is not deleted")
