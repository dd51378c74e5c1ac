"""Enumerations of surveys: what pages, the API and other apps may import without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SurveyKind(models.TextChoices):
    RELATIONSHIP = "relationship", _("relationship (periodic)")
    TRANSACTIONAL = "transactional", _("transactional (after an event)")
    PULSE = "pulse", _("employee pulse")
    INTERVIEW = "interview", _("interview guide (face to face)")


class QuestionKind(models.TextChoices):
    NPS = "nps", _("NPS (0–10)")
    CSAT = "csat", _("CSAT (1–5)")
    CES = "ces", _("CES (1–7)")
    RATING = "rating", _("rating (1–5)")
    SINGLE = "single", _("single choice")
    MULTIPLE = "multiple", _("multiple choice")
    TEXT = "text", _("free text")


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    WEB = "web", _("open web link")
    QR = "qr", _("QR code")
    INTERVIEW = "interview", _("interview")
    VISIT = "visit", _("client visit")
    DEBRIEF = "debrief", _("project debrief")
    RESEARCH = "research", _("third-party research")
    IMPORT = "import", _("import")
    API = "api", _("API")


class ResponseState(models.TextChoices):
    STARTED = "started", _("started")
    PARTIAL = "partial", _("partial")
    COMPLETED = "completed", _("completed")
