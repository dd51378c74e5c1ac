"""Full-text search over the comments (the comment explorer, issue #14).

SQLite: an FTS5 table ``comment_search`` whose content is ``surveys_answer.text`` (external
content: the text is stored once), indexing every non-empty text answer, kept current by
triggers on ``surveys_answer`` and filled here from the answers already stored. PostgreSQL: a
GIN index on the ``russian`` text-search vector of the same answers (that configuration stems
Cyrillic words with the Russian Snowball stemmer and ASCII ones with the English one).
:mod:`cxloop.comments.search` reads both; the SQL is written out here, not imported, so that
this migration stays what it was when it ran.

A later migration that makes SQLite rebuild ``surveys_answer`` (most ALTERs of that table)
drops its triggers with the old table; it must create them again (tests/comments/test_search.py
checks they exist).
"""

from django.db import migrations

# The answers the search indexes: the explorer narrows them further (completed customer
# responses), but the index cannot follow a response's state, so it holds every comment.
INDEXED = "{row}.kind = 'text' AND {row}.text <> ''"

SQLITE_CREATE = [
    # porter wraps unicode61: English words are stemmed ("refunds" → "refund"); Cyrillic ones
    # pass through whole, and the search expands a Russian word to its every form instead.
    "CREATE VIRTUAL TABLE comment_search USING fts5(text, content='surveys_answer', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER comment_search_insert AFTER INSERT ON surveys_answer
    WHEN {INDEXED.format(row="new")} BEGIN
        INSERT INTO comment_search(rowid, text) VALUES (new.id, new.text);
    END""",
    # An external-content table forgets a row only when told the text it indexed.
    f"""CREATE TRIGGER comment_search_update_out AFTER UPDATE OF kind, text ON surveys_answer
    WHEN {INDEXED.format(row="old")} BEGIN
        INSERT INTO comment_search(comment_search, rowid, text) VALUES ('delete', old.id, old.text);
    END""",
    f"""CREATE TRIGGER comment_search_update_in AFTER UPDATE OF kind, text ON surveys_answer
    WHEN {INDEXED.format(row="new")} BEGIN
        INSERT INTO comment_search(rowid, text) VALUES (new.id, new.text);
    END""",
    f"""CREATE TRIGGER comment_search_delete AFTER DELETE ON surveys_answer
    WHEN {INDEXED.format(row="old")} BEGIN
        INSERT INTO comment_search(comment_search, rowid, text) VALUES ('delete', old.id, old.text);
    END""",
    "INSERT INTO comment_search(rowid, text) SELECT id, text FROM surveys_answer "
    f"WHERE {INDEXED.format(row='surveys_answer')}",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS comment_search_insert",
    "DROP TRIGGER IF EXISTS comment_search_update_out",
    "DROP TRIGGER IF EXISTS comment_search_update_in",
    "DROP TRIGGER IF EXISTS comment_search_delete",
    "DROP TABLE IF EXISTS comment_search",
]

PG_CREATE = [
    "CREATE INDEX comment_search ON surveys_answer "
    "USING gin (to_tsvector('russian'::regconfig, text)) "
    "WHERE kind = 'text' AND text <> ''",
]
PG_DROP = ["DROP INDEX IF EXISTS comment_search"]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_CREATE, "postgresql": PG_CREATE}.get(vendor, []):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_DROP, "postgresql": PG_DROP}.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0001_initial"),
        ("surveys", "0010_response_announced_at"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
