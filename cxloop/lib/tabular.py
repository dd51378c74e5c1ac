"""A table written as a file a spreadsheet, a BI tool or a notebook opens: CSV (plain UTF-8, or
with a byte-order mark so that Excel reads Cyrillic), XLSX (typed cells, a frozen header, number
formats) or Parquet (typed columns).

Rows come in batches and are written as they come, so a table of millions of rows is never held
in memory: the CSV writer streams, openpyxl's write-only workbook spills its rows to a temporary
file, and the Parquet writer flushes one row group per :data:`PARQUET_GROUP_ROWS` rows.

Text that a spreadsheet would run as a formula is neutralised in every CSV and XLSX cell
(:func:`cxloop.lib.spreadsheet.safe_cell`); Parquet keeps the text as it is, since nothing runs
it and its readers are programs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from cxloop.lib.spreadsheet import safe_cell

TEXT, INTEGER, NUMBER, SHARE, DATE, MOMENT = "text", "integer", "number", "share", "date", "moment"
CELL_TYPES = (TEXT, INTEGER, NUMBER, SHARE, DATE, MOMENT)
# The number formats of XLSX cells by type; a column may name its own.
XLSX_FORMATS = {
    INTEGER: "0",
    NUMBER: "#,##0.00",
    SHARE: "0.0%",
    DATE: "yyyy-mm-dd",
    MOMENT: "yyyy-mm-dd hh:mm",
}
XLSX_MAX_ROWS = 1_048_575  # a sheet's 1,048,576 rows less the header
XLSX_MAX_TEXT = 32_767  # characters a cell holds; a longer text is cut, with an ellipsis
# Characters XML 1.0 forbids, which openpyxl refuses: a comment or an imported name may hold
# one (an escape pasted from a terminal); the XLSX leaves them out, the CSV keeps them.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
PARQUET_GROUP_ROWS = 65_536

FORMATS = ("csv-excel", "csv", "xlsx", "parquet")
EXTENSIONS = {"csv-excel": "csv", "csv": "csv", "xlsx": "xlsx", "parquet": "parquet"}
MEDIA_TYPES = {
    "csv-excel": "text/csv; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


@dataclass(frozen=True)
class Column:
    """A column: its header as the reader sees it, the type of its cells (one of
    :data:`CELL_TYPES`; None is an empty cell in any type) and, for XLSX, a number format
    other than the type's."""

    header: str
    type: str = TEXT
    number_format: str | None = None

    def __post_init__(self):
        if self.type not in CELL_TYPES:
            raise ValueError(f"column {self.header!r}: no cell type {self.type!r}")


class TooManyRows(ValueError):
    """More rows than the format holds (an XLSX sheet)."""

    def __init__(self, rows: int, limit: int):
        super().__init__(f"{rows} rows, more than the {limit} an XLSX sheet holds")
        self.rows, self.limit = rows, limit


Batches = Iterable[Sequence[Sequence[object]]]
Progress = Callable[[int], None]


