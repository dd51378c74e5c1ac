"""The import engine: customers, contacts and feedback from CSV and XLSX files.

The steps, the same for the pages and the ``cxloop import`` command:

1. :func:`read_table` reads the file into a :class:`Table` (a header and rows, each row numbered
   as the user sees it in the file or spreadsheet: the header is row 1).
2. An :class:`ImportMapping` says which target each file column fills (a customer field, a
   contact field, a question of the survey, the row's key…) and which values of a column mean
   "no answer"; :func:`guess_mapping` proposes one from the header names.
3. :func:`run_import` checks every cell, reports each one that does not fit as a
   :class:`RowError` (row, column, value, reason), and then, by its :class:`Mode`, writes nothing
   (dry run), writes everything or nothing (any error stops it) or writes only the valid rows
   (the user's explicit choice). Writes are in one transaction and idempotent: customers by
   external id, feedback by the row's source key, so importing a file twice changes nothing.

The two kinds of import are :class:`CustomersKind` (the rules live in
``cxloop.customers.imports``) and :class:`FeedbackKind` (rows become responses stored with
``services.ingest_many``, the bulk form of ``services.ingest``).
"""

import codecs
import csv
import datetime as dt
import enum
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from xml.etree import ElementTree

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.audit import services as audit
from cxloop.customers import imports as customer_imports
from cxloop.customers.imports import CellProblem
from cxloop.feedback.services import Feedback, ingest_many
from cxloop.lib.scales import SCORE_RANGES
from cxloop.lib.spreadsheet import first_bad_byte, guess_encoding, text_encoding
from cxloop.surveys.models import Channel, Question, QuestionKind, Response, Survey
from cxloop.surveys.services import AnswerError, clean_value

CSV_DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
SHOWN_VALUE_LENGTH = 100
WRITE_CHUNK = 2000
KEY_LENGTH = 200  # Response.source_key
# Bounds on what one file may make us read: a CSV of 10,000 columns or a workbook that unpacks
# to gigabytes is refused with a message, not read until memory or patience runs out.
MAX_ROWS = 1_000_000
MAX_COLUMNS = 400  # the mapping page posts two fields a column, under Django's 1,000 fields
MAX_UNPACKED_BYTES = 500 * 1024 * 1024  # a workbook's parts, unpacked: 1 M rows × 20 columns
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")  # <f>, <f t="shared" …/>, <x:f>

# The encodings a user may choose for a CSV file (and that detection may name), by canonical
# name (cxloop.lib.spreadsheet.text_encoding).
ENCODINGS = {
    "utf-8": gettext_lazy("UTF-8"),
    "utf-8-sig": gettext_lazy("UTF-8 with a byte-order mark"),
    "utf-16": gettext_lazy("UTF-16"),
    "utf-16-le": gettext_lazy("UTF-16 little-endian"),
    "utf-16-be": gettext_lazy("UTF-16 big-endian"),
    "utf-32": gettext_lazy("UTF-32"),
    "cp1251": gettext_lazy("Windows-1251 (Cyrillic)"),
    "koi8-r": gettext_lazy("KOI8-R (Cyrillic)"),
    "cp866": gettext_lazy("CP866 (Cyrillic, DOS)"),
    "mac-cyrillic": gettext_lazy("Mac OS Cyrillic"),
    "cp1252": gettext_lazy("Windows-1252 (Western European)"),
    "iso8859-1": gettext_lazy("ISO-8859-1 (Latin-1, Western European)"),
    "iso8859-15": gettext_lazy("ISO-8859-15 (Latin-9, Western European)"),
    "cp1250": gettext_lazy("Windows-1250 (Central European)"),
}

# progress(stage, count): ``count`` more rows are done at ``stage`` ("check" or "write").
Progress = Callable[[str, int], None]


def encoding_label(name: str) -> str:
    """The encoding called ``name`` as people know it ("cp1251" → "Windows-1251 (Cyrillic)")."""
    return str(ENCODINGS.get(name, name.upper()))


# Reading files ------------------------------------------------------------------------------


class ImportFileError(ValueError):
    """The file cannot be read as a table; the message says why, for people."""


