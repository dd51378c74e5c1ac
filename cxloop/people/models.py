import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cxloop.i18n import english_field, second_language
from cxloop.people.choices import IdeaStatus, Role


def validate_time_zone(name: str) -> None:
    if name not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(name)s is not a time zone (say Europe/Moscow)."), params={"name": name}
        )


class BusinessCalendar(models.Model):
    """When a team works: its time zone, working weekdays and hours, and the exceptions to the
    week (:class:`CalendarDay`). A team without one works to its parent's, else to the
    default calendar (the Russian production calendar, loaded by a migration)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Moscow", validators=[validate_time_zone]
    )
    work_days = models.CharField(
        _("working weekdays"),
        max_length=7,
        default="12345",
        validators=[
            RegexValidator(r"^[1-7]{1,7}$", _("Weekday numbers 1 (Monday) to 7 (Sunday)."))
        ],
        help_text=_("Weekday numbers, 1 Monday to 7 Sunday: 12345 is Mon–Fri."),
    )
    day_start = models.TimeField(_("working day starts"), default="09:00")
    day_end = models.TimeField(_("working day ends"), default="18:00")
    is_default = models.BooleanField(
        _("default"), default=False, help_text=_("The calendar of teams that have none.")
    )

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["-is_default", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(day_start__lt=F("day_end")), name="calendar_day_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="calendar_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.day_start and self.day_end and self.day_start >= self.day_end:
            raise ValidationError({"day_end": _("A working day ends after it starts.")})


class CalendarDay(models.Model):
    """An exception to a calendar's week: a public holiday, or a weekend day that is worked."""

    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("calendar"),
        on_delete=models.CASCADE,
        related_name="days",
    )
    date = models.DateField(_("date"))
    is_working = models.BooleanField(
        _("working day"),
        default=False,
        help_text=_("Off: a holiday. On: a transferred working day."),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Team(models.Model):
    """A unit of the organisation; teams nest (firm → office → practice)."""

    name = models.CharField(_("name"), max_length=200)
    name_en = english_field(_("name in English"))
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("business calendar"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="teams",
        help_text=_("Empty: the parent team's, else the default calendar."),
    )
    # The weigh-in shows every team; people by name only where their team agreed to it.
    ranks_people = models.BooleanField(
        _("people ranked on the weigh-in"),
        default=False,
        help_text=_(
            "Its people appear by name on the weekly weigh-in, each by their own customers' "
            "NPS; otherwise only the team does."
        ),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="team_name_unique_in_parent"),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="team_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the page's language."""
        return second_language(self.name, self.name_en)

    def ancestors(self) -> list["Team"]:
        chain, team = [], self.parent
        while team is not None:
            chain.append(team)
            team = team.parent
        return chain


class Employee(models.Model):
    """A person of the organisation with a login, a team and a role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        on_delete=models.CASCADE,
        related_name="employee",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="employees"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role, default=Role.EMPLOYEE)
    title = models.CharField(_("job title"), max_length=200, blank=True)
    title_en = english_field(_("job title in English"))
    is_champion = models.BooleanField(
        _("CX champion"), default=False, help_text=_("An internal champion of customer experience.")
    )
    language = models.CharField(
        _("language of e-mails"), max_length=2, choices=settings.LANGUAGES, default="ru"
    )
    # The local date of the last daily summary of cases sent: one a day, even with two workers.
    digest_sent_on = models.DateField(_("last daily summary"), null=True, blank=True)
    # The Monday of the last weekly weigh-in digest sent: one a week, even with two workers.
    weigh_in_sent_for = models.DateField(_("last weekly digest"), null=True, blank=True)

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="employee_role_valid"),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def title_label(self) -> str:
        """The job title in the page's language."""
        return second_language(self.title, self.title_en)


class Idea(models.Model):
    """An idea or remark from an employee, signed or anonymous (then neither author nor team is
    kept)."""

    text = models.TextField(_("idea or remark"))
    author = models.ForeignKey(
        Employee,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ideas",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ideas",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=IdeaStatus, default=IdeaStatus.NEW
    )
    created_on = models.DateField(_("date"))
    # The answer to the author (shown to everyone on the ideas page when the idea is anonymous).
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        Employee,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("idea")
        verbose_name_plural = _("ideas")
        ordering = ["-created_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=IdeaStatus.values), name="idea_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]


# Reward plans live in a module of their own; imported here so that Django finds the models.
from cxloop.people.rewards import (  # noqa: E402, F401
    RewardMetric,
    RewardPayout,
    RewardPeriod,
    RewardPlan,
)
