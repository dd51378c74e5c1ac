"""Import pages: upload → map the columns → dry-run preview → import → result.

Between the steps the upload is kept under ``MEDIA_ROOT/imports`` with a random name, and the
session remembers it (with the kind, the survey and the mapping) under the same random token, so
that one user's import can be neither seen nor driven by another. The file is deleted once the
import has written; a refused import keeps it, so the user can go back and import only the valid
rows. Only the CX lead imports.
"""

import functools
import json
import re
import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cxloop.customers.imports import ATTRIBUTE
from cxloop.feedback.imports import (
    ENCODINGS,
    ColumnMapping,
    ImportConflictError,
    ImportFileError,
    ImportMapping,
    ImportResult,
    MappingError,
    Mode,
    Table,
    check_mapping,
    guess_mapping,
    kind_for,
    read_table,
    run_import,
)
from cxloop.people.queries import administers_cx
from cxloop.surveys.queries import active_surveys, survey_with_questions

SESSION_KEY = "imports"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
KEEP_ABANDONED_SECONDS = 24 * 3600
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
PREVIEW_ERRORS = 100
KEPT_IMPORTS = 10
ATTRIBUTE_CHOICE = "attribute"  # a custom attribute named after the column


def _encoding_choices() -> list[tuple[str, str]]:
    choices = [(name, label) for name, label in ENCODINGS.items() if name != "utf-8-sig"]
    return [("", _("Detect automatically"))] + choices


