"""The CXLOOP_* parsers, and start-up stopping with one line on a malformed value."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cxloop.lib import env


def test_it_parses_booleans_strictly():
    assert env.parse_bool("CXLOOP_DEBUG", "yes", default=False) is True
    assert env.parse_bool("CXLOOP_DEBUG", "0", default=True) is False
    assert env.parse_bool("CXLOOP_DEBUG", None, default=True) is True
    with pytest.raises(env.SettingError, match="CXLOOP_DEBUG: expected true or false.*'maybe'"):
        env.parse_bool("CXLOOP_DEBUG", "maybe", default=False)


def test_it_defaults_the_database_to_sqlite_in_the_data_dir(tmp_path):
    url = env.parse_database_url("CXLOOP_DATABASE_URL", None, data_dir=tmp_path)
    assert url == env.DatabaseUrl(engine="sqlite", name=str(tmp_path / "cxloop.sqlite3"))


def test_it_parses_a_postgres_url():
    url = env.parse_database_url(
        "CXLOOP_DATABASE_URL", "postgres://cx:p%40ss@db.internal:6432/cxloop", data_dir=Path(".")
    )
    assert url == env.DatabaseUrl("postgresql", "cxloop", "cx", "p@ss", "db.internal", 6432)


@pytest.mark.parametrize(
    "value",
    ["nonsense", "mysql://u@h/db", "postgres://u@h:99999/db", "postgres://u@h/", "sqlite://"],
)
def test_it_rejects_a_malformed_database_url(value):
    with pytest.raises(env.SettingError, match="CXLOOP_DATABASE_URL: expected postgres://"):
        env.parse_database_url("CXLOOP_DATABASE_URL", value, data_dir=Path("."))


def test_it_parses_email_urls():
    smtp = env.parse_email_url("CXLOOP_EMAIL_URL", "smtp+tls://me:secret@mail.example.com")
    assert (smtp.host, smtp.port, smtp.use_tls, smtp.user) == ("mail.example.com", 587, True, "me")
    assert env.parse_email_url("CXLOOP_EMAIL_URL", None).backend == "console"
    with pytest.raises(env.SettingError, match="CXLOOP_EMAIL_URL"):
        env.parse_email_url("CXLOOP_EMAIL_URL", "pop3://mail.example.com")


def test_it_checks_hosts_base_url_and_choices():
    assert env.parse_hosts("H", "cx.example.com, localhost", default=[]) == [
        "cx.example.com",
        "localhost",
    ]
    with pytest.raises(env.SettingError, match="H: expected comma-separated"):
        env.parse_hosts("H", "a,,b", default=[])
    assert (
        env.parse_base_url("B", "https://cx.example.com/", default="") == "https://cx.example.com"
    )
    with pytest.raises(env.SettingError, match="B: expected an address"):
        env.parse_base_url("B", "cx.example.com", default="")
    with pytest.raises(env.SettingError, match="T: expected one of db, got 'celery'"):
        env.parse_choice("T", "celery", choices=("db",), default="db")


def test_it_parses_redis_urls():
    for value in ("redis://127.0.0.1:6379/2", "rediss://:pw@cache.internal", "unix:///run/r.sock"):
        assert env.parse_redis_url("R", value) == value
    assert env.parse_redis_url("R", " ") is None
    for value in ("http://cache", "redis://", "redis://h/one", "redis://h:0", "unix://"):
        with pytest.raises(env.SettingError, match="R: expected redis://"):
            env.parse_redis_url("R", value)


def test_it_parses_spark_connect_urls():
    for value in (
        "sc://127.0.0.1:15002",
        "sc://spark.internal",
        "sc://h:443/;use_ssl=true;token=t",
    ):
        assert env.parse_spark_remote("S", value) == value
    assert env.parse_spark_remote("S", "") is None
    for value in (
        "http://h:15002",
        "sc://",
        "sc://h:99999",
        "sc://u:p@h",
        "sc://h/db",
        "sc://h?x=1",
    ):
        with pytest.raises(env.SettingError, match="S: expected sc://host"):
            env.parse_spark_remote("S", value)


def test_redis_urls_get_timeouts_unless_they_name_their_own():
    assert env.with_redis_timeouts("redis://h:6379/0") == (
        "redis://h:6379/0?socket_connect_timeout=2&socket_timeout=10"
    )
    assert env.with_redis_timeouts("redis://h/0?socket_timeout=30") == (
        "redis://h/0?socket_connect_timeout=2&socket_timeout=30"
    )


def test_it_hides_a_short_secret_key_in_its_error():
    with pytest.raises(env.SettingError) as caught:
        env.parse_secret_key("CXLOOP_SECRET_KEY", "hunter2")
    assert "hunter2" not in str(caught.value)


def _cxloop(*args: str, tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CXLOOP_")}
    environment |= {"CXLOOP_DATA_DIR": str(tmp_path), **variables}
    command = [sys.executable, "-m", "cxloop.cli", *args]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("command", "variable", "value"),
    [
        ("migrate", "CXLOOP_DATABASE_URL", "nonsense"),
        ("serve", "CXLOOP_DEBUG", "maybe"),
        ("worker", "CXLOOP_REDIS_URL", "http://cache"),
        ("serve", "CXLOOP_ANALYTICS_ENGINE", "presto"),
        ("worker", "CXLOOP_SPARK_REMOTE", "spark://master:7077"),
        ("worker", "CXLOOP_FACTS_DIR", "s3a://facts/cxloop"),
        ("serve", "CXLOOP_S3_ENDPOINT", "minio:9000"),
    ],
)
def test_it_stops_start_up_with_one_line_naming_the_variable(tmp_path, command, variable, value):
    result = _cxloop(command, tmp_path=tmp_path, **{variable: value})
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"cxloop: {variable}: expected ")
    assert repr(value) in lines[0]


def test_the_redis_queue_needs_a_redis_url(tmp_path):
    result = _cxloop("worker", "--batch", tmp_path=tmp_path, CXLOOP_TASKS="rq")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "cxloop: CXLOOP_REDIS_URL: expected a Redis URL, since CXLOOP_TASKS is rq, got ''"
    )


def test_the_spark_engine_needs_a_spark_connect_url(tmp_path):
    result = _cxloop("worker", "--batch", tmp_path=tmp_path, CXLOOP_ANALYTICS_ENGINE="spark")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "cxloop: CXLOOP_SPARK_REMOTE: expected a Spark Connect URL, since "
        "CXLOOP_ANALYTICS_ENGINE is spark, got ''"
    )


def test_it_uses_sqlite_in_wal_mode_in_the_data_dir(tmp_path):
    probe = (
        "from django.db import connection; "
        "print(connection.cursor().execute('PRAGMA journal_mode').fetchone()[0])"
    )
    result = _cxloop("shell", "--verbosity", "0", "-c", probe, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"
    assert (tmp_path / "cxloop.sqlite3").exists()


def test_an_s3_fact_store_keeps_its_working_copy_in_the_data_dir(tmp_path):
    probe = "from django.conf import settings; print(settings.FACTS_URI, settings.FACTS_DIR)"
    result = _cxloop(
        "shell", "--verbosity", "0", "-c", probe, tmp_path=tmp_path,
        CXLOOP_FACTS_DIR="s3://facts/cxloop/", CXLOOP_S3_ENDPOINT="http://127.0.0.1:9000",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["s3://facts/cxloop", str((tmp_path / "facts").resolve())]
