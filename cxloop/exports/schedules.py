"""Scheduled reports (issue #16, part 3; docs/reports.md): any dashboard of the export catalog
(with its charts), the cycle review, the executive pack or the weekly digest e-mailed on a
schedule to chosen people, each in their own language and their own scope.

A round of the worker calls :func:`send_due`. Each due schedule is claimed once, however many
workers run, by a conditional UPDATE of its ``next_run_at`` (from the occurrence it read to the
next one). Then, for each recipient, the report is rendered as that person — with their user,
so what they cannot see on the page is not in the file, and a report they may not see at all is
skipped and the delivery says so — in their language, outside any transaction; the file goes
under ``DATA_DIR/reports``; then one short transaction records the delivery (unique per
schedule, recipient and occurrence) and queues its e-mail by reference. The outbox builds the
message at send time (:func:`register_kinds`), attaching the file read from disk, so no
megabytes sit in the database, and settles the delivery as sent or failed.

A schedule names its dashboard by the kind's name; a kind removed from the code since leaves the
schedule in place, and each of its deliveries fails with a message that says so (:class:`Gone`).

Files are deleted :data:`KEPT_DAYS` days after they were written.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import mimetypes
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cxloop.audit import context as audit_context
from cxloop.audit import services as audit
from cxloop.audit.choices import Action
from cxloop.exports.catalog import KINDS
from cxloop.exports.models import (
    DeliveryState,
    Frequency,
    Report,
    ReportDelivery,
    ReportFormat,
    ReportSchedule,
)
from cxloop.exports.tables import ExportKind, RefusedFilters, Table, filter_request
from cxloop.insights.cycle import allowed_reviewer, period_of, review_context
from cxloop.insights.executive import allowed_executive, executive_context
from cxloop.lib.tabular import SHARE, TEXT, write_table
from cxloop.outbox import kinds as outbox_kinds
from cxloop.outbox.delivery import composed
from cxloop.outbox.services import enqueue_references
from cxloop.reports import weekly_digest
from cxloop.reports.pdf import chart_svg, render_pdf

log = logging.getLogger(__name__)

OUTBOX_KIND = "scheduled_report"
KEPT_DAYS = 14  # a delivery's file is deleted this long after it was written
# A printed table is cut after this many rows (the portfolio lists every customer): beyond
# it a PDF is not read, and render_pdf's own page limit would refuse it. XLSX has them all.
PRINTED_ROWS = 300
WIDE_COLUMNS = 7  # a printed table of more columns is printed a block a row
PDF_ONLY = (Report.CYCLE_REVIEW, Report.EXECUTIVE)
# The review packs: who may see one, what it holds, its template, its page and its file's name.
REVIEWS = {
    Report.CYCLE_REVIEW: (
        allowed_reviewer,
        review_context,
        "reports/cycle_review.html",
        "cycle_review",
        "cycle-review",
    ),
    Report.EXECUTIVE: (
        allowed_executive,
        executive_context,
        "reports/executive_review.html",
        "executive_dashboard",
        "executive-review",
    ),
}


class Skipped(Exception):
    """The recipient may not see this report (the reason in their language)."""


class Gone(Exception):
    """The schedule's dashboard is no longer in the export catalog (the reason in the
    recipient's language)."""


@dataclass(frozen=True)
class Rendered:
    """A recipient's copy: the file written (None for the weekly digest) and the e-mail."""

    path: Path | None
    attachment_name: str
    subject: str
    text: str
    html: str


def reports_dir() -> Path:
    return Path(settings.DATA_DIR) / "reports"


# --- what ----------------------------------------------------------------------------------------


def dashboards() -> dict[str, ExportKind]:
    """The catalog's dashboards by kind name, each of which can be scheduled; a name the review
    packs or the digest already use stays theirs."""
    return {
        name: kind for name, kind in KINDS.items() if kind.dashboard and name not in Report.values
    }


