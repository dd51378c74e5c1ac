"""An export too large to answer in one request: built by a task into a file of the data
directory, with its progress, for the person who asked (docs/exports.md)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    QUEUED = "queued", _("waiting")
    RUNNING = "running", _("being written")
    DONE = "done", _("ready")
    FAILED = "failed", _("failed")


class ExportJob(models.Model):
    """One export being built: which list (``kind``) with which filters (``query``, the list's
    query string) in which ``format``, for ``user``, whose scope it is read in when it runs."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("asked by")
    )
    kind = models.CharField(_("list"), max_length=32)
    format = models.CharField(_("format"), max_length=16)
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    language = models.CharField(_("language"), max_length=8)
    state = models.CharField(_("state"), max_length=8, choices=JobState, default=JobState.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows to write"), null=True, blank=True)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("asked"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="export_job_by_user")]

    def __str__(self) -> str:
        return f"{self.kind}.{self.format} #{self.pk}"
