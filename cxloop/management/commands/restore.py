"""``cxloop restore PATH [--force]``: put an archive written by ``cxloop backup`` in place of
this instance's database and data (docs/backup.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.backup import BackupError, InTerminalLanguage, Restored, restore


class Command(InTerminalLanguage, BaseCommand):
    help = gettext_lazy(
        "Restore an archive written by 'cxloop backup': the database, the data directory's "
        "files and the fact store; then apply the migrations this cxloop has beyond the "
        "archive's. Stop the server and the worker first."
    )

    # A backup (or its restore) is what one reaches for when something is wrong: no system
    # check stops it.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, metavar="PATH", help=_("the archive"))
        parser.add_argument(
            "--force",
            action="store_true",
            help=_("replace a database that already holds data"),
        )

    def handle(self, *args, path, force, **options):
        path = path.expanduser().absolute()
        try:
            restored = restore(path, force=force)
        except BackupError as error:
            raise CommandError(str(error)) from None
        for line in _report(path, restored):
            self.stdout.write(line)


def _report(path: Path, restored: Restored) -> list[str]:
    manifest = restored.manifest
    lines = [
        _("Restored %(path)s (cxloop %(version)s, %(created)s) into %(database)s.")
        % {
            "path": path,
            "version": manifest.cxloop_version,
            "created": manifest.created_at.isoformat(timespec="seconds"),
            "database": restored.database,
        },
        _("Files restored: data directory %(data)s, fact store %(facts)s.")
        % {"data": restored.data_files, "facts": restored.fact_files},
    ]
    if restored.migrations_applied:
        lines.append(
            _("Migrations newer than the archive applied: %(names)s.")
            % {"names": ", ".join(restored.migrations_applied)}
        )
    else:
        lines.append(_("The schema is this cxloop's: no migration to apply."))
    if restored.facts_rebuilt:
        lines.append(_("Fact store rebuilt from the database."))
    elif restored.fact_months_refreshed:
        lines.append(
            _("Fact store: months rewritten to match the database: %(months)s.")
            % {"months": ", ".join(restored.fact_months_refreshed)}
        )
    else:
        lines.append(_("Fact store: level with the database."))
    return lines
