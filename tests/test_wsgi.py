"""cxloop.wsgi, what granian's workers load: the application, every view, and the garbage
collector set for a server's requests (a 1,000-response batch holds tens of thousands of
objects at once). In a process of its own, so that this one's collector is left alone."""

import os
import subprocess
import sys

PROBE = """
import gc
before = gc.get_threshold()[0]
import cxloop.wsgi
print(before, gc.get_threshold()[0], gc.get_freeze_count())
"""


def test_it_freezes_what_the_application_loaded_and_collects_less_often(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CXLOOP_")}
    environment["CXLOOP_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    before, after, frozen = map(int, result.stdout.split())
    assert (before, after) == (700, 50_000)
    # The application's objects (Django, the URL map, every view's module) are kept out of
    # every collection.
    assert frozen > 50_000
