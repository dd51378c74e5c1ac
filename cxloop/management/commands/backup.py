"""``cxloop backup [--output PATH]``: the database, the data directory's state and the fact
store in one archive (docs/backup.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.backup import (
    VENDOR_NAMES,
    BackupError,
    InTerminalLanguage,
    archive_path,
    write_backup,
)


class Command(InTerminalLanguage, BaseCommand):
    help = gettext_lazy(
        "Write one archive holding the database (a consistent copy, taken while cxloop runs), "
        "the data directory's files and the fact store, with a manifest of them."
    )

    # A backup (or its restore) is what one reaches for when something is wrong: no system
    # check stops it.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            metavar="PATH",
            help=_(
                "the archive to write, or a folder for it; default: "
                "cxloop-backup-YYYYMMDD-HHMMSS.tar.gz in the current folder"
            ),
        )

    def handle(self, *args, output, **options):
        now = timezone.now()
        try:
            written = write_backup(archive_path(output, now), now=now)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _("Backup written to %(path)s (%(size)s).")
            % {"path": written.path, "size": filesizeformat(written.bytes)}
        )
        self.stdout.write(
            _(
                "Inside: the %(vendor)s database, data directory files: %(data)s, fact store "
                "files: %(facts)s."
            )
            % {
                "vendor": VENDOR_NAMES[written.vendor],
                "data": written.data_files,
                "facts": written.fact_files,
            }
        )
