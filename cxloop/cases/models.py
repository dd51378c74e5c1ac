"""The closed loop's records: alert rules (versioned), cases with their triggers and immutable
history, SLA policies, root causes, the inquiry form's topics and inquiries, and each person's
choice of how to be notified. Business calendars belong to people (a team works to one)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cxloop.cases.choices import (
    OPEN_STATES,
    CaseState,
    Delivery,
    EventKind,
    LoopChannel,
    NotificationKind,
    Origin,
    OwnerKind,
    Priority,
    Reaction,
)
from cxloop.history import AppendOnlyEvent, actor_field
from cxloop.i18n import NamedInTwoLanguages, TitledInTwoLanguages


class SlaPolicy(NamedInTwoLanguages, models.Model):
    """How soon a case must be answered: first contact and resolution, in working hours of the
    owner's business calendar."""

    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    first_contact_hours = models.DecimalField(
        _("first contact within, working hours"), max_digits=6, decimal_places=2
    )
    resolution_hours = models.DecimalField(
        _("resolution within, working hours"), max_digits=6, decimal_places=2
    )
    warn_before_hours = models.DecimalField(
        _("warn this many working hours before a deadline"),
        max_digits=6,
        decimal_places=2,
        default=2,
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["first_contact_hours", "name_ru"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_contact_hours__gt=0)
                & Q(resolution_hours__gte=models.F("first_contact_hours"))
                & Q(warn_before_hours__gte=0),
                name="sla_policy_hours_sane",
            ),
        ]


class RootCause(NamedInTwoLanguages, models.Model):
    """One entry of the editable taxonomy of why customers were unhappy, per touchpoint (none:
    a cause that can sit under any touchpoint)."""

    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        verbose_name=_("touchpoint"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="root_causes",
    )
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("root cause")
        verbose_name_plural = _("root causes")
        ordering = ["touchpoint_id", "name_ru"]
        constraints = [
            models.UniqueConstraint(
                fields=["touchpoint", "name_ru"], name="root_cause_unique_per_touchpoint"
            ),
        ]


class AlertRule(NamedInTwoLanguages, models.Model):
    """A standing rule that opens cases; what it checks and whom it gives them to live in its
    versions, so that a case keeps the version that opened it."""

    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        "people.Employee",
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["name_ru"]


