"""Enumerations of customers: what pages, the API and other apps may import without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Tier(models.TextChoices):
    STRATEGIC = "strategic", _("strategic")
    KEY = "key", _("key")
    STANDARD = "standard", pgettext_lazy("customer tier", "standard")
    SMALL = "small", _("small")
