import csv
import io

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cxloop.customers.queries import (
    all_customers,
    all_segments,
    contacts_by_email,
    segment_contacts,
)
from cxloop.feedback.choices import FaceToFaceKind
from cxloop.lib import params
from cxloop.people.choices import IdeaStatus
from cxloop.surveys.forms import field_name, question_field
from cxloop.surveys.models import Question, Survey


def storable_text(value: str) -> None:
    """Refuses text that cannot be stored: NUL characters, lone surrogates
    (docs/decisions/007-strict-input.md)."""
    problem = params.text_problem(value)
    if problem is not None:
        raise ValidationError(_(problem), code="unstorable")


def plausible_date(value) -> None:
    """Refuses a date outside 1900–2200, which month arithmetic and time zones overflow."""
    try:
        params.check_date("date", value)
    except params.ParamError as error:
        raise ValidationError(_(error.template) % error.params, code="out_of_range") from None


class TextField(forms.CharField):
    """A CharField that refuses text which cannot be stored."""

    default_validators = [storable_text]


class DateField(forms.DateField):
    """A DateField within the dates cxloop can compute with (1900–2200)."""

    default_validators = [plausible_date]


class DistributionForm(forms.Form):
    """Recipients of a survey: a segment, e-mails typed one per line, a CSV with an "email"
    column, or any mix of them."""

    segment = forms.ModelChoiceField(
        queryset=all_segments(), required=False, label=_("Customers of a segment")
    )
    emails = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("E-mail addresses, one per line"),
    )
    file = forms.FileField(required=False, label=_('CSV file with an "email" column'))
    fatigue_days = forms.IntegerField(
        min_value=0,
        max_value=365,
        initial=30,
        label=_("Do not invite anyone invited in the last N days"),
    )

    def clean(self):
        data = super().clean()
        lines = [(n, e.strip()) for n, e in enumerate(data.get("emails", "").splitlines(), 1)]
        addresses = [(_("line %(n)s") % {"n": n}, e) for n, e in lines if e]
        if data.get("file"):
            addresses += self._file_addresses(data["file"])
        if not data.get("segment") and not addresses:
            raise ValidationError(
                _("Choose a segment, type e-mail addresses or attach a CSV file.")
            )
        known = contacts_by_email([e for where, e in addresses])
        unknown = [f"{where}: {e}" for where, e in addresses if e.lower() not in known]
        if unknown:
            raise ValidationError(
                _("No contact has these e-mail addresses: %(list)s"),
                params={"list": "; ".join(unknown)},
            )
        contacts = list(segment_contacts(data["segment"])) if data.get("segment") else []
        contacts += [c for where, e in addresses for c in known[e.lower()]]
        data["contacts"] = contacts
        return data

    def _file_addresses(self, upload) -> list[tuple[str, str]]:
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ValidationError(_("The file is not UTF-8 text.")) from error
        if "\x00" in text:  # no address holds one, and PostgreSQL refuses it in a query
            raise ValidationError(_("The file holds a NUL character: it is not a CSV file."))
        reader = csv.DictReader(io.StringIO(text))
        try:
            columns = {name.strip().lower(): name for name in reader.fieldnames or []}
            if "email" not in columns:
                raise ValidationError(
                    _('The file has no "email" column; its columns are: %(columns)s'),
                    params={"columns": ", ".join(reader.fieldnames or []) or "—"},
                )
            return [
                (_("row %(n)s") % {"n": n}, (row[columns["email"]] or "").strip())
                for n, row in enumerate(reader, start=2)
                if (row[columns["email"]] or "").strip()
            ]
        except csv.Error as error:  # a field over the csv module's limit (128 KiB), say
            raise ValidationError(
                _("The file cannot be read as CSV at line %(line)s: %(error)s"),
                params={"line": reader.line_num, "error": error},
            ) from error


