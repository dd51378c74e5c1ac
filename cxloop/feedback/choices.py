"""Enumerations of feedback: what pages, the API and other apps may import without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FaceToFaceKind(models.TextChoices):
    INTERVIEW = "interview", _("interview")
    VISIT = "visit", _("client visit")
    DEBRIEF = "debrief", _("project debrief")
    RESEARCH = "research", _("third-party research")