def report_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The schedule form's choices: the dashboards by their labels (in the active language's
    order), then the review packs and the digest."""
    named = sorted(((name, str(kind.label)) for name, kind in dashboards().items()), key=_by_label)
    return [(_("Dashboards"), named), (_("Reviews and digest"), Report.choices)]


def _by_label(choice: tuple[str, str]) -> str:
    return choice[1].casefold()


def report_label(report: str) -> str:
    """What the schedule sends, in words; a dashboard no longer in the catalog says so."""
    if report in Report.values:
        return str(Report(report).label)
    kind = dashboards().get(report)
    if kind is None:
        return _("%(report)s (no longer exists)") % {"report": report}
    return str(kind.label)


def schedulable(report: str) -> bool:
    return report in Report.values or report in dashboards()


# --- when ----------------------------------------------------------------------------------------


def _matches(schedule: ReportSchedule, day: dt.date) -> bool:
    if schedule.frequency == Frequency.WEEKLY:
        return day.weekday() == schedule.weekday
    if schedule.frequency == Frequency.MONTHLY:
        return day.day == schedule.day_of_month
    return True


def next_occurrence(schedule: ReportSchedule, after: dt.datetime) -> dt.datetime:
    """The first time strictly after ``after`` the schedule is due: its hour, in the site's
    time zone, on every day, on its weekday, or on its day of the month (1–28, so every month
    has it)."""
    zone = timezone.get_default_timezone()
    day = after.astimezone(zone).date()
    for offset in range(63):
        candidate_day = day + dt.timedelta(days=offset)
        if not _matches(schedule, candidate_day):
            continue
        candidate = dt.datetime.combine(candidate_day, dt.time(schedule.hour), tzinfo=zone)
        if candidate > after:
            return candidate
    raise AssertionError("a schedule is due at least once in two months")  # pragma: no cover


def claim(schedule_id: int, occurrence: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """Move the schedule from ``occurrence`` to its next run; the next run for the one call
    that did, None for every other (another worker has it)."""
    schedule = ReportSchedule.objects.filter(pk=schedule_id).first()
    if schedule is None:  # deleted meanwhile
        return None
    following = next_occurrence(schedule, max(now, occurrence))
    moved = ReportSchedule.objects.filter(
        pk=schedule_id, is_active=True, next_run_at=occurrence
    ).update(next_run_at=following, last_run_at=now)
    return following if moved == 1 else None


def schedule_now(schedule: ReportSchedule, now: dt.datetime) -> None:
    """ "Send now": the schedule is due at once; after the run it returns to its own times."""
    ReportSchedule.objects.filter(pk=schedule.pk).update(next_run_at=now)
    schedule.next_run_at = now


def set_active(schedule: ReportSchedule, active: bool, now: dt.datetime) -> None:
    """Switch it on (due next at its next time from now) or off."""
    schedule.is_active = active
    schedule.next_run_at = next_occurrence(schedule, now) if active else None
    ReportSchedule.objects.filter(pk=schedule.pk).update(
        is_active=active, next_run_at=schedule.next_run_at
    )


def save_schedule(schedule: ReportSchedule, recipients, *, now: dt.datetime, user=None):
    """Create or change a schedule (its fields set by the form) and its recipients; its next
    run is computed again from now."""
    if not schedulable(schedule.report):
        raise ValueError(
            _("Report: “%(report)s” is neither a dashboard nor a report that can be scheduled.")
            % {"report": schedule.report}
        )
    if schedule.pk is None:
        schedule.created_by = user
        schedule.created_at = now
    if schedule.report in PDF_ONLY:
        schedule.format = ReportFormat.PDF
    schedule.next_run_at = next_occurrence(schedule, now) if schedule.is_active else None
    with transaction.atomic():
        schedule.save()
        schedule.recipients.set(recipients)
    return schedule


# --- the round -----------------------------------------------------------------------------------


def send_due(now: dt.datetime) -> int:
    """Run every active schedule due at ``now`` that this call claims; delete old files.
    How many e-mails were queued."""
    purge_files(now)
    queued = 0
    due = ReportSchedule.objects.filter(is_active=True, next_run_at__lte=now).values_list(
        "pk", "next_run_at"
    )
    for pk, occurrence in list(due):
        if claim(pk, occurrence, now) is None:
            continue
        queued += run(ReportSchedule.objects.get(pk=pk), occurrence, now)
    return queued


def run(schedule: ReportSchedule, occurrence: dt.datetime, now: dt.datetime) -> int:
    """Render and queue the schedule's report for each recipient; how many were queued."""
    queued = 0
    for recipient in schedule.recipients.select_related("user", "team").order_by("pk"):
        state, error, rendered = DeliveryState.QUEUED, "", None
        try:
            if not recipient.user.email:
                raise ValueError(_("The recipient has no e-mail address."))
            rendered = render_for(schedule, recipient, now)
        except Skipped as reason:
            state, error = DeliveryState.SKIPPED, str(reason)
        except Gone as reason:  # the schedule outlived its dashboard: no traceback to log
            log.warning("scheduled report %s: %s", schedule.pk, reason)
            state, error = DeliveryState.FAILED, str(reason)
        except Exception as failure:  # one recipient's failure is theirs, not the round's
            log.exception("scheduled report %s for employee %s", schedule.pk, recipient.pk)
            state, error = DeliveryState.FAILED, f"{type(failure).__name__}: {failure}"
        if _record(schedule, recipient, occurrence, now, state, error, rendered):
            queued += 1
    return queued


