"""``cxloop backup`` and ``cxloop restore``, run as a user runs them: separate processes, each on a
data directory of its own (SQLite) or a fresh PostgreSQL database made and dropped here.

The instance backed up is small but real: people, customers, a journey, two surveys and their
responses recorded through the one way in, its fact store built. What is checked of a restore is
what people see: the same pages and the same API answers as the original.

Functions named ``child_*`` run in a child process (:func:`in_child`), where Django is set up on
that process's own data directory.
"""

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
LEAD = "cx.lead"
PAGES = ("/responses/", "/dashboard/", "/journey/", "/customers/")


def _environment(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    # Own data directory and database whatever the test run itself uses; English messages.
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CXLOOP_") and k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")
    }
    environment |= {"CXLOOP_DATA_DIR": str(data_dir), "LANG": "C.UTF-8"}
    if database_url:
        environment["CXLOOP_DATABASE_URL"] = database_url
    return environment


def cxloop(
    data_dir: Path, *args: str, database_url: str | None = None, **options
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cxloop.cli", *args],
        env=_environment(data_dir, database_url) | options.pop("env", {}),
        capture_output=True,
        text=True,
        timeout=120,
        **options,
    )


def _child_command(function: str, *args: str) -> list[str]:
    code = "import sys, tests.test_backup as t; t.run_child(sys.argv[1], sys.argv[2:])"
    return [sys.executable, "-c", code, function, *args]


