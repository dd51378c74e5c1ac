from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A key an API client sends as ``Authorization: Bearer <token>``; it acts as its employee.

    The token itself is shown once when it is made; the database keeps only its SHA-256.
    """

    employee = models.ForeignKey(
        "people.Employee",
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What the token is for, e.g. the CRM integration.")
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.employee})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
