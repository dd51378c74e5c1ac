"""Where the tests find the published data they compare against.

- ``REFERENCE``: small published tables copied into the repository (``tests/reference/``, each
  file's source in its README.md), so that a clone of cxloop passes its tests with nothing beside
  it.
- ``shared_dataset(name)``: a large third-party file kept outside the repository, in
  ``../shared/datasets`` beside the clone. A test that needs one skips, saying which file and where
  it was looked for, when it is absent; in CI (the ``CI`` environment variable set) a missing file
  fails the test instead, so that CI never passes without having run it.
"""

import os
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parent / "reference"
SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def shared_dataset(name: str) -> Path:
    """The path of ``name`` in ../shared/datasets; skips the calling test when the file is absent,
    or fails it when running in CI."""
    path = SHARED_DATASETS / name
    if path.is_file():
        return path
    if os.environ.get("CI"):
        pytest.fail(
            f"{name} is missing from {SHARED_DATASETS}: CI must run every test, "
            "so put the shared datasets beside the clone (../shared/datasets)",
            pytrace=False,
        )
    pytest.skip(
        f"needs the third-party file {name}, which is not in {SHARED_DATASETS} "
        "(kept outside the repository; see tests/reference/README.md)"
    )
