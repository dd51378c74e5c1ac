from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cxloop.feedback.choices import FaceToFaceKind


class FaceToFaceRecord(models.Model):
    """Feedback heard in person: who met whom and when, and what was said.

    Its scores are the answers of ``response`` (a Response on an interview-guide survey, with
    this record's kind as the channel), so they are analysed like any other feedback.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=FaceToFaceKind)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="face_to_face_records",
    )
    contacts = models.ManyToManyField(
        "customers.Contact", verbose_name=_("client participants"), blank=True
    )
    employee = models.ForeignKey(
        "people.Employee",
        verbose_name=_("met by"),
        on_delete=models.PROTECT,
        related_name="face_to_face_records",
    )
    colleagues = models.ManyToManyField(
        "people.Employee",
        verbose_name=_("other participants from our side"),
        blank=True,
        related_name="+",
    )
    met_on = models.DateField(_("date"))
    source = models.CharField(
        _("source"),
        max_length=200,
        blank=True,
        help_text=_("For third-party research: who ran it."),
    )
    language = models.CharField(_("language"), max_length=2, default="ru")
    notes = models.TextField(_("notes"), blank=True)
    response = models.OneToOneField(
        "surveys.Response",
        verbose_name=_("scores"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="face_to_face_record",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("face-to-face record")
        verbose_name_plural = _("face-to-face records")
        ordering = ["-met_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=FaceToFaceKind.values), name="face_to_face_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(language__in=["ru", "en"]), name="face_to_face_language_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.customer} ({self.met_on})"


class FollowUp(models.Model):
    """Something agreed with the client during a meeting, with an owner and a due date."""

    record = models.ForeignKey(
        FaceToFaceRecord,
        verbose_name=_("record"),
        on_delete=models.CASCADE,
        related_name="follow_ups",
    )
    description = models.TextField(_("what was agreed"))
    owner = models.ForeignKey(
        "people.Employee",
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    due_on = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on"]

    def __str__(self) -> str:
        return self.description[:60]