@dataclass(frozen=True)
class Table:
    """A file's header and its non-blank rows as text, each with its row number in the file.

    ``encoding`` is the CSV text's encoding (its canonical name; "" for a workbook) and
    ``detected`` whether it was detected rather than chosen by the user. ``formulas`` holds
    the workbook cells whose formula has no saved value, by (row number, column index): their
    text is blank, and a row that maps one is refused rather than read as blank or 0.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    encoding: str = ""
    detected: bool = False
    formulas: Mapping[tuple[int, int], str] = field(default_factory=dict, compare=False)

    @property
    def encoding_label(self) -> str:
        return encoding_label(self.encoding) if self.encoding else ""

    def samples(self, index: int, count: int = 3) -> list[str]:
        """The first ``count`` non-blank values of column ``index``."""
        found = []
        for _row, cells in self.rows:
            if index < len(cells) and cells[index]:
                found.append(cells[index])
                if len(found) == count:
                    break
        return found


def read_table(
    data: bytes,
    filename: str = "",
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
) -> Table:
    """The table in ``data``: an XLSX workbook (its first sheet, or ``sheet``) or CSV text
    with any of the delimiters , ; tab |, in ``encoding`` or, without it, in the encoding
    detected (cxloop.lib.spreadsheet.guess_encoding). At most ``max_rows`` rows below the
    header and ``max_columns`` columns. Raises ImportFileError."""
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    formulas: dict[tuple[int, int], str] = {}
    chosen, detected = "", False
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
        lines = _xlsx_lines(data, sheet, formulas, max_rows, max_columns)
    else:
        text, chosen, detected = _decode(data, encoding)
        lines = _csv_lines(text, max_rows, max_columns)
    numbered = [(number, cells) for number, cells in enumerate(lines, start=1)]
    if not numbered or not any(numbered[0][1]):
        raise ImportFileError(_("The first row must name the columns; it is empty."))
    columns = _column_names(numbered[0][1])
    with_formulas = {row for row, _column in formulas}
    rows = tuple(
        (number, cells) for number, cells in numbered[1:] if any(cells) or number in with_formulas
    )
    return Table(columns, rows, chosen, detected, formulas)


def _decode(data: bytes, encoding: str | None) -> tuple[str, str, bool]:
    """The text of ``data``, the encoding it was read in and whether that was detected."""
    if encoding:
        try:
            name = text_encoding(encoding)
        except LookupError:
            raise ImportFileError(
                _("Unknown encoding %(encoding)s; known ones include: %(known)s.")
                % {"encoding": encoding, "known": ", ".join(ENCODINGS)}
            ) from None
        if name == "utf-8" and data.startswith(codecs.BOM_UTF8):
            name = "utf-8-sig"  # the mark says how the file is written; it is not a cell
    else:
        name = guess_encoding(data)
        if name is None:
            raise ImportFileError(_undetected(data))
    try:
        text = data.decode(name)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _(
                "The file cannot be read as %(encoding)s: byte %(position)s (0x%(byte)s) is "
                "not text in it. Choose another encoding."
            )
            % {
                "encoding": encoding_label(name),
                "position": error.start + 1,
                "byte": error.object[error.start : error.start + 1].hex().upper(),
            }
        ) from None
    if "\x00" in text:
        raise ImportFileError(
            _(
                "Read as %(encoding)s, the file holds a NUL character (character "
                "%(position)s): it is not CSV text in this encoding."
            )
            % {"encoding": encoding_label(name), "position": text.index("\x00") + 1}
        )
    return text, name, not encoding


def _undetected(data: bytes) -> str:
    if b"\x00" in data[:SNIFF_BYTES]:
        return _("The file is not CSV text or an XLSX workbook.")
    return _(
        "The file is not valid UTF-8 (byte %(position)s is not) and its encoding cannot be "
        "told. If it is UTF-8 that was cut or damaged, repair it; otherwise choose its "
        "encoding."
    ) % {"position": (first_bad_byte(data, "utf-8") or 0) + 1}


def _too_many_rows(limit: int) -> ImportFileError:
    return ImportFileError(
        _("The file has more than %(limit)s rows below the header; split it into smaller files.")
        % {"limit": f"{limit:,}"}
    )


def _too_many_columns(row: int, count: int, limit: int) -> ImportFileError:
    return ImportFileError(
        _(
            "Row %(row)s has %(count)s columns; at most %(limit)s can be imported. Remove the "
            "columns you do not need."
        )
        % {"row": row, "count": f"{count:,}", "limit": limit}
    )


def _csv_lines(text: str, max_rows: int, max_columns: int) -> list[tuple[str, ...]]:
    sample = text[:SNIFF_BYTES]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS)
    except csv.Error:  # one column, or too little text to tell
        dialect = csv.excel
    lines = []
    try:
        for cells in csv.reader(io.StringIO(text), dialect):
            if len(cells) > max_columns and any(cells[max_columns:]):
                raise _too_many_columns(len(lines) + 1, len(cells), max_columns)
            if len(lines) > max_rows:
                raise _too_many_rows(max_rows)
            lines.append(tuple(c.strip() for c in cells))
    except csv.Error as error:
        raise ImportFileError(
            _("The CSV file is malformed: %(error)s") % {"error": error}
        ) from None
    return lines


def _xlsx_lines(
    data: bytes,
    sheet: str | None,
    formulas: dict[tuple[int, int], str],
    max_rows: int,
    max_columns: int,
) -> list[tuple[str, ...]]:
    """The sheet's rows as text; each formula without a saved value is added to ``formulas``
    (openpyxl gives None for it, as for an empty cell)."""
    has_formulas = _unpacked_formulas(data)
    values = _open_sheet(data, sheet)
    try:
        if has_formulas:
            formulas.update(_unsaved_formulas(values, max_rows + 2))
        lines = []
        # Past the last cell, rows are left short rather than padded to the sheet's declared
        # size, which may say 16,384 columns.
        for number, row in enumerate(
            values.iter_rows(max_row=max_rows + 2, values_only=True), start=1
        ):
            if number > max_rows + 1:
                raise _too_many_rows(max_rows)
            if len(row) > max_columns and any(v is not None for v in row[max_columns:]):
                raise _too_many_columns(number, len(row), max_columns)
            lines.append(_trim(tuple(_cell_text(v) for v in row)))
        return lines
    except ImportFileError:
        raise
    except Exception as error:  # openpyxl's parsers raise what they raise on a damaged part
        raise ImportFileError(
            _("The file is not a readable XLSX workbook: %(error)s") % {"error": error}
        ) from None
    finally:
        values.parent.close()


def _unsaved_formulas(worksheet, max_row: int) -> dict[tuple[int, int], str]:
    """(row number, column index) → formula of each cell of ``worksheet`` (read only) that
    has a formula and no saved value, up to row ``max_row``. The sheet's XML is read directly:
    a second reading by openpyxl, without the saved values, took twice as long (26,000 rows ×
    24 columns: 4–6 s more)."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    found: dict[tuple[int, int], str] = {}
    row_number = column = 0
    # _get_source opens the sheet's part in the workbook's archive: openpyxl's own way in
    with worksheet._get_source() as source:
        for event, element in ElementTree.iterparse(source, events=("start", "end")):
            tag = element.tag.rpartition("}")[2]
            if event == "start":
                if tag == "row":
                    row_number = int(element.get("r") or row_number + 1)
                    column = 0
                    if row_number > max_row:
                        break
                continue
            if tag == "c":
                reference = element.get("r")
                if reference:
                    letters, row_number = coordinate_from_string(reference)
                    column = column_index_from_string(letters)
                else:
                    column += 1
                parts = {child.tag.rpartition("}")[2]: child for child in element}
                formula, value = parts.get("f"), parts.get("v", parts.get("is"))
                # an empty <v/> is no saved value, unless the formula's result is text: ""
                text_result = element.get("t") in ("str", "s", "inlineStr")
                if formula is not None and (
                    value is None or not (value.text or len(value) or text_result)
                ):
                    found[(row_number, column - 1)] = "=" + (formula.text or "…")
                element.clear()
            elif tag == "row":
                element.clear()
    return found