class AlertRuleVersion(models.Model):
    """One saved state of a rule: its condition (see :mod:`cxloop.cases.conditions`), owner,
    priority and SLA policy. Never changed once saved: an edit saves the next version."""

    rule = models.ForeignKey(
        AlertRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField(_("version"))
    condition = models.JSONField(_("condition"))
    owner_kind = models.CharField(_("owner"), max_length=20, choices=OwnerKind)
    team = models.ForeignKey(
        "people.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The team whose members take the cases in turn (for a named team)."),
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority, default=Priority.NORMAL
    )
    sla_policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("SLA policy"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("saved"))
    created_by = models.ForeignKey(
        "people.Employee",
        verbose_name=_("saved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("alert rule version")
        verbose_name_plural = _("alert rule versions")
        ordering = ["rule_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "version"], name="rule_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="rule_version_positive"),
            models.CheckConstraint(
                condition=Q(owner_kind__in=OwnerKind.values), name="rule_owner_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(owner_kind=OwnerKind.TEAM) | Q(team__isnull=False),
                name="rule_named_team_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} v{self.version}"


class Case(TitledInTwoLanguages, models.Model):
    """Someone's job to put one customer's experience right, with deadlines on the owner's
    business calendar. Its history is :class:`CaseEvent`; the responses that raised it are its
    :class:`CaseTrigger` rows."""

    origin = models.CharField(_("opened by"), max_length=10, choices=Origin)
    state = models.CharField(_("state"), max_length=12, choices=CaseState, default=CaseState.NEW)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority, default=Priority.NORMAL
    )
    title = models.CharField(_("summary"), max_length=300)
    # A summary cxloop writes itself (a rule's, the inquiry form's) also has an English one,
    # from the English names of the touchpoint or topic; a person's stays in their words.
    title_en = models.CharField(_("summary (English)"), max_length=300, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    owner = models.ForeignKey(
        "people.Employee",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    team = models.ForeignKey(
        "people.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    rule_version = models.ForeignKey(
        AlertRuleVersion,
        verbose_name=_("rule version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    sla_policy = models.ForeignKey(
        SlaPolicy,
        verbose_name=_("SLA policy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    touchpoints = models.ManyToManyField(
        "journeys.Touchpoint", verbose_name=_("touchpoints"), blank=True, related_name="cases"
    )
    root_causes = models.ManyToManyField(
        RootCause, verbose_name=_("root causes"), blank=True, related_name="cases"
    )
    opened_at = models.DateTimeField(_("opened"))
    first_contact_due = models.DateTimeField(_("first contact due"), null=True, blank=True)
    first_contacted_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The clocks stop while the case waits on the customer; the deadlines move on by the
    # working time that passed when the customer replies.
    paused_at = models.DateTimeField(_("waiting since"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    breached_at = models.DateTimeField(_("deadline missed"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    loop_channel = models.CharField(
        _("loop closed by"), max_length=8, choices=LoopChannel, blank=True
    )
    customer_reaction = models.CharField(
        _("customer's reaction"), max_length=12, choices=Reaction, blank=True
    )
    updated_at = models.DateTimeField(_("changed"))

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["state", "resolution_due"], name="case_state_due"),
            models.Index(fields=["owner", "state"], name="case_owner_state"),
            models.Index(fields=["team", "state"], name="case_team_state"),
            models.Index(fields=["customer", "state"], name="case_customer_state"),
            models.Index(fields=["opened_at"], name="case_opened"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=CaseState.values), name="case_state_valid"
            ),
            models.CheckConstraint(condition=Q(origin__in=Origin.values), name="case_origin_valid"),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values), name="case_priority_valid"
            ),
            models.CheckConstraint(
                condition=Q(escalation_level__lte=2), name="case_escalation_level_sane"
            ),
            # Fewer, better cases: while a customer has an open case raised by a rule, a second
            # trigger attaches to it; the database decides between two workers at once.
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(origin=Origin.RULE, state__in=OPEN_STATES, customer__isnull=False),
                name="case_one_open_rule_case_per_customer",
            ),
        ]

    @property
    def reference(self) -> str:
        """The number a customer and a colleague quote."""
        return f"C-{self.pk:06d}" if self.pk else "C-?"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class CaseTrigger(models.Model):
    """A response that raised or joined a case, and the rule (version) that matched it; none for
    a case opened by hand from a response. One per rule × response, whoever evaluates it."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="triggers"
    )
    response = models.ForeignKey(
        "surveys.Response",
        verbose_name=_("response"),
        on_delete=models.CASCADE,
        related_name="case_triggers",
    )
    rule = models.ForeignKey(
        AlertRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="triggers",
    )
    rule_version = models.ForeignKey(
        AlertRuleVersion,
        verbose_name=_("rule version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="triggers",
    )
    created_at = models.DateTimeField(_("matched"))

    class Meta:
        verbose_name = _("case trigger")
        verbose_name_plural = _("case triggers")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "response"],
                condition=Q(rule__isnull=False),
                name="case_trigger_once_per_rule_and_response",
            ),
            models.UniqueConstraint(
                fields=["case", "response"], name="case_trigger_once_per_case_and_response"
            ),
        ]


class CaseEvent(AppendOnlyEvent):
    """One change of a case: who, when, what. Never changed or deleted (``save`` refuses an
    update); the case page's timeline and the loop's figures read them."""

    history_name = "a case's history"

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="events"
    )
    by = actor_field(_("by"), help_text=_("Empty: the system (a rule, a clock) or the customer."))
    kind = models.CharField(_("what"), max_length=12, choices=EventKind)
    text = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["case_id", "at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_at")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="case_event_kind"),
        ]


class InquiryTopic(NamedInTwoLanguages, models.Model):
    """What a customer may ask about on the inquiry form, and who answers how soon."""

    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    team = models.ForeignKey(
        "people.Team", verbose_name=_("specialist team"), on_delete=models.PROTECT, related_name="+"
    )
    sla_policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("response time"), on_delete=models.PROTECT, related_name="+"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    is_active = models.BooleanField(_("shown on the form"), default=True)

    class Meta:
        verbose_name = _("inquiry topic")
        verbose_name_plural = _("inquiry topics")
        ordering = ["order", "name_ru"]


class Inquiry(models.Model):
    """A question asked through the public form; it is answered through its case. The private
    link's token is kept only as its hash."""

    case = models.OneToOneField(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="inquiry"
    )
    topic = models.ForeignKey(
        InquiryTopic, verbose_name=_("topic"), on_delete=models.PROTECT, related_name="inquiries"
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    company = models.CharField(_("company"), max_length=300, blank=True)
    language = models.CharField(_("language"), max_length=2, default="ru")
    text = models.TextField(_("question"))
    token_hash = models.CharField(max_length=64, unique=True)
    # sha256 of the address, topic and normalised text: the same question sent twice is one case.
    fingerprint = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("asked"))

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["email", "created_at"], name="inquiry_email_created")]


class NotificationPreference(models.Model):
    """How one person wants to hear of one kind of news: at once, or in the daily summary. No
    row: at once."""

    employee = models.ForeignKey(
        "people.Employee",
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(_("news"), max_length=20, choices=NotificationKind)
    delivery = models.CharField(_("delivery"), max_length=8, choices=Delivery)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["employee", "kind"], name="notification_pref_unique"),
        ]


class Notification(models.Model):
    """News for one person about a case, kept until it may go out: at once when its time has
    come (``deliver_after``: the recipient's next working moment, unless the case is urgent) or
    in their next daily summary. ``key`` makes it once-only (say ``breached:42:1``)."""

    recipient = models.ForeignKey(
        "people.Employee",
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("news"), max_length=20, choices=NotificationKind)
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="notifications"
    )
    delivery = models.CharField(_("delivery"), max_length=8, choices=Delivery)
    key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(_("created"))
    deliver_after = models.DateTimeField(_("not before"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["deliver_after"],
                condition=Q(sent_at__isnull=True),
                name="notification_unsent_due",
            ),
        ]