def _record(schedule, recipient, occurrence, now, state, error, rendered) -> bool:
    """The delivery and, for a rendered copy, its e-mail, in one transaction; True if queued."""
    try:
        with transaction.atomic():
            delivery = ReportDelivery.objects.create(
                schedule=schedule,
                recipient=recipient,
                occurrence=occurrence,
                state=state,
                language=recipient.language,
                error=error,
                created_at=now,
                **(
                    {
                        "file_name": rendered.path.name if rendered.path else "",
                        "attachment_name": rendered.attachment_name,
                        "subject": rendered.subject,
                        "text": rendered.text,
                        "html": rendered.html,
                    }
                    if rendered
                    else {}
                ),
            )
            if state == DeliveryState.QUEUED:
                enqueue_references(OUTBOX_KIND, [(delivery.pk, recipient.user.email)], now=now)
    except IntegrityError:  # this occurrence went to them already
        if rendered and rendered.path:
            rendered.path.unlink(missing_ok=True)
        return False
    return state == DeliveryState.QUEUED


# --- rendering -----------------------------------------------------------------------------------


def _link(path: str) -> str:
    return f"{settings.BASE_URL.rstrip('/')}{path}"


def _write(schedule: ReportSchedule, recipient, now: dt.datetime, suffix: str, data) -> Path:
    folder = reports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(6)
    path = folder / f"{schedule.pk}-{recipient.pk}-{now:%Y%m%d%H%M%S}-{token}.{suffix}"
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        with path.open("wb") as out:
            data(out)
    return path


def render_for(schedule: ReportSchedule, recipient, now: dt.datetime) -> Rendered:
    """The recipient's copy of the report, read as their user and in their language; raises
    :class:`Skipped` when they may not see it."""
    language = recipient.language
    with translation.override(language):
        if schedule.report == Report.WEEKLY_DIGEST:
            day = timezone.localdate(now)
            message = weekly_digest.message_for(recipient, day)
            return Rendered(None, "", message["subject"], message["text"], message["html"])
        if schedule.report in REVIEWS:
            return _review(schedule, recipient, now, language)
        return _dashboard(schedule, recipient, now, language)


def _email(schedule, recipient, *, title: str, detail: str, page: str, attachment: str):
    context = {
        "schedule": schedule,
        "recipient": recipient,
        "title": title,
        "detail": detail,
        "page": page,
        "attachment": attachment,
    }
    subject = _("%(report)s: %(name)s") % {"report": title, "name": schedule.name}
    return (
        subject.replace("\r", " ").replace("\n", " "),
        render_to_string("exports/email/scheduled_report.txt", context),
        render_to_string("exports/email/scheduled_report.html", context),
    )


def _review(schedule, recipient, now, language) -> Rendered:
    allowed, context_of, template, page_name, file_stem = REVIEWS[schedule.report]
    user = recipient.user
    title = str(Report(schedule.report).label)
    if not allowed(user):
        raise Skipped(_("Their role does not show this report."))
    today = timezone.localdate(now)
    since, until, errors = period_of(QueryDict(schedule.query), today)
    if errors:
        raise ValueError("; ".join(f"{field}: {message}" for field, message in errors.items()))
    context = context_of(user, since=since, until=until, today=today, now=now)
    document = render_pdf(template, context, language=language)
    path = _write(schedule, recipient, now, "pdf", document)
    name = f"{file_stem}-{since.isoformat()}-{until.isoformat()}.pdf"
    query = f"?since={since.isoformat()}&until={until.isoformat()}"
    detail = _("The period from %(since)s to %(until)s.") % {
        "since": since.strftime("%d.%m.%Y"),
        "until": until.strftime("%d.%m.%Y"),
    }
    subject, text, html = _email(
        schedule,
        recipient,
        title=title,
        detail=detail,
        page=_link(reverse(page_name) + query),
        attachment=name,
    )
    return Rendered(path, name, subject, text, html)


