"""Training: courses that teach the standards of touchpoints, and who must take them by when.

A course is tied to touchpoints and to the standard versions it teaches (the versions the
improvement cycle writes when an initiative is finished); when a touchpoint gets a new
standard, the courses on that touchpoint are assigned to the people of the team that owns it
(:func:`cxloop.improvements.training_services.assign_for_new_standards`). An assignment is
done when its person says so and confirmed when their manager agrees; only a confirmed one
counts as trained (docs/decisions/017-training-in-improvements.md)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cxloop.history import actor_field
from cxloop.i18n import TitledInTwoLanguages
from cxloop.improvements.choices import DEFAULT_DUE_DAYS


class Course(TitledInTwoLanguages, models.Model):
    """A course on how some touchpoints are to be done."""

    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    touchpoints = models.ManyToManyField(
        "journeys.Touchpoint", verbose_name=_("touchpoints it covers"), related_name="courses"
    )
    standards = models.ManyToManyField(
        "journeys.Standard",
        verbose_name=_("standard versions it teaches"),
        blank=True,
        related_name="courses",
    )
    due_days = models.PositiveSmallIntegerField(
        _("days to complete"),
        default=DEFAULT_DUE_DAYS,
        help_text=_("An assignment is due this many days after it is given."),
    )
    assign_on_change = models.BooleanField(
        _("assign when the standard changes"),
        default=True,
        help_text=_(
            "When a touchpoint it covers gets a new standard, the people of the team that "
            "owns the touchpoint are assigned the course."
        ),
    )
    created_at = models.DateTimeField(_("created"))
    created_by = actor_field(_("created by"))

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(condition=Q(due_days__gte=1), name="course_due_days_positive"),
        ]

    @property
    def reference(self) -> str:
        return f"C-{self.pk:04d}" if self.pk else "C-?"


class Assignment(models.Model):
    """One person's assignment of a course, due by a day: ``completed_at`` when the person
    says they took it, ``confirmed_at`` when their manager confirmed it (trained from then
    on). ``standard``: the new standard version that caused it (empty: given by hand).
    ``overdue_told_at``: when the person was told it is overdue (once)."""

    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="assignments"
    )
    employee = models.ForeignKey(
        "people.Employee",
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="training_assignments",
    )
    standard = models.ForeignKey(
        "journeys.Standard",
        verbose_name=_("because of the standard"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_on = models.DateField(_("due"))
    assigned_at = models.DateTimeField(_("assigned"))
    assigned_by = actor_field(_("assigned by"), help_text=_("Empty: assigned by the system."))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = actor_field(_("confirmed by"))
    overdue_told_at = models.DateTimeField(_("told it is overdue"), null=True, blank=True)

    class Meta:
        verbose_name = _("training assignment")
        verbose_name_plural = _("training assignments")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["employee", "due_on"], name="assignment_employee_due"),
        ]
        constraints = [
            # A person has one open assignment of a course at a time: a second one while the
            # first is not confirmed would count them twice.
            models.UniqueConstraint(
                fields=["course", "employee"],
                condition=Q(confirmed_at__isnull=True),
                name="assignment_one_open_per_course",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True) | Q(completed_at__isnull=False),
                name="assignment_confirmed_after_completed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course} — {self.employee}"
