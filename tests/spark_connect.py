"""A real Spark Connect server on 127.0.0.1 for the tests and benchmarks that run the insights on
Spark (``CXLOOP_ANALYTICS_ENGINE=spark``).

PySpark ships the server (``sbin/start-connect-server.sh`` and the connect jar); it needs Java
17. :func:`running` starts it in local mode in a process group of its own, waits until it
answers, and stops it with the group. In CI (``CI=true``) a missing Java fails the test loudly;
elsewhere the tests that need the server are skipped with the reason shown.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START_SECONDS = 120  # a cold JVM on a busy 2-core machine takes 10–40 s

# The quick compiler and a small collector start the JVM faster for short jobs (a benchmark
# passes its own options).
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def unavailable() -> str | None:
    """Why a server cannot be started here, or None."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed (apt-get install openjdk-17-jre-headless)"
    try:
        import pyspark.sql.connect.session  # noqa: F401  (pyspark[connect]: grpcio, zstandard)
    except ImportError as error:
        return f"PySpark's Connect client cannot be imported: {error}"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    remote: str  # its sc:// URL
    pid: int  # of its process group (the launch script, the JVM beneath)


@contextlib.contextmanager
def running(
    log: Path,
    *,
    cores: int = 1,
    memory: str = "1g",
    java_options: str = QUICK_JVM,
    partitions: int = 2,
) -> Iterator[Server]:
    """A Spark Connect server in local mode with ``cores`` cores, until the block ends."""
    import pyspark

    port = free_port()
    script = Path(pyspark.__file__).parent / "sbin" / "start-connect-server.sh"
    settings = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.memory": memory,
        "spark.driver.extraJavaOptions": java_options,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(partitions),
        "spark.default.parallelism": str(partitions),
        "spark.sql.session.timeZone": "UTC",
    }
    command = ["bash", str(script), "--wait", "--master", f"local[{cores}]"]
    for key, value in settings.items():
        command += ["--conf", f"{key}={value}"]
    environment = os.environ | {
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(log.parent),
        "SPARK_PID_DIR": str(log.parent),
    }
    with log.open("wb") as output:
        server = subprocess.Popen(
            command,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_for(port, server, log)
        yield Server(f"sc://127.0.0.1:{port}", server.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def _wait_for(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the Spark Connect server exited:\n{_tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.25)
    raise RuntimeError(
        f"the Spark Connect server did not answer in {START_SECONDS} s:\n{_tail(log)}"
    )


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]
