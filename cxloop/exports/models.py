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
    progressed_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="export_job_by_user")]

    def __str__(self) -> str:
        return f"{self.kind}.{self.format} #{self.pk}"


# --- Scheduled reports (docs/reports.md) ---------------------------------------------------------


class Report(models.TextChoices):
    """The reports that are not a dashboard of the export catalog; any dashboard of it
    (``cxloop.exports.catalog.KINDS``, by its name) can be scheduled besides."""

    CYCLE_REVIEW = "cycle_review", _("Cycle review")
    EXECUTIVE = "executive", _("Executive review pack")
    WEEKLY_DIGEST = "weekly_digest", _("Weekly digest")


class ReportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "XLSX"


class Frequency(models.TextChoices):
    DAILY = "daily", _("every day")
    WEEKLY = "weekly", _("every week")
    MONTHLY = "monthly", _("every month")


class ReportSchedule(models.Model):
    """A report e-mailed on a schedule to chosen people, each in their own scope and language:
    a dashboard (``report`` its kind's name, with the page's query string ``query``) as PDF or
    XLSX, the cycle review or the executive pack as PDF (``query``: their period), or the
    weekly digest (the person's own Monday e-mail, sent to them now)."""

    name = models.CharField(_("name"), max_length=200)
    # One of Report or a dashboard's kind name, checked against the catalog when saved: kinds
    # come and go with the code, so the database keeps no list of them.
    report = models.CharField(_("report"), max_length=40)
    format = models.CharField(
        _("format"), max_length=8, choices=ReportFormat, default=ReportFormat.PDF
    )
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    frequency = models.CharField(
        _("frequency"), max_length=8, choices=Frequency, default=Frequency.WEEKLY
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), default=0)  # 0 Monday … 6 Sunday
    day_of_month = models.PositiveSmallIntegerField(_("day of the month"), default=1)
    hour = models.PositiveSmallIntegerField(_("hour"), default=8)
    recipients = models.ManyToManyField(
        "people.Employee", verbose_name=_("recipients"), related_name="report_schedules"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("created by"),
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("scheduled report")
        verbose_name_plural = _("scheduled reports")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["is_active", "next_run_at"], name="report_schedule_due")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6)
                & models.Q(day_of_month__gte=1, day_of_month__lte=28)
                & models.Q(hour__lte=23),
                name="report_schedule_when_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENT = "sent", _("sent")
    SKIPPED = "skipped", _("skipped: not theirs to see")
    FAILED = "failed", _("failed")


class ReportDelivery(models.Model):
    """One recipient's copy of one run (``occurrence``, the time it was due): at most one per
    schedule, recipient and occurrence, so nothing goes twice. Its file lies under
    ``DATA_DIR/reports`` until the e-mail is built; the subject and texts are the e-mail's."""

    schedule = models.ForeignKey(
        ReportSchedule,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("scheduled report"),
    )
    recipient = models.ForeignKey(
        "people.Employee", on_delete=models.CASCADE, related_name="+", verbose_name=_("recipient")
    )
    occurrence = models.DateTimeField(_("occurrence"))
    state = models.CharField(
        _("state"), max_length=8, choices=DeliveryState, default=DeliveryState.QUEUED
    )
    language = models.CharField(_("language"), max_length=8)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    attachment_name = models.CharField(_("attachment"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML"), blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        ordering = ["-occurrence", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "recipient", "occurrence"], name="report_delivery_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id}:{self.recipient_id}@{self.occurrence:%Y-%m-%d %H:%M}"
