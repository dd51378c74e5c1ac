"""Forms of the case pages: opening a case, each action on one (a small form apiece), bulk
assignment and the root-cause taxonomy. Choices come from the cases' read side, scoped to the
user where a choice names a person or a case."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from cxloop.cases.choices import TRANSITIONS, CaseState, LoopChannel, Priority, Reaction
from cxloop.cases.queries import (
    assignable_employees,
    root_cause_choices,
    sla_policies,
    touchpoint_choices,
    visible_cases,
)
from cxloop.front.forms import TextField

TITLE_MAX = 300
TEXT_MAX = 10_000
NAME_MAX = 200


def _note(label, *, required: bool = False, rows: int = 3) -> TextField:
    return TextField(
        label=label,
        required=required,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, employee) -> str:
        return f"{employee} · {employee.team}"


def _owner_field(user, *, required: bool = True) -> OwnerChoiceField:
    return OwnerChoiceField(
        queryset=assignable_employees(user),
        required=required,
        label=_("Owner"),
        error_messages={"invalid_choice": _("No such colleague among those you may assign to.")},
    )


class CaseNewForm(forms.Form):
    """A case opened by hand; whom it may go to depends on the user (:func:`_owner_field`)."""

    title = TextField(label=_("Summary"), max_length=TITLE_MAX)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    sla_policy = forms.ModelChoiceField(
        queryset=sla_policies(),
        required=False,
        label=capfirst(_("SLA policy")),
        empty_label=_("none"),
    )
    note = _note(_("Note"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"] = _owner_field(user)
        self.order_fields(["title", "owner", "priority", "sla_policy", "note"])


class CaseActionForm(forms.Form):
    """One action on one case; it knows the user acting and the case (for scoped choices)."""

    def __init__(self, *args, user, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.case = user, case


class AssignForm(CaseActionForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"] = _owner_field(self.user)


class StateForm(CaseActionForm):
    state = forms.ChoiceField(label=_("New state"))
    text = _note(_("Resolution or comment"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        moves = TRANSITIONS.get(self.case.state, ())
        self.fields["state"].choices = [(state, CaseState(state).label) for state in moves]


class PriorityForm(CaseActionForm):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("priority", self.case.priority)


class NoteForm(CaseActionForm):
    text = _note(_("Note"), required=True)


class ContactForm(CaseActionForm):
    channel = forms.ChoiceField(label=_("How"), choices=LoopChannel.choices)
    text = _note(_("What was said"))


class LoopForm(CaseActionForm):
    channel = forms.ChoiceField(label=_("Closed by"), choices=LoopChannel.choices)
    reaction = forms.ChoiceField(label=_("The customer's reaction"), choices=Reaction.choices)
    text = _note(_("What was said"))


class CauseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, cause) -> str:
        if cause.touchpoint is None:
            return str(cause)
        return f"{cause.touchpoint.name}: {cause}"


class RootCausesForm(CaseActionForm):
    causes = CauseChoiceField(
        queryset=None,
        required=False,
        label=_("Root causes"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Causes of the case's touchpoints and general ones."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["causes"].queryset = root_cause_choices(self.case)
        self.initial.setdefault("causes", list(self.case.root_causes.all()))


class TouchpointChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, touchpoint) -> str:
        return touchpoint.name


class TouchpointsForm(CaseActionForm):
    touchpoints = TouchpointChoiceField(
        queryset=None,
        required=False,
        label=_("Touchpoints"),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["touchpoints"].queryset = touchpoint_choices()
        self.initial.setdefault("touchpoints", list(self.case.touchpoints.all()))


class BulkAssignForm(forms.Form):
    """Cases ticked on the list and the colleague to give them to; a case the user may no
    longer see is refused by name (its id)."""

    cases = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("Cases"),
        error_messages={
            "invalid_choice": _("No such case among those you see: %(value)s."),
            "invalid_pk_value": _("“%(pk)s” is not the number of a case."),
            "required": _("Tick the cases to assign."),
        },
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cases"].queryset = visible_cases(user)
        self.fields["owner"] = _owner_field(user)


class RootCauseForm(forms.Form):
    touchpoint = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("Touchpoint"),
        empty_label=_("general (any touchpoint)"),
    )
    name_ru = TextField(label=_("Name (Russian)"), max_length=NAME_MAX)
    name_en = TextField(label=_("Name (English)"), max_length=NAME_MAX)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["touchpoint"].queryset = touchpoint_choices()
        self.fields["touchpoint"].label_from_instance = lambda touchpoint: touchpoint.name


class RootCauseRenameForm(forms.Form):
    """Laid out in a table row without labels: the widgets carry their names for assistive
    technology."""

    name_ru = TextField(
        label=_("Name (Russian)"),
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"aria-label": _("Name (Russian)")}),
    )
    name_en = TextField(
        label=_("Name (English)"),
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"aria-label": _("Name (English)")}),
    )
