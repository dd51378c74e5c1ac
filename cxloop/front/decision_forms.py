"""The decision log's form: a decision as recorded or changed. Choices come from the read
sides, scoped to the user where a choice names a team or an initiative."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cxloop.front.forms import TextField
from cxloop.front.initiative_forms import TEXT_MAX, NamedChoiceField, TitlesForm, _date
from cxloop.improvements.choices import TargetMetric
from cxloop.improvements.models import DecisionKind, Direction
from cxloop.improvements.queries import (
    initiative_choices,
    leads_initiatives,
    team_choices,
    touchpoint_choices,
)


class DecisionForm(TitlesForm):
    description = TextField(
        label=_("Description"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    kind = forms.ChoiceField(label=_("Kind of decision"), choices=DecisionKind.choices)
    decided_on = _date(_("Decided on"))
    in_force_from = _date(_("In force from"))
    touchpoints = NamedChoiceField(
        queryset=None,
        label=_("Touchpoints it may affect"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one touchpoint it may affect.")},
    )
    metric = forms.ChoiceField(label=_("Metric"), choices=TargetMetric.choices)
    expected_direction = forms.ChoiceField(
        label=_("Expected direction"), choices=Direction.choices, widget=forms.RadioSelect
    )
    expected_size = forms.DecimalField(
        label=_("Expected size (points)"),
        max_digits=6,
        decimal_places=2,
        min_value=0,
        max_value=200,
        initial=0,
        help_text=_("On the metric's scale: points of NPS, of the mean rating, of CSAT or CES."),
    )
    team = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Team"), empty_label=_("the whole organisation")
    )
    initiative = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Initiative"), empty_label="—"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["touchpoints"].queryset = touchpoint_choices()
        self.fields["team"].queryset = team_choices(user)
        self.fields["team"].required = not leads_initiatives(user)
        self.fields["initiative"].queryset = initiative_choices(user)
