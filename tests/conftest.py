import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, chromium tries to reach Google's hosts at start-up; the machine has no internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright; CI installs it, so only a developer's machine
    without it skips (saying how to install it)."""
    if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
        pytest.skip("chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, which makes Django
    # refuse ORM calls from the test; the calls are in fact synchronous (Playwright's own advice).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(autouse=True, scope="session")
def _facts_dir(tmp_path_factory):
    """Tests that write responses schedule fact-store refreshes; were one to run, it would write
    here and not into the developer's data directory. Tests of the store set their own."""
    from django.conf import settings

    settings.FACTS_DIR = tmp_path_factory.mktemp("facts")


# Fixtures through which a test reaches the database (directly or by depending on them).
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


def _reaches_the_database(item: pytest.Item) -> bool:
    from django.test import TransactionTestCase

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):  # TestCase is one too
        return True
    if item.get_closest_marker("django_db") is not None:
        return True
    return bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL (CI's second run) only the tests that reach the database run again: the
    rest (statistics, parsers, subprocesses with their own SQLite) ran on the first pass and
    would prove nothing new. Said on the terminal, so nobody mistakes it for a skip."""
    if not os.environ.get("CXLOOP_DATABASE_URL", "").startswith("postgres"):
        _leave_for_postgresql(config, items)
        return
    kept, left = [], []
    for item in items:
        (kept if _reaches_the_database(item) else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept
        print(f"\nPostgreSQL run: {len(left)} tests that never reach the database left out")


def _leave_for_postgresql(config, items) -> None:
    """Tests of what only PostgreSQL has (ADBC's reads) run in CI's PostgreSQL run; the SQLite
    run leaves them out and says so on the terminal."""
    kept = [item for item in items if item.get_closest_marker("postgresql") is None]
    left = [item for item in items if item.get_closest_marker("postgresql") is not None]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept
        print(f"\nSQLite run: {len(left)} tests of PostgreSQL alone left for the PostgreSQL run")
