import csv
import io

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cxloop.customers.queries import all_segments, contacts_by_email, segment_contacts


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