def in_child(data_dir: Path, function: str, *args: str, database_url: str | None = None):
    """What ``function(*args)`` of this module returns, run in a child process on ``data_dir``."""
    result = subprocess.run(
        _child_command(function, *args),
        cwd=REPOSITORY,
        env=_environment(data_dir, database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def run_child(function: str, args: list[str]) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "cxloop.settings"
    import django

    django.setup()
    print(json.dumps(globals()[function](*args)), flush=True)


# In the child process


def child_build() -> dict:
    """Migrate, then build an organisation: a CX lead, two teams, customers with contacts, a
    journey, a survey with responses over six months (through the one way in) and an empty one
    for the writer of the consistency test; the fact store; an API token; a few files in the
    data directory that are state (an uploaded logo) and some that are not."""
    import random

    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.utils import timezone

    from cxloop.api.services import issue_token
    from cxloop.customers.models import Contact, Customer
    from cxloop.facts import sync
    from cxloop.feedback.services import ingest
    from cxloop.journeys.models import Journey, Stage, Touchpoint
    from cxloop.people.choices import Role
    from cxloop.people.models import Employee, Team

    call_command("migrate", interactive=False, verbosity=0)
    firm = Team.objects.create(name="Фирма", name_en="Firm")
    teams = [Team.objects.create(name=name, parent=firm) for name in ("Аудит", "Налоги")]
    lead = User.objects.create_user(LEAD, "lead@example.org", PASSWORD, first_name="Lead")
    Employee.objects.create(user=lead, team=firm, role=Role.ADMIN)
    owners = []
    for number, team in enumerate(teams):
        user = User.objects.create_user(f"partner{number}", f"p{number}@example.org", PASSWORD)
        owners.append(Employee.objects.create(user=user, team=team, role=Role.MANAGER))
    stage = Stage.objects.create(journey=Journey.objects.create(), order=1)
    kickoff = Touchpoint.objects.create(stage=stage, order=1, code="kickoff", channel="meeting")
    quiet, busy = _survey("Клиентский опрос", kickoff), _survey("Поток", kickoff)
    randomness = random.Random(7)
    now = timezone.now()
    for number in range(8):
        customer = Customer.objects.create(
            external_id=f"C-{number}", name=f"Клиент {number}", owner=owners[number % 2]
        )
        contact = Contact.objects.create(
            customer=customer, name=f"Contact {number}", email=f"c{number}@example.org"
        )
        for answer in range(6):
            score = randomness.randint(0, 10)
            ingest(
                survey=quiet,
                answers={
                    1: score,
                    2: randomness.randint(1, 5),
                    3: f"Оценка {score}: счёт {answer}",
                },
                channel="api",
                submitted_at=now - dt.timedelta(days=randomness.randint(1, 180)),
                customer=customer,
                contact=contact,
                touchpoint=kickoff,
                source_key=f"q-{number}-{answer}",
            )
    sync.rebuild()
    data_dir = Path(settings.DATA_DIR)
    for path, body in [
        ("media/brand/logo.svg", "<svg/>"),  # state: kept
        ("media/imports/unfinished.csv", "a,b"),  # an import nobody finished: left out
        ("static/site.css", "body{}"),  # collected again at every start: left out
        ("cache/entry.djcache", "x"),  # left out
    ]:
        (data_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / path).write_text(body)
    token = issue_token(lead.employee, "backup test")[1]
    return {"token": token, "quiet": quiet.pk, "busy": busy.pk}


def _survey(name: str, touchpoint):
    from cxloop.surveys.models import Question, Survey

    survey = Survey.objects.create(
        name_ru=name, name_en=name, kind="relationship", languages=["ru", "en"]
    )
    survey.touchpoints.set([touchpoint])
    for order, kind, text in [(1, "nps", "Порекомендуете?"), (2, "csat", "Довольны?")]:
        Question.objects.create(
            survey=survey, order=order, kind=kind, text_ru=text, text_en=text, required=True
        )
    Question.objects.create(survey=survey, order=3, kind="text", text_ru="Что ещё?", text_en="?")
    return survey


def child_pages(token: str, survey: str) -> dict:
    """What the CX lead sees after signing in, and what the API lists for ``survey``: each page
    with what changes from one request to the next (CSRF tokens, CSP nonces) blanked."""
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # answers the test client's host name
    browser = Client()
    signed_in = browser.post("/login/", {"username": LEAD, "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.content
    seen = {}
    for path in PAGES:
        page = browser.get(path)
        seen[path] = [page.status_code, _steady(page.content.decode())]
    seen["api"] = _api_responses(token, survey)
    return seen


def _steady(html: str) -> str:
    html = re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]*"', r'\1""', html)
    html = re.sub(r'nonce="[^"]*"', 'nonce=""', html)
    # The team filter lists teams in whatever order the database returns them: the query of
    # cxloop.people.queries.visible_teams groups rows (which drops Team's Meta.ordering) and
    # orders by nothing, and PostgreSQL's plan for a restored table differs from the original's.
    return re.sub(
        r'(<select[^>]*name="team"[^>]*>)(.*?)(</select>)',
        lambda select: (
            select[1] + "".join(sorted(re.findall(r"<option.*?</option>", select[2]))) + select[3]
        ),
        html,
        flags=re.DOTALL,
    )


def _api_responses(token: str, survey: str) -> list[dict]:
    """Every response of ``survey`` that ``GET /api/responses`` lists, page after page."""
    from django.test import Client

    api, items, cursor = Client(), [], None
    while True:
        query = {"survey_id": survey, "limit": 500} | ({"cursor": cursor} if cursor else {})
        answer = api.get("/api/responses", query, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.content
        items += answer.json()["items"]
        cursor = answer.json()["next"]
        if cursor is None:
            return items


def child_write(survey: str) -> dict:
    """Record responses to ``survey`` through the one way in from a thread, one after another,
    until a line arrives on stdin; prints "writing" once some are committed."""
    import threading

    from django.db import connection

    from cxloop.feedback.services import ingest
    from cxloop.surveys.models import Survey

    stop, written, failures = threading.Event(), [0], []

    def write() -> None:
        target = Survey.objects.get(pk=survey)
        try:
            while not stop.is_set():
                n = written[0]
                ingest(
                    survey=target,
                    answers={1: n % 11, 2: n % 5 + 1, 3: f"comment {n}"},
                    channel="api",
                    source_key=f"w-{n}",
                )
                written[0] += 1
                time.sleep(0.005)  # a busy server's pace, not a benchmark's
        except Exception as error:
            failures.append(repr(error))
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    while written[0] < 10 and writer.is_alive():
        time.sleep(0.01)
    print("writing", flush=True)
    sys.stdin.readline()
    stop.set()
    writer.join()
    return {"written": written[0], "failures": failures}


def child_fail_backup(output: str) -> dict:
    """``cxloop backup`` failing after the database is in the archive (the disk filling up
    while the fact store is copied), and asked for an archive in a folder that does not exist:
    the errors, and what the output's folder holds after."""
    from unittest import mock

    from django.core.management import CommandError, call_command

    errors = []
    with mock.patch("cxloop.backup._add_fact_store", side_effect=OSError(28, "No space left")):
        try:
            call_command("backup", output=Path(output), stdout=io.StringIO())
        except OSError as error:
            errors.append(str(error))
    try:
        call_command("backup", output=Path(output).parent / "missing" / "x.tar.gz")
    except CommandError as error:
        errors.append(str(error))
    return {"errors": errors, "left": sorted(os.listdir(Path(output).parent))}


def child_backup_migration_behind(output: str) -> str:
    """Unapply a migration that nothing depends on and that only creates tables or adds fields
    (so an archive as an older cxloop made it), then back up to ``output``; the migration, as
    app.name."""
    from django.core.management import call_command
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import AddField, CreateModel

    graph = MigrationLoader(None).graph
    app, name = next(
        key
        for key in sorted(graph.leaf_nodes())
        if not graph.node_map[key].children
        and all(isinstance(step, AddField | CreateModel) for step in graph.nodes[key].operations)
    )
    parents = [node.key[1] for node in graph.node_map[(app, name)].parents if node.key[0] == app]
    call_command("migrate", app, parents[0] if parents else "zero", verbosity=0)
    call_command("backup", output=Path(output), stdout=io.StringIO())
    return f"{app}.{name}"


def child_refusals(*archives: str) -> dict:
    """``cxloop restore --force`` of each archive: the error it stopped with, or None."""
    from django.core.management import CommandError, call_command

    refused = {}
    for archive in archives:
        try:
            call_command("restore", archive, force=True, stdout=io.StringIO())
            refused[archive] = None
        except CommandError as error:
            refused[archive] = str(error)
    return refused


# In the test process


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> dict:
    data_dir = tmp_path_factory.mktemp("original")
    return {"dir": data_dir, **in_child(data_dir, "child_build")}


@pytest.fixture(scope="module")
def quiet_archive(original, tmp_path_factory) -> Path:
    """A backup of the original at rest, written where the command is run, under its default
    name."""
    folder = tmp_path_factory.mktemp("archives")
    result = cxloop(original["dir"], "backup", cwd=folder)
    assert result.returncode == 0, result.stderr
    (archive,) = folder.iterdir()
    assert re.fullmatch(r"cxloop-backup-\d{8}-\d{6}\.tar\.gz", archive.name)
    assert f"Backup written to {archive} (" in result.stdout
    return archive


@pytest.fixture(scope="module")
def restored(quiet_archive, tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("restored")
    result = cxloop(data_dir, "restore", str(quiet_archive))
    assert result.returncode == 0, result.stderr
    assert "Fact store: level with the database." in result.stdout
    return data_dir


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))


def pages_of(*instances: tuple[Path, dict], database_urls=(None, None)) -> list[dict]:
    """The pages of each instance (its data directory and build), read at the same time."""
    with ThreadPoolExecutor(len(instances)) as pool:
        futures = [
            pool.submit(
                in_child,
                data_dir,
                "child_pages",
                built["token"],
                str(built["quiet"]),
                database_url=url,
            )
            for (data_dir, built), url in zip(instances, database_urls, strict=True)
        ]
        return [future.result() for future in futures]


def test_it_restores_an_instance_that_shows_the_same_pages(original, restored):
    before, after = pages_of((original["dir"], original), (restored, original))
    assert len(before["api"]) == 48  # the original's responses are all there is to compare
    assert "Клиент 7" in before["/customers/"][1]
    for page in (*PAGES, "api"):
        assert after[page] == before[page], page
    assert [status for status, _html in (before[page] for page in PAGES)] == [200] * len(PAGES)


def test_it_keeps_the_state_of_the_data_directory_and_leaves_out_what_is_rebuilt(
    original, quiet_archive, restored
):
    manifest = manifest_of(quiet_archive)
    assert (manifest["format"], manifest["database"]) == (
        "cxloop-backup",
        {"vendor": "sqlite", "file": "database/cxloop.sqlite3"},
    )
    assert "0001_initial" in manifest["migrations"]["surveys"]
    data = sorted(f["path"] for f in manifest["files"] if f["path"].startswith("data/"))
    assert data == ["data/media/brand/logo.svg", "data/secret_key"]
    facts = [f["path"] for f in manifest["files"] if f["path"].startswith("facts/")]
    assert "facts/manifest.json" in facts and not any("/." in path for path in facts)
    with tarfile.open(quiet_archive) as tar:
        for entry in manifest["files"]:
            body = tar.extractfile(entry["path"]).read()
            assert (len(body), hashlib.sha256(body).hexdigest()) == (
                entry["size"],
                entry["sha256"],
            ), entry["path"]
    for path in ("secret_key", "media/brand/logo.svg"):
        assert (restored / path).read_bytes() == (original["dir"] / path).read_bytes(), path
    assert not (restored / "media" / "imports").exists()
    assert os.stat(quiet_archive).st_mode & 0o077 == 0  # it holds the secret key: owner only


def test_it_copies_a_consistent_database_while_responses_are_being_written(original, tmp_path):
    live = tmp_path / "live"  # a copy, so that the other tests see the original as built
    shutil.copytree(original["dir"], live)
    database, busy = live / "cxloop.sqlite3", original["busy"]
    archive = tmp_path / "busy.tar.gz"
    writer = subprocess.Popen(
        _child_command("child_write", str(busy)),
        cwd=REPOSITORY,
        env=_environment(live),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline() == "writing\n"
        committed_before = _count(database, busy)
        backup = cxloop(live, "backup", "--output", str(archive))
        committed_after = _count(database, busy)
    finally:
        outcome = json.loads(writer.communicate("stop\n", timeout=60)[0].splitlines()[-1])
    assert backup.returncode == 0, backup.stderr
    assert outcome["failures"] == []
    assert committed_after > committed_before  # the writer kept writing through the backup

    copy = tmp_path / "restored"
    restore = cxloop(copy, "restore", str(archive))
    assert restore.returncode == 0, restore.stderr
    # The fact store, copied after the database and built before the writer began, lacked this
    # month's new responses: the restore rewrote that month.
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    assert f"Fact store: months rewritten to match the database: {month}." in restore.stdout
    with contextlib.closing(sqlite3.connect(copy / "cxloop.sqlite3")) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        keys = [
            key
            for (key,) in db.execute(
                "SELECT source_key FROM surveys_response WHERE survey_id = ? ORDER BY id", [busy]
            )
        ]
        answers = db.execute(
            "SELECT count(*) FROM surveys_answer a JOIN surveys_response r "
            "ON a.response_id = r.id WHERE r.survey_id = ?",
            [busy],
        ).fetchone()[0]
    # One writer, one transaction a response: a consistent copy holds the first k of them,
    # each whole, k between what was committed before the backup began and after it ended.
    assert committed_before <= len(keys) <= committed_after
    assert keys == [f"w-{n}" for n in range(len(keys))]
    assert answers == 3 * len(keys)


def _count(database: Path, survey: int) -> int:
    with contextlib.closing(sqlite3.connect(database, timeout=20)) as db:
        return db.execute(
            "SELECT count(*) FROM surveys_response WHERE survey_id = ?", [survey]
        ).fetchone()[0]


def test_it_applies_the_migrations_the_code_has_beyond_the_archive(original, tmp_path):
    older = tmp_path / "older"
    shutil.copytree(original["dir"], older)
    archive = tmp_path / "older.tar.gz"
    migration = in_child(older, "child_backup_migration_behind", str(archive))
    app, name = migration.split(".")
    assert name not in manifest_of(archive)["migrations"].get(app, [])
    restore = cxloop(tmp_path / "newer", "restore", str(archive))
    assert restore.returncode == 0, restore.stderr
    assert f"Migrations newer than the archive applied: {migration}." in restore.stdout
    with contextlib.closing(sqlite3.connect(tmp_path / "newer" / "cxloop.sqlite3")) as db:
        query = "SELECT count(*) FROM django_migrations WHERE app = ? AND name = ?"
        assert db.execute(query, [app, name]).fetchone() == (1,)


def _fingerprint(data_dir: Path) -> dict[str, str]:
    """Every file under ``data_dir`` and its SHA-256."""
    return {
        str(path.relative_to(data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data_dir.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def second_instance(restored, tmp_path) -> Path:
    """A copy of the restored instance: a machine whose database holds data."""
    data_dir = tmp_path / "second"
    shutil.copytree(restored, data_dir)
    return data_dir


def test_it_refuses_to_replace_a_database_that_holds_data_unless_forced(
    second_instance, quiet_archive
):
    database = second_instance / "cxloop.sqlite3"
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.execute("DELETE FROM surveys_answer")
    before = _fingerprint(second_instance)
    refused = cxloop(second_instance, "restore", str(quiet_archive))
    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert re.fullmatch(
        rf"CommandError: The database {re.escape(str(database))} already holds data \(table "
        r"\w+ has rows\); restoring would replace it\. Run again with --force to replace it\.",
        line,
    )
    assert _fingerprint(second_instance) == before
    forced = cxloop(second_instance, "restore", str(quiet_archive), "--force")
    assert forced.returncode == 0, forced.stderr
    with contextlib.closing(sqlite3.connect(database)) as db:
        answers = db.execute("SELECT count(*) FROM surveys_answer").fetchone()[0]
    assert answers == 48 * 3  # the archive's answers are back


def _rewritten(archive: Path, target: Path, change) -> Path:
    """A copy of ``archive`` whose members pass through ``change(name, body)`` (None drops)."""
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as copy:
        for member in source:
            body = change(member.name, source.extractfile(member).read())
            if body is not None:
                member.size = len(body)
                copy.addfile(member, io.BytesIO(body))
    return target


def _from_the_future(name: str, body: bytes) -> bytes:
    if name != "manifest.json":
        return body
    manifest = json.loads(body)
    manifest["cxloop_version"] = "9.0.0"
    manifest["migrations"]["surveys"].append("0099_from_the_future")
    return json.dumps(manifest).encode()


def test_it_refuses_a_damaged_or_foreign_archive_and_changes_nothing(
    second_instance, quiet_archive, tmp_path
):
    whole = quiet_archive.read_bytes()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    flipped = tmp_path / "flipped.tar.gz"
    flipped.write_bytes(whole[:1000] + bytes(b ^ 0xFF for b in whole[1000:1100]) + whole[1100:])
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        tar.add(quiet_archive, "home/someone/notes.txt")

    def tampered(name: str, body: bytes) -> bytes:
        return b"<svg>changed</svg>" if name == "data/media/brand/logo.svg" else body

    archives = {
        "truncated": (truncated, "is damaged or not a cxloop backup"),
        "flipped": (flipped, "is damaged or not a cxloop backup"),
        "foreign": (foreign, "is not a cxloop backup: it holds home/someone/notes.txt."),
        "tampered": (
            _rewritten(quiet_archive, tmp_path / "tampered.tar.gz", tampered),
            "is damaged: data/media/brand/logo.svg differs from its manifest",
        ),
        "no manifest": (
            _rewritten(
                quiet_archive,
                tmp_path / "bare.tar.gz",
                lambda name, body: None if name == "manifest.json" else body,
            ),
            "is not a cxloop backup: it has no manifest.",
        ),
        "newer schema": (
            _rewritten(quiet_archive, tmp_path / "future.tar.gz", _from_the_future),
            "comes from a newer schema (cxloop 9.0.0) than this cxloop 0.1.0 knows: "
            "migrations surveys.0099_from_the_future.",
        ),
        "missing": (tmp_path / "nowhere.tar.gz", "No backup at"),
    }
    before = _fingerprint(second_instance)
    refused = in_child(second_instance, "child_refusals", *(str(a) for a, _ in archives.values()))
    for kind, (archive, expected) in archives.items():
        assert refused[str(archive)] is not None, kind
        assert str(archive) in refused[str(archive)], kind
        assert expected in refused[str(archive)], (kind, refused[str(archive)])
    assert _fingerprint(second_instance) == before
    assert not [p for p in second_instance.iterdir() if p.name.startswith(".cxloop-restore-")]
    on_the_command_line = cxloop(second_instance, "restore", str(truncated), "--force")
    assert on_the_command_line.returncode == 1
    assert len(on_the_command_line.stderr.strip().splitlines()) == 1


def test_it_leaves_no_archive_behind_when_the_backup_fails(original, tmp_path):
    output = tmp_path / "out" / "nightly.tar.gz"
    output.parent.mkdir()
    outcome = in_child(original["dir"], "child_fail_backup", str(output))
    assert outcome["errors"] == [
        "[Errno 28] No space left",
        f"No folder {output.parent / 'missing'} to write the backup in.",
    ]
    assert outcome["left"] == []


def test_it_speaks_the_language_of_the_terminal(monkeypatch):
    from cxloop.backup import terminal_language

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    assert terminal_language() == "en"
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert terminal_language() == "ru"
    monkeypatch.setenv("LC_ALL", "C.UTF-8")  # LC_ALL overrides LANG, as in gettext
    assert terminal_language() == "en"
    monkeypatch.setenv("LANGUAGE", "ru:en")
    assert terminal_language() == "ru"


# PostgreSQL

POSTGRES_RUN = os.environ.get("CXLOOP_DATABASE_URL", "").startswith("postgres")


@pytest.fixture
def postgres_databases():
    """Two fresh, empty databases on the run's PostgreSQL server (the original's and the
    restored one's), dropped afterwards."""
    import psycopg

    if shutil.which("pg_dump") is None and not os.environ.get("CI"):
        pytest.skip("pg_dump is not installed: apt-get install postgresql-client")
    url = urlsplit(os.environ["CXLOOP_DATABASE_URL"])
    server = f"{url.scheme}://{url.netloc}"
    names = [f"cxloop_backup_{secrets.token_hex(4)}_{role}" for role in ("original", "restored")]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield [f"{server}/{name}" for name in names]
        finally:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# django_db only so that tests/conftest.py keeps it for the PostgreSQL pass: the test works in
# databases of its own, beside the run's.
@pytest.mark.django_db
@pytest.mark.skipif(
    not POSTGRES_RUN, reason="PostgreSQL: runs with CXLOOP_DATABASE_URL=postgres://…"
)
def test_it_round_trips_postgresql_through_pg_dump_and_pg_restore(postgres_databases, tmp_path):
    original_url, restored_url = postgres_databases
    original_dir, restored_dir = tmp_path / "original", tmp_path / "restored"
    built = in_child(original_dir, "child_build", database_url=original_url)
    archive = tmp_path / "pg.tar.gz"
    backup = cxloop(original_dir, "backup", "--output", str(archive), database_url=original_url)
    assert backup.returncode == 0, backup.stderr
    manifest = manifest_of(archive)
    assert manifest["database"] == {"vendor": "postgresql", "file": "database/cxloop.pgdump"}
    with ThreadPoolExecutor(3) as pool:
        restore = pool.submit(
            cxloop, restored_dir, "restore", str(archive), database_url=restored_url
        )
        onto_sqlite = pool.submit(cxloop, tmp_path / "sqlite", "restore", str(archive))
        without_pg_dump = pool.submit(
            cxloop,
            original_dir,
            "backup",
            "--output",
            str(tmp_path / "never.tar.gz"),
            database_url=original_url,
            env={"PATH": str(tmp_path / "empty")},
        )
        restore, without_pg_dump = restore.result(), without_pg_dump.result()
        onto_sqlite = onto_sqlite.result()
    assert restore.returncode == 0, restore.stderr
    assert onto_sqlite.stderr.strip().splitlines() == [
        f"CommandError: {archive} holds a PostgreSQL database; this cxloop is set up for SQLite "
        "(CXLOOP_DATABASE_URL)."
    ]
    assert not (tmp_path / "sqlite" / "cxloop.sqlite3").exists()
    before, after = pages_of(
        (original_dir, built), (restored_dir, built), database_urls=(original_url, restored_url)
    )
    assert len(before["api"]) == 48
    for page in (*PAGES, "api"):
        assert after[page] == before[page], page
    assert without_pg_dump.returncode == 1
    (line,) = without_pg_dump.stderr.strip().splitlines()
    assert re.fullmatch(
        r"CommandError: pg_dump was not found on PATH: install PostgreSQL's client programs, "
        r"of the server's version \(\d+\) or newer\.",
        line,
    )
    assert not (tmp_path / "never.tar.gz").exists()