def _unpacked_formulas(data: bytes) -> bool:
    """Whether some worksheet of the workbook in ``data`` has a formula; refuses a workbook
    whose parts unpack to more than MAX_UNPACKED_BYTES (the sizes it declares bound what
    Python's zipfile unpacks)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            unpacked = sum(part.file_size for part in parts)
            if unpacked > MAX_UNPACKED_BYTES:
                raise ImportFileError(
                    _(
                        "The workbook unpacks to %(size)s MB, more than the %(limit)s MB "
                        "cxloop reads; save the sheet as CSV or split it."
                    )
                    % {"size": unpacked // 2**20, "limit": MAX_UNPACKED_BYTES // 2**20}
                )
            for part in parts:
                if part.filename.startswith("xl/worksheets/") and _has_formula(archive, part):
                    return True
    except ImportFileError:
        raise
    except Exception as error:  # a damaged archive raises anything from zipfile or zlib
        raise ImportFileError(
            _("The file is not a readable XLSX workbook: %(error)s") % {"error": error}
        ) from None
    return False


def _has_formula(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> bool:
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-16:]
    return False


def _open_sheet(data: bytes, sheet: str | None):
    """The worksheet to read (with its saved values, not its formulas), read only."""
    from openpyxl import load_workbook  # only XLSX imports pay for loading it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises what zipfile and its XML parser raise
        raise ImportFileError(
            _("The file is not a readable XLSX workbook: %(error)s") % {"error": error}
        ) from None
    if sheet and sheet not in workbook.sheetnames:
        workbook.close()
        raise ImportFileError(
            _("The workbook has no sheet %(sheet)s; its sheets are: %(sheets)s")
            % {"sheet": sheet, "sheets": ", ".join(workbook.sheetnames)}
        )
    if not workbook.worksheets:
        workbook.close()
        raise ImportFileError(_("The workbook has no worksheet."))
    worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    if not hasattr(worksheet, "reset_dimensions"):  # a chart sheet
        workbook.close()
        raise ImportFileError(_("The sheet %(sheet)s holds no table.") % {"sheet": worksheet.title})
    worksheet.reset_dimensions()
    return worksheet


def _trim(cells: tuple[str, ...]) -> tuple[str, ...]:
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _column_names(header: tuple[str, ...]) -> tuple[str, ...]:
    """Header cells as column names: a blank one is "column N", a repeated one gets " (2)"."""
    names: list[str] = []
    for position, cell in enumerate(_trim(header), start=1):
        name = cell or f"column {position}"
        base, copy = name, 1
        while name in names:
            copy += 1
            name = f"{base} ({copy})"
        names.append(name)
    return tuple(names)


# The mapping --------------------------------------------------------------------------------


class MappingError(ValueError):
    """The mapping cannot be used with this file; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str]):
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class ColumnMapping:
    """File column → import target; cells equal to one of ``no_answer`` count as blank."""

    column: str
    target: str
    no_answer: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ImportMapping:
    """Which target each mapped file column fills; columns not listed are ignored.

    As JSON (``to_dict``/``from_dict``), a column maps to a target or to an object::

        {"sheet": null,
         "columns": {"id": "source_key",
                     "Seat comfort": {"target": "question:7", "no_answer": ["0"]}}}
    """

    columns: tuple[ColumnMapping, ...]
    sheet: str | None = None

    def column_of(self, target: str) -> str:
        return next((c.column for c in self.columns if c.target == target), "")

    def to_dict(self) -> dict:
        columns: dict[str, object] = {}
        for c in self.columns:
            columns[c.column] = (
                {"target": c.target, "no_answer": sorted(c.no_answer)} if c.no_answer else c.target
            )
        return {"sheet": self.sheet, "columns": columns}

    @classmethod
    def from_dict(cls, data: object) -> "ImportMapping":
        if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
            raise MappingError(
                [_('A mapping is an object: {"columns": {"<column>": "<target>"}}.')]
            )
        sheet = data.get("sheet")
        if sheet is not None and not isinstance(sheet, str):
            raise MappingError([_("The sheet must be a name, got %(value)s.") % {"value": sheet}])
        columns, problems = [], []
        for column, spec in data["columns"].items():
            if isinstance(spec, str):
                spec = {"target": spec}
            no_answer = spec.get("no_answer", []) if isinstance(spec, dict) else None
            if (
                not isinstance(spec, dict)
                or not isinstance(spec.get("target"), str)
                or set(spec) - {"target", "no_answer"}
                or not isinstance(no_answer, list)
            ):
                problems.append(
                    _('Column %(column)s: write a target, or {"target": …, "no_answer": […]}.')
                    % {"column": column}
                )
                continue
            if spec["target"]:
                values = frozenset(str(v).strip() for v in no_answer)
                columns.append(ColumnMapping(column, spec["target"], values))
        if problems:
            raise MappingError(problems)
        return cls(tuple(columns), sheet or None)

    @classmethod
    def from_json(cls, text: str) -> "ImportMapping":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as error:
            raise MappingError(
                [_("The mapping is not valid JSON: %(error)s") % {"error": error}]
            ) from None