def _cell(value, kind: str) -> str:
    """A cell as the printed table shows it, in the active language's formats."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if kind == SHARE and isinstance(value, int | float):
        return f"{number_format(100 * value, 1, force_grouping=True)}\u00a0%"
    if isinstance(value, float):
        return number_format(value, 2, force_grouping=True)
    if isinstance(value, int) and not isinstance(value, bool):
        return number_format(value, force_grouping=True)
    return str(value)


@dataclass(frozen=True)
class PrintedChart:
    """A dashboard's chart on paper: vl-convert's SVG markup and the title under it."""

    svg: SafeString
    title: str


def _figures(table: Table, language: str) -> tuple[list[PrintedChart], list[str]]:
    """The dashboard's charts drawn for paper, and a note for those that could not be drawn: a
    chart that fails loses itself, never the report, whose table has its figures. A spec's
    own ``title`` goes under the chart, as the other printed documents title theirs."""
    try:
        specs = table.charts()
    except Exception:  # a chart's query failing is the chart's loss, not the table's
        log.exception("scheduled report: the dashboard's charts could not be built")
        return [], [_("The charts could not be drawn; the table has their figures.")]
    figures, failed = [], 0
    for spec in specs:
        title = spec.get("title")
        if isinstance(title, str):
            spec = {key: value for key, value in spec.items() if key != "title"}
        try:
            svg = chart_svg(spec, language=language)
        except Exception:  # refused or undrawable (see chart_svg): the others still print
            log.exception("scheduled report: a chart could not be drawn")
            failed += 1
            continue
        figures.append(PrintedChart(svg, title if isinstance(title, str) else ""))
    notes = []
    if failed:
        notes.append(
            ngettext(
                "%(count)d chart could not be drawn; the table has its figures.",
                "%(count)d charts could not be drawn; the table has their figures.",
                failed,
            )
            % {"count": failed}
        )
    return figures, notes


def _dashboard(schedule, recipient, now, language) -> Rendered:
    kind = dashboards().get(schedule.report)
    if kind is None:
        raise Gone(
            _(
                "The dashboard “%(report)s” no longer exists in cxloop; choose another report "
                "for this schedule."
            )
            % {"report": schedule.report}
        )
    request = filter_request(recipient.user, schedule.query)
    try:
        table = kind.read(request)
    except RefusedFilters as refused:
        raise Skipped(str(refused)) from None
    label = str(kind.label)
    stamp = timezone.localtime(now).strftime("%Y-%m-%d")
    if schedule.format == ReportFormat.XLSX:
        written: list[int] = []
        path = _write(
            schedule,
            recipient,
            now,
            "xlsx",
            lambda out: written.append(
                write_table("xlsx", table.columns, table.batches(), out, sheet_title=label)
            ),
        )
        rows_written = written[0]
        name = f"{kind.name}-{stamp}.xlsx"
    else:
        document, rows_written = _printed(schedule, table, label, language)
        path = _write(schedule, recipient, now, "pdf", document)
        name = f"{kind.name}-{stamp}.pdf"
    # Recorded as an export by the recipient, whose scope it was read in (as an export job).
    audit.record(
        Action.EXPORT,
        kind=kind.name,
        label=f"{kind.name}.{schedule.format}",
        details={
            "format": schedule.format,
            "filters": table.filters,
            "rows": rows_written,
            "schedule": schedule.pk,
        },
        actor=audit_context.actor_of_user(recipient.user),
    )
    page = _link(kind.url(schedule.query))
    filters = ", ".join(f"{key}={value}" for key, value in sorted(table.filters.items()))
    subject, text, html = _email(
        schedule, recipient, title=label, detail=filters, page=page, attachment=name
    )
    return Rendered(path, name, subject, text, html)


def _printed(schedule, table: Table, label: str, language: str) -> tuple[bytes, int]:
    """The dashboard as PDF — its charts, then its table, at most :data:`PRINTED_ROWS` rows
    of it — and how many rows it holds."""
    every_row = (row for batch in table.batches() for row in batch)
    read = list(itertools.islice(every_row, PRINTED_ROWS + 1))
    total = table.count(None) if len(read) > PRINTED_ROWS else len(read)
    rows = [
        [
            (_cell(value, column.type), column.type != TEXT)
            for value, column in zip(row, table.columns, strict=True)
        ]
        for row in read[:PRINTED_ROWS]
    ]
    headers = [column.header for column in table.columns]
    wide = len(headers) > WIDE_COLUMNS
    figures, chart_notes = _figures(table, language)
    # Titled by its leading text cells (the journey map's stage and touchpoint).
    numeric = [column.type != TEXT for column in table.columns]
    lead = next((i for i, is_number in enumerate(numeric) if is_number), len(numeric))
    printed = {
        "title": schedule.name,
        "subtitle": label,
        "columns": table.columns,
        "rows": rows,
        "wide": wide,
        "records": [
            {
                "title": " · ".join(cell for cell, _n in row[:lead]),
                "cells": list(zip(headers, (cell for cell, _n in row), strict=True))[lead:],
            }
            for row in rows
        ]
        if wide
        else [],
        "filters": sorted(table.filters.items()),
        "figures": figures,
        "chart_notes": chart_notes,
        "cut": _(
            "The first %(shown)s of %(total)s rows: paper is for reading. Schedule it as XLSX "
            "to get every row."
        )
        % {
            "shown": number_format(len(rows), force_grouping=True),
            "total": number_format(total, force_grouping=True),
        }
        if total > len(rows)
        else "",
    }
    document = render_pdf("exports/scheduled_table.html", printed, language=language)
    return document, len(rows)


# --- files ---------------------------------------------------------------------------------------


def purge_files(now: dt.datetime) -> int:
    """Delete the files written more than :data:`KEPT_DAYS` ago; how many."""
    cutoff = now - dt.timedelta(days=KEPT_DAYS)
    old = list(
        ReportDelivery.objects.filter(created_at__lt=cutoff)
        .exclude(file_name="")
        .values_list("pk", "file_name")
    )
    for _pk, name in old:
        (reports_dir() / name).unlink(missing_ok=True)
    if old:
        ReportDelivery.objects.filter(pk__in=[pk for pk, _name in old]).update(file_name="")
    return len(old)


# --- the outbox ----------------------------------------------------------------------------------


def _build(messages: list[outbox_kinds.Pending], memo: dict) -> dict[int, bytes | None]:
    """Each message's bytes, with its delivery's file attached; None (cancelled) for a delivery
    gone or whose file is gone."""
    deliveries = ReportDelivery.objects.in_bulk([m.ref for m in messages])
    built: dict[int, bytes | None] = {}
    for message in messages:
        delivery = deliveries.get(message.ref)
        if delivery is None:
            built[message.pk] = None
            continue
        email = composed(message, delivery.subject, delivery.text, delivery.html)
        if delivery.file_name:
            path = reports_dir() / delivery.file_name
            if not path.exists():
                built[message.pk] = None
                continue
            media = mimetypes.guess_type(delivery.attachment_name)[0]
            email.attach(delivery.attachment_name, path.read_bytes(), media)
        built[message.pk] = email.message().as_bytes(linesep="\r\n")
    return built


_STATES = {
    "sent": DeliveryState.SENT,
    "refused": DeliveryState.FAILED,
    "dead": DeliveryState.FAILED,
    "cancelled": DeliveryState.FAILED,
}


def _settle(cursor, state: str, refs: list[int], at) -> None:
    if state not in _STATES or not refs:
        return
    table = ReportDelivery._meta.db_table
    marks = ", ".join(["%s"] * len(refs))
    sent_at = at if state == "sent" else None
    error = "" if state == "sent" else f"e-mail {state}"
    cursor.execute(
        f"UPDATE {table} SET state = %s, sent_at = %s, error = %s WHERE id IN ({marks})",  # noqa: S608
        [_STATES[state].value, sent_at, error, *refs],
    )


def register_kinds() -> None:
    """Tell the outbox how to build and settle a scheduled report's e-mail (from ``ready()``)."""
    outbox_kinds.register(OUTBOX_KIND, outbox_kinds.Kind(build=_build, settle=_settle))
