"""The published tables under tests/reference/: each one's source is named in its README.md, and
the copies stay identical to the project's shared datasets they were taken from."""

import re

import pytest

from tests.datasets import REFERENCE, SHARED_DATASETS, shared_dataset

FILES = sorted(p.name for p in REFERENCE.iterdir() if p.name != "README.md")


def test_it_names_the_source_of_every_reference_file():
    readme = (REFERENCE / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.MULTILINE))
    assert FILES, "tests/reference/ holds no data"
    assert listed == set(FILES)


def test_it_keeps_the_copies_identical_to_the_shared_originals():
    try:
        originals = {name: shared_dataset(name) for name in FILES}
    except pytest.skip.Exception as skipped:  # in CI a missing original fails instead
        pytest.skip(f"the reference copies were not compared with their originals: {skipped.msg}")
    for name, original in originals.items():
        assert (REFERENCE / name).read_bytes() == original.read_bytes(), name


def test_it_skips_a_missing_shared_file_outside_ci_and_fails_in_ci(monkeypatch):
    missing = "no-such-file.csv"
    assert not (SHARED_DATASETS / missing).exists()
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=rf"needs the third-party file {missing}"):
        shared_dataset(missing)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI must run every test"):
        shared_dataset(missing)
