"""Forms of the rules pages: a rule with its condition builder (plain rows that work without
JavaScript: a top-level AND/OR of up to :data:`ROWS` conditions and one nested group of up to
:data:`GROUP_ROWS`; any deeper condition is edited as JSON), and an SLA policy."""

import json
from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.cases.choices import OwnerKind, Priority
from cxloop.cases.conditions import (
    FIELD_LABELS,
    FIELD_OPS,
    OP_LABELS,
    SCORE_FIELDS,
    ConditionError,
    channel_choices,
    sentiment_choices,
    theme_choices,
    tier_choices,
)
from cxloop.cases.rules import sla_policies
from cxloop.customers.queries import all_segments
from cxloop.journeys.queries import journey_touchpoints
from cxloop.people.queries import visible_teams

ROWS = 6
GROUP_ROWS = 4
COMBINATORS = [
    ("all", gettext_lazy("all of these (AND)")),
    ("any", gettext_lazy("any of these (OR)")),
]
WHOLE_NUMBER_FIELDS = (*SCORE_FIELDS, "touchpoint_rating", "nps_drop")
LIST_FIELDS = ("comment", "tier", "segment", "channel", "theme", "sentiment")
JSON_MAX = 20_000  # characters of a condition written as JSON


def _row_names(prefix: str, index: int) -> dict[str, str]:
    return {part: f"{prefix}{index}_{part}" for part in ("field", "op", "value", "touchpoint")}


