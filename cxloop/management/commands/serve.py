import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


def serve(bind: str, workers: int) -> None:
    """Collect static files, then replace this process with granian serving cxloop.

    One request at a time per worker (``--blocking-threads 1``): with more threads a worker's
    requests queue on SQLite's one write lock and on the GIL, and the slowest wait seconds
    (measured in ARCHITECTURE.md). Connections are kept alive, which gunicorn's sync workers
    cannot do."""
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise CommandError(f"--bind: expected host:port, got {bind!r}")
    call_command("collectstatic", interactive=False, verbosity=0)
    argv = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        host.strip("[]"),
        "--port",
        port,
        "--workers",
        str(workers),
        "--blocking-threads",
        "1",
        "--respawn-failed-workers",
        "--access-log",
        "cxloop.wsgi:application",
    ]
    sys.stdout.flush()
    os.execv(sys.executable, argv)


class Command(BaseCommand):
    help = "Serve cxloop with granian (static files by whitenoise)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port to listen on")
        parser.add_argument("--workers", type=int, default=2, help="worker processes")

    def handle(self, *args, bind, workers, **options):
        serve(bind, workers)
