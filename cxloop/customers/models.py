from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from cxloop.customers.choices import Tier
from cxloop.customers.rules import RuleError, parse_rule
from cxloop.i18n import english_field, second_language


class Lifecycle(models.TextChoices):
    PROSPECT = "prospect", _("prospect")
    ONBOARDING = "onboarding", _("onboarding")
    ACTIVE = "active", _("active")
    RENEWAL = "renewal", _("up for renewal")
    CHURNED = "churned", _("churned")


class Language(models.TextChoices):
    RU = "ru", _("Russian")
    EN = "en", _("English")


class Customer(models.Model):
    """A client organisation."""

    external_id = models.CharField(
        _("external id"), max_length=100, unique=True, help_text=_("The id in the CRM or ERP.")
    )
    name = models.CharField(_("name"), max_length=300)
    owner = models.ForeignKey(
        "people.Employee",
        verbose_name=_("relationship owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    annual_value = models.DecimalField(
        _("annual value"), max_digits=14, decimal_places=2, default=0
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="RUB",
        validators=[RegexValidator(r"^[A-Z]{3}$", _("An ISO 4217 code such as RUB or EUR."))],
    )
    tier = models.CharField(_("tier"), max_length=16, choices=Tier, default=Tier.STANDARD)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=16, choices=Lifecycle, default=Lifecycle.ACTIVE
    )
    attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(annual_value__gte=0), name="customer_annual_value_not_negative"
            ),
            models.CheckConstraint(condition=Q(tier__in=Tier.values), name="customer_tier_valid"),
            models.CheckConstraint(
                condition=Q(lifecycle_stage__in=Lifecycle.values),
                name="customer_lifecycle_stage_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person at a client organisation whom cxloop may ask for feedback."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("full name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language, default=Language.RU)
    consent = models.BooleanField(
        _("consent to surveys"), default=False, help_text=_("The contact agreed to be asked.")
    )
    opted_out_at = models.DateTimeField(_("opted out"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name"]
        # Submissions name their contact by e-mail in any letter case: found through this
        # index instead of a read of every contact (cxloop.customers.queries).
        indexes = [models.Index(Lower("email"), name="contact_email_lower")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "email"],
                condition=~Q(email=""),
                name="contact_email_unique_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(language__in=Language.values), name="contact_language_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def may_be_asked(self) -> bool:
        return self.consent and self.opted_out_at is None and bool(self.email)


class SegmentKind(models.TextChoices):
    RULE = "rule", _("by rule")
    MANUAL = "manual", _("picked by hand")


class Segment(models.Model):
    """A group of customers, by a rule over their attributes or picked by hand."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    name_en = english_field(_("name in English"))
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=SegmentKind, default=SegmentKind.RULE)
    rule = models.JSONField(
        _("rule"),
        default=list,
        blank=True,
        help_text=_(
            'Conditions that must all hold, e.g. [{"field": "tier", "op": "in", '
            '"value": ["strategic", "key"]}].'
        ),
    )
    members = models.ManyToManyField(
        Customer, verbose_name=_("members"), blank=True, related_name="manual_segments"
    )
    is_target = models.BooleanField(
        _("target segment"),
        default=False,
        help_text=_("Customers the organisation most wants to attract and keep."),
    )

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["-is_target", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SegmentKind.values), name="segment_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the page's language."""
        return second_language(self.name, self.name_en)

    def clean(self) -> None:
        if self.kind == SegmentKind.RULE:
            try:
                parse_rule(self.rule)
            except RuleError as error:
                raise ValidationError({"rule": str(error)}) from error
