"""Every user-facing string has a Russian translation, and the compiled catalogue is current."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cxloop

PACKAGE = Path(cxloop.__file__).parent
CATALOGUE = PACKAGE / "locale" / "ru" / "LC_MESSAGES" / "django.po"

pytestmark = pytest.mark.skipif(
    shutil.which("msgfmt") is None and not os.environ.get("CI"),
    reason="gettext is not installed here (apt-get install gettext); CI installs it",
)


def msgids(po: Path) -> set[str]:
    """The msgids of a catalogue, multi-line strings joined, the header left out."""
    text = po.read_text()
    found = set()
    for match in re.finditer(r'^msgid ((?:".*"\n)+)', text, re.MULTILINE):
        found.add("".join(re.findall(r'"(.*)"', match.group(1))))
    return found - {""}


def test_it_translates_every_entry():
    for flag in ("--untranslated", "--only-fuzzy"):
        result = subprocess.run(
            ["msgattrib", flag, "--no-obsolete", str(CATALOGUE)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == "", f"entries left {flag}:\n{result.stdout}"


def test_it_ships_the_compiled_catalogue(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", compiled, CATALOGUE], check=True)
    assert compiled.read_bytes() == CATALOGUE.with_suffix(".mo").read_bytes(), (
        "django.mo is stale: run msgfmt -o django.mo django.po in cxloop/locale/ru/LC_MESSAGES"
    )


def test_it_has_every_string_of_the_code_in_the_catalogue(tmp_path):
    copy = tmp_path / "cxloop"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    environment = {**os.environ, "CXLOOP_DATA_DIR": str(tmp_path / "data")}
    environment.pop("CXLOOP_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "cxloop.cli", "makemessages", "-l", "ru", "--no-obsolete"],
        cwd=copy,
        env=environment,
        check=True,
        capture_output=True,
    )
    missing = msgids(copy / "locale" / "ru" / "LC_MESSAGES" / "django.po") - msgids(CATALOGUE)
    assert not missing, f"run `cxloop makemessages -l ru` in cxloop/ and translate: {missing}"
