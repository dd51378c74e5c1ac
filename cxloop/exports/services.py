"""Writing an export: at once for a list of up to :data:`INLINE_ROWS` rows, by a task into a
file of the data directory for a longer one (its progress on the export's page), or by the
command line. Every export is recorded in the audit log with its list, format, filters and
rows (docs/exports.md)."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from cxloop.audit import context
from cxloop.audit import services as audit
from cxloop.audit.choices import Action
from cxloop.exports.catalog import KINDS
from cxloop.exports.models import ExportJob, JobState
from cxloop.exports.tables import ExportKind, RefusedFilters, filter_request
from cxloop.lib.tabular import EXTENSIONS, XLSX_MAX_ROWS, TooManyRows, write_table

log = logging.getLogger(__name__)

INLINE_ROWS = 20_000  # answered in the request (about a second); a longer list is a task's
KEPT_DAYS = 7  # a built export's file is deleted this long after it was asked for
PROGRESS_EVERY = 1.0  # seconds between two writes of a running export's progress
# A running export that has written nothing for this long lost its worker (killed, restarted):
# it is marked failed and its partial file removed. Progress is written every second.
STALLED = dt.timedelta(minutes=15)


def exports_dir() -> Path:
    return Path(settings.DATA_DIR) / "exports"


def file_name(kind: str, fmt: str, now: dt.datetime) -> str:
    """What the downloaded file is called: the list and the local time it was asked for."""
    return f"{kind}-{timezone.localtime(now):%Y-%m-%d-%H%M}.{EXTENSIONS[fmt]}"


def write_export(
    kind: ExportKind, fmt: str, request, out: BinaryIO, *, progress=None, table=None
) -> int:
    """Write ``kind``'s table for ``request`` (its user's scope, its query string) to ``out``
    in ``fmt``; record it, by whoever acts now (the task and the command act for the person
    the list is read for); how many rows. RefusedFilters when a filter would be left out."""
    table = table or kind.read(request)
    rows = write_table(
        fmt, table.columns, table.batches(), out, progress=progress, sheet_title=str(kind.label)
    )
    audit.record(
        Action.EXPORT,
        kind=kind.name,
        label=f"{kind.name}.{fmt}",
        details={"format": fmt, "filters": table.filters, "rows": rows},
    )
    return rows


def start_job(user, kind: ExportKind, fmt: str, query: str, *, rows_total: int | None = None):
    """An export of ``kind`` built by a task; the task is enqueued once the job is committed."""
    from cxloop.exports.tasks import build_export

    purge_expired()
    now = timezone.now()
    job = ExportJob.objects.create(
        user=user,
        kind=kind.name,
        format=fmt,
        query=query,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        rows_total=rows_total,
        created_at=now,
    )
    transaction.on_commit(lambda: build_export.enqueue(job.pk))
    return job


def job_path(job: ExportJob) -> Path:
    return exports_dir() / f"{job.pk}-{job.file_name}"


def run_job(job_id: int) -> None:
    """Build export ``job_id`` into its file, writing its progress about once a second. Run
    twice, the second run finds it no longer queued and does nothing. A failure is logged and
    the job says, in its owner's language, that it failed and what they can do."""
    name = f"{secrets.token_hex(8)}-"
    job = ExportJob.objects.filter(pk=job_id, state=JobState.QUEUED).first()
    if job is None:
        return
    name += file_name(job.kind, job.format, job.created_at)
    # The file's name is kept at the claim, so that a worker killed mid-write leaves a partial
    # file the purge can find.
    claimed = ExportJob.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, file_name=name, progressed_at=timezone.now()
    )
    if not claimed:
        return
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    kind = KINDS[job.kind]
    exports_dir().mkdir(parents=True, exist_ok=True)
    path = job_path(job)
    partial = _partial(path)
    last = [0.0]

    def progress(rows: int) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY:
            last[0] = time.monotonic()
            ExportJob.objects.filter(pk=job.pk).update(
                rows_written=rows, progressed_at=timezone.now()
            )

    token = context.set_actor(context.actor_of_user(job.user))
    try:
        with translation.override(job.language), partial.open("wb") as out:
            request = filter_request(job.user, job.query)
            table = kind.read(request)
            if job.rows_total is None:
                job.rows_total = table.count(None)
                ExportJob.objects.filter(pk=job.pk).update(rows_total=job.rows_total)
            rows = write_export(kind, job.format, request, out, progress=progress, table=table)
        partial.replace(path)
    except Exception as error:  # the job says it failed; the worker goes on
        log.exception("export %s failed", job.pk)
        partial.unlink(missing_ok=True)
        with translation.override(job.language):
            reason = _failure(error)
        ExportJob.objects.filter(pk=job.pk).update(
            state=JobState.FAILED, error=reason, finished_at=timezone.now()
        )
        return
    finally:
        context.reset(token)
    ExportJob.objects.filter(pk=job.pk).update(
        state=JobState.DONE,
        rows_written=rows,
        rows_total=rows,
        size=path.stat().st_size,
        finished_at=timezone.now(),
    )


def _partial(path: Path) -> Path:
    return path.with_suffix(path.suffix + ".part")


def _failure(error: Exception) -> str:
    """What the export's page says of ``error``: its owner's words, not the library's."""
    if isinstance(error, TooManyRows):
        return too_many_rows(error.rows)
    if isinstance(error, RefusedFilters):
        return "; ".join(error.messages)
    return _("The export could not be written; the error is in the server's log.")


def too_many_rows(rows: int) -> str:
    return _(
        "%(rows)s rows are more than an XLSX sheet holds (%(limit)s): narrow the filters or "
        "choose CSV or Parquet."
    ) % {
        "rows": number_format(rows, force_grouping=True),
        "limit": number_format(XLSX_MAX_ROWS, force_grouping=True),
    }


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete the exports asked for more than :data:`KEPT_DAYS` ago, and their files; mark
    failed the running ones that have not progressed for :data:`STALLED` (their worker died),
    removing their partial files. How many were deleted."""
    now = now or timezone.now()
    for job in ExportJob.objects.filter(state=JobState.RUNNING, progressed_at__lt=now - STALLED):
        if job.file_name:
            _partial(job_path(job)).unlink(missing_ok=True)
        with translation.override(job.language):
            reason = _("The export was interrupted (the server restarted). Try again.")
        ExportJob.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
            state=JobState.FAILED, error=reason, finished_at=now
        )
    old = list(ExportJob.objects.filter(created_at__lt=now - dt.timedelta(days=KEPT_DAYS)))
    for job in old:
        if job.file_name:
            job_path(job).unlink(missing_ok=True)
            _partial(job_path(job)).unlink(missing_ok=True)
    ExportJob.objects.filter(pk__in=[job.pk for job in old]).delete()
    return len(old)
