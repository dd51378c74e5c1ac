"""A reward period for payroll: CSV (one row a person), Parquet (the same, typed) and XLSX (the
same sheet plus every line of every breakdown). Numbers are written so that no locale misreads
them: in the CSV with a point for decimals and no grouping, in the XLSX as numbers with a number
format. Every export is recorded in the audit log."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.audit import services as audit
from cxloop.audit.choices import Action
from cxloop.lib.spreadsheet import safe_row
from cxloop.lib.tabular import DATE, INTEGER, MEDIA_TYPES, NUMBER, SHARE, TEXT, Column, write_table

CURRENCY = "RUB"
SOURCES = {
    "own": gettext_lazy("own figure"),
    "team": gettext_lazy("team’s figure"),
    "dropped": gettext_lazy("dropped"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _header() -> list[str]:
    return [
        _("Employee id"),
        _("Name"),
        _("Plan"),
        _("Period starts"),
        _("Period ends"),
        _("State"),
        _("Pilot"),
        _("Share of target bonus"),
        _("Share paid"),
        _("Amount"),
        _("Currency"),
    ]


def _row(period, payout) -> list:
    return [
        payout.employee_id,
        payout.name,
        period.plan.name,
        period.starts_on.isoformat(),
        period.ends_on.isoformat(),
        period.state,
        "yes" if period.is_pilot else "no",
        round(payout.share, 4),
        round(payout.paid_share, 4),
        payout.amount,
        CURRENCY,
    ]


def _filename(period, extension: str) -> str:
    return f"reward-{period.plan_id}-{period.starts_on:%Y-%m-%d}.{extension}"


def _recorded(period, kind: str, rows: list) -> None:
    audit.record(
        Action.EXPORT,
        kind="rewardperiod",
        object_id=period.pk,
        label=str(period),
        details={"format": kind, "people": len(rows), "state": period.state},
    )


def payroll_csv(period, payouts: list) -> HttpResponse:
    """UTF-8 with a byte-order mark (Excel reads the Cyrillic names), comma-separated."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(safe_row(_header()))
    for payout in payouts:
        writer.writerow(safe_row(str(cell) for cell in _row(period, payout)))
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode(), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(period, "csv")}"'
    _recorded(period, "csv", payouts)
    return response


# The types of :func:`_header`'s columns, for Parquet.
_TYPES = (INTEGER, TEXT, TEXT, DATE, DATE, TEXT, TEXT, SHARE, SHARE, NUMBER, TEXT)


def payroll_parquet(period, payouts: list) -> HttpResponse:
    """The CSV's rows with typed columns: dates as dates, shares and amounts as numbers."""
    columns = [Column(header, kind) for header, kind in zip(_header(), _TYPES, strict=True)]
    rows = []
    for payout in payouts:
        row = _row(period, payout)
        row[3], row[4], row[9] = period.starts_on, period.ends_on, float(row[9])
        rows.append(row)
    buffer = io.BytesIO()
    write_table("parquet", columns, [rows], buffer)
    response = HttpResponse(buffer.getvalue(), content_type=MEDIA_TYPES["parquet"])
    response["Content-Disposition"] = f'attachment; filename="{_filename(period, "parquet")}"'
    _recorded(period, "parquet", payouts)
    return response


def payroll_xlsx(period, payouts: list, metrics: dict) -> HttpResponse:
    """Sheet "Payouts" as the CSV; sheet "Breakdown", one row per line of each payout."""
    from openpyxl import Workbook  # only an export pays for loading it

    book = Workbook()
    sheet = book.active
    sheet.title = _("Payouts")
    sheet.append(safe_row(_header()))
    for payout in payouts:
        row = _row(period, payout)
        row[9] = float(row[9])
        sheet.append(safe_row(row))
    for cells in sheet.iter_rows(min_row=2, min_col=8, max_col=9):
        for cell in cells:
            cell.number_format = "0.00%"
    for (cell,) in sheet.iter_rows(min_row=2, min_col=10, max_col=10):
        cell.number_format = "#,##0.00"
    lines = book.create_sheet(_("Breakdown"))
    lines.append(
        safe_row(
            [
                _("Employee id"),
                _("Name"),
                _("Metric"),
                _("Source"),
                _("Value used"),
                _("Answers or cases"),
                _("Achievement"),
                _("Weight"),
                _("Weight after rescaling"),
                _("Weighted"),
            ]
        )
    )
    for payout in payouts:
        for line in payout.lines:
            metric = metrics.get(line.key)
            label = str(metric.label) if metric else line.key
            lines.append(
                safe_row(
                    [
                        payout.employee_id,
                        payout.name,
                        label,
                        str(SOURCES.get(line.source, line.source)),
                        line.value,
                        line.n,
                        line.achievement,
                        line.weight,
                        line.share,
                        line.weighted,
                    ]
                )
            )
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_filename(period, "xlsx")}"'
    _recorded(period, "xlsx", payouts)
    return response
