"""``cxloop facts rebuild|status``, and the demo starting with its data in the fact store."""

import datetime as dt
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command

from cxloop.facts import store
from cxloop.feedback.services import Feedback, ingest_many
from tests.test_facts_sync import FEB, FactData

SUMMARY = re.compile(
    r"^Fact store rebuilt: (?P<responses>[\d,]+) responses, (?P<answers>[\d,]+) answers, "
    r"(?P<months>\d+) months in \d+\.\d s, (?P<bytes>[\d,]+) bytes in (?P<path>.+)$"
)


def facts(*args: str) -> str:
    out = StringIO()
    call_command("facts", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def number(text: str) -> int:
    return int(text.replace(",", ""))


class FactsCommandTests(FactData):
    def test_it_rebuilds_and_prints_a_one_line_summary(self):
        output = facts("rebuild")
        match = SUMMARY.match(output.strip())
        self.assertIsNotNone(match, output)
        self.assertEqual(
            (number(match["responses"]), number(match["answers"]), int(match["months"])),
            (5, 11, 2),
        )
        self.assertEqual(Path(match["path"]), self.root)
        parquet = sum(p.stat().st_size for p in self.root.rglob("*.parquet"))
        self.assertEqual(number(match["bytes"]), parquet)
        self.assertEqual(set(store.read_manifest().months), {"2026-01", "2026-02"})

    def test_it_reports_a_store_in_step_with_the_database(self):
        facts("rebuild")
        output = facts("status")
        self.assertIn(f"Fact store: {self.root}\n", output)
        self.assertIn(f"Version: {store.read_manifest().version}, written 20", output)
        self.assertIn("Months: 2 (2026-01 to 2026-02)\n", output)
        self.assertIn("Rows: 5 responses, 11 answers, ", output)
        self.assertIn("Up to date with the database", output)

    def test_it_says_when_the_store_is_behind_the_database(self):
        facts("rebuild")
        ingest_many(survey=self.survey, items=[Feedback({1: 8}, FEB, "api", customer=self.acme)])
        march = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
        ingest_many(survey=self.survey, items=[Feedback({1: 8}, march, "api")])
        out = StringIO()
        with self.assertRaisesMessage(
            CommandError, "the fact store is behind the database in 2 months; run: cxloop facts"
        ):
            call_command("facts", "status", stdout=out)
        self.assertIn("  2026-02: 3 → 4\n  2026-03: 0 → 1\n", out.getvalue())
        self.assertNotIn("2026-01:", out.getvalue())

    def test_it_says_when_there_is_no_store(self):
        with self.assertRaisesMessage(
            CommandError, f"No fact store in {self.root}; run: cxloop facts rebuild"
        ):
            facts("status")


# As a user runs it: separate processes on a fresh data directory ------------------------------


def cxloop(data_dir: Path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    # SQLite in a fresh directory whatever database the test run itself uses.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CXLOOP_")}
    return subprocess.run(
        [sys.executable, "-m", "cxloop.cli", *args],
        env=environment | {"CXLOOP_DATA_DIR": str(data_dir), **variables},
        capture_output=True,
        text=True,
        timeout=300,
    )


def summary_line(output: str) -> re.Match:
    (line,) = [line for line in output.splitlines() if line.startswith("Fact store rebuilt")]
    match = SUMMARY.match(line)
    assert match, line
    return match


def test_the_demo_starts_with_its_data_in_the_store_and_the_commands_exit_as_documented(
    tmp_path,
):
    demo = cxloop(tmp_path, "demo", "--no-serve", "--size", "small", "--seed", "3")
    assert demo.returncode == 0, demo.stderr
    built = summary_line(demo.stdout)
    assert Path(built["path"]) == tmp_path / "facts"
    assert number(built["responses"]) > 1000
    assert "Fact store: 100%" in demo.stderr  # the progress bar, by month
    status = cxloop(tmp_path, "facts", "status")
    assert status.returncode == 0, status.stderr
    assert "Up to date with the database" in status.stdout

    again = cxloop(tmp_path, "demo", "--no-serve")
    assert again.returncode == 0, again.stderr
    assert "Fact store rebuilt" not in again.stdout  # the store is there already
    (tmp_path / "facts" / "manifest.json").unlink()
    missing = cxloop(tmp_path, "facts", "status")
    assert missing.returncode == 1
    assert "No fact store in" in missing.stderr
    again = cxloop(tmp_path, "demo", "--no-serve")
    assert summary_line(again.stdout)["responses"] == built["responses"]  # made for old data

    elsewhere = tmp_path / "elsewhere"
    rebuilt = cxloop(tmp_path, "facts", "rebuild", CXLOOP_FACTS_DIR=str(elsewhere))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert Path(summary_line(rebuilt.stdout)["path"]) == elsewhere
    assert (elsewhere / "manifest.json").exists()


def test_a_malformed_delay_stops_start_up(tmp_path):
    result = cxloop(tmp_path, "help", CXLOOP_FACTS_DELAY="soon")
    assert result.returncode == 2
    assert result.stderr == (
        "cxloop: CXLOOP_FACTS_DELAY: expected a number of seconds from 0 to 3600, got 'soon'\n"
    )
