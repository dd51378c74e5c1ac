"""The improvement cycle's records: initiatives that change touchpoints to answer root causes,
their action items and their immutable history. The measured effect and the roll-back watch
read them; they come with later parts of issue #12 (docs/decisions/014-initiatives.md)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cxloop.history import AppendOnlyEvent, actor_field
from cxloop.i18n import TitledInTwoLanguages
from cxloop.improvements.choices import (
    ACTIVE_STATES,
    EventKind,
    InitiativeState,
    Scope,
    StartedFrom,
    TargetMetric,
)

# Training's records live in a module of their own; importing them here registers them.
from cxloop.improvements.training import Assignment, Course  # noqa: F401


class Initiative(TitledInTwoLanguages, models.Model):
    """A change to one or more touchpoints meant to move a metric from its baseline to a target
    by a date, owned by one person of one team, within a scope (the rest of the customers or
    teams are the comparison group). Its history is :class:`InitiativeEvent`; each state it
    reached keeps its moment and who moved it there."""

    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    touchpoints = models.ManyToManyField(
        "journeys.Touchpoint", verbose_name=_("touchpoints changed"), related_name="initiatives"
    )
    problem = models.TextField(_("problem"))
    hypothesis = models.TextField(_("hypothesis"))
    root_causes = models.ManyToManyField(
        "cases.RootCause",
        verbose_name=_("root causes answered"),
        blank=True,
        related_name="initiatives",
    )
    cases = models.ManyToManyField(
        "cases.Case", verbose_name=_("linked cases"), blank=True, related_name="initiatives"
    )
    metric = models.CharField(_("target metric"), max_length=8, choices=TargetMetric)
    # Measured at creation from the fact store (services.baseline_for): the value, how many
    # answers it rests on and the period it covers; empty where the data had none.
    baseline = models.FloatField(_("baseline"), null=True, blank=True)
    baseline_n = models.PositiveIntegerField(_("answers in the baseline"), null=True, blank=True)
    baseline_since = models.DateField(_("baseline from"), null=True, blank=True)
    baseline_until = models.DateField(_("baseline to"), null=True, blank=True)
    target_value = models.DecimalField(_("target value"), max_digits=6, decimal_places=2)
    target_date = models.DateField(_("target date"))
    owner = models.ForeignKey(
        "people.Employee",
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="initiatives",
    )
    team = models.ForeignKey(
        "people.Team", verbose_name=_("team"), on_delete=models.PROTECT, related_name="initiatives"
    )
    from_idea = models.OneToOneField(
        "people.Idea",
        verbose_name=_("from the idea"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="initiative",
        help_text=_("An employee's idea this initiative carries out."),
    )
    scope = models.CharField(_("scope"), max_length=8, choices=Scope, default=Scope.ALL)
    segment = models.ForeignKey(
        "customers.Segment",
        verbose_name=_("segment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="initiatives",
    )
    scope_teams = models.ManyToManyField(
        "people.Team",
        verbose_name=_("teams in scope"),
        blank=True,
        related_name="scoped_initiatives",
    )
    started_from = models.CharField(
        _("started from"), max_length=16, choices=StartedFrom, default=StartedFrom.MANUAL
    )
    state = models.CharField(
        _("state"), max_length=12, choices=InitiativeState, default=InitiativeState.PROPOSED
    )
    created_at = models.DateTimeField(_("proposed"))
    created_by = actor_field(_("proposed by"))
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = actor_field(_("approved by"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    started_by = actor_field(_("started by"))
    finished_at = models.DateTimeField(_("done"), null=True, blank=True)
    finished_by = actor_field(_("done by"))
    abandoned_at = models.DateTimeField(_("abandoned"), null=True, blank=True)
    abandoned_by = actor_field(_("abandoned by"))
    # Given when it is finished: what changed and from when (the touchpoints' new standard),
    # and the training people at those touchpoints must take (a code or a name until the
    # training records exist: decision 014).
    change_ru = models.TextField(_("what changed (Russian)"), blank=True)
    change_en = models.TextField(_("what changed (English)"), blank=True)
    effective_from = models.DateField(_("in force from"), null=True, blank=True)
    training = models.CharField(_("training required"), max_length=200, blank=True)
    standards = models.ManyToManyField(
        "journeys.Standard",
        verbose_name=_("standard versions written"),
        blank=True,
        related_name="initiatives",
    )
    updated_at = models.DateTimeField(_("changed"))

    class Meta:
        verbose_name = _("initiative")
        verbose_name_plural = _("initiatives")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "target_date"], name="initiative_state_target"),
            models.Index(fields=["team", "state"], name="initiative_team_state"),
            models.Index(fields=["owner", "state"], name="initiative_owner_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=InitiativeState.values), name="initiative_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(metric__in=TargetMetric.values), name="initiative_metric_valid"
            ),
            models.CheckConstraint(
                condition=Q(scope__in=Scope.values), name="initiative_scope_valid"
            ),
            models.CheckConstraint(
                condition=Q(started_from__in=StartedFrom.values),
                name="initiative_started_from_valid",
            ),
            models.CheckConstraint(
                condition=~Q(scope=Scope.SEGMENT) | Q(segment__isnull=False),
                name="initiative_segment_scope_has_segment",
            ),
            models.CheckConstraint(
                condition=~Q(state=InitiativeState.DONE)
                | Q(finished_at__isnull=False, effective_from__isnull=False),
                name="initiative_done_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(state=InitiativeState.ABANDONED) | Q(abandoned_at__isnull=False),
                name="initiative_abandoned_has_date",
            ),
        ]

    @property
    def reference(self) -> str:
        return f"I-{self.pk:04d}" if self.pk else "I-?"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


class ActionItem(models.Model):
    """One step of an initiative: what, who, by when, and when it was done and by whom."""

    initiative = models.ForeignKey(
        Initiative,
        verbose_name=_("initiative"),
        on_delete=models.CASCADE,
        related_name="action_items",
    )
    text = models.TextField(_("what to do"))
    owner = models.ForeignKey(
        "people.Employee",
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="action_items",
    )
    due_on = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = actor_field(_("done by"))
    created_at = models.DateTimeField(_("added"))
    created_by = actor_field(_("added by"))
    # Set when its owner was told it is overdue (once per item: the claim is a conditional
    # UPDATE, so two workers send one e-mail).
    overdue_told_at = models.DateTimeField(_("owner told it is overdue"), null=True, blank=True)

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["initiative_id", "due_on", "pk"]
        indexes = [
            models.Index(
                fields=["due_on"],
                condition=Q(done_at__isnull=True),
                name="action_item_open_due",
            ),
            models.Index(fields=["owner", "done_at"], name="action_item_owner"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_at__isnull=False) | Q(done_by__isnull=True),
                name="action_item_done_by_only_when_done",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class InitiativeEvent(AppendOnlyEvent):
    """One change of an initiative: who, when, what. Never changed or deleted (``save``
    refuses an update); the initiative page's history reads them."""

    history_name = "an initiative's history"

    initiative = models.ForeignKey(
        Initiative, verbose_name=_("initiative"), on_delete=models.CASCADE, related_name="events"
    )
    by = actor_field(_("by"), help_text=_("Empty: the system."))
    kind = models.CharField(_("what"), max_length=16, choices=EventKind)
    text = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("initiative event")
        verbose_name_plural = _("initiative events")
        ordering = ["initiative_id", "at", "id"]
        indexes = [models.Index(fields=["initiative", "at"], name="initiative_event_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values), name="initiative_event_kind"
            ),
        ]


