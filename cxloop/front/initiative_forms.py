"""Forms of the initiative pages: proposing and changing an initiative, moving it along its
states, finishing it, and its action items. Choices come from the read sides, scoped to the
user where a choice names a person, a team or a case."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from cxloop.cases.queries import root_cause_taxonomy, visible_cases
from cxloop.front.forms import DateField, TextField
from cxloop.improvements.choices import InitiativeState, Scope, StartedFrom, TargetMetric
from cxloop.improvements.queries import (
    owner_choices,
    segment_choices,
    team_choices,
    touchpoint_choices,
)
from cxloop.improvements.services import InitiativeError, check_target
from cxloop.people.queries import ideas_for_initiatives

TITLE_MAX = 300
TEXT_MAX = 10_000
TRAINING_MAX = 200
CASES_MAX = 50


def _text(label, *, required: bool = True, rows: int = 3) -> TextField:
    return TextField(
        label=label,
        required=required,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _date(label, *, required: bool = True) -> DateField:
    return DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, employee) -> str:
        return f"{employee} · {employee.team}"


# The largest id a database column holds (a signed 64-bit integer).
ID_MAX = 2**63 - 1


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """Ids that no column could hold are refused as any other unknown id (SQLite's driver
    raises OverflowError on them in the ``IN`` query)."""

    def _check_values(self, value):
        for pk in value:
            text = str(pk).strip()
            if text.isdigit() and int(text) > ID_MAX:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": text[:40]},
                )
        return super()._check_values(value)


class NamedChoiceField(IdsChoiceField):
    """Touchpoints by name; root causes with their touchpoint's name first."""

    def label_from_instance(self, record) -> str:
        touchpoint = getattr(record, "touchpoint", None)
        if hasattr(record, "stage"):
            return record.name
        return f"{touchpoint.name}: {record}" if touchpoint is not None else str(record)


def _person(user, label) -> PersonChoiceField:
    return PersonChoiceField(
        queryset=owner_choices(user),
        label=label,
        error_messages={"invalid_choice": _("No such colleague among those you may give work to.")},
    )


CASE_NUMBER = re.compile(r"^(?:C-?)?0*(\d{1,9})$", re.IGNORECASE)


class TitlesForm(forms.Form):
    """The title in Russian and, optionally, in English: the first fields of the improvement
    cycle's forms (initiatives, decisions)."""

    title = TextField(label=_("Title (Russian)"), max_length=TITLE_MAX)
    title_en = TextField(
        label=_("Title (English)"),
        max_length=TITLE_MAX,
        required=False,
        help_text=_("Shown on English pages; leave empty to show the same text everywhere."),
    )


