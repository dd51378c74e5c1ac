"""A foreign key's own index dropped where a composite index beginning with its column serves the
same look-ups (issue #15: every index costs each INSERT of the API's batches). DROP INDEX alone,
with Django's state told the field has none: the AlterField Django writes would copy the whole
table on SQLite and drop and re-check the foreign key over every row on PostgreSQL.

The leading underscore keeps Django's migration loader from taking this module for a migration."""

from django.db import migrations


def drop_index_of_its_own(
    model_name: str, name: str, field, *, index: str, table: str, column: str
) -> migrations.SeparateDatabaseAndState:
    """The operation that drops ``index`` of ``table.column`` and records ``field`` (the
    foreign key as it is now, ``db_index=False``) as ``model_name``'s field ``name``."""
    return migrations.SeparateDatabaseAndState(
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"',
                reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
            ),
        ],
        state_operations=[
            migrations.AlterField(model_name=model_name, name=name, field=field),
        ],
    )
