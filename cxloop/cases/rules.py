"""Alert rules for people: saving a rule (every save a new version), switching it on and off,
previewing what a condition would have done, and running a rule over past days.

A preview and a run walk the same path (:mod:`cxloop.cases.evaluate`): load, evaluate, plan
which matches open a case and which attach to a customer's open one. The preview stops before
writing, so its count is what the run then opens."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils.translation import gettext as _

from cxloop.cases.conditions import Node, describe, leaves, parse_condition
from cxloop.cases.evaluate import (
    RUN_DAYS_MAX,
    Context,
    Outcome,
    chunks,
    evaluate,
    load_batch,
    matches_of,
    open_rule_cases_of,
    plan,
    recent_response_ids,
    triggered_pairs,
)
from cxloop.cases.models import AlertRule, AlertRuleVersion, SlaPolicy
from cxloop.comments.queries import themes
from cxloop.customers.models import Segment
from cxloop.journeys.models import Touchpoint

PREVIEW_DAYS = 90
EXAMPLES = 10


class RuleError(ValueError):
    """A rule that cannot be saved or run; the message (translated) names the field."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def save_rule(
    rule: AlertRule | None,
    *,
    name_ru: str,
    name_en: str = "",
    condition: object,
    owner_kind: str,
    team=None,
    priority: str,
    sla_policy: SlaPolicy,
    by=None,
    now: dt.datetime,
) -> AlertRuleVersion:
    """Save ``condition`` and the routing as the next version of ``rule`` (None: a new rule).
    A saved version is never changed; raises ConditionError for a bad condition."""
    parse_condition(condition)
    if owner_kind == "team" and team is None:
        raise RuleError(_("Choose the team whose members take the cases in turn."), "team")
    with transaction.atomic():
        if rule is None:
            rule = AlertRule.objects.create(
                name_ru=name_ru, name_en=name_en, created_at=now, created_by=by
            )
        else:
            rule = AlertRule.objects.select_for_update().get(pk=rule.pk)
            if (rule.name_ru, rule.name_en) != (name_ru, name_en):
                rule.name_ru, rule.name_en = name_ru, name_en
                rule.save(update_fields=["name_ru", "name_en"])
        latest = rule.versions.aggregate(top=Max("version"))["top"] or 0
        return AlertRuleVersion.objects.create(
            rule=rule,
            version=latest + 1,
            condition=condition,
            owner_kind=owner_kind,
            team=team,
            priority=priority,
            sla_policy=sla_policy,
            created_at=now,
            created_by=by,
        )


def in_words(node: Node) -> str:
    """The condition in words in the active language, touchpoints, segments and themes by their
    names (not their codes and ids)."""
    codes = {leaf.touchpoint_code for leaf in leaves(node) if leaf.touchpoint_code}
    segments = {s for leaf in leaves(node) if leaf.field == "segment" for s in leaf.value}
    names: dict = {
        ("touchpoint", tp.code): tp.name for tp in Touchpoint.objects.filter(code__in=codes)
    }
    names |= {("segment", seg.pk): seg.label for seg in Segment.objects.filter(pk__in=segments)}
    codes = {code for leaf in leaves(node) if leaf.field == "theme" for code in leaf.value}
    names |= {("theme", theme.code): theme.name for theme in themes().filter(code__in=codes)}
    return describe(node, names)


def set_active(rule: AlertRule, active: bool) -> None:
    AlertRule.objects.filter(pk=rule.pk).update(is_active=active)


def current_version(rule: AlertRule) -> AlertRuleVersion | None:
    return rule.versions.order_by("-version").select_related("sla_policy", "team").first()


@dataclass(frozen=True)
class Preview:
    """What a condition would have done over ``days``: cases opened, triggers attached to a
    customer's open case instead, and up to :data:`EXAMPLES` responses that matched."""

    days: int
    cases: int
    attached: int
    examples: tuple[int, ...]  # response ids


def preview(
    condition: object, *, now: dt.datetime, days: int = PREVIEW_DAYS, rule: AlertRule | None = None
) -> Preview:
    """Run ``condition`` over the responses of the last ``days`` without writing anything
    (``rule``: the rule it will belong to, whose earlier triggers are not counted again)."""
    node: Node = parse_condition(condition)
    rule_id = rule.pk if rule is not None else 0
    nodes = {(rule_id, None): node}
    context = Context.for_nodes([node])
    since = now - dt.timedelta(days=days)
    open_keys: set[int] = set()
    cases = attached = 0
    examples: list[int] = []
    for chunk in chunks(recent_response_ids(since, now)):
        batch = load_batch(chunk, context, since=since)
        matches = matches_of(batch, nodes)
        if not matches:
            continue
        open_keys |= set(open_rule_cases_of(batch))
        decided = plan(matches, open_keys=open_keys, triggered=triggered_pairs(batch, [rule_id]))
        cases += len(decided.open)
        attached += len(decided.attach)
        examples.extend(m.response_id for m in decided.open[: EXAMPLES - len(examples)])
    return Preview(days=days, cases=cases, attached=attached, examples=tuple(examples))


def check_days(days: object) -> int:
    try:
        value = int(str(days).strip())
    except ValueError:
        value = 0
    if not 1 <= value <= RUN_DAYS_MAX:
        raise RuleError(
            _("Days: expected a whole number from 1 to %(max)s, got %(value)s")
            % {"max": RUN_DAYS_MAX, "value": days},
            "days",
        )
    return value


def run_rule(version: AlertRuleVersion, days: int, *, now: dt.datetime) -> Outcome:
    """Run one rule version over the responses of the last ``days`` (at most a year): how a
    new rule catches up on what it would have caught."""
    days = check_days(days)
    since = now - dt.timedelta(days=days)
    return evaluate(recent_response_ids(since, now), [version], now=now, since=since)


def rules_overview(now: dt.datetime) -> list[tuple[AlertRule, AlertRuleVersion | None, int]]:
    """Every rule with its current version and the cases it opened in the last 30 days."""
    since = now - dt.timedelta(days=30)
    rules = AlertRule.objects.annotate(
        recent_cases=Count(
            "versions__cases", filter=Q(versions__cases__opened_at__gte=since), distinct=True
        )
    ).order_by("name_ru")
    versions = {
        version.rule_id: version
        for version in AlertRuleVersion.objects.select_related("sla_policy", "team").order_by(
            "rule_id", "version"
        )
    }
    return [(rule, versions.get(rule.pk), rule.recent_cases) for rule in rules]


def rule_by_id(pk: int) -> AlertRule | None:
    return AlertRule.objects.filter(pk=pk).first()


def sla_policies():
    return SlaPolicy.objects.all()


def sla_policy_by_id(pk: int) -> SlaPolicy | None:
    return SlaPolicy.objects.filter(pk=pk).first()


def save_sla_policy(policy: SlaPolicy | None, **fields) -> SlaPolicy:
    """A new SLA policy (``policy`` None) or a change to one; its cases keep their deadlines
    until their clocks next move."""
    policy = policy or SlaPolicy()
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.save()
    return policy


def example_rows(response_ids) -> list[dict]:
    """What a preview's examples show: when, which customer, by which channel."""
    from cxloop.surveys.models import Response

    order = {pk: position for position, pk in enumerate(response_ids)}
    rows = Response.objects.filter(pk__in=list(order)).values(
        "pk", "submitted_at", "customer__name", "channel"
    )
    return sorted(rows, key=lambda row: order[row["pk"]])
