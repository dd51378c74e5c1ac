"""The fact store reads PostgreSQL through ADBC (Arrow) outside a transaction, and through
Django's cursor inside one and on SQLite; both give the same store."""

import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.db import connection, transaction
from django.test import TransactionTestCase, override_settings

from cxloop.demo.build import build_demo
from cxloop.facts import reading, store, sync
from tests.demo.test_demo import TRUTH


def test_it_numbers_djangos_placeholders_for_postgresql():
    sql = "SELECT a FROM t WHERE b IN (%s, %s) AND c LIKE '10%%' AND d = %s"
    assert reading._numbered(sql) == (
        "SELECT a FROM t WHERE b IN ($1, $2) AND c LIKE '10%' AND d = $3"
    )


@pytest.mark.parametrize(
    ("settings_dict", "uri"),
    [
        (
            {"USER": "cx", "PASSWORD": "p@ss/word", "HOST": "db.internal", "PORT": 5433},
            "postgresql://cx:p%40ss%2Fword@db.internal:5433/cx%20loop?connect_timeout=5",
        ),
        (
            {"USER": "postgres", "PASSWORD": "", "HOST": "::1", "PORT": ""},
            "postgresql://postgres@[::1]/cx%20loop?connect_timeout=5",
        ),
        (
            {"USER": "", "PASSWORD": "", "HOST": "/run/postgresql", "PORT": "5432"},
            "postgresql:///cx%20loop?connect_timeout=5&host=%2Frun%2Fpostgresql&port=5432",
        ),
    ],
)
def test_it_gives_adbc_the_database_django_uses(monkeypatch, settings_dict, uri):
    settings_dict = settings_dict | {"NAME": "cx loop", "OPTIONS": {}}
    monkeypatch.setattr(connection, "settings_dict", settings_dict)
    assert reading._uri() == uri


@pytest.mark.postgresql
class AdbcReadTests(TransactionTestCase):
    """The small demo, committed: the store rebuilt through ADBC equals the store rebuilt
    through Django's cursor (inside a transaction), file by file, schema and rows."""

    def backends(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    def test_adbc_and_the_cursor_write_the_same_store(self):
        build_demo(TRUTH, size="small", progress=False)
        through_adbc, through_cursor = (Path(tempfile.mkdtemp()) for _ in range(2))
        before = self.backends()  # other tests' connections may linger in a full run
        with override_settings(FACTS_DIR=through_adbc):
            self.assertTrue(reading.through_adbc())
            written = sync.rebuild()
        # The reads shared their connections, and none outlives the write.
        self.assertEqual(reading._IDLE, {})
        self.assertEqual(self.backends(), before)
        with override_settings(FACTS_DIR=through_cursor), transaction.atomic():
            self.assertFalse(reading.through_adbc())
            sync.rebuild()
        self.assertGreater(written.answers, 10_000)
        files = sorted(p.relative_to(through_adbc) for p in through_adbc.rglob("*.parquet"))
        self.assertIn(Path("comments/month=2025-03/part-0.parquet"), files)
        self.assertEqual(
            files, sorted(p.relative_to(through_cursor) for p in through_cursor.rglob("*.parquet"))
        )
        for name in files:
            with self.subTest(file=str(name)):
                adbc, cursor = (
                    pq.read_table(root / name) for root in (through_adbc, through_cursor)
                )
                self.assertEqual(adbc.schema, cursor.schema)
                self.assertTrue(adbc.equals(cursor))
        self.assertEqual(
            store.read_manifest(base=through_adbc).months,
            store.read_manifest(base=through_cursor).months,
        )