class FaceToFaceForm(forms.Form):
    """A meeting with a client: what kind, with whom, when, the scores heard, notes and what was
    agreed. The scores are the questions of the interview guide."""

    FOLLOW_UPS = 3

    kind = forms.ChoiceField(choices=FaceToFaceKind.choices, label=_("Kind of meeting"))
    customer = forms.ModelChoiceField(queryset=all_customers().none(), label=_("Client"))
    participants = forms.CharField(
        required=False,
        label=_("Client participants' e-mails, comma-separated"),
    )
    met_on = DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    language = forms.ChoiceField(choices=settings.LANGUAGES, label=_("Language of the meeting"))
    source = TextField(required=False, max_length=200, label=_("Research agency (if any)"))
    notes = TextField(required=False, widget=forms.Textarea(attrs={"rows": 5}), label=_("Notes"))

    def __init__(self, guide, *args, customers, **kwargs):
        """``customers``: those the user may record a meeting with (the picker lists no other)."""
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.guide_questions = list(guide.questions.all())
        for question in self.guide_questions:
            self.fields[field_name(question)] = question_field(question)
        for n in range(1, self.FOLLOW_UPS + 1):
            self.fields[f"follow_up_{n}"] = TextField(
                required=False, max_length=500, label=_("Agreed follow-up %(n)s") % {"n": n}
            )
            self.fields[f"due_{n}"] = DateField(
                required=False, label=_("Due"), widget=forms.DateInput(attrs={"type": "date"})
            )

    def clean(self):
        data = super().clean()
        if data.get("met_on") and data["met_on"] > timezone.localdate():
            self.add_error("met_on", _("A meeting cannot be in the future."))
        self._clean_participants(data)
        for n in range(1, self.FOLLOW_UPS + 1):
            if data.get(f"follow_up_{n}") and not data.get(f"due_{n}"):
                self.add_error(f"due_{n}", _("Give the follow-up a due date."))
        return data

    def _clean_participants(self, data) -> None:
        customer = data.get("customer")
        emails = [e.strip().lower() for e in data.get("participants", "").split(",") if e.strip()]
        if customer is None:
            return
        known = {c.email.lower(): c for c in customer.contacts.all() if c.email}
        unknown = [e for e in emails if e not in known]
        if unknown:
            self.add_error(
                "participants",
                _("%(customer)s has no contact with these e-mails: %(list)s")
                % {"customer": customer, "list": ", ".join(unknown)},
            )
        data["contacts"] = [known[e] for e in emails if e in known]

    def scores(self) -> dict[int, object]:
        return {q.pk: self.cleaned_data.get(field_name(q)) for q in self.guide_questions}

    def follow_ups(self) -> list[tuple[str, object]]:
        return [
            (self.cleaned_data[f"follow_up_{n}"], self.cleaned_data[f"due_{n}"])
            for n in range(1, self.FOLLOW_UPS + 1)
            if self.cleaned_data.get(f"follow_up_{n}")
        ]


class IdeaForm(forms.Form):
    text = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 4}), label=_("Your idea or remark")
    )
    anonymous = forms.BooleanField(
        required=False,
        label=_("Send anonymously (neither your name nor your team is kept)"),
    )


class IdeaAnswerForm(forms.Form):
    """A manager's move of an idea and the answer its author reads (an anonymous idea's
    answer: everyone reads it on the ideas page)."""

    status = forms.ChoiceField(label=_("Status"), choices=IdeaStatus.choices)
    answer = forms.CharField(
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Answer to the author"),
        help_text=_("Required to accept or decline an idea."),
    )


class SurveyForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        choices=settings.LANGUAGES, widget=forms.CheckboxSelectMultiple, label=_("Languages")
    )

    class Meta:
        model = Survey
        fields = [
            "name_ru",
            "name_en",
            "kind",
            "languages",
            "is_anonymous",
            "journey",
            "accepts_open_link",
            "invitation_lifetime_days",
            "reminder_after_days",
        ]


