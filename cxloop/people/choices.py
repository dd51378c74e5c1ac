"""Enumerations of people: what pages, the API and other apps may import without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("administrator")
    EXECUTIVE = "executive", _("executive")
    MANAGER = "manager", _("manager")
    EMPLOYEE = "employee", _("employee")
    VIEWER = "viewer", _("viewer")
