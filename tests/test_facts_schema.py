"""The fact store's schema: docs/facts.md lists every column as cxloop/facts/schema.py defines
it; the store's paths."""

import re
from pathlib import Path

import pytest

from cxloop.facts import schema, store

DOC = (Path(__file__).resolve().parent.parent / "docs" / "facts.md").read_text(encoding="utf-8")
TABLES = {**schema.MONTHLY, **schema.WHOLE}
TYPE_NAMES = {"double": "float64"}  # Arrow prints float64 as double; the doc uses the type's name


def documented_columns(table: str) -> list[tuple[str, str, bool]]:
    """(name, type, nullable) of the rows of the table under ``### <table>`` in the doc."""
    section = DOC.split(f"### {table} ", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+?) \| (null)? ?\|", section, re.MULTILINE)
    return [(name, type_, bool(null)) for name, type_, null in rows]


@pytest.mark.parametrize("table", sorted(TABLES))
def test_it_documents_every_column_with_its_type(table):
    defined = [
        (f.name, TYPE_NAMES.get(str(f.type), str(f.type)), f.nullable) for f in TABLES[table]
    ]
    assert documented_columns(table) == defined


def test_every_column_carries_its_meaning():
    for fields in TABLES.values():
        for field in fields:
            assert schema.doc(field).strip(), field.name


def test_it_places_months_in_hive_partitions():
    assert store.month_path("answers", "2026-02", base=Path("/f")) == Path(
        "/f/answers/month=2026-02/part-0.parquet"
    )
    assert store.table_path("segments", base=Path("/f")) == Path("/f/segments.parquet")
    with pytest.raises(ValueError, match="expected a month as YYYY-MM, got '2026-2'"):
        store.month_path("answers", "2026-2")
    with pytest.raises(ValueError, match="'customers' is not partitioned by month"):
        store.month_path("customers", "2026-02")