class QuestionForm(forms.ModelForm):
    """A question, with its choices as lines "value | Русский | English" and its display
    condition as three fields."""

    choices_text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Choices, one per line: value | Russian | English"),
    )
    condition_question = forms.IntegerField(
        required=False, min_value=1, label=_("Show only if question number")
    )
    condition_operator = forms.ChoiceField(
        required=False,
        choices=[
            ("", "—"),
            ("lte", "≤"),
            ("gte", "≥"),
            ("eq", "="),
            ("ne", "≠"),
            ("in", _("one of")),
        ],
        label=_("is"),
    )
    condition_value = forms.CharField(
        required=False, label=_("value (for “one of”: comma-separated)")
    )

    class Meta:
        model = Question
        fields = ["kind", "text_ru", "text_en", "required", "page", "touchpoint"]

    def __init__(self, *args, survey: Survey, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.instance.survey = survey
        if self.instance.pk:
            self.initial["choices_text"] = "\n".join(
                f"{c['value']} | {c['ru']} | {c['en']}" for c in self.instance.choices
            )
            condition = self.instance.display_condition or {}
            for operator, value in condition.items():
                if operator != "question":
                    self.initial["condition_operator"] = operator
                    self.initial["condition_value"] = (
                        ", ".join(map(str, value)) if isinstance(value, list) else value
                    )
            self.initial["condition_question"] = condition.get("question")

    # The model checks its JSON fields; their errors belong to the fields that fill them.
    FIELD_OF_MODEL_ERROR = {"choices": "choices_text", "display_condition": "condition_question"}

    def _update_errors(self, errors):
        if hasattr(errors, "error_dict"):
            errors.error_dict = {
                self.FIELD_OF_MODEL_ERROR.get(name, name): value
                for name, value in errors.error_dict.items()
            }
        super()._update_errors(errors)

    def clean(self):
        data = super().clean()
        self.instance.choices = self._choices(data.get("choices_text", ""))
        self.instance.display_condition = self._condition(data)
        return data

    def _choices(self, text: str) -> list[dict]:
        choices = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            if len(parts) != 3 or not all(parts):
                self.add_error(
                    "choices_text",
                    _("Line %(n)s: write value | Russian | English, got %(line)s")
                    % {"n": number, "line": line},
                )
                continue
            choices.append({"value": parts[0], "ru": parts[1], "en": parts[2]})
        return choices

    def _condition(self, data) -> dict | None:
        number, operator = data.get("condition_question"), data.get("condition_operator")
        if not number and not operator:
            return None
        earlier = self.survey.questions.filter(order=number).first() if number else None
        if earlier is None or not operator:
            # Next to the half that is missing (the question's number first).
            self.add_error(
                "condition_question" if earlier is None else "condition_operator",
                _("Give the number of an earlier question and an operator."),
            )
            return None
        if earlier.page >= (data.get("page") or 1):
            self.add_error(
                "condition_question",
                _("Question %(n)s must be on an earlier page than this one.") % {"n": number},
            )
        raw = data.get("condition_value", "")
        values = [_typed(v.strip()) for v in raw.split(",") if v.strip()]
        value = values if operator == "in" else _typed(raw.strip())
        return {"question": number, operator: value}


def _typed(text: str):
    """A condition value as a number when it is one (scores), else the text (choice values)."""
    try:
        return int(text)
    except ValueError:
        return text


ALL_CUSTOMERS = "all"


class InsightFilters(forms.Form):
    """The filters every analytical page shares: a period, a segment (the target segment
    first, and chosen when the page opens) and a team among those the viewer may see.

    The dates are labelled "From date"/"To date": a bare "From" reads in Russian as «От кого»,
    "from whom". The widgets carry Bootstrap's classes; a field with an error is marked
    ``is-invalid`` and described by its message (``<id>-error``) for screen readers."""

    since = DateField(
        required=False,
        label=_("From date"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    until = DateField(
        required=False,
        label=_("To date"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    segment = forms.ChoiceField(
        required=False, label=_("Customers"), widget=forms.Select(attrs={"class": "form-select"})
    )
    team = forms.ChoiceField(
        required=False, label=_("Team"), widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, data, *, segments, teams, default_since, target_segment):
        data = data.copy()
        data.setdefault("since", default_since.isoformat())
        if target_segment is not None:
            data.setdefault("segment", str(target_segment.pk))
        super().__init__(data)
        ordered = sorted(segments, key=lambda s: (not s.is_target, s.label))
        self.fields["segment"].choices = [
            (ALL_CUSTOMERS, _("All customers")),
            *((str(s.pk), s.label) for s in ordered),
        ]
        self.fields["team"].choices = [
            ("", _("All teams I may see")),
            *((str(t.pk), t.label) for t in teams),
        ]

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-describedby"] = f"{self[name].auto_id}-error"
                attrs["aria-invalid"] = "true"

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise ValidationError(_("The period ends before it starts."))
        return data

    @property
    def segment_id(self) -> int | None:
        value = self.cleaned_data.get("segment") if self.is_valid() else None
        return None if value in (None, "", ALL_CUSTOMERS) else int(value)

    @property
    def team_id(self) -> int | None:
        value = self.cleaned_data.get("team") if self.is_valid() else None
        return int(value) if value else None

    def link_params(self) -> dict[str, str]:
        """The filters as the response list's query parameters (since, until, segment, team),
        so that a figure links to the responses behind it; empty values left out."""
        if not self.is_valid():
            return {"since": self.data["since"]} if "since" not in self.errors else {}
        data = self.cleaned_data
        out = {
            "since": data["since"] and data["since"].isoformat(),
            "until": data["until"] and data["until"].isoformat(),
            "segment": self.segment_id,
            "team": self.team_id,
        }
        return {key: str(value) for key, value in out.items() if value}
