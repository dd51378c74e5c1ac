from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cxloop.i18n import localized


class Journey(models.Model):
    """The customer's path through the organisation, as a sequence of stages."""

    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("journey")
        verbose_name_plural = _("journeys")
        ordering = ["name_en"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name")


class Stage(models.Model):
    journey = models.ForeignKey(
        Journey, verbose_name=_("journey"), on_delete=models.CASCADE, related_name="stages"
    )
    order = models.PositiveSmallIntegerField(_("order"))
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["journey", "order"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "order"], name="stage_order_unique"),
            models.CheckConstraint(condition=Q(order__gte=1), name="stage_order_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name")


class Channel(models.TextChoices):
    IN_PERSON = "in_person", _("in person")
    MEETING = "meeting", _("meeting")
    PHONE = "phone", _("phone")
    EMAIL = "email", _("e-mail")
    WEB = "web", _("website")
    PORTAL = "portal", _("client portal")
    DOCUMENT = "document", _("document")
    INVOICE = "invoice", _("invoice")


class Touchpoint(models.Model):
    """An event of the journey where the customer meets the organisation."""

    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="touchpoints"
    )
    order = models.PositiveSmallIntegerField(_("order"))
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    team = models.ForeignKey(
        "people.Team",
        verbose_name=_("owning team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="touchpoints",
    )
    expectation_ru = models.TextField(_("customer expectation (Russian)"), blank=True)
    expectation_en = models.TextField(_("customer expectation (English)"), blank=True)
    is_moment_of_truth = models.BooleanField(_("moment of truth"), default=False)

    class Meta:
        verbose_name = _("touchpoint")
        verbose_name_plural = _("touchpoints")
        ordering = ["stage__journey", "stage__order", "order"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "order"], name="touchpoint_order_unique"),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="touchpoint_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def expectation(self) -> str:
        return localized(self, "expectation")


class Standard(models.Model):
    """The agreed way a touchpoint is done; a new version replaces the old one from a date."""

    touchpoint = models.ForeignKey(
        Touchpoint, verbose_name=_("touchpoint"), on_delete=models.CASCADE, related_name="standards"
    )
    version = models.PositiveIntegerField(_("version"))
    text_ru = models.TextField(_("standard (Russian)"))
    text_en = models.TextField(_("standard (English)"))
    effective_from = models.DateField(_("effective from"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("standard")
        verbose_name_plural = _("standards")
        ordering = ["touchpoint", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["touchpoint", "version"], name="standard_version_unique"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="standard_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.touchpoint} v{self.version}"

    @property
    def text(self) -> str:
        return localized(self, "text")
