"""Enumerations of people: what pages, the API and other apps may import without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("administrator")
    EXECUTIVE = "executive", _("executive")
    MANAGER = "manager", _("manager")
    EMPLOYEE = "employee", _("employee")
    VIEWER = "viewer", _("viewer")


class IdeaStatus(models.TextChoices):
    NEW = "new", _("new")
    REVIEWING = "reviewing", _("under review")
    ACCEPTED = "adopted", _("accepted")
    INITIATIVE = "initiative", _("became an initiative")
    DECLINED = "declined", _("declined")