def cx_lead_required(view):
    @login_required
    @functools.wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not administers_cx(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


def _folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_abandoned(folder: Path) -> None:
    """Delete uploads left more than a day ago by imports nobody finished."""
    limit = time.time() - KEEP_ABANDONED_SECONDS
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        choices=[
            ("customers", gettext_lazy("Customers and their contacts")),
            ("feedback", gettext_lazy("Feedback: answers to a survey")),
        ],
        widget=forms.RadioSelect,
        initial="customers",
    )
    survey = forms.ModelChoiceField(
        queryset=active_surveys(),
        required=False,
        label=gettext_lazy("Survey (for feedback)"),
    )
    file = forms.FileField(label=gettext_lazy("CSV or XLSX file"))
    sheet = forms.CharField(
        required=False,
        max_length=100,
        label=gettext_lazy("Sheet (XLSX; the first if left empty)"),
    )
    encoding = forms.ChoiceField(
        required=False,
        choices=_encoding_choices,
        label=gettext_lazy("Encoding (CSV)"),
        help_text=gettext_lazy("Detected unless you choose; the next step shows which was used."),
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == "feedback" and not data.get("survey"):
            self.add_error("survey", _("Choose the survey the feedback answers."))
        upload = data.get("file")
        if upload is None:
            return data
        if upload.size > MAX_UPLOAD_BYTES:
            self.add_error("file", _("The file is larger than 50 MB."))
            return data
        content = upload.read()
        try:
            data["table"] = read_table(
                content,
                upload.name,
                sheet=data.get("sheet") or None,
                encoding=data.get("encoding") or None,
            )
        except ImportFileError as error:
            self.add_error("file", str(error))
        data["content"] = content
        return data


@cx_lead_required
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        folder = _folder()
        _forget_abandoned(folder)
        token = secrets.token_urlsafe(24)
        suffix = Path(data["file"].name).suffix.lower()
        stored = f"{token}{suffix if suffix in SUFFIXES else ''}"
        (folder / stored).write_bytes(data["content"])
        # the session remembers the latest few imports; older ones are abandoned
        kept = list(request.session.get(SESSION_KEY, {}).items())[-(KEPT_IMPORTS - 1) :]
        imports = dict(kept)
        imports[token] = {
            "file": stored,
            "name": data["file"].name,
            "kind": data["kind"],
            "survey": data["survey"].pk if data["survey"] else None,
            "sheet": data["sheet"] or None,
            "encoding": data["encoding"] or None,  # None: detected
            "mapping": None,
        }
        request.session[SESSION_KEY] = imports
        return redirect("import_mapping", token=token)
    return render(request, "front/import_upload.html", {"form": form})


class _Import:
    """One import in progress, as the session remembers it."""

    def __init__(self, request: HttpRequest, token: str):
        state = request.session.get(SESSION_KEY, {}).get(token) if TOKEN.fullmatch(token) else None
        if state is None:
            raise Http404(_("There is no such import in progress."))
        self.request, self.token, self.state = request, token, state
        survey = survey_with_questions(state["survey"]) if state["survey"] else None
        self.survey = survey
        self.kind = kind_for(state["kind"], survey=survey)

    @property
    def path(self) -> Path:
        return _folder() / self.state["file"]

    def table(self, *, encoding: str | None = None) -> Table:
        """The file as a table, read in ``encoding``, else in the one the user chose, else in
        the one detected."""
        if not self.path.exists():
            raise Http404(_("The uploaded file is gone: upload it again."))
        return read_table(
            self.path.read_bytes(),
            self.state["name"],
            sheet=self.state["sheet"],
            encoding=encoding or self.state.get("encoding"),
        )

    def mapping(self) -> ImportMapping | None:
        if self.state["mapping"] is None:
            return None
        return ImportMapping.from_dict(self.state["mapping"])

    def save(self, **changes) -> None:
        imports = self.request.session[SESSION_KEY]
        imports[self.token] = self.state = {**self.state, **changes}
        self.request.session.modified = True

    def context(self, **more) -> dict:
        return {"token": self.token, "name": self.state["name"], "survey": self.survey, **more}


class EncodingForm(forms.Form):
    """Read the CSV file again in another encoding, from the mapping page."""

    encoding = forms.ChoiceField(
        required=False, choices=_encoding_choices, label=gettext_lazy("Read the file as")
    )


class MappingForm(forms.Form):
    """A target and the values meaning "no answer" for each file column, by position."""

    def __init__(self, table: Table, choices: list, initial: ImportMapping, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.table = table
        mapped = {c.column: c for c in initial.columns}
        for index, column in enumerate(table.columns):
            current = mapped.get(column)
            target = current.target if current else ""
            if target.startswith(ATTRIBUTE) and target == ATTRIBUTE + column:
                target = ATTRIBUTE_CHOICE
            self.fields[f"target_{index}"] = forms.ChoiceField(
                choices=choices, required=False, initial=target, label=column
            )
            label = _("Values meaning no answer in %(column)s") % {"column": column}
            self.fields[f"none_{index}"] = forms.CharField(
                required=False,
                max_length=200,
                initial=", ".join(sorted(current.no_answer)) if current else "",
                label=label,
                widget=forms.TextInput(attrs={"aria-label": label}),
            )

    def rows(self) -> list[tuple]:
        return [
            (column, self.table.samples(i), self[f"target_{i}"], self[f"none_{i}"])
            for i, column in enumerate(self.table.columns)
        ]

    def mapping(self, sheet: str | None) -> ImportMapping:
        columns = []
        for index, column in enumerate(self.table.columns):
            target = self.cleaned_data[f"target_{index}"]
            if target == ATTRIBUTE_CHOICE:
                target = ATTRIBUTE + column
            words = self.cleaned_data[f"none_{index}"].split(",")
            no_answer = frozenset(w.strip() for w in words if w.strip())
            if target:
                columns.append(ColumnMapping(column, target, no_answer))
        return ImportMapping(tuple(columns), sheet)


def _target_choices(current: _Import) -> list:
    choices = [("", _("— leave out —"))] + list(current.kind.targets().items())
    if current.kind.name == "customers":
        choices.append((ATTRIBUTE_CHOICE, _("customer: custom attribute named after the column")))
    return choices


@cx_lead_required
def import_mapping(request: HttpRequest, token: str) -> HttpResponse:
    current = _Import(request, token)
    try:
        table = current.table()
    except ImportFileError as error:  # read once at upload; the file was changed since
        messages.error(request, str(error))
        return redirect("import_upload")
    encoding_form = EncodingForm(initial={"encoding": current.state.get("encoding") or ""})
    if request.method == "POST" and "reread" in request.POST:
        encoding_form = EncodingForm(request.POST)
        if encoding_form.is_valid():
            chosen = encoding_form.cleaned_data["encoding"] or None
            try:
                reread = read_table(
                    current.path.read_bytes(),
                    current.state["name"],
                    sheet=current.state["sheet"],
                    encoding=chosen,
                )
            except ImportFileError as error:
                encoding_form.add_error("encoding", str(error))
            else:
                # the columns may read differently: a mapping of the old names is forgotten
                same = reread.columns == table.columns
                current.save(encoding=chosen, mapping=current.state["mapping"] if same else None)
                return redirect("import_mapping", token=token)
    posted = request.POST if request.method == "POST" and "reread" not in request.POST else None
    initial = current.mapping() or guess_mapping(table, current.kind, sheet=current.state["sheet"])
    form = MappingForm(table, _target_choices(current), initial, posted)
    problems: tuple[str, ...] = ()
    if posted is not None and form.is_valid():
        mapping = form.mapping(current.state["sheet"])
        try:
            check_mapping(table, mapping, current.kind)
        except MappingError as error:
            problems = error.problems
        else:
            current.save(mapping=mapping.to_dict())
            return redirect("import_preview", token=token)
    context = current.context(
        form=form,
        problems=problems,
        rows=len(table.rows),
        table=table,
        encoding_form=encoding_form,
    )
    return render(request, "front/import_mapping.html", context)


def _mapped(current: _Import) -> ImportMapping:
    mapping = current.mapping()
    if mapping is None:
        raise Http404(_("Map the columns first."))
    return mapping


def _run(current: _Import, mode: Mode) -> tuple[Table, ImportResult]:
    table, mapping = current.table(), _mapped(current)
    result = run_import(table, mapping, current.kind, mode=mode, error_limit=PREVIEW_ERRORS)
    return table, result


@cx_lead_required
def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    """The dry run: what the import would do, and every error found."""
    current = _Import(request, token)
    try:
        table, result = _run(current, Mode.DRY_RUN)
    except (MappingError, ImportFileError) as error:  # the survey's questions changed, say
        for problem in getattr(error, "problems", [str(error)]):
            messages.error(request, problem)
        return redirect("import_mapping", token=token)
    mapping_json = json.dumps(_mapped(current).to_dict(), ensure_ascii=False, indent=2)
    context = current.context(result=result, mapping_json=mapping_json, table=table)
    return render(request, "front/import_preview.html", context)


@require_POST
@cx_lead_required
def import_run(request: HttpRequest, token: str) -> HttpResponse:
    current = _Import(request, token)
    if current.state.get("result", {}).get("written"):
        return redirect("import_result", token=token)  # sent twice: it was imported once
    mode = Mode.VALID_ONLY if request.POST.get("valid_only") else Mode.ALL_OR_NOTHING
    try:
        _table, result = _run(current, mode)
    except (MappingError, ImportFileError):
        return redirect("import_preview", token=token)  # which says what no longer fits
    except ImportConflictError as error:
        messages.error(request, str(error))
        return redirect("import_preview", token=token)
    if result.written:
        current.path.unlink(missing_ok=True)
    current.save(result=result.to_dict())
    return redirect("import_result", token=token)


@cx_lead_required
def import_result(request: HttpRequest, token: str) -> HttpResponse:
    current = _Import(request, token)
    if "result" not in current.state:
        raise Http404(_("This import has not run yet."))
    result = ImportResult.from_dict(current.state["result"])
    return render(request, "front/import_result.html", current.context(result=result))
