"""The themes of comments, for the CX lead (issue #14): the list, a theme's form with a preview
of its draft phrases on the latest comments, the spot-check of its precision, re-matching the
comments after a change (queued as a background task), and candidate themes suggested from the
comments no theme matched."""

import re
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cxloop import text
from cxloop.audit import queries as audit_queries
from cxloop.audit import services as audit
from cxloop.audit.choices import Action
from cxloop.comments import checks, preview, queries, rebuild_task, services
from cxloop.insights.theme_checks import precision, theme_precision
from cxloop.people.queries import administers_cx, employee_of

THEME_FIELDS = ("code", "name_ru", "name_en", "phrases_ru", "phrases_en", "is_active", "order")
DRAFT_FIELDS = ("name_ru", "name_en", "phrases_ru", "phrases_en")  # a new theme's form from a link
# Suggestions are read from the latest comments without a theme, among the latest enriched,
# each cut short: reading a comment's key phrases costs up to ~40 µs a character (words the
# dictionary does not know), so the request's work is bounded by 3,000 × 300 characters.
SUGGESTION_COMMENTS = 3000
SUGGESTION_SCAN = 20_000
SUGGESTION_LENGTH = 300
SUGGESTIONS = 8
SUGGESTIONS_KEPT = 600  # seconds a page of suggestions is reused while no comment arrives
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
HISTORY_ROWS = 10
VERDICTS = {"right": True, "wrong": False}