def _normal(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def guess_mapping(table: Table, kind: "Kind", *, sheet: str | None = None) -> ImportMapping:
    """A mapping of the columns whose header names a target (its label, its code or a usual
    synonym), ignoring letter case, spaces and punctuation."""
    names = kind.names()
    columns, used = [], set()
    for column in table.columns:
        target = names.get(_normal(column), "")
        if target and target not in used:
            used.add(target)
            columns.append(ColumnMapping(column, target))
    return ImportMapping(tuple(columns), sheet)


# Kinds of import ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What writing the checked rows would do: each row's status ("new", "updated",
    "unchanged"), the problems found across rows, and what ``Kind.write`` stores."""

    status: Mapping[int, str]
    problems: tuple[CellProblem, ...]
    payload: object = None


class Kind(Protocol):
    name: str

    def targets(self) -> dict[str, str]: ...  # target → label, for the mapping step

    def names(self) -> dict[str, str]: ...  # normalised header → target, for guessing

    def accepts(self, target: str) -> bool: ...

    def check_mapping(self, mapping: ImportMapping) -> list[str]: ...

    def prefetch(self, values: Mapping[str, set[str]]) -> None:
        """Load, before any row is checked, the records that the file's values of each target
        refer to (a customer's external id, a contact's e-mail), so each row is checked whole."""
        ...

    def clean_row(self, row: int, cells: Mapping[str, str]) -> tuple[object, list[CellProblem]]:
        """A row's cells (target → text, blank for no value) as a record with a ``row``
        attribute, or None and the problem of every cell that does not fit."""
        ...

    def plan(self, records: Sequence) -> Plan: ...  # reads only

    def write(self, plan: Plan, progress: Progress | None) -> None: ...


class CustomersKind:
    """Customers and contacts, one contact (or none) per row."""

    name = "customers"

    def targets(self) -> dict[str, str]:
        return customer_imports.targets()

    def names(self) -> dict[str, str]:
        names = {_normal(label): target for target, label in self.targets().items()}
        names |= {_normal(target): target for target in self.targets()}
        synonyms = {
            "external_id": ["id", "customer id", "client id", "external id", "код клиента"],
            "name": ["customer", "client", "company", "customer name", "клиент", "компания"],
            "annual_value": ["annual value", "revenue", "value", "выручка"],
            "contact_name": ["contact", "full name", "contact name", "контакт", "фио"],
            "contact_email": ["email", "e-mail", "contact email", "почта"],
            "contact_phone": ["phone", "телефон"],
            "contact_job_title": ["job title", "title", "position", "должность"],
            "contact_language": ["language", "язык"],
            "contact_consent": ["consent", "согласие"],
        }
        names |= {_normal(word): t for t, words in synonyms.items() for word in words}
        return names

    def check_mapping(self, mapping: ImportMapping) -> list[str]:
        targets = {c.target for c in mapping.columns}
        if "external_id" not in targets:
            return [_("Map a column to the customer's external id: rows are matched by it.")]
        return []

    def accepts(self, target: str) -> bool:
        return target in self.targets() or (
            target.startswith(customer_imports.ATTRIBUTE)
            and len(target) > len(customer_imports.ATTRIBUTE)
        )

    def prefetch(self, values: Mapping[str, set[str]]) -> None:
        pass  # rows refer to no other records; plan() reads the customers they match

    def clean_row(self, row: int, cells: Mapping[str, str]):
        return customer_imports.clean_row(row, cells)

    def plan(self, records: Sequence) -> Plan:
        planned = customer_imports.plan(records)
        return Plan(planned.status, planned.problems, planned)

    def write(self, plan: Plan, progress: Progress | None) -> None:
        customer_imports.save_plan(plan.payload)
        if progress:
            progress("write", len(plan.status))


QUESTION = "question:"  # "question:7" is the survey's question number 7


@dataclass(frozen=True)
class FeedbackRow:
    row: int
    answers: Mapping[int, object]  # question number → cleaned value, answered questions only
    source_key: str  # the file's id of the row; blank when it has none (a hash is used)
    fingerprint: str  # the row's mapped cells, hashed: its key when the file has no id
    submitted_at: dt.datetime | None
    customer: object  # customers.Customer or None
    contact: object  # customers.Contact or None
    language: str
    channel: str


class FeedbackKind:
    """Responses to one survey, one per row, stored with channel "import" unless a channel
    column says how the feedback was collected."""

    name = "feedback"

    def __init__(self, survey: Survey, *, now: dt.datetime | None = None):
        self.survey = survey
        self.questions: dict[int, Question] = {q.order: q for q in survey.questions.all()}
        self.now = now or timezone.now()
        self.customers: dict[str, object] = {}
        self.contacts: dict[str, list] = {}

    def targets(self) -> dict[str, str]:
        labels = {
            "source_key": _("row key (the response's id in the file)"),
            "submitted_at": _("date and time of the answer"),
            "customer": _("customer: external id"),
            "contact_email": _("contact: e-mail"),
            "language": _("language"),
            "channel": _("channel"),
        }
        for number, question in self.questions.items():
            text = question.text if len(question.text) <= 70 else question.text[:69] + "…"
            labels[f"{QUESTION}{number}"] = _("question %(number)s: %(text)s") % {
                "number": number,
                "text": text,
            }
        return labels

    def names(self) -> dict[str, str]:
        names = {_normal(label): target for target, label in self.targets().items()}
        synonyms = {
            "source_key": ["id", "key", "source key", "response id", "row id"],
            "submitted_at": ["date", "submitted", "submitted at", "time", "дата"],
            "customer": ["customer", "customer id", "client id", "external id", "клиент"],
            "contact_email": ["email", "e-mail", "почта"],
            "language": ["language", "lang", "язык"],
            "channel": ["channel", "канал"],
        }
        names |= {_normal(word): t for t, words in synonyms.items() for word in words}
        for number, question in self.questions.items():
            for text in (question.text_en, question.text_ru, f"q{number}", f"question {number}"):
                names.setdefault(_normal(text), f"{QUESTION}{number}")
        return names

    def accepts(self, target: str) -> bool:
        return target in self.targets()

    def check_mapping(self, mapping: ImportMapping) -> list[str]:
        mapped = {c.target for c in mapping.columns}
        problems = []
        if not any(t.startswith(QUESTION) for t in mapped):
            problems.append(_("Map at least one column to a question of the survey."))
        for number, question in self.questions.items():
            if question.required and f"{QUESTION}{number}" not in mapped:
                problems.append(
                    _("Question %(number)s is required: map a column to it.") % {"number": number}
                )
        return problems

    def prefetch(self, values: Mapping[str, set[str]]) -> None:
        ids, emails = values.get("customer", set()), values.get("contact_email", set())
        self.customers = customer_imports.customers_by_external_id(ids)
        self.contacts = customer_imports.contacts_by_email(emails)

    def clean_row(self, row: int, cells: Mapping[str, str]):
        problems, answers, given = [], {}, set()
        for target, raw in cells.items():
            if target.startswith(QUESTION) and raw:
                number = int(target.removeprefix(QUESTION))
                given.add(number)
                try:
                    answers[number] = clean_value(self.questions[number], raw)
                except (AnswerError, ValueError, OverflowError):  # "inf" overflows int()
                    reason = _answer_reason(self.questions[number])
                    problems.append(CellProblem(row, target, raw, reason))
        for number, question in self.questions.items():
            if question.required and number not in given:
                target = f"{QUESTION}{number}"
                problems.append(CellProblem(row, target, "", _("an answer is required")))
        if not answers and not problems:
            problems.append(CellProblem(row, "", "", _("the row answers no question")))
        key = cells.get("source_key", "")
        if len(key) > KEY_LENGTH:
            problems.append(
                CellProblem(row, "source_key", key, _("longer than %(n)s characters") % {"n": 200})
            )
        submitted_at = self._when(row, cells.get("submitted_at", ""), problems)
        language = cells.get("language", "").lower()
        if language and language not in ("ru", "en"):
            problems.append(CellProblem(row, "language", cells["language"], _("expected ru or en")))
        channel = cells.get("channel", "").lower()
        if channel and channel not in Channel.values:
            reason = _("expected one of %(values)s") % {"values": ", ".join(Channel.values)}
            problems.append(CellProblem(row, "channel", cells["channel"], reason))
        customer, contact = self._who(row, cells, problems)
        if problems:
            return None, problems
        fingerprint = json.dumps(sorted(cells.items()), ensure_ascii=False)
        return FeedbackRow(
            row=row,
            answers=answers,
            source_key=key,
            fingerprint=hashlib.sha256(fingerprint.encode()).hexdigest()[:32],
            submitted_at=submitted_at,
            customer=customer,
            contact=contact,
            language=language or (contact.language if contact else "") or self._language(),
            channel=channel or Channel.IMPORT,
        ), []

    def _when(self, row: int, raw: str, problems: list) -> dt.datetime | None:
        if not raw:
            return None
        moment = parse_moment(raw)
        if moment is None:
            reason = _("expected a date such as 2026-03-01, 2026-03-01 14:30 or 01.03.2026 14:30")
            problems.append(CellProblem(row, "submitted_at", raw, reason))
        elif moment > self.now:
            problems.append(CellProblem(row, "submitted_at", raw, _("the date is in the future")))
        return moment

    def plan(self, records: Sequence[FeedbackRow]) -> Plan:
        key_of, first_row = _row_keys(records)
        problems = [
            CellProblem(
                r.row,
                "source_key",
                r.source_key,
                _("row %(row)s has the same key") % {"row": first_row[r.source_key]},
            )
            for r in records
            if r.source_key and first_row[r.source_key] != r.row
        ]
        if problems:
            return Plan({}, tuple(problems))
        stored = _stored_keys(self.survey, list(key_of.values()))
        status = {r.row: "unchanged" if key_of[r.row] in stored else "new" for r in records}
        items = [
            Feedback(
                answers=r.answers,
                submitted_at=r.submitted_at or self.now,
                channel=r.channel,
                language=r.language,
                customer=r.customer,
                contact=r.contact,
                source_key=key_of[r.row],
            )
            for r in records
            if key_of[r.row] not in stored
        ]
        return Plan(status, (), items)

    def _who(self, row: int, cells: Mapping[str, str], problems: list) -> tuple:
        """The row's customer and contact (or None), adding the problems with finding them."""
        external_id, email = cells.get("customer", ""), cells.get("contact_email", "")
        customer = self.customers.get(external_id) if external_id else None
        if external_id and customer is None:
            reason = _("no customer has this external id")
            problems.append(CellProblem(row, "customer", external_id, reason))
        if not email:
            return customer, None
        candidates = self.contacts.get(email.lower(), [])
        if customer is not None:
            candidates = [c for c in candidates if c.customer_id == customer.pk]
        if len(candidates) == 1:
            return customer, candidates[0]
        if customer is not None and not candidates:
            reason = _("the customer has no contact with this e-mail")
        elif not candidates:
            reason = _("no contact has this e-mail")
        else:
            reason = _("contacts of several customers have this e-mail: map the customer")
        problems.append(CellProblem(row, "contact_email", email, reason))
        return customer, None

    def _language(self) -> str:
        offered = [code for code in self.survey.languages if code in ("ru", "en")]
        return offered[0] if offered else settings.LANGUAGE_CODE

    def write(self, plan: Plan, progress: Progress | None) -> None:
        items = plan.payload
        for start in range(0, len(items), WRITE_CHUNK):
            chunk = items[start : start + WRITE_CHUNK]
            ingest_many(survey=self.survey, items=chunk)
            if progress:
                progress("write", len(chunk))
        if progress and len(items) < len(plan.status):
            progress("write", len(plan.status) - len(items))


