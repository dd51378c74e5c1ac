"""Read side of reward plans: the plans, their periods and frozen payouts, who a plan pays, and
whose payout a user may see (their own; a manager their teams' people; administrators and
executives everyone; a viewer nobody's)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from cxloop.people.choices import Role
from cxloop.people.models import Employee, Team
from cxloop.people.queries import employee_of, role_of, subtree_ids
from cxloop.people.rewards import RewardPayout, RewardPeriod, RewardPlan

SEES_EVERY_PAYOUT = frozenset({Role.ADMIN, Role.EXECUTIVE})


def reward_plans() -> QuerySet[RewardPlan]:
    return RewardPlan.objects.annotate(
        period_count=Count("periods", distinct=True), metric_count=Count("metrics", distinct=True)
    )


def reward_plan(pk: int) -> RewardPlan | None:
    return RewardPlan.objects.prefetch_related("metrics").filter(pk=pk).first()


def reward_period(pk: int) -> RewardPeriod | None:
    return (
        RewardPeriod.objects.select_related("plan", "approved_by__user", "locked_by__user")
        .filter(pk=pk)
        .first()
    )


def plan_periods(plan: RewardPlan) -> QuerySet[RewardPeriod]:
    return plan.periods.select_related("approved_by__user", "locked_by__user").order_by(
        "-starts_on"
    )


def periods_starting(starts_on) -> QuerySet[RewardPeriod]:
    """Every plan's period that starts on ``starts_on``, with its plan."""
    return RewardPeriod.objects.filter(starts_on=starts_on).select_related("plan")


def plan_members(plan: RewardPlan) -> QuerySet[Employee]:
    """The people the plan pays: active logins of its role (and job title, where it names
    one)."""
    people = Employee.objects.filter(role=plan.role, user__is_active=True)
    if plan.title:
        people = people.filter(title=plan.title)
    return people.select_related("user", "team")


def frozen_payouts(period: RewardPeriod) -> QuerySet[RewardPayout]:
    return period.payouts.select_related("employee__user", "team")


def visible_payees(user) -> frozenset[int] | None:
    """The ids of the employees whose payouts ``user`` may see; None: everyone's."""
    role, me = role_of(user), employee_of(user)
    if role in SEES_EVERY_PAYOUT:
        return None
    if me is None or role == Role.VIEWER:
        return frozenset()
    if role == Role.MANAGER:
        teams = subtree_ids(me.team_id)
        return frozenset(Employee.objects.filter(team_id__in=teams).values_list("pk", flat=True))
    return frozenset({me.pk})


def opened_starts(plan: RewardPlan) -> set:
    """The first days of the plan's periods opened so far."""
    return set(plan.periods.values_list("starts_on", flat=True))


def plan_field_labels() -> dict[str, str]:
    """Each field of a reward plan by its name, named as the page's language says it."""
    return {
        field.name: str(field.verbose_name)
        for field in RewardPlan._meta.get_fields()
        if hasattr(field, "verbose_name")
    }


def all_team_ids() -> list[int]:
    return list(Team.objects.order_by("pk").values_list("pk", flat=True))
