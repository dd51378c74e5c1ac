"""Every user-facing string has a Russian translation, and the compiled catalogue is current."""

import ast
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

needs_gettext = pytest.mark.skipif(
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


@needs_gettext
def test_it_translates_every_entry():
    for flag in ("--untranslated", "--only-fuzzy"):
        result = subprocess.run(
            ["msgattrib", flag, "--no-obsolete", str(CATALOGUE)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == "", f"entries left {flag}:\n{result.stdout}"


@needs_gettext
def test_it_ships_the_compiled_catalogue(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", compiled, CATALOGUE], check=True)
    assert compiled.read_bytes() == CATALOGUE.with_suffix(".mo").read_bytes(), (
        "django.mo is stale: run msgfmt -o django.mo django.po in cxloop/locale/ru/LC_MESSAGES"
    )


@needs_gettext
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


# The names xgettext collects a msgid under when makemessages runs it on Python (its own
# defaults for Python and the --keyword options of Django 5.2's makemessages), by the shape of
# the call: a string marked through any other name (``gettext_lazy as _lazy``) never reaches
# the catalogue, and one bound to a name of another shape (``pgettext as _``) reaches it wrong.
COLLECTED = {
    "msgid": {"_", "gettext", "gettext_lazy", "gettext_noop"},
    "msgid, plural": {"ngettext", "ngettext_lazy"},
    "context, msgid": {"pgettext", "pgettext_lazy"},
    "context, msgid, plural": {"npgettext", "npgettext_lazy"},
}
SHAPE = {name: shape for shape, names in COLLECTED.items() for name in names if name != "_"}


def uncollected_aliases(source: str) -> list[str]:
    """``name as alias`` for each gettext function imported from ``django.utils.translation``
    under a name makemessages does not collect for that function's shape."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for alias in node.names:
                shape = SHAPE.get(alias.name)
                if shape and alias.asname and alias.asname not in COLLECTED[shape]:
                    found.append(f"{alias.name} as {alias.asname}")
    return found


def test_it_finds_a_gettext_alias_makemessages_would_miss():
    source = (
        "from django.utils.translation import gettext_lazy as _, gettext as __\n"
        "from django.utils.translation import pgettext as _, ngettext_lazy as ngettext\n"
    )
    assert uncollected_aliases(source) == ["gettext as __", "pgettext as _"]


def test_it_marks_strings_only_through_names_makemessages_collects():
    offending = {
        str(path.relative_to(PACKAGE)): aliases
        for path in sorted(PACKAGE.rglob("*.py"))
        if (aliases := uncollected_aliases(path.read_text()))
    }
    assert not offending, f"rename these imports to a name makemessages collects: {offending}"
