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
from cxloop.feedback.models import FaceToFaceKind
from cxloop.surveys.forms import field_name, question_field


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
        reader = csv.DictReader(io.StringIO(text))
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


class FaceToFaceForm(forms.Form):
    """A meeting with a client: what kind, with whom, when, the scores heard, notes and what was
    agreed. The scores are the questions of the interview guide."""

    FOLLOW_UPS = 3

    kind = forms.ChoiceField(choices=FaceToFaceKind.choices, label=_("Kind of meeting"))
    customer = forms.ModelChoiceField(queryset=all_customers(), label=_("Client"))
    participants = forms.CharField(
        required=False,
        label=_("Client participants' e-mails, comma-separated"),
    )
    met_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    language = forms.ChoiceField(choices=settings.LANGUAGES, label=_("Language of the meeting"))
    source = forms.CharField(required=False, max_length=200, label=_("Research agency (if any)"))
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}), label=_("Notes")
    )

    def __init__(self, guide, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.guide_questions = list(guide.questions.all())
        for question in self.guide_questions:
            self.fields[field_name(question)] = question_field(question)
        for n in range(1, self.FOLLOW_UPS + 1):
            self.fields[f"follow_up_{n}"] = forms.CharField(
                required=False, max_length=500, label=_("Agreed follow-up %(n)s") % {"n": n}
            )
            self.fields[f"due_{n}"] = forms.DateField(
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