def write_table(
    fmt: str,
    columns: Sequence[Column],
    batches: Batches,
    out: BinaryIO,
    *,
    progress: Progress | None = None,
    sheet_title: str = "",
) -> int:
    """Write the header of ``columns`` and every row of ``batches`` to ``out`` in ``fmt`` (one
    of :data:`FORMATS`); how many rows. ``progress`` is called with the rows written so far
    after each batch. Headers that repeat get " (2)", " (3)", …: a Parquet file cannot have
    two columns of one name, nor a reader tell them apart in the others."""
    columns = _unique(columns)
    if fmt == "parquet":
        return _write_parquet(columns, batches, out, progress)
    if fmt == "xlsx":
        return _write_xlsx(columns, batches, out, progress, sheet_title)
    if fmt in ("csv", "csv-excel"):
        return _write_csv(columns, batches, out, progress, byte_order_mark=fmt == "csv-excel")
    raise ValueError(f"no table format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _unique(columns: Sequence[Column]) -> list[Column]:
    seen: dict[str, int] = {}
    unique = []
    for column in columns:
        seen[column.header] = seen.get(column.header, 0) + 1
        if seen[column.header] > 1:
            column = Column(
                f"{column.header} ({seen[column.header]})", column.type, column.number_format
            )
        unique.append(column)
    return unique


def _report(progress: Progress | None, rows: int) -> None:
    if progress is not None:
        progress(rows)


def _moment_text(value: dt.date) -> str:
    return value.isoformat()


# How a CSV writes a cell of each type that is not written as Python gives it.
_CSV_CELLS = {TEXT: safe_cell, DATE: _moment_text, MOMENT: _moment_text}


def _write_csv(columns, batches, out, progress, *, byte_order_mark: bool) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8-sig" if byte_order_mark else "utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow([safe_cell(column.header) for column in columns])
    # Only the columns that need it are converted: most of a wide table is numbers.
    converted = [(i, _CSV_CELLS[c.type]) for i, c in enumerate(columns) if c.type in _CSV_CELLS]
    rows = 0
    for batch in batches:
        for row in batch:
            cells = list(row)
            for i, convert in converted:
                if cells[i] is not None:
                    cells[i] = convert(cells[i])
            writer.writerow(cells)
        rows += len(batch)
        _report(progress, rows)
    text.flush()
    text.detach()  # ``out`` stays open: it is the caller's
    return rows


def _write_xlsx(columns, batches, out, progress, sheet_title: str) -> int:
    from openpyxl import Workbook  # only an export pays for loading it
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    # Excel refuses a sheet named with any of : \ / ? * [ ] (a label such as "Cycle review:
    # next opportunities"), or longer than 31 characters.
    sheet = book.create_sheet(re.sub(r"[:\\/?*\[\]]", " ", sheet_title)[:31] or "Sheet1")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=_xlsx_text(column.header))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    formats = [column.number_format or XLSX_FORMATS.get(column.type) for column in columns]
    rows = 0
    for batch in batches:
        if rows + len(batch) > XLSX_MAX_ROWS:
            raise TooManyRows(rows + len(batch), XLSX_MAX_ROWS)
        for row in batch:
            cells = zip(row, formats, strict=True)
            sheet.append([_xlsx_cell(sheet, value, fmt) for value, fmt in cells])
        rows += len(batch)
        _report(progress, rows)
    book.save(out)
    return rows


def _xlsx_text(value: str) -> str:
    value = safe_cell(_XML_ILLEGAL.sub("", value))
    if len(value) > XLSX_MAX_TEXT:
        value = value[: XLSX_MAX_TEXT - 1] + "…"
    return value


def _xlsx_cell(sheet, value, number_format: str | None):
    from openpyxl.cell import WriteOnlyCell

    if value is None:
        return None
    if isinstance(value, str):
        return _xlsx_text(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # XLSX has no time zones: the caller gives local time
    if number_format is None:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _arrow_schema(columns):
    import pyarrow as pa

    types = {
        TEXT: pa.string(),
        INTEGER: pa.int64(),
        NUMBER: pa.float64(),
        SHARE: pa.float64(),
        DATE: pa.date32(),
        MOMENT: pa.timestamp("us", tz="UTC"),
    }
    return pa.schema([pa.field(column.header, types[column.type]) for column in columns])


def _write_parquet(columns, batches, out, progress) -> int:
    import pyarrow.parquet as pq

    schema = _arrow_schema(columns)
    rows, pending = 0, []
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in batches:
            pending.extend(batch)
            rows += len(batch)
            if len(pending) >= PARQUET_GROUP_ROWS:
                writer.write_table(_arrow_table(schema, pending))
                pending = []
            _report(progress, rows)
        if pending or not rows:
            writer.write_table(_arrow_table(schema, pending))
    return rows


def _arrow_table(schema, rows: list):
    import pyarrow as pa

    arrays = [pa.array([row[i] for row in rows], type=field.type) for i, field in enumerate(schema)]
    return pa.Table.from_arrays(arrays, schema=schema)