class RuleForm(forms.Form):
    name_ru = forms.CharField(label=gettext_lazy("Name (Russian)"), max_length=200)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=200, required=False)
    combinator = forms.ChoiceField(
        label=gettext_lazy("A case opens when the response meets"), choices=COMBINATORS
    )
    group_combinator = forms.ChoiceField(
        label=gettext_lazy("…and, as one more condition, a group that meets"),
        choices=COMBINATORS,
        initial="any",
    )
    condition_json = forms.CharField(
        label=gettext_lazy("The condition as JSON"),
        required=False,
        max_length=JSON_MAX,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "For conditions the rows above cannot hold (groups inside groups). When filled, it "
            "replaces the rows."
        ),
    )
    owner_kind = forms.ChoiceField(label=gettext_lazy("Who owns the case"), choices=OwnerKind)
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=None,
        required=False,
        help_text=gettext_lazy(
            "For a named team: its members take the cases in turn. For the others: where a case "
            "goes when the customer has no owner or the touchpoint no team."
        ),
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"), choices=Priority, initial=Priority.NORMAL
    )
    sla_policy = forms.ModelChoiceField(label=gettext_lazy("SLA policy"), queryset=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = visible_teams(user).order_by("name")
        self.fields["sla_policy"].queryset = sla_policies()
        field_choices = [("", "—")] + [(name, FIELD_LABELS[name]) for name in FIELD_OPS]
        ops = [(op, label) for op, label in OP_LABELS.items()]
        touchpoints = [("", gettext_lazy("any touchpoint"))] + [
            (t.code, t.name) for t in journey_touchpoints()
        ]
        for prefix, count in (("row", ROWS), ("grow", GROUP_ROWS)):
            for index in range(count):
                names = _row_names(prefix, index)
                self.fields[names["field"]] = forms.ChoiceField(
                    label=_("Field"), choices=field_choices, required=False
                )
                self.fields[names["op"]] = forms.ChoiceField(
                    label=_("Comparison"), choices=ops, required=False
                )
                self.fields[names["value"]] = forms.CharField(
                    label=_("Value"), required=False, max_length=2000
                )
                self.fields[names["touchpoint"]] = forms.ChoiceField(
                    label=_("Touchpoint"), choices=touchpoints, required=False
                )
        self.row_paths: dict[str, str] = {}

    # Rows as the template lays them out.
    def rows(self, prefix: str = "row"):
        count = ROWS if prefix == "row" else GROUP_ROWS
        return [
            {part: self[name] for part, name in _row_names(prefix, index).items()}
            for index in range(count)
        ]

    def group_rows(self):
        return self.rows("grow")

    def builder_fields(self) -> set[str]:
        names = {"combinator", "group_combinator", "condition_json"}
        for prefix, count in (("row", ROWS), ("grow", GROUP_ROWS)):
            for index in range(count):
                names.update(_row_names(prefix, index).values())
        return names

    def routing_fields(self):
        return [self[name] for name in ("owner_kind", "team", "priority", "sla_policy")]

    def _leaf(self, prefix: str, index: int) -> dict | None:
        names = _row_names(prefix, index)
        data = self.cleaned_data
        name = data.get(names["field"])
        if not name:
            return None
        raw = (data.get(names["value"]) or "").strip()
        leaf: dict = {"field": name, "op": data.get(names["op"]), "value": _value(name, raw)}
        if name == "touchpoint_rating" and data.get(names["touchpoint"]):
            leaf["touchpoint"] = data[names["touchpoint"]]
        return leaf

    def condition(self) -> object:
        """The condition the form describes (checked by the caller with parse_condition);
        ``row_paths`` maps each part's place in it to the row's value field, so that an
        error is shown next to the row."""
        text = (self.cleaned_data.get("condition_json") or "").strip()
        if text:
            try:
                return json.loads(text)
            except json.JSONDecodeError as error:
                raise ConditionError(
                    _("The condition as JSON: not valid JSON (%(error)s)") % {"error": error},
                    "json",
                ) from error
        top = self.cleaned_data.get("combinator") or "all"
        parts, self.row_paths = [], {}
        for index in range(ROWS):
            leaf = self._leaf("row", index)
            if leaf is not None:
                parts.append(leaf)
                self.row_paths[f"{top} › {len(parts)}"] = _row_names("row", index)["value"]
        group_top = self.cleaned_data.get("group_combinator") or "any"
        grouped = []
        for index in range(GROUP_ROWS):
            leaf = self._leaf("grow", index)
            if leaf is not None:
                grouped.append(leaf)
                path = f"{top} › {len(parts) + 1} › {group_top} › {len(grouped)}"
                self.row_paths[path] = _row_names("grow", index)["value"]
        if grouped:
            parts.append({group_top: grouped})
        if not parts:
            raise ConditionError(_("Add at least one condition."), "")
        return {top: parts}

    def add_condition_error(self, error: ConditionError) -> None:
        """Show ``error`` next to the row it names (or the JSON, or above the builder)."""
        if error.path == "json" or (self.cleaned_data.get("condition_json") or "").strip():
            self.add_error("condition_json", str(error))
            return
        for path, field_name in sorted(self.row_paths.items(), key=lambda p: -len(p[0])):
            if error.path == path:  # the row's own field and value: the row says where
                self.add_error(field_name, error.detail)
                return
            if error.path.startswith(f"{path} "):
                self.add_error(field_name, str(error))
                return
        self.add_error(None, str(error))

    def clean(self):
        data = super().clean()
        if data.get("owner_kind") == OwnerKind.TEAM and not data.get("team"):
            self.add_error("team", _("Choose the team whose members take the cases in turn."))
        return data


def _value(name: str, raw: str) -> object:
    """A row's text as the condition language wants it; what does not convert is passed on
    as written, for parse_condition to refuse naming the field and the value."""
    if name in WHOLE_NUMBER_FIELDS:
        try:
            return int(raw)
        except ValueError:
            return raw
    if name == "annual_value":
        return raw.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if name == "target_segment":
        return True
    if name in LIST_FIELDS:
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if name == "tier":
            return [_code(item, tier_choices()) for item in items]
        if name == "channel":
            return [_code(item, channel_choices()) for item in items]
        if name == "theme":
            return [_code(item, theme_choices()) for item in items]
        if name == "sentiment":
            return [_code(item, sentiment_choices()) for item in items]
        if name == "segment":
            return [_segment_id(item) for item in items]
        return items
    return raw


def _code(item: str, choices) -> str:
    """A choice written by its code or its label in either letter case."""
    for code, label in choices:
        if item.casefold() in (code.casefold(), str(label).casefold()):
            return code
    return item


def _segment_id(item: str) -> object:
    if item.isdigit():
        return int(item)
    for segment in all_segments():
        if item.casefold() in (segment.name.casefold(), segment.label.casefold()):
            return segment.pk
    return item


def initial_from_condition(condition: object) -> dict:
    """The builder's rows for a stored condition, or the JSON field when the rows cannot hold
    it."""
    rows_fit = (
        isinstance(condition, dict)
        and len(condition) == 1
        and next(iter(condition)) in ("all", "any")
        and isinstance(next(iter(condition.values())), list)
    )
    if rows_fit:
        top = next(iter(condition))
        parts = condition[top]
        leaves = [p for p in parts if isinstance(p, dict) and "field" in p]
        groups = [p for p in parts if isinstance(p, dict) and "field" not in p]
        group_leaves = []
        if len(groups) == 1 and len(groups[0]) == 1:
            group_top = next(iter(groups[0]))
            group_leaves = groups[0][group_top] if group_top in ("all", "any") else None
        rows_fit = (
            len(leaves) <= ROWS
            and len(groups) <= 1
            and group_leaves is not None
            and len(group_leaves) <= GROUP_ROWS
            and all(isinstance(p, dict) and "field" in p for p in group_leaves)
            and parts == leaves + groups
        )
    if not rows_fit:
        return {"condition_json": json.dumps(condition, ensure_ascii=False, indent=2)}
    initial = {"combinator": top}
    if groups:
        initial["group_combinator"] = group_top
    for prefix, items in (("row", leaves), ("grow", group_leaves)):
        for index, leaf in enumerate(items):
            names = _row_names(prefix, index)
            value = leaf.get("value")
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            elif value is True:
                value = ""
            initial[names["field"]] = leaf.get("field")
            initial[names["op"]] = leaf.get("op")
            initial[names["value"]] = value
            initial[names["touchpoint"]] = leaf.get("touchpoint", "")
    return initial


class SlaPolicyForm(forms.Form):
    name_ru = forms.CharField(label=gettext_lazy("Name (Russian)"), max_length=200)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=200)
    first_contact_hours = forms.DecimalField(
        label=gettext_lazy("First contact within, working hours"),
        min_value=Decimal("0.25"),
        max_value=Decimal("9999"),
        decimal_places=2,
    )
    resolution_hours = forms.DecimalField(
        label=gettext_lazy("Resolution within, working hours"),
        min_value=Decimal("0.25"),
        max_value=Decimal("9999"),
        decimal_places=2,
    )
    warn_before_hours = forms.DecimalField(
        label=gettext_lazy("Warn this many working hours before a deadline"),
        min_value=Decimal("0"),
        max_value=Decimal("9999"),
        decimal_places=2,
        initial=2,
    )

    def clean(self):
        data = super().clean()
        first, resolution = data.get("first_contact_hours"), data.get("resolution_hours")
        if first is not None and resolution is not None and resolution < first:
            self.add_error(
                "resolution_hours",
                _("Resolution cannot be due before the first contact (%(hours)s h).")
                % {"hours": first},
            )
        return data