def _row_keys(records: Sequence[FeedbackRow]) -> tuple[dict[int, str], dict[str, int]]:
    """Each row's key: the file's, or one made of its fingerprint (identical rows without a key
    told apart by their count, so that the same file gives the same keys); and the first row
    of each key the file gives."""
    key_of: dict[int, str] = {}
    first_row: dict[str, int] = {}
    copies: dict[str, int] = {}
    for record in records:
        if record.source_key:
            key_of[record.row] = record.source_key
            first_row.setdefault(record.source_key, record.row)
        else:
            count = copies[record.fingerprint] = copies.get(record.fingerprint, 0) + 1
            key_of[record.row] = f"row:{record.fingerprint}" + (f"-{count}" if count > 1 else "")
    return key_of, first_row


def _stored_keys(survey: Survey, keys: Sequence[str]) -> set[str]:
    ordered, stored = sorted(set(keys)), set()
    for start in range(0, len(ordered), customer_imports.CHUNK):
        chunk = ordered[start : start + customer_imports.CHUNK]
        stored |= set(
            Response.objects.filter(survey=survey, source_key__in=chunk).values_list(
                "source_key", flat=True
            )
        )
    return stored


def _answer_reason(question: Question) -> str:
    """Why a value does not fit ``question``, in the user's language (clean_value's reasons
    are English)."""
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        values = ", ".join(sorted(str(c["value"]) for c in question.choices))
        return _("expected one of %(values)s") % {"values": values}
    if question.kind == QuestionKind.TEXT:
        return _("longer than %(n)s characters") % {"n": "5,000"}
    low, high = SCORE_RANGES[question.kind]
    return _("expected a whole number %(low)s–%(high)s") % {"low": low, "high": high}


