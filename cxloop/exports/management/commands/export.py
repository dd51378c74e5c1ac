"""``cxloop export KIND --format FORMAT --user NAME [--filter NAME=VALUE …] [--output PATH]``:
a list exported from the command line as its page would export it for that user (their scope,
the list's filters), with a progress bar on the terminal. Recorded in the audit log."""

import sys
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cxloop.audit import context
from cxloop.exports import services
from cxloop.exports.catalog import KINDS
from cxloop.exports.tables import RefusedFilters, filter_request
from cxloop.lib.tabular import FORMATS, TooManyRows


class Command(BaseCommand):
    help = "Export a list (responses, comments, cases, customers) as its page would."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("--format", dest="fmt", choices=FORMATS, default="csv")
        parser.add_argument(
            "--user",
            required=True,
            help="whose scope the list is read in (a username): what that person's page lists",
        )
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a filter of the list's page, as in its query string (repeatable)",
        )
        parser.add_argument("--output", "-o", help="the file to write (default: standard output)")

    def handle(self, *args, kind, fmt, user, filter, output, **options):
        account = get_user_model().objects.filter(username=user, is_active=True).first()
        if account is None:
            raise CommandError(f"--user: no active user called {user!r}")
        pairs = []
        for item in filter:
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise CommandError(f"--filter: expected NAME=VALUE, not {item!r}")
            pairs.append((name, value))
        request = filter_request(account, urlencode(pairs))
        export = KINDS[kind]
        try:
            table = export.read(request)
        except RefusedFilters as error:
            raise CommandError("; ".join(error.messages)) from None
        total = table.count(None)
        bar = tqdm(total=total, unit="rows", file=sys.stderr, disable=None, unit_scale=True)
        done = [0]

        def progress(rows: int) -> None:
            bar.update(rows - done[0])
            done[0] = rows

        token = context.set_actor(context.actor_of_user(account))
        try:
            if output:
                with open(output, "wb") as out:
                    rows = services.write_export(
                        export, fmt, request, out, progress=progress, table=table
                    )
            else:
                rows = services.write_export(
                    export, fmt, request, sys.stdout.buffer, progress=progress, table=table
                )
        except TooManyRows as error:
            raise CommandError(f"--format xlsx: {error}; choose csv or parquet") from None
        finally:
            context.reset(token)
            bar.close()
        self.stderr.write(f"{rows} rows of {kind} as {fmt}")