class InitiativeForm(TitlesForm):
    """An initiative as proposed or changed; ``started_from`` is asked only when proposing."""

    touchpoints = NamedChoiceField(
        queryset=None,
        label=_("Touchpoints it changes"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one touchpoint it changes.")},
    )
    problem = _text(_("Problem"))
    hypothesis = _text(_("Hypothesis"), rows=2)
    root_causes = NamedChoiceField(
        queryset=None,
        required=False,
        label=_("Root causes it answers"),
        widget=forms.CheckboxSelectMultiple,
    )
    cases = TextField(
        label=_("Linked cases"),
        required=False,
        max_length=2000,
        help_text=_("Case numbers, separated by commas or spaces: C-000012, 15."),
    )
    metric = forms.ChoiceField(label=_("Target metric"), choices=TargetMetric.choices)
    # Text in the page's number format rather than type=number: a browser's number field
    # reads its own locale's decimal mark, not the page's, so "3,7" typed on a Russian page
    # could arrive as 37. inputmode still brings up the phone's number pad. The metric's
    # scale bounds the value (clean).
    target_value = forms.DecimalField(
        label=_("Target value"),
        max_digits=6,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    target_date = _date(_("Target date"))
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=Scope.choices,
        widget=forms.RadioSelect,
        help_text=_("Everyone outside the scope is the comparison group."),
    )
    segment = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Segment"), empty_label="—"
    )
    scope_teams = IdsChoiceField(
        queryset=None,
        required=False,
        label=_("Teams in scope"),
        widget=forms.CheckboxSelectMultiple,
    )
    started_from = forms.ChoiceField(
        label=_("Started from"), choices=StartedFrom.choices, widget=forms.HiddenInput
    )

    def __init__(self, *args, user, proposing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["touchpoints"].queryset = touchpoint_choices()
        self.fields["root_causes"].queryset = root_cause_taxonomy()
        self.fields["segment"].queryset = segment_choices()
        self.fields["scope_teams"].queryset = team_choices(user)
        self.fields["owner"] = _person(user, _("Owner"))
        self.fields["team"] = forms.ModelChoiceField(
            queryset=team_choices(user),
            required=False,
            label=_("Team"),
            empty_label=_("the owner's team"),
        )
        if proposing:
            # The employee's idea it carries out: one the proposer may answer, still open.
            self.fields["from_idea"] = forms.ModelChoiceField(
                queryset=ideas_for_initiatives(user),
                required=False,
                widget=forms.HiddenInput,
                label=_("From the idea"),
                error_messages={"invalid_choice": _("No such open idea among those you answer.")},
            )
        else:
            del self.fields["started_from"]
        self.order_fields(
            [
                "title",
                "title_en",
                "touchpoints",
                "problem",
                "hypothesis",
                "root_causes",
                "cases",
                "metric",
                "target_value",
                "target_date",
                "owner",
                "team",
                "scope",
                "segment",
                "scope_teams",
            ]
        )

    def clean_cases(self):
        """Case numbers as people quote them (C-000012, 12), each one a case the user sees."""
        raw = self.cleaned_data.get("cases", "")
        numbers = []
        for word in re.split(r"[\s,;]+", raw.strip()):
            if not word:
                continue
            match = CASE_NUMBER.match(word)
            if match is None:
                raise forms.ValidationError(
                    _("“%(value)s” is not a case number (say C-000012)."), params={"value": word}
                )
            numbers.append(int(match.group(1)))
        if len(numbers) > CASES_MAX:
            raise forms.ValidationError(_("At most %(count)s cases."), params={"count": CASES_MAX})
        found = {case.pk: case for case in visible_cases(self.user).filter(pk__in=numbers)}
        missing = [n for n in numbers if n not in found]
        if missing:
            raise forms.ValidationError(
                _("No such case among those you see: %(value)s."),
                params={"value": ", ".join(f"C-{n:06d}" for n in missing)},
            )
        return list(dict.fromkeys(found[n] for n in numbers))

    def clean(self):
        data = super().clean()
        if data.get("metric") and data.get("target_value") is not None:
            try:
                check_target(data["metric"], data["target_value"])
            except InitiativeError as error:
                self.add_error("target_value", str(error))
        scope = data.get("scope")
        if scope == Scope.SEGMENT and not data.get("segment"):
            self.add_error("segment", _("Choose the segment the change reaches."))
        if scope == Scope.TEAMS and not data.get("scope_teams"):
            self.add_error("scope_teams", _("Choose the teams the change reaches."))
        return data


class StateForm(forms.Form):
    state = forms.ChoiceField(label=_("New state"))
    text = _text(_("Comment"), required=False, rows=2)

    def __init__(self, *args, moves, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [
            (state, InitiativeState(state).label)
            for state in moves
            if state != InitiativeState.DONE
        ]
        self.fields["state"].error_messages["invalid_choice"] = _(
            "This initiative cannot move to that state now."
        )


class FinishForm(forms.Form):
    """Done: the touchpoints' new standard, from when, and the training it needs."""

    change_ru = _text(_("The new standard: what changed (Russian)"))
    change_en = _text(_("The new standard: what changed (English)"), required=False)
    effective_from = _date(_("In force from"))
    training = TextField(
        label=_("Training required at the touchpoints"),
        max_length=TRAINING_MAX,
        required=False,
        help_text=_("The training's code or title; empty if none is needed."),
    )
    text = _text(_("Comment"), required=False, rows=2)


class ActionItemForm(forms.Form):
    text = _text(_("What to do"), rows=2)
    due_on = _date(_("Due"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"] = _person(user, _("Who"))
        self.order_fields(["text", "owner", "due_on"])
