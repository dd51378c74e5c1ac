"""The respondent's form for one survey page, in the language that is active when it is built."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cxloop.i18n import pick
from cxloop.lib.scales import SCORE_RANGES
from cxloop.surveys.models import Question, QuestionKind

# Words at the points of each scale; the numbers stay visible beside them.
SCALE_WORDS = {
    QuestionKind.NPS: {0: _("not at all likely"), 10: _("extremely likely")},
    QuestionKind.CSAT: {
        1: _("very dissatisfied"),
        2: _("dissatisfied"),
        3: _("neutral"),
        4: _("satisfied"),
        5: _("very satisfied"),
    },
    QuestionKind.CES: {
        1: _("very difficult"),
        4: pgettext_lazy("effort", "neither"),
        7: _("very easy"),
    },
    QuestionKind.RATING: {1: _("poor"), 3: _("fair"), 5: _("excellent")},
}


def field_name(question: Question) -> str:
    return f"q{question.order}"


def _scale_choices(kind: str) -> list[tuple[str, str]]:
    low, high = SCORE_RANGES[kind]
    words = SCALE_WORDS[kind]
    return [
        (str(point), f"{point} — {words[point]}" if point in words else str(point))
        for point in range(low, high + 1)
    ]


def question_field(question: Question) -> forms.Field:
    field = _bare_field(question)
    field.kind = question.kind  # the template lays scales out by kind
    return field


def _bare_field(question: Question) -> forms.Field:
    common = {"label": question.text, "required": question.required}
    if question.kind in SCORE_RANGES:
        return forms.TypedChoiceField(
            choices=_scale_choices(question.kind), coerce=int, widget=forms.RadioSelect, **common
        )
    options = [(str(c["value"]), pick(c)) for c in question.choices]
    if question.kind == QuestionKind.SINGLE:
        return forms.ChoiceField(choices=options, widget=forms.RadioSelect, **common)
    if question.kind == QuestionKind.MULTIPLE:
        return forms.MultipleChoiceField(
            choices=options, widget=forms.CheckboxSelectMultiple, **common
        )
    return forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), **common)


class PageForm(forms.Form):
    """One page of questions; ``answers_by_id()`` gives the cleaned values keyed by question id."""

    def __init__(self, questions: list[Question], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[field_name(question)] = question_field(question)

    def answers_by_id(self) -> dict[int, object]:
        return {q.pk: self.cleaned_data.get(field_name(q)) for q in self.questions}


def initial_values(questions: list[Question], answers: dict) -> dict[str, object]:
    """Earlier answers (keyed by question number) as the form's initial data."""
    initial = {}
    for question in questions:
        answer = answers.get(question.order)
        if answer is None:
            continue
        if question.kind == QuestionKind.SINGLE:
            initial[field_name(question)] = answer.choices[0] if answer.choices else None
        elif question.kind == QuestionKind.MULTIPLE:
            initial[field_name(question)] = answer.choices
        elif question.kind == QuestionKind.TEXT:
            initial[field_name(question)] = answer.text
        else:
            initial[field_name(question)] = str(answer.score)
    return initial


def page_context(survey, form: PageForm, page: int, pages: list[int], language: str) -> dict:
    """What surveys/respond.html needs to show ``page`` of ``pages``."""
    position = pages.index(page) + 1
    return {
        "survey": survey,
        "form": form,
        "page": page,
        "position": position,
        "page_count": len(pages),
        "is_first": position == 1,
        "is_last": position == len(pages),
        "language": language,
        "other_languages": [code for code in survey.languages if code != language],
    }
