"""``cxloop facts rebuild|status``: rewrite the fact store from the database, or say whether it
is behind it (docs/facts.md)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cxloop.facts import queries, store, sync
from cxloop.facts.tasks import tell_refreshed


class Command(BaseCommand):
    help = (
        "The fact store, the Parquet copy of the feedback that analytics reads. 'rebuild' "
        "rewrites it from the database; 'status' shows its version and months and exits 1 when "
        "it is behind the database (completed responses per month differ) or missing."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("rebuild", help="rewrite every file from the database")
        actions.add_parser("status", help="version, months, rows; whether it is behind")

    def handle(self, *args, action, verbosity, **options):
        if action == "rebuild":
            self._rebuild(show_progress=verbosity > 0)
        else:
            self._status()

    def _rebuild(self, *, show_progress: bool) -> None:
        bar: tqdm | None = None

        def progress(month: str, months: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(
                    total=months,
                    desc="Fact store",
                    unit=" month",
                    file=sys.stderr,
                    disable=not show_progress,
                )
            bar.set_postfix_str(month, refresh=False)
            bar.update(1)

        try:
            written = sync.rebuild(progress=progress)
        finally:
            if bar is not None:
                bar.close()
        tell_refreshed(written)  # the roll-back watch follows the rebuilt store too
        self.stdout.write(
            f"Fact store rebuilt: {written.responses:,} responses, {written.answers:,} answers, "
            f"{len(written.months)} months in {written.seconds:.1f} s, "
            f"{written.bytes:,} bytes in {store.where()}"
        )

    def _status(self) -> None:
        try:
            manifest = store.read_manifest()
        except store.FactStoreError as error:
            raise CommandError(str(error)) from None
        if manifest is None:
            raise CommandError(f"No fact store in {store.where()}; run: cxloop facts rebuild")
        months = sorted(manifest.months)
        stored = {m: c.responses for m, c in manifest.months.items()}
        self.stdout.write(f"Fact store: {store.where()}")
        self.stdout.write(f"Version: {manifest.version}, written {manifest.written_at.isoformat()}")
        span = f"{months[0]} to {months[-1]}" if months else "none"
        self.stdout.write(f"Months: {len(months)} ({span})")
        self.stdout.write(
            f"Rows: {sum(stored.values()):,} responses, "
            f"{sum(c.answers for c in manifest.months.values()):,} answers, "
            f"{store.size_in_bytes():,} bytes"
        )
        database = queries.completed_by_month(list(queries.included_surveys()))
        months_known = set(stored) | set(database)
        differing = sorted(m for m in months_known if stored.get(m) != database.get(m))
        if not differing:
            self.stdout.write("Up to date with the database (completed responses per month).")
            return
        self.stdout.write("Behind the database (completed responses per month, store → database):")
        for month in differing:
            self.stdout.write(f"  {month}: {stored.get(month, 0):,} → {database.get(month, 0):,}")
        months = f"{len(differing)} month" + ("s" if len(differing) != 1 else "")
        raise CommandError(
            f"the fact store is behind the database in {months}; run: cxloop facts rebuild"
        )
