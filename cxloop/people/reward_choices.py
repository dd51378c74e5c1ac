"""Enumerations of reward plans: what pages and other apps may import without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Fallback(models.TextChoices):
    TEAM = "team", _("use the team's figure")
    DROP = "drop", _("drop the metric and rescale the weights")


class Basis(models.TextChoices):
    RAW = "raw", _("raw score")
    SHRUNK = "shrunk", _("shrunk score (empirical Bayes)")
    # xgettext:no-python-format
    LOWER_BOUND = "lower_bound", _("lower bound of the 95% interval")


class PeriodState(models.TextChoices):
    DRAFT = "draft", _("draft")
    APPROVED = "approved", _("approved")
    LOCKED = "locked", _("locked")


class MeasuredOn(models.TextChoices):
    PERSON = "person", _("each person's own figures")
    ORGANISATION = "organisation", _("the whole organisation's figures")
