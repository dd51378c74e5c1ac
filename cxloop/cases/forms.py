"""Forms of the inquiry: the public question, the customer's reply and the specialist's answer."""

from django import forms
from django.core.validators import RegexValidator
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from cxloop.cases.inquiries import MAX_TEXT, active_topics
from cxloop.cases.models import InquiryTopic

# A name no browser fills by itself (unlike "website" or "url"), which bots fill as any field.
HONEYPOT = "leave_empty"


class TopicChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.label


def _text_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": MAX_TEXT}),
        error_messages={"required": _("Write your question, please.")},
    )


class InquiryForm(forms.Form):
    topic = TopicChoiceField(
        label=_("Topic"),
        queryset=active_topics(),
        empty_label=_("Choose a topic"),
        error_messages={
            "required": _("Choose the topic of your question."),
            "invalid_choice": _("Choose one of the topics in the list."),
        },
    )
    name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Tell us how to address you.")},
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("We send the answer here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Give the e-mail address for our answer."),
            "invalid": _("Enter an e-mail address such as name@example.com."),
        },
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=40,
        required=False,
        validators=[
            RegexValidator(
                r"^\+?[0-9 ()\-]{5,40}$",
                _("Enter a phone number of digits, spaces and + - ( ) only."),
            )
        ],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    company = forms.CharField(
        label=_("Company (optional)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    question = _text_field(_("Your question"))
    consent = forms.BooleanField(
        label=_("I agree to be contacted about my question."),
        error_messages={"required": _("We can answer only if you agree to be contacted.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["question"].help_text = _("Up to %(limit)s characters.") % {
            "limit": number_format(MAX_TEXT, force_grouping=True)
        }
        # Without JavaScript, the browser puts the cursor in the first field to correct.
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["autofocus"] = True
                break


class ReplyForm(forms.Form):
    text = _text_field(_("Your message"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].error_messages["required"] = _("Write your message first.")


class AnswerForm(forms.Form):
    text = _text_field(_("Answer to the customer"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].error_messages["required"] = _("Write the answer first.")


class TopicForm(forms.ModelForm):
    """A topic of the form as the CX lead sets it up: who answers it, and how soon."""

    class Meta:
        model = InquiryTopic
        fields = ["name_ru", "name_en", "team", "sla_policy", "order", "is_active"]
        error_messages = {
            "team": {"required": _("Choose the team of specialists who answer this topic.")},
            "sla_policy": {"required": _("Choose how soon this topic is answered.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].label_from_instance = lambda team: team.label
        self.fields["sla_policy"].label_from_instance = lambda policy: policy.label
