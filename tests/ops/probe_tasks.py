"""A task for the queue's own tests: it notes its argument, and when it ran, in the file
CXLOOP_PROBE_FILE names."""

import os
import time

from django_tasks import task


@task()
def note(value: str) -> None:
    with open(os.environ["CXLOOP_PROBE_FILE"], "a", encoding="utf-8") as probe:
        probe.write(f"{value} {time.time()}\n")


@task()
def note_slowly(value: str, seconds: float) -> None:
    note.call(f"{value}-started")
    time.sleep(seconds)
    note.call(f"{value}-done")
