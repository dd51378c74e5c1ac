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
import sys
import tarfile
import tempfile
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
class ObjectStore:
    """An S3-compatible server the Spark server's executors read through Hadoop's ``s3a``."""

    endpoint: str  # http://host:port
    access_key: str
    secret_key: str

    def settings(self, jars: list[Path]) -> dict[str, str]:
        durations = {  # Hadoop 3.5 writes these as "60s"; hadoop-aws 3.3 reads numbers
            "threads.keepalivetime": "60",
            "connection.establish.timeout": "30000",
            "connection.timeout": "200000",
            "connection.ttl": "300000",
            "connection.acquisition.timeout": "60000",
            "connection.idle.time": "60000",
            "multipart.purge.age": "86400",
            "retry.interval": "500",
            "retry.throttle.interval": "100",
            "assumed.role.session.duration": "1800",
        }
        s3a = {
            "endpoint": self.endpoint,
            "path.style.access": "true",
            "connection.ssl.enabled": str(self.endpoint.startswith("https")).lower(),
            "aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            "access.key": self.access_key,
            "secret.key": self.secret_key,
            **durations,
        }
        return {
            "spark.jars": ",".join(map(str, jars)),
            **{f"spark.hadoop.fs.s3a.{key}": value for key, value in s3a.items()},
        }


# Hadoop's s3a connector and the AWS SDK it needs: PySpark ships neither, and Maven (their
# usual source, --packages) is not reachable here; the one PyPI package that ships them is
# SageMaker's Spark bindings (hadoop-aws 3.3.1, which reads Hadoop 3.5's stores).
S3A_PACKAGE = "sagemaker_pyspark==1.4.5"
S3A_JARS = ("hadoop-aws-3.3.1.jar", "aws-java-sdk-bundle-1.11.901.jar")


def s3a_jars(cache: Path) -> list[Path]:
    """The s3a connector's jars in ``cache``, taken from :data:`S3A_PACKAGE`'s source
    distribution (fetched from PyPI once)."""
    jars = [cache / name for name in S3A_JARS]
    if all(jar.is_file() for jar in jars):
        return jars
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download:
        fetched = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
             ":all:", "--dest", download, S3A_PACKAGE],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if fetched.returncode != 0:
            raise RuntimeError(
                f"the s3a connector's jars could not be fetched from PyPI ({S3A_PACKAGE}); "
                f"put {' and '.join(S3A_JARS)} in {cache}:\n{fetched.stderr[-2000:]}"
            )
        (archive,) = Path(download).glob("*.tar.gz")
        with tarfile.open(archive) as package:
            for member in package.getmembers():
                name = Path(member.name).name
                if name in S3A_JARS:
                    with package.extractfile(member) as jar, open(cache / name, "wb") as out:
                        shutil.copyfileobj(jar, out)
    return jars


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
    s3: tuple[ObjectStore, list[Path]] | None = None,
) -> Iterator[Server]:
    """A Spark Connect server in local mode with ``cores`` cores, until the block ends; with
    ``s3`` (the object store and :func:`s3a_jars`), its executors read ``s3a://`` there."""
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
    if s3 is not None:
        settings |= s3[0].settings(s3[1])
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
