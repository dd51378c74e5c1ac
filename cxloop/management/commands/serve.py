import ctypes
import os
import signal
import socket
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _end_with_parent() -> None:
    """In a child before it runs: the kernel sends it SIGTERM when its parent ends."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_task_worker() -> subprocess.Popen:
    """``cxloop worker`` beside the server, ended with it (this process becomes the server)."""
    return subprocess.Popen(
        [sys.executable, "-m", "cxloop.cli", "worker"], preexec_fn=_end_with_parent
    )


def split_bind(bind: str) -> tuple[str, str]:
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise CommandError(f"--bind: expected host:port, got {bind!r}")
    return host, port


def address_for(bind: str) -> str:
    """Where links in e-mails and QR codes point when cxloop serves on ``bind``:
    ``CXLOOP_BASE_URL`` where it is set, else the address served. A wildcard host (0.0.0.0, ::)
    is not an address anyone can open, so the machine's name stands for it."""
    if os.environ.get("CXLOOP_BASE_URL", "").strip():
        return settings.BASE_URL
    host, port = split_bind(bind)
    if host.strip("[]") in ("0.0.0.0", "::"):
        host = socket.getfqdn()
    return f"http://{host}:{port}"


def serve(bind: str, workers: int, *, with_task_worker: bool = False) -> None:
    """Collect static files, then replace this process with granian serving cxloop; with
    ``with_task_worker``, a task worker runs beside it (for the demo: one command runs all).

    One request at a time per worker (``--blocking-threads 1``): with more threads a worker's
    requests queue on SQLite's one write lock and on the GIL, and the slowest wait seconds
    (measured in ARCHITECTURE.md). Connections are kept alive, which gunicorn's sync workers
    cannot do."""
    host, port = split_bind(bind)
    # The server and the task worker read their settings afresh: they learn it from here.
    os.environ["CXLOOP_BASE_URL"] = address_for(bind)
    call_command("collectstatic", interactive=False, verbosity=0)
    # Files of processes that ended (the last run's) would be added up for ever; a live
    # `cxloop worker` started on its own keeps its file. Prometheus reads the drop as a reset.
    from cxloop.ops import metrics  # needs the settings, which this module's importers may not

    metrics.forget_ended_processes()
    if with_task_worker:
        start_task_worker()
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
