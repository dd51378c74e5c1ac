"""Forms of the reward plan pages: a plan with its basket (one row per metric cxloop measures;
a metric is in the basket when it has a weight), the what-if simulator, opening a period and
moving it on."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.front.forms import DateField, TextField
from cxloop.insights.rewards import definitions
from cxloop.lib import payouts
from cxloop.people.choices import Role
from cxloop.people.reward_choices import Basis, Fallback, MeasuredOn
from cxloop.people.reward_services import PLAN_FIELDS

PERIODS = [
    (1, gettext_lazy("month")),
    (3, gettext_lazy("quarter")),
    (6, gettext_lazy("half-year")),
    (12, gettext_lazy("year")),
]
LIMIT = 1e9  # no metric's target is beyond it; a larger number is a typo
LINE_PARTS = ("threshold", "target", "maximum")


def _number(label, **kwargs) -> forms.FloatField:
    return forms.FloatField(
        label=label, required=False, min_value=-LIMIT, max_value=LIMIT, **kwargs
    )


def _date(label, help_text="") -> DateField:
    return DateField(
        label=label,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class PlanForm(forms.Form):
    name = TextField(label=gettext_lazy("Name"), max_length=200)
    name_en = TextField(label=gettext_lazy("Name in English"), max_length=200, required=False)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)
    title = TextField(
        label=gettext_lazy("Job title"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Only people with exactly this job title; empty: the whole role."),
    )
    measured_on = forms.ChoiceField(
        label=gettext_lazy("Paid on"),
        choices=MeasuredOn.choices,
        help_text=gettext_lazy("An executive answers for the whole firm."),
    )
    target_bonus = forms.DecimalField(
        label=gettext_lazy("Target bonus per period, RUB"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
    )
    period_months = forms.TypedChoiceField(
        label=gettext_lazy("Period"), choices=PERIODS, coerce=int, initial=3
    )
    starts_on = _date(gettext_lazy("Starts on"), gettext_lazy("The first day of the first period."))
    baseline_since = _date(
        gettext_lazy("Baseline from"),
        gettext_lazy("Figures before the plan are compared from this day: a year at least."),
    )
    pilot_periods = forms.IntegerField(
        label=gettext_lazy("Pilot periods without pay"), min_value=0, max_value=12, initial=1
    )
    threshold_payout = forms.IntegerField(
        label=gettext_lazy("Payout at the threshold, %"), min_value=0, max_value=100, initial=50
    )
    max_payout = forms.IntegerField(
        label=gettext_lazy("Payout at the maximum, %"), min_value=100, max_value=1000, initial=150
    )
    cap = forms.IntegerField(
        label=gettext_lazy("Cap on the total, %"),
        min_value=0,
        max_value=1000,
        required=False,
        help_text=gettext_lazy("Empty: no cap."),
    )
    min_n = forms.IntegerField(
        label=gettext_lazy("Minimum answers for a survey metric"),
        min_value=0,
        max_value=100_000,
        initial=10,
    )
    fallback = forms.ChoiceField(label=gettext_lazy("Below the minimum"), choices=Fallback.choices)
    basis = forms.ChoiceField(label=gettext_lazy("Score used"), choices=Basis.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.metrics = definitions()
        for key, metric in self.metrics.items():
            self.fields[f"weight_{key}"] = forms.IntegerField(
                label=_("Weight of “%(metric)s”, %%") % {"metric": metric.label},
                required=False,
                min_value=1,
                max_value=100,
            )
            for part, label in zip(LINE_PARTS, self.part_labels(), strict=True):
                self.fields[f"{part}_{key}"] = _number(
                    _("%(part)s of “%(metric)s”") % {"part": label, "metric": metric.label}
                )
        for name, field in self.fields.items():
            if name.startswith(("weight_", *(f"{part}_" for part in LINE_PARTS))):
                # laid out in a table without a label of their own (cx_widget)
                field.widget.attrs["aria-label"] = field.label

    @staticmethod
    def part_labels() -> list[str]:
        return [_("Threshold"), _("Target"), _("Maximum")]

    @classmethod
    def of_plan(cls, plan, data=None) -> PlanForm:
        initial = {name: getattr(plan, name) for name in PLAN_FIELDS}
        for row in plan.metrics.all():
            initial[f"weight_{row.metric}"] = row.weight
            for part in LINE_PARTS:
                initial[f"{part}_{row.metric}"] = getattr(row, part)
        return cls(data, initial=initial)

    def basket_rows(self) -> list[dict]:
        """For the template: each metric with its four bound fields."""
        return [
            {
                "metric": metric,
                "weight": self[f"weight_{key}"],
                "parts": [self[f"{part}_{key}"] for part in LINE_PARTS],
            }
            for key, metric in self.metrics.items()
        ]

    def clean(self):
        data = super().clean()
        chosen = 0
        for key, metric in self.metrics.items():
            weight = data.get(f"weight_{key}")
            if weight is None:
                continue
            chosen += 1
            values = [data.get(f"{part}_{key}") for part in LINE_PARTS]
            missing = [p for p, value in zip(LINE_PARTS, values, strict=True) if value is None]
            for part in missing:
                if f"{part}_{key}" not in self.errors:
                    self.add_error(f"{part}_{key}", _("A metric with a weight needs this."))
            if missing:
                continue
            try:
                payouts.Line(key, weight, *values, higher_is_better=metric.higher_is_better)
            except ValueError:
                order = (
                    _("threshold ≤ target ≤ maximum")
                    if metric.higher_is_better
                    else _("threshold ≥ target ≥ maximum (lower is better)")
                )
                message = _("“%(metric)s” needs %(order)s.") % {
                    "metric": metric.label,
                    "order": order,
                }
                for part in _out_of_order(values, metric.higher_is_better):
                    self.add_error(f"{part}_{key}", message)
        if not chosen:
            raise forms.ValidationError(_("Give at least one metric a weight."))
        return data

    def plan_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in PLAN_FIELDS}

    def basket(self) -> list[dict]:
        return [
            {
                "metric": key,
                "weight": self.cleaned_data[f"weight_{key}"],
                **{part: self.cleaned_data[f"{part}_{key}"] for part in LINE_PARTS},
            }
            for key in self.metrics
            if self.cleaned_data.get(f"weight_{key}") is not None
        ]


class SimulatorForm(forms.Form):
    """Hypothetical figures, one per metric of the plan; empty: no figure (the line is dropped
    and the others rescaled)."""

    def __init__(self, data, *, plan):
        known = definitions()
        self.lines = list(plan.metrics.all())
        super().__init__(data, initial={f"value_{r.metric}": r.target for r in self.lines})
        for row in self.lines:
            self.fields[f"value_{row.metric}"] = _number(known[row.metric].label)

    def values(self) -> dict[str, float | None]:
        """The figures typed (the targets until the form is sent and valid)."""
        if not self.is_bound or not self.is_valid():
            return {row.metric: row.target for row in self.lines}
        return {row.metric: self.cleaned_data[f"value_{row.metric}"] for row in self.lines}


class OpenPeriodForm(forms.Form):
    starts_on = forms.ChoiceField(label=gettext_lazy("Period"))

    def __init__(self, data, *, starts):
        super().__init__(data)
        self.fields["starts_on"].choices = [(day.isoformat(), label) for day, label in starts]


STEPS = [
    ("approve", gettext_lazy("Approve")),
    ("reopen", gettext_lazy("Back to draft")),
    ("lock", gettext_lazy("Lock for payroll")),
]


class PeriodStepForm(forms.Form):
    step = forms.ChoiceField(choices=STEPS)


def _out_of_order(values: list, higher_is_better: bool) -> list[str]:
    """The parts of a line (threshold, target, maximum) on either side of a step that goes the
    wrong way, so the error stands beside the number that was mistyped."""
    sign = 1 if higher_is_better else -1
    parts: list[str] = []
    for i in range(len(LINE_PARTS) - 1):
        if sign * (values[i + 1] - values[i]) < 0:
            parts += [p for p in LINE_PARTS[i : i + 2] if p not in parts]
    return parts or list(LINE_PARTS)
