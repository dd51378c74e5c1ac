"""Reward plans (issue #13): who a plan pays, the basket of metrics it pays on, its periods and
the payouts frozen when a period is approved. The arithmetic is :mod:`cxloop.lib.payouts`; the
figures come from :mod:`cxloop.insights.rewards`; writes go through
:mod:`cxloop.people.reward_services`, which records every change in the audit log.

A locked period never changes: its row and its payouts refuse to be saved or deleted here, below
the services, so that no other path (the admin, a shell) can change what payroll was sent."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cxloop.i18n import english_field, second_language
from cxloop.people.choices import Role
from cxloop.people.reward_choices import Basis, Fallback, MeasuredOn, PeriodState


class LockedPeriodError(ValidationError):
    """A write to a locked reward period or its payouts."""

    def __init__(self):
        super().__init__(_("The period is locked: its payouts were sent to payroll."))


class _LockAware(models.QuerySet):
    """Bulk updates and deletes refuse rows of a locked period as the rows themselves do."""

    locked_lookup = ""

    def _touches_locked(self) -> bool:
        return self.filter(**{self.locked_lookup: PeriodState.LOCKED}).exists()

    def update(self, **kwargs):
        if self._touches_locked():
            raise LockedPeriodError()
        return super().update(**kwargs)

    def delete(self):
        if self._touches_locked():
            raise LockedPeriodError()
        return super().delete()


class PeriodQuerySet(_LockAware):
    locked_lookup = "state"


class PayoutQuerySet(_LockAware):
    locked_lookup = "period__state"


class RewardPlan(models.Model):
    """Who it pays (a role, optionally one job title), on what (its :class:`RewardMetric`
    lines), how (the payout curve, cap, minimum n, fallback, score basis) and when (periods of
    ``period_months`` from ``starts_on``, the first ``pilot_periods`` of them without pay)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    name_en = english_field(_("name in English"))
    role = models.CharField(_("role"), max_length=16, choices=Role)
    title = models.CharField(
        _("job title"),
        max_length=200,
        blank=True,
        help_text=_("Only people with exactly this job title; empty: everyone of the role."),
    )
    threshold_payout = models.PositiveSmallIntegerField(
        _("payout at the threshold, %"),
        default=50,
        help_text=_("A metric at its threshold pays this share of its weight."),
    )
    max_payout = models.PositiveSmallIntegerField(
        _("payout at the maximum, %"),
        default=150,
        help_text=_("A metric at or beyond its maximum pays this share of its weight."),
    )
    cap = models.PositiveSmallIntegerField(
        _("cap on the total, %"),
        null=True,
        blank=True,
        help_text=_("The highest total payout as a share of the target bonus; empty: no cap."),
    )
    min_n = models.PositiveIntegerField(
        _("minimum answers"),
        default=10,
        help_text=_("A survey metric from fewer answers is not used as it is."),
    )
    # An executive answers for the whole firm: their plan pays on the organisation's figures.
    measured_on = models.CharField(
        _("figures of"), max_length=16, choices=MeasuredOn, default=MeasuredOn.PERSON
    )
    fallback = models.CharField(
        _("below the minimum"), max_length=8, choices=Fallback, default=Fallback.TEAM
    )
    basis = models.CharField(_("score used"), max_length=16, choices=Basis, default=Basis.RAW)
    period_months = models.PositiveSmallIntegerField(
        _("period, months"),
        default=3,
        choices=[(1, _("month")), (3, _("quarter")), (6, _("half-year")), (12, _("year"))],
    )
    starts_on = models.DateField(_("starts on"), help_text=_("The first day of the first period."))
    baseline_since = models.DateField(
        _("baseline from"),
        help_text=_("The figures before the plan are compared from this day (a year at least)."),
    )
    pilot_periods = models.PositiveSmallIntegerField(
        _("pilot periods"),
        default=1,
        help_text=_("The first periods are computed and shown but not paid."),
    )
    target_bonus = models.DecimalField(
        _("target bonus per period, RUB"), max_digits=12, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("reward plan")
        verbose_name_plural = _("reward plans")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="reward_plan_role"),
            models.CheckConstraint(
                condition=Q(threshold_payout__lte=100), name="reward_plan_threshold_payout"
            ),
            models.CheckConstraint(condition=Q(max_payout__gte=100), name="reward_plan_max_payout"),
            models.CheckConstraint(
                condition=Q(baseline_since__lt=F("starts_on")), name="reward_plan_baseline_before"
            ),
            models.CheckConstraint(
                condition=Q(fallback__in=Fallback.values), name="reward_plan_fallback"
            ),
            models.CheckConstraint(condition=Q(basis__in=Basis.values), name="reward_plan_basis"),
            models.CheckConstraint(
                condition=Q(measured_on__in=MeasuredOn.values), name="reward_plan_measured_on"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return second_language(self.name, self.name_en)

    def clean(self):
        errors = {}
        if self.threshold_payout is not None and self.threshold_payout > 100:
            errors["threshold_payout"] = _("At most 100%.")
        if self.max_payout is not None and self.max_payout < 100:
            errors["max_payout"] = _("At least 100%.")
        if self.baseline_since and self.starts_on and self.baseline_since >= self.starts_on:
            errors["baseline_since"] = _("The baseline starts before the plan does.")
        if errors:
            raise ValidationError(errors)


class RewardMetric(models.Model):
    """One line of a plan's basket: a metric (a key of
    :data:`cxloop.insights.accountability.METRICS`), its weight and its threshold, target and
    maximum in the metric's unit (for a lower-is-better metric the threshold is the highest)."""

    plan = models.ForeignKey(
        RewardPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="metrics"
    )
    metric = models.CharField(_("metric"), max_length=32)
    weight = models.PositiveSmallIntegerField(_("weight, %"))
    threshold = models.FloatField(_("threshold"))
    target = models.FloatField(_("target"))
    maximum = models.FloatField(_("maximum"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("reward plan metric")
        verbose_name_plural = _("reward plan metrics")
        ordering = ["plan", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "metric"], name="reward_metric_once"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="reward_metric_weight"),
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {self.metric}"


class RewardPeriod(models.Model):
    """A period of a plan: draft (payouts computed live), approved (frozen), locked (sent to
    payroll; never changes again)."""

    plan = models.ForeignKey(
        RewardPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="periods"
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    state = models.CharField(
        _("state"), max_length=10, choices=PeriodState, default=PeriodState.DRAFT
    )
    is_pilot = models.BooleanField(_("pilot, not paid"), default=False)
    approved_by = models.ForeignKey(
        "people.Employee",
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    locked_by = models.ForeignKey(
        "people.Employee",
        verbose_name=_("locked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    locked_at = models.DateTimeField(_("locked"), null=True, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("reward period")
        verbose_name_plural = _("reward periods")
        ordering = ["plan", "-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "starts_on"], name="reward_period_once"),
            models.CheckConstraint(
                condition=Q(starts_on__lte=F("ends_on")), name="reward_period_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(state__in=PeriodState.values), name="reward_period_state"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.starts_on:%Y-%m-%d}–{self.ends_on:%Y-%m-%d}"

    def _stored_locked(self) -> bool:
        return (
            self.pk is not None
            and RewardPeriod.objects.filter(pk=self.pk, state=PeriodState.LOCKED).exists()
        )

    def save(self, *args, **kwargs):
        if self._stored_locked():
            raise LockedPeriodError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_locked():
            raise LockedPeriodError()
        return super().delete(*args, **kwargs)


class RewardPayout(models.Model):
    """A person's payout for a period, frozen when the period was approved: ``share`` of the
    target bonus as computed, ``paid_share`` (0 in a pilot period), the amount and each line of
    the breakdown (:class:`cxloop.lib.payouts.LineResult` as a dict)."""

    period = models.ForeignKey(
        RewardPeriod, verbose_name=_("period"), on_delete=models.CASCADE, related_name="payouts"
    )
    employee = models.ForeignKey(
        "people.Employee",
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="reward_payouts",
    )
    team = models.ForeignKey(
        "people.Team", verbose_name=_("team"), on_delete=models.PROTECT, related_name="+"
    )
    share = models.FloatField(_("share of target bonus"))
    uncapped = models.FloatField(_("before the cap"))
    paid_share = models.FloatField(_("share paid"))
    amount = models.DecimalField(_("amount, RUB"), max_digits=12, decimal_places=2)
    lines = models.JSONField(_("breakdown"), default=list)

    objects = PayoutQuerySet.as_manager()

    class Meta:
        verbose_name = _("reward payout")
        verbose_name_plural = _("reward payouts")
        ordering = ["period", "employee"]
        constraints = [
            models.UniqueConstraint(fields=["period", "employee"], name="reward_payout_once"),
        ]

    def __str__(self) -> str:
        return f"{self.period}: {self.employee_id}"

    def _locked(self) -> bool:
        return RewardPeriod.objects.filter(pk=self.period_id, state=PeriodState.LOCKED).exists()

    def save(self, *args, **kwargs):
        if self._locked():
            raise LockedPeriodError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._locked():
            raise LockedPeriodError()
        return super().delete(*args, **kwargs)
