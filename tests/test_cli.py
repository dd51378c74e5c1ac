"""The ``cxloop`` command, run as a user runs it: a separate process on a fresh data directory."""

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from cxloop.demo.simulate import PASSWORD
from cxloop.management.commands.worker import NICENESS


def _environment(data_dir: Path) -> dict[str, str]:
    # SQLite in a fresh directory whatever database the test run itself uses.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CXLOOP_")}
    return environment | {"CXLOOP_DATA_DIR": str(data_dir)}


def cxloop(data_dir: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cxloop.cli", *args],
        env=_environment(data_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("demo")
    result = cxloop(data_dir, "demo", "--no-serve", "--size", "small", "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert "Demo organisation built (size small, seed 3)." in result.stdout
    return data_dir


def test_it_lists_cxloop_and_django_commands(tmp_path):
    result = cxloop(tmp_path, "help")
    assert result.returncode == 0
    for command in ("demo", "serve", "worker", "migrate", "createsuperuser"):
        assert re.search(rf"^\s+{command}$", result.stdout, re.MULTILINE), command


def test_it_prints_the_planted_truths_as_json(tmp_path):
    result = cxloop(tmp_path, "demo", "--truth", "--seed", "5", "--end-date", "2026-06-30")
    truth = json.loads(result.stdout)
    assert truth["seed"] == 5
    assert truth["end"] == "2026-06-30"
    assert truth["rollback"]["from_month"] == "2026-01"
    assert max(truth["driver_weights"], key=truth["driver_weights"].get) == "team_responsiveness"
    assert not (tmp_path / "cxloop.sqlite3").exists()  # printing the truth touches no database


def test_it_rejects_a_malformed_end_date(tmp_path):
    result = cxloop(tmp_path, "demo", "--truth", "--end-date", "yesterday")
    assert result.returncode != 0
    assert "--end-date: expected YYYY-MM-DD, got 'yesterday'" in result.stderr


def test_it_prints_the_address_and_the_demo_logins(demo_dir):
    result = cxloop(demo_dir, "demo", "--no-serve")
    assert result.returncode == 0, result.stderr
    assert "the demo was not rebuilt" in result.stdout
    assert "Address: http://127.0.0.1:8000/" in result.stdout
    assert f"password {PASSWORD}" in result.stdout
    assert re.search(r"^\s+cx\.lead\s", result.stdout, re.MULTILINE)
    assert re.search(
        r"A survey as a client sees it: http://127\.0\.0\.1:8000/o/\d+/\S+/", result.stdout
    )


def test_it_links_to_the_address_it_serves_unless_told_otherwise(demo_dir):
    bound = cxloop(demo_dir, "demo", "--no-serve", "--bind", "127.0.0.1:9123")
    assert "Address: http://127.0.0.1:9123/" in bound.stdout
    assert "A survey as a client sees it: http://127.0.0.1:9123/o/" in bound.stdout
    told = subprocess.run(
        [sys.executable, "-m", "cxloop.cli", "demo", "--no-serve", "--bind", "127.0.0.1:9123"],
        env=_environment(demo_dir) | {"CXLOOP_BASE_URL": "https://cx.example.com"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "A survey as a client sees it: https://cx.example.com/o/" in told.stdout


def test_the_demo_proposes_from_its_top_opportunity_and_watches_for_the_roll_back(demo_dir):
    # The proposal needs the fact store, the watch runs when it is rebuilt: both after the build.
    probe = (
        "from cxloop.improvements.models import Initiative, RollbackAlert; "
        "print(Initiative.objects.filter(state='proposed', started_from='opportunities').count(), "
        "sorted(RollbackAlert.objects.exclude(case=None).values_list("
        "'touchpoint__code', flat=True)))"
    )
    result = cxloop(demo_dir, "shell", "-v0", "-c", probe)
    assert result.returncode == 0, result.stderr
    proposed, watched = result.stdout.split(" ", 1)
    assert proposed == "1"
    assert "billing_accuracy" in watched


def test_it_runs_the_worker_over_an_empty_queue(demo_dir):
    result = cxloop(demo_dir, "worker", "--batch")
    assert result.returncode == 0, result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, deadline: float) -> None:
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_it_serves_the_demo_and_signs_in(demo_dir):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "cxloop.cli", "serve", "--bind", f"127.0.0.1:{port}"],
        env=_environment(demo_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"{base}/login/", time.monotonic() + 60)
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = browser.open(f"{base}/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = {"username": "cx.lead", "password": PASSWORD, "csrfmiddlewaretoken": token}
        request = urllib.request.Request(
            f"{base}/login/",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Referer": f"{base}/login/"},
        )
        home = browser.open(request)
        assert home.url == f"{base}/"
        html = home.read().decode()
        assert "Путь клиента" in html
        assert "Ежеквартальный опрос клиентов" in html
        # The survey pages show its open link and QR code with the address served.
        links = {
            link
            for path in re.findall(r'href="(/surveys/\d+/)"', html)
            for link in re.findall(
                r"https?://[^\s\"<]+/o/\d+/", browser.open(base + path).read().decode()
            )
        }
        assert links and all(link.startswith(f"{base}/o/") for link in links), links
        css = browser.open(f"{base}/static/front/cxloop.css")
        assert css.headers["Content-Type"].startswith("text/css")
    finally:
        _stop(server)


def _stop(server: subprocess.Popen) -> None:
    """End the server; granian's graceful stop may outlast a loaded CI machine's patience
    (it took over 20 s once), and what this test checks is over by now."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def test_it_ends_the_task_worker_with_the_server(demo_dir):
    """The demo's worker runs beside the server; when the server ends, so does the worker."""
    parent = subprocess.run(
        [
            sys.executable,
            "-c",
            "from cxloop.management.commands.serve import start_task_worker; "
            "print(start_task_worker().pid)",
        ],
        env=_environment(demo_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    worker = Path(f"/proc/{int(parent.stdout)}")
    deadline = time.monotonic() + 30
    while worker.exists() and "Z" not in _state(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not worker.exists() or "Z" in _state(worker)


def _state(process: Path) -> str:
    try:
        return (process / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:  # it ended between the two looks
        return "Z"


def _niceness(process: Path) -> int:
    # The 19th field of /proc/<pid>/stat; the name before it may hold spaces, hence the split.
    return int((process / "stat").read_text().rsplit(")", 1)[1].split()[16])


def test_the_worker_yields_the_cores_to_the_server(demo_dir):
    """A running worker lowers its own priority, so that requests come first on a shared box."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "cxloop.cli", "worker"],
        env=_environment(demo_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        process = Path(f"/proc/{worker.pid}")
        deadline = time.monotonic() + 60
        while _niceness(process) == ours and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _niceness(process) == min(19, ours + NICENESS)
    finally:
        _stop(worker)
