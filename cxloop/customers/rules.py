"""Segment rules: a list of conditions over customer fields, all of which must hold.

A condition is ``{"field": ..., "op": ..., "value": ...}``; ``field`` is a customer field or
``attributes.<key>`` for a custom attribute.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q

FIELDS = ("tier", "industry", "lifecycle_stage", "annual_value", "currency", "external_id")
OPERATORS = {
    "eq": "exact",
    "ne": "exact",
    "in": "in",
    "gte": "gte",
    "lte": "lte",
    "contains": "icontains",
}


class RuleError(ValueError):
    """A segment rule that cannot be applied; the message names the condition and the problem."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: object

    def to_q(self) -> Q:
        path = self.field.replace(".", "__")
        q = Q(**{f"{path}__{OPERATORS[self.op]}": self.value})
        return ~q if self.op == "ne" else q


def _condition(position: int, raw: object) -> Condition:
    where = f"condition {position}"
    if not isinstance(raw, dict) or set(raw) != {"field", "op", "value"}:
        raise RuleError(f"{where}: expected an object with field, op and value, got {raw!r}")
    field, op, value = raw["field"], raw["op"], raw["value"]
    if not (field in FIELDS or (isinstance(field, str) and field.startswith("attributes."))):
        raise RuleError(f"{where}: unknown field {field!r}; use one of {', '.join(FIELDS)}")
    if op not in OPERATORS:
        raise RuleError(f"{where}: unknown op {op!r}; use one of {', '.join(OPERATORS)}")
    if op == "in" and not isinstance(value, list):
        raise RuleError(f"{where}: op 'in' needs a list of values, got {value!r}")
    if field == "annual_value" and op != "in":
        try:
            value = Decimal(str(value))
        except InvalidOperation as error:
            raise RuleError(f"{where}: annual_value needs a number, got {value!r}") from error
    return Condition(field, op, value)


def parse_rule(rule: object) -> list[Condition]:
    if not isinstance(rule, list):
        raise RuleError(f"a rule is a list of conditions, got {rule!r}")
    return [_condition(position, raw) for position, raw in enumerate(rule, start=1)]


def rule_q(rule: object) -> Q:
    """One ``Q`` that selects the customers matching every condition of ``rule``."""
    q = Q()
    for condition in parse_rule(rule):
        q &= condition.to_q()
    return q
