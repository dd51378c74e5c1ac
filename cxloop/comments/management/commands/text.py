"""``cxloop text rebuild|status``: enrich every comment that is not enriched with the current
sentiment engine and taxonomy (after either changed), or say how many are."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cxloop import text
from cxloop.comments import queries, services


class Command(BaseCommand):
    help = (
        "Comments' language, sentiment and themes. 'rebuild' enriches every comment not yet "
        "enriched with the current engine (CXLOOP_TEXT_ENGINE) and taxonomy; stopped halfway, "
        "it resumes where it was. 'status' says how many are current and exits 1 when some "
        "are not."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("rebuild", help="enrich every comment that is not current")
        actions.add_parser("status", help="how many comments are current")

    def handle(self, *args, action, verbosity, **options):
        try:
            engine = text.engine_name()
        except ValueError as error:
            raise CommandError(str(error)) from None
        if action == "rebuild":
            self._rebuild(show_progress=verbosity > 0)
        else:
            self._status(engine)

    def _rebuild(self, *, show_progress: bool) -> None:
        bar: tqdm | None = None

        def progress(done: int, to_do: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(
                    total=to_do,
                    desc="Comments",
                    unit=" comment",
                    file=sys.stderr,
                    disable=not show_progress,
                )
            bar.update(done - bar.n)

        try:
            rebuilt = services.rebuild(progress=progress)
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(f"Comments enriched: {rebuilt.comments:,} now; {rebuilt.total:,} in all.")

    def _status(self, engine: str) -> None:
        taxonomy = queries.taxonomy()
        total, current = queries.comment_counts(engine, taxonomy.version)
        self.stdout.write(
            f"Engine: {engine}; taxonomy {taxonomy.version} ({len(taxonomy.phrases)} themes)"
        )
        self.stdout.write(f"Comments: {total:,}; current: {current:,}")
        if current < total:
            raise CommandError(
                f"{total - current:,} comments are not current; run: cxloop text rebuild"
            )
