"""Export pages: the form every list carries posts here; a list of up to
:data:`~cxloop.exports.services.INLINE_ROWS` rows comes back as the file at once, a longer one
becomes an export built by a task, whose page shows its progress (refreshing itself, no
JavaScript needed) and then its download link. A person sees and downloads only their own
exports; anyone else's answer 404."""

import tempfile

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cxloop.exports import services
from cxloop.exports.catalog import KINDS
from cxloop.exports.models import ExportJob, JobState
from cxloop.exports.tables import RefusedFilters, filter_request
from cxloop.lib.tabular import FORMATS, MEDIA_TYPES, XLSX_MAX_ROWS

QUERY_MAX = 2000  # characters of a list's query string an export keeps
SPOOLED = 8 * 1024 * 1024  # an inline export's bytes kept in memory before a temporary file
FORMAT_LABELS = {
    "csv-excel": "CSV (Excel)",
    "csv": "CSV (UTF-8)",
    "xlsx": "XLSX",
    "parquet": "Parquet",
}


def _refuse(request: HttpRequest, messages: list[str], back: str, status: int = 400):
    return render(
        request, "exports/refused.html", {"messages_": messages, "back": back}, status=status
    )


def _list_query(raw: str) -> str:
    """The list's query string without its page number: an export holds every page."""
    query = QueryDict(raw[:QUERY_MAX], mutable=True)
    query.pop("page", None)
    return query.urlencode()


@login_required
@require_POST
def export_start(request: HttpRequest) -> HttpResponse:
    """POST ``kind`` (a list), ``format`` (csv-excel | csv | xlsx | parquet) and ``query`` (the
    list's query string). A filter the list would leave out refuses the export (400), naming
    it; so do an unknown list or format."""
    kind = KINDS.get(request.POST.get("kind", ""))
    if kind is None:
        raise Http404
    query = _list_query(request.POST.get("query", ""))
    back = kind.url(query)
    fmt = request.POST.get("format", "")
    if fmt not in FORMATS:
        message = _("Format: expected one of %(formats)s, not “%(value)s”.") % {
            "formats": ", ".join(FORMATS),
            "value": fmt[:40],
        }
        return _refuse(request, [message], back)
    try:
        table = kind.table(filter_request(request.user, query))
    except RefusedFilters as error:
        return _refuse(request, error.messages, back)
    rows = table.count(services.INLINE_ROWS)
    if fmt == "xlsx" and rows > services.INLINE_ROWS:
        total = table.count(None)
        if total > XLSX_MAX_ROWS:
            return _refuse(request, [services.too_many_rows(total)], back)
    if rows > services.INLINE_ROWS:
        job = services.start_job(request.user, kind, fmt, query)
        return redirect("export_detail", pk=job.pk)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOLED)  # noqa: SIM115 (the response closes it)
    services.write_export(kind, fmt, request, out, table=table)
    out.seek(0)
    response = FileResponse(
        out,
        as_attachment=True,
        filename=services.file_name(kind.name, fmt, timezone.now()),
        content_type=MEDIA_TYPES[fmt],
    )
    return response


def _own_job(request: HttpRequest, pk: int) -> ExportJob:
    return get_object_or_404(ExportJob, pk=pk, user=request.user)


@login_required
def export_list(request: HttpRequest) -> HttpResponse:
    """The signed-in person's exports of the last days, newest first."""
    services.purge_expired()
    jobs = [
        (job, KINDS[job.kind].label if job.kind in KINDS else job.kind)
        for job in ExportJob.objects.filter(user=request.user)[:50]
    ]
    return render(request, "exports/export_list.html", {"jobs": jobs})


@login_required
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One export: its progress while it is built (the page reloads itself every two
    seconds), then its download link, or why it failed."""
    job = _own_job(request, pk)
    kind = KINDS.get(job.kind)
    back = kind.url(job.query) if kind else ""
    percent = None
    if job.rows_total:
        percent = min(100, round(100 * job.rows_written / job.rows_total))
    context = {
        "job": job,
        "kind": kind,
        "format_label": FORMAT_LABELS.get(job.format, job.format),
        "percent": percent,
        "busy": job.state in (JobState.QUEUED, JobState.RUNNING),
        "back": back,
        "filters": list(QueryDict(job.query).items()),
    }
    return render(request, "exports/export_detail.html", context)


@login_required
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    path = services.job_path(job) if job.file_name else None
    if job.state != JobState.DONE or path is None or not path.exists():
        raise Http404
    name = job.file_name.split("-", 1)[1]
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=name, content_type=MEDIA_TYPES[job.format]
    )
