from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cxloop.i18n import english_field, second_language


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


class Role(models.TextChoices):
    ADMIN = "admin", _("administrator")
    EXECUTIVE = "executive", _("executive")
    MANAGER = "manager", _("manager")
    EMPLOYEE = "employee", _("employee")
    VIEWER = "viewer", _("viewer")


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


class IdeaStatus(models.TextChoices):
    NEW = "new", _("new")
    REVIEWING = "reviewing", _("under review")
    ADOPTED = "adopted", _("adopted")
    DECLINED = "declined", _("declined")


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