class RollbackAlert(models.Model):
    """A real drop of a touchpoint's mean rating below the level it held: the first period in
    which the roll-back watch (a lower CUSUM, :func:`cxloop.analytics.control.rollback_watch`,
    run by :mod:`cxloop.insights.rollback` after each refresh of the fact store) alarmed.

    ``initiative`` is the done initiative whose post-change level was held (in its scope);
    empty for a touchpoint without one, watched against its whole history. One alert per
    touchpoint, initiative (or none) and first alarm period, so that a rerun after every
    refresh records it once; ``case`` is the closed-loop case opened for it."""

    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        verbose_name=_("touchpoint"),
        on_delete=models.CASCADE,
        related_name="rollback_alerts",
    )
    initiative = models.ForeignKey(
        Initiative,
        verbose_name=_("initiative"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rollback_alerts",
    )
    grain = models.CharField(_("period"), max_length=8)  # "month" or "quarter"
    period_start = models.DateField(_("first period of the drop"))
    period_end = models.DateField(_("end of that period"))
    baseline_since = models.DateField(_("level held from"))
    baseline_until = models.DateField(_("level held to"))
    center = models.FloatField(_("level held"))
    level = models.FloatField(_("level in the period of the drop"))
    answers = models.PositiveIntegerField(_("answers in that period"))
    statistic = models.FloatField(_("CUSUM statistic"))
    limit = models.FloatField(_("decision interval"))
    detected_at = models.DateTimeField(_("detected"))
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("roll-back alert")
        verbose_name_plural = _("roll-back alerts")
        ordering = ["-period_start", "-pk"]
        indexes = [models.Index(fields=["detected_at"], name="rollback_alert_detected")]
        constraints = [
            models.UniqueConstraint(
                fields=["touchpoint", "initiative", "period_start"],
                condition=Q(initiative__isnull=False),
                name="rollback_alert_once_per_initiative",
            ),
            models.UniqueConstraint(
                fields=["touchpoint", "period_start"],
                condition=Q(initiative__isnull=True),
                name="rollback_alert_once_per_touchpoint",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.touchpoint_id} {self.period_start}: {self.center:.2f} → {self.level:.2f}"


# --- the decision log (issue #12, point 6; docs/decisions/014-initiatives.md) ------------------


class DecisionKind(models.TextChoices):
    PRICE = "price", _("price change")
    SYSTEM = "system", _("new system")
    REORGANISATION = "reorg", _("reorganisation")
    POLICY = "policy", _("policy")
    OTHER = "other", _("other")


class Direction(models.TextChoices):
    """Which way a decision is expected to move its metric."""

    UP = "up", _("up")
    DOWN = "down", _("down")
    NONE = "none", _("no change")


class Decision(TitledInTwoLanguages, models.Model):
    """A business decision that may affect customers: when it was taken and from when it is in
    force, the touchpoints it may affect and the change of a metric expected there (direction
    and size, in the metric's points). The measured effect is computed on the page
    (:mod:`cxloop.insights.decisions`) with the initiatives' impact analytics. Its history is
    :class:`DecisionEvent`."""

    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind of decision"), max_length=8, choices=DecisionKind)
    decided_on = models.DateField(_("decided on"))
    in_force_from = models.DateField(_("in force from"))
    touchpoints = models.ManyToManyField(
        "journeys.Touchpoint", verbose_name=_("touchpoints it may affect"), related_name="decisions"
    )
    metric = models.CharField(_("metric"), max_length=8, choices=TargetMetric)
    expected_direction = models.CharField(_("expected direction"), max_length=4, choices=Direction)
    expected_size = models.DecimalField(
        _("expected size (points)"), max_digits=6, decimal_places=2, default=0
    )
    initiative = models.ForeignKey(
        Initiative,
        verbose_name=_("initiative"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
    )
    team = models.ForeignKey(
        "people.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
        help_text=_("Empty: the whole organisation."),
    )
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = actor_field(_("recorded by"))
    updated_at = models.DateTimeField(_("changed"))

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-in_force_from", "-pk"]
        indexes = [models.Index(fields=["in_force_from"], name="decision_in_force")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DecisionKind.values), name="decision_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(metric__in=TargetMetric.values), name="decision_metric_valid"
            ),
            models.CheckConstraint(
                condition=Q(expected_direction__in=Direction.values),
                name="decision_direction_valid",
            ),
            models.CheckConstraint(
                condition=Q(expected_size__gte=0), name="decision_size_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(in_force_from__gte=models.F("decided_on")),
                name="decision_in_force_after_decided",
            ),
        ]

    @property
    def reference(self) -> str:
        return f"D-{self.pk:04d}" if self.pk else "D-?"

    @property
    def expected_change(self) -> float:
        """The expected change with its sign (0 for "no change")."""
        size = float(self.expected_size)
        return {Direction.UP: size, Direction.DOWN: -size}.get(self.expected_direction, 0.0)


class DecisionEvent(AppendOnlyEvent):
    """One change of a decision's record: who, when, and the values it had after (``kind`` is
    "created" or "edited"). Never changed or deleted."""

    history_name = "a decision's history"

    decision = models.ForeignKey(
        Decision, verbose_name=_("decision"), on_delete=models.CASCADE, related_name="events"
    )

    class Meta:
        verbose_name = _("decision event")
        verbose_name_plural = _("decision events")
        ordering = ["decision_id", "at", "id"]