class ThemeForm(forms.Form):
    code = forms.SlugField(
        label=gettext_lazy("Code"),
        max_length=40,
        help_text=gettext_lazy("Latin letters, digits, hyphens; the theme's name in exports."),
    )
    name_ru = forms.CharField(label=gettext_lazy("Name in Russian"), max_length=120)
    name_en = forms.CharField(label=gettext_lazy("Name in English"), max_length=120)
    phrases_ru = forms.CharField(
        label=gettext_lazy("Phrases in Russian"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "One a line. Every form of a word matches (счёт: счета, счетов); "
            "“не работает” matches only when negated."
        ),
    )
    phrases_en = forms.CharField(
        label=gettext_lazy("Phrases in English"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("One a line (invoice: invoices; “not working”)."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False)
    order = forms.IntegerField(label=gettext_lazy("Order"), min_value=0, max_value=32767)

    def _lines(self, name: str) -> str:
        """One phrase a line, without blank lines or the spaces around them."""
        return "\n".join(
            line.strip() for line in self.cleaned_data[name].splitlines() if line.strip()
        )

    def clean_phrases_ru(self) -> str:
        return self._lines("phrases_ru")

    def clean_phrases_en(self) -> str:
        return self._lines("phrases_en")


def _require_cx_lead(request: HttpRequest) -> None:
    if not administers_cx(request.user):
        raise PermissionDenied


def _theme_or_404(pk: int):
    theme = queries.themes().filter(pk=pk).first()
    if theme is None:
        raise Http404
    return theme


def _not_current() -> tuple[int, int]:
    """(comments, of them not matched against the taxonomy as it is now)."""
    total, current = queries.comment_counts(text.engine_name(), queries.taxonomy().version)
    return total, total - current


@login_required
def theme_list(request: HttpRequest) -> HttpResponse:
    """Every theme with its phrases, comments matched and precision, for the CX lead. A POST
    ("Re-match comments now") queues the rebuild."""
    # The counts are of every team's comments: the CX lead's page, as the editor is.
    _require_cx_lead(request)
    if request.method == "POST":
        if request.POST.get("rematch") == "1":
            _rematch(request)
        return redirect("theme_list")
    counted = checks.counts()
    rows = [
        {
            "theme": theme,
            "phrases": len(theme.phrases),
            "counts": counted[theme.pk],
            "precision": precision(counted[theme.pk].right, counted[theme.pk].checked),
        }
        for theme in queries.themes()
    ]
    total, stale = _not_current()
    context = {
        "rows": rows,
        "total": total,
        "stale": stale,
        "rebuild_waiting": rebuild_task.waiting(),
    }
    return render(request, "front/comments/theme_list.html", context)


def _rematch(request: HttpRequest) -> None:
    if rebuild_task.enqueue():
        messages.success(
            request,
            _("Re-matching the comments is queued; the counts follow once it has run."),
        )
    else:
        messages.info(request, _("Re-matching the comments is already queued."))


@login_required
def theme_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A new theme (no ``pk``) or a change to one. "Preview" tries the draft phrases on the
    latest comments and saves nothing; "Save" stores the theme through
    :func:`cxloop.comments.services.save_theme`."""
    _require_cx_lead(request)
    theme = _theme_or_404(pk) if pk is not None else None
    if request.method == "POST" and request.POST.get("rematch") == "1":
        _rematch(request)
        return redirect(reverse("theme_edit", args=[theme.pk]) if theme else reverse("theme_list"))
    drafted, status = None, 200
    if request.method == "POST":
        form = ThemeForm(request.POST)
        if "preview" in request.POST:
            drafted = _preview(form, theme)
            status = 200 if drafted is not None else 400
        else:
            saved = _save(form, theme)
            if saved is not None:
                # The page says how many comments the change left to re-match.
                messages.success(request, _("Saved."))
                return redirect("theme_edit", saved.pk)
            status = 400
    else:
        form = ThemeForm(initial=_initial(request, theme))
    context = {"form": form, "theme": theme, "preview": drafted}
    if theme is not None:
        counted, estimate = theme_precision(theme)
        total, stale = _not_current()
        context |= {
            "counts": counted,
            "precision": estimate,
            "to_check": checks.to_check(theme),
            "history": _history(theme),
            "total": total,
            "stale": stale,
            "rebuild_waiting": rebuild_task.waiting(),
        }
    return render(request, "front/comments/theme_edit.html", context, status=status)


def _initial(request: HttpRequest, theme) -> dict:
    """A theme's saved fields; for a new one, the defaults and any draft the address carries
    (a suggested theme's phrases)."""
    if theme is not None:
        return {name: getattr(theme, name) for name in THEME_FIELDS}
    drafted = {name: request.GET[name][:5000] for name in DRAFT_FIELDS if name in request.GET}
    return {"is_active": True, "order": 0, **drafted}


@login_required
def theme_suggestions(request: HttpRequest) -> HttpResponse:
    """Candidate themes (:func:`cxloop.text.suggest_themes`) in the latest comments that no
    theme matched: each with its phrases, the comments it groups and the most typical of them,
    and a link that starts a new theme from its phrases; the CX lead takes or leaves each.
    Once a taken one is saved and the comments re-matched, its comments leave this page."""
    _require_cx_lead(request)
    comments, suggestions = _suggestions()
    rows = [
        {
            "suggestion": suggestion,
            "start": f"{reverse('theme_new')}?{urlencode(_draft_of(suggestion))}",
        }
        for suggestion in suggestions
    ]
    context = {"rows": rows, "read": len(comments), "limit": SUGGESTION_COMMENTS}
    return render(request, "front/comments/theme_suggestions.html", context)


def _suggestions() -> tuple[list[str], list[text.SuggestedTheme]]:
    """The comments read and the themes suggested from them, kept for a while per taxonomy
    and latest comment (a new comment or a changed theme makes them anew)."""
    latest = queries.customer_comments().order_by("-pk").values_list("pk", flat=True).first()
    key = f"cxloop:theme-suggestions:{queries.taxonomy().version}:{latest}"
    found = cache.get(key)
    if found is None:
        comments = queries.unthemed_comments(
            SUGGESTION_COMMENTS, scan=SUGGESTION_SCAN, length=SUGGESTION_LENGTH
        )
        found = (comments, text.suggest_themes(comments, k=SUGGESTIONS) if comments else [])
        cache.set(key, found, SUGGESTIONS_KEPT)
    return found


def _draft_of(suggestion: text.SuggestedTheme) -> dict[str, str]:
    """A new theme's fields from a suggestion: its phrases by alphabet, and the first of each
    as the name in that language."""
    russian = [phrase for phrase in suggestion.phrases if _CYRILLIC.search(phrase)]
    english = [phrase for phrase in suggestion.phrases if phrase not in russian]
    return {
        "name_ru": russian[0] if russian else "",
        "name_en": english[0] if english else "",
        "phrases_ru": "\n".join(russian),
        "phrases_en": "\n".join(english),
    }


def _preview(form: ThemeForm, theme):
    """The preview of the form's phrases, or None when the form has errors (then on it)."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        phrases = preview.draft_phrases(
            phrases_ru=data["phrases_ru"], phrases_en=data["phrases_en"]
        )
    except ValidationError as error:
        _add_errors(form, error)
        return None
    return preview.preview(phrases, theme.phrases if theme is not None else None)


def _save(form: ThemeForm, theme):
    """The theme saved with its change recorded field by field in the audit log, or None when
    the form or the service refused it (the errors are on the form; nothing is saved)."""
    if not form.is_valid():
        return None
    fields = {name: form.cleaned_data[name] for name in THEME_FIELDS}
    before = {name: getattr(theme, name) for name in THEME_FIELDS} if theme else {}
    try:
        # The matcher's own reading first: save_theme lets "не" alone through, which the
        # matcher (and so every enrichment) would refuse.
        preview.draft_phrases(phrases_ru=fields["phrases_ru"], phrases_en=fields["phrases_en"])
        with transaction.atomic():
            saved = services.save_theme(theme, **fields)
            changes = {
                name: [before.get(name), getattr(saved, name)]
                for name in THEME_FIELDS
                if before.get(name) != getattr(saved, name)
            }
            if theme is None or changes:
                audit.record(
                    Action.CREATE if theme is None else Action.CHANGE,
                    kind="theme",
                    object_id=saved.pk,
                    label=saved.code,
                    details={"changes": changes},
                )
    except ValidationError as error:
        _add_errors(form, error)
        return None
    return saved


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _history(theme) -> list[dict]:
    """The theme's audit events, newest first, each change as (field's label, before, after)."""
    labels = {name: field.label for name, field in ThemeForm.base_fields.items()}
    rows = []
    for event in audit_queries.events(kind="theme", object_id=str(theme.pk))[:HISTORY_ROWS]:
        changes = (event.details or {}).get("changes", {}) if event.action == Action.CHANGE else {}
        rows.append(
            {
                "event": event,
                "changes": [
                    (labels.get(name, name), [_shown(before), _shown(after)])
                    for name, (before, after) in changes.items()
                ],
            }
        )
    return rows


def _shown(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


@login_required
@require_POST
def theme_check(request: HttpRequest, pk: int) -> HttpResponse:
    """The CX lead's verdict on a comment the theme matched: ``answer`` (its id) and
    ``verdict`` (right or wrong)."""
    _require_cx_lead(request)
    theme = _theme_or_404(pk)
    back = reverse("theme_edit", args=[theme.pk]) + "#check"
    raw_answer, raw_verdict = request.POST.get("answer", ""), request.POST.get("verdict", "")
    if not raw_answer.isdigit():
        messages.error(
            request,
            _("answer: expected a comment's number, got “%(value)s”.") % {"value": raw_answer[:20]},
        )
        return redirect(back)
    if raw_verdict not in VERDICTS:
        messages.error(
            request,
            _("verdict: expected right or wrong, got “%(value)s”.") % {"value": raw_verdict[:20]},
        )
        return redirect(back)
    try:
        checks.record_check(
            theme, int(raw_answer), VERDICTS[raw_verdict], employee_of(request.user)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(back)
