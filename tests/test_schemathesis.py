"""schemathesis over the whole OpenAPI document against a live server: ``cxloop serve`` on a
free port over the small demo (SQLite in a temporary data directory), a token of the CX lead,
``--checks all``, bounded (20 examples an operation and phase, a fixed seed: about 400 cases
in 10 s).

The one check told more: a schema-valid submission may still be refused with 422 when its
answers do not fit the survey's questions or a cursor is not one the API gave — the rules of
the domain that no schema states. Everything else (no server error, documented status codes
and content types, responses that match their schema, auth enforced) must pass.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# A batch is read whole and answered 200 with each item's own status: an item that breaks the
# schema is refused in that answer, not by the request's status.
[[operations]]
include-path = "/api/responses/batch"
checks.negative_data_rejection.expected-statuses = ["200", "400", "422"]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _schemathesis() -> str:
    beside = Path(sys.executable).parent / "schemathesis"
    found = str(beside) if beside.exists() else shutil.which("schemathesis")
    if found is None:
        if os.environ.get("CI"):
            raise RuntimeError("schemathesis is missing: pip install -e '.[test]'")
        pytest.skip("schemathesis is not installed: pip install -e '.[test]'")
    return found


def _cxloop(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "cxloop.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        **kwargs,
    )


def _wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_it_passes_schemathesis_over_the_whole_api(tmp_path):
    program = _schemathesis()
    env = {**os.environ, "CXLOOP_DATA_DIR": str(tmp_path / "data")}
    env.pop("CXLOOP_DATABASE_URL", None)  # its own SQLite: the live server shares no test DB
    _cxloop(env, "demo", "--no-serve", "--size", "small", "--seed", "3")
    made = _cxloop(env, "api_token", "create", "--username", "cx.lead", "--name", "schemathesis")
    token = made.stdout.strip().splitlines()[-1].strip()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "cxloop.cli", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"{base}/api/openapi.json", 60)
        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG)
        run = subprocess.run(
            [
                program,
                "--config-file",
                str(config),
                "run",
                f"{base}/api/openapi.json",
                "--url",
                base,
                "--checks",
                "all",
                "--max-examples",
                "20",
                "--seed",
                "9",
                "--header",
                f"Authorization: Bearer {token}",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    output = run.stdout + run.stderr
    cases = re.search(r"(\d+) generated", output)
    print(f"schemathesis: {cases.group(0) if cases else '?'} test cases")
    assert run.returncode == 0, output[-6000:]
    assert cases is not None and int(cases.group(1)) >= 100, output[-2000:]
