import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


def serve(bind: str, workers: int) -> None:
    """Collect static files, then replace this process with gunicorn serving cxloop."""
    call_command("collectstatic", interactive=False, verbosity=0)
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "cxloop.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--preload",
    ]
    sys.stdout.flush()
    os.execv(sys.executable, argv)


class Command(BaseCommand):
    help = "Serve cxloop with gunicorn (static files by whitenoise)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port to listen on")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")

    def handle(self, *args, bind, workers, **options):
        serve(bind, workers)