MOMENT_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")


def parse_moment(raw: str) -> dt.datetime | None:
    """A date or date and time as people write them (ISO 8601, or 01.03.2026 14:30), aware;
    a bare date is taken at noon and a time without offset in the current time zone."""
    moment = None
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        for pattern in MOMENT_FORMATS:
            try:
                moment = dt.datetime.strptime(raw, pattern)
                break
            except ValueError:
                continue
    if moment is None:
        return None
    if moment.time() == dt.time() and len(raw) <= 10:
        moment = moment.replace(hour=12)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


# Running an import --------------------------------------------------------------------------


class Mode(enum.StrEnum):
    DRY_RUN = "dry_run"  # check and count, write nothing
    ALL_OR_NOTHING = "all"  # any error: nothing is written
    VALID_ONLY = "valid_only"  # write the valid rows, report the others


@dataclass(frozen=True)
class RowError:
    """One cell that does not fit: its row as the user sees it (the header is row 1), its
    column ("" for the row as a whole), the value and the reason."""

    row: int
    column: str
    value: str
    reason: str

    def to_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class ImportResult:
    """What an import found and did. ``new``, ``updated`` and ``unchanged`` count the valid rows
    (written, or that would be); ``invalid`` counts the rows with errors, ``errors`` holds the
    first of them (``error_count`` in all)."""

    mode: Mode
    rows: int
    new: int
    updated: int
    unchanged: int
    invalid: int
    error_count: int
    errors: tuple[RowError, ...]
    written: bool

    @property
    def stopped(self) -> bool:
        """Whether errors kept the import from writing (or would, without valid-only)."""
        return self.invalid > 0 and self.mode != Mode.VALID_ONLY

    def to_dict(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return data | {"mode": str(self.mode), "errors": [e.to_dict() for e in self.errors]}

    @classmethod
    def from_dict(cls, data: Mapping) -> "ImportResult":
        errors = tuple(RowError(**e) for e in data["errors"])
        return cls(**{**data, "mode": Mode(data["mode"]), "errors": errors})


@dataclass
class _Checked:
    records: list = field(default_factory=list)
    errors: list = field(default_factory=list)


def check_mapping(table: Table, mapping: ImportMapping, kind: Kind) -> None:
    """Raise MappingError naming every column or target that cannot be used."""
    problems, seen = [], {}
    for c in mapping.columns:
        if c.column not in table.columns:
            problems.append(
                _("The file has no column %(column)s; its columns are: %(columns)s")
                % {"column": c.column, "columns": ", ".join(table.columns)}
            )
        if not kind.accepts(c.target):
            problems.append(
                _("Column %(column)s: unknown target %(target)s.")
                % {"column": c.column, "target": c.target}
            )
        if c.target in seen:
            problems.append(
                _("Columns %(first)s and %(second)s both fill %(target)s.")
                % {"first": seen[c.target], "second": c.column, "target": c.target}
            )
        seen.setdefault(c.target, c.column)
    problems += kind.check_mapping(mapping)
    if problems:
        raise MappingError(problems)


def _check_rows(
    table: Table, mapping: ImportMapping, kind: Kind, progress: Progress | None
) -> _Checked:
    positions = [(table.columns.index(c.column), c) for c in mapping.columns]
    kind.prefetch(_values(table, positions))
    width = len(table.columns)
    checked = _Checked()
    for done, (row, cells) in enumerate(table.rows, start=1):
        values = {}
        for position, c in positions:
            value = cells[position] if position < len(cells) else ""
            values[c.target] = "" if value in c.no_answer else value
        record, problems = kind.clean_row(row, values)
        # A formula without a saved value reads as blank: the formula is the error, not the
        # blank ("an answer is required").
        unsaved = {
            c.target: RowError(row, c.column, _shown(f"={formula.lstrip('=')}"), _unsaved())
            for position, c in positions
            if (formula := table.formulas.get((row, position))) is not None
        }
        checked.errors += [_row_error(p, mapping) for p in problems if p.target not in unsaved]
        checked.errors += unsaved.values()
        extra = [cell for cell in cells[width:] if cell]
        if extra:
            reason = _("the row has more cells than the header has columns")
            checked.errors.append(RowError(row, "", _shown(extra[0]), reason))
        elif record is not None and not unsaved:
            checked.records.append(record)
        if progress and (done % 1000 == 0 or done == len(table.rows)):
            progress("check", done % 1000 or 1000)
    return checked


def _unsaved() -> str:
    return _(
        "the formula has no saved value: open the file in Excel or LibreOffice, let it "
        "calculate and save it, or type the value"
    )


def _values(table: Table, positions: list[tuple[int, ColumnMapping]]) -> dict[str, set[str]]:
    """The distinct values of each mapped target in the file, "no answer" left out."""
    values: dict[str, set[str]] = {c.target: set() for _position, c in positions}
    for _row, cells in table.rows:
        for position, c in positions:
            if position < len(cells) and cells[position] not in c.no_answer:
                values[c.target].add(cells[position])
    return {target: found - {""} for target, found in values.items()}


def _row_error(problem: CellProblem, mapping: ImportMapping) -> RowError:
    column = mapping.column_of(problem.target) if problem.target else ""
    return RowError(problem.row, column, _shown(problem.value), problem.reason)


def _shown(value: str) -> str:
    return value if len(value) <= SHOWN_VALUE_LENGTH else value[: SHOWN_VALUE_LENGTH - 1] + "…"


def _plan(kind: Kind, checked: _Checked, mapping: ImportMapping) -> Plan:
    """Plan the valid rows; rows the plan finds problems with (across rows, or against the
    database) join the errors and the rest are planned again, until no problem is left."""
    while True:
        plan = kind.plan(checked.records)
        if not plan.problems:
            return plan
        checked.errors += [_row_error(p, mapping) for p in plan.problems]
        bad = {p.row for p in plan.problems}
        checked.records = [r for r in checked.records if r.row not in bad]


def run_import(
    table: Table,
    mapping: ImportMapping,
    kind: Kind,
    *,
    mode: Mode,
    error_limit: int = 100,
    progress: Progress | None = None,
) -> ImportResult:
    """Check every row of ``table`` and, by ``mode``, write nothing, everything (only when no row
    has an error) or the valid rows, in one transaction. Raises MappingError first when the
    mapping does not fit the file or the kind, and ImportConflictError, having written nothing,
    when another import stored the same records at the same moment."""
    check_mapping(table, mapping, kind)
    checked = _check_rows(table, mapping, kind, progress)
    if mode == Mode.DRY_RUN:
        return _result(mode, table, _plan(kind, checked, mapping), checked, error_limit, False)
    try:
        with transaction.atomic():
            plan = _plan(kind, checked, mapping)
            write = not checked.errors or mode == Mode.VALID_ONLY
            if write:
                kind.write(plan, progress)
                # In the import's transaction: an import that rolls back leaves no event.
                audit.record(
                    "import",
                    kind=kind.name,
                    details={"rows": len(table.rows), "mode": str(mode), **_counts(plan)},
                )
    except IntegrityError as error:
        raise ImportConflictError(
            _(
                "Another import stored some of these records at the same moment, so nothing "
                "was written; run the import again."
            )
        ) from error
    return _result(mode, table, plan, checked, error_limit, write)


class ImportConflictError(ValueError):
    """A simultaneous import won the race for some records; this one wrote nothing."""


def _counts(plan) -> dict[str, int]:
    statuses = list(plan.status.values())
    return {status: statuses.count(status) for status in ("new", "updated", "unchanged")}


def _result(mode, table, plan, checked, error_limit, written) -> ImportResult:
    errors = sorted(checked.errors, key=lambda e: (e.row, e.column, e.reason))
    return ImportResult(
        mode=mode,
        rows=len(table.rows),
        **_counts(plan),
        invalid=len({e.row for e in errors}),
        error_count=len(errors),
        errors=tuple(errors[:error_limit]),
        written=written,
    )


def kind_for(name: str, *, survey: Survey | None = None) -> Kind:
    """The kind of import called ``name`` ("customers" or "feedback", which needs ``survey``)."""
    if name == CustomersKind.name:
        return CustomersKind()
    if name == FeedbackKind.name:
        if survey is None:
            raise MappingError([_("Choose the survey the feedback answers.")])
        return FeedbackKind(survey)
    raise MappingError([_("Unknown kind of import %(name)s.") % {"name": name}])
