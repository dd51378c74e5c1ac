"""Exports of the insight dashboards — the overview, the customer portfolio, the executive
dashboard, a touchpoint's page and what drives detractors (see :mod:`cxloop.exports.kinds`).

Each table is read by the page's own function (``overview_tiles``, ``portfolio_figures``,
``executive_figures``, ``touchpoint_figures``, ``theme_impacts``) for the same user and query
string, and carries the charts the page draws, for the printed report."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, QueryDict
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.exports.tables import (
    ExportKind,
    RefusedFilters,
    Table,
    as_share,
    estimate_cells,
    interval_columns,
    plain_query,
    refuse_invalid,
    titled,
    yes_no,
)
from cxloop.front import executive_views, insight_views, theme_impact_views
from cxloop.front.filters import shown_value
from cxloop.insights import charts
from cxloop.lib.params import ParamError, parse_row_id
from cxloop.lib.tabular import DATE, INTEGER, NUMBER, SHARE, TEXT, Column


def _value(estimate) -> float | None:
    return None if estimate is None else estimate.value


def _day(iso: str | None) -> dt.date | None:
    """The day an ISO date or moment starts with."""
    return dt.date.fromisoformat(iso[:10]) if iso else None


def _titled_charts(specs: dict[str, dict | None], titles: dict[str, str]) -> list[dict]:
    """A page's charts by name, each with the heading the page gives it; those it does not
    draw (None) left out."""
    return [titled(spec, titles[name]) for name, spec in specs.items() if spec is not None]


# --- Overview ---------------------------------------------------------------------------------


def overview_table(request: HttpRequest) -> Table:
    """The overview's tiles: one row a headline metric (NPS, CSAT, effort) with its figure and
    interval, and its last complete period against the one before, as the tile's arrow and the
    "What changed" panel tell it."""
    shown = insight_views.overview_tiles(request)
    refuse_invalid(shown.filters, request)
    columns = [
        Column(_("Metric"), TEXT),
        Column(_("Value"), NUMBER),
        *interval_columns(),
        Column(_("Answers"), INTEGER),
        Column(_("Fewer answers than the minimum"), TEXT),
        Column(_("Last complete period"), TEXT),
        Column(_("Value in the last complete period"), NUMBER),
        Column(_("The period before"), TEXT),
        Column(_("Value in the period before"), NUMBER),
        Column(_("Change from the previous period"), NUMBER),
        Column(_("Change is significant"), TEXT),
    ]
    rows = []
    for kpi in shown.kpis:
        summary, group = kpi["summary"], kpi["change"]
        previous, last = kpi["compared"] or ("", "")
        difference = None if group is None else group.difference
        rows.append(
            (
                str(insight_views.METRIC_LABELS[kpi["key"]]),
                *estimate_cells(summary.estimate),
                summary.n,
                yes_no(summary.low_n),
                last,
                None if group is None else _value(group.estimate),
                previous,
                None if group is None else _value(group.reference),
                _value(difference),
                "" if difference is None else yes_no(group.significant),
            )
        )
    return Table.of_rows(
        columns,
        rows,
        plain_query(request),
        charts=lambda: [kpi["chart"] for kpi in shown.kpis],
    )


# --- Customer portfolio -----------------------------------------------------------------------


def portfolio_table(request: HttpRequest) -> Table:
    """Every customer of the portfolio, by annual value (largest first): their latest NPS answer
    and status, as the page's chart places them and its list of those at risk names them."""
    shown = insight_views.portfolio_figures(request)
    refuse_invalid(shown.filters, request)
    columns = [
        Column(_("Customer id"), INTEGER),
        Column(_("Customer"), TEXT),
        Column(_("Annual value"), NUMBER),
        Column(_("Currency"), TEXT),
        Column(_("Status"), TEXT),
        Column(_("Latest NPS answer"), INTEGER),
        Column(_("Answered on"), DATE),
        Column(_("In the target segment"), TEXT),
    ]
    rows = [
        (
            row.customer_id,
            shown.names.get(row.customer_id, ""),
            row.annual_value,
            row.currency,
            charts.status_label(row.status),
            row.score,
            row.answered_at,
            yes_no(row.target),
        )
        for row in shown.result.customers
    ]
    return Table.of_rows(
        columns,
        rows,
        plain_query(request),
        charts=lambda: [
            titled(insight_views.portfolio_chart(shown), _("Value against latest score"))
        ],
    )


# --- Executive dashboard ----------------------------------------------------------------------


class _Figures(list):
    """The executive dashboard's figures as rows: (table, row, figure, value, low, high, based
    on, unit, significant)."""

    def add(self, table, row, figure, estimate=None, *, value=None, n=None, unit="", sig=""):
        """A figure given as an ``estimate`` (its value and interval) or a bare ``value``."""
        if estimate is not None:
            value, low, high = estimate_cells(estimate)
        else:
            low = high = None
        self.append((str(table), str(row), str(figure), value, low, high, n, str(unit), sig))


def _segment_nps(figures: _Figures, x) -> None:
    if x.nps is None:  # no target segment: the page says so instead of a table
        return
    table = _("Customers’ NPS: the target segment and the rest")
    figures.add(table, x.target_segment.label, "NPS", x.nps.target, n=x.nps.target_n)
    figures.add(table, _("Other customers"), "NPS", x.nps.rest, n=x.nps.rest_n)
    difference = x.nps.difference
    if difference is not None:
        significant = yes_no(x.nps.significant)
        figures.add(table, _("Difference"), "NPS", difference, n=difference.n, sig=significant)


def _revenue_at_risk(figures: _Figures, groups) -> None:
    table = _("Revenue held by detractors and silent customers")
    for label, risks in groups:
        for risk in risks:
            money = risk.currency
            detractors, silent = risk.detractors, risk.silent
            figures.add(
                table, label, _("Detractors"), value=risk.detractor_value, n=detractors, unit=money
            )
            figures.add(table, label, _("Silent"), value=risk.silent_value, n=silent, unit=money)
            figures.add(
                table, label, _("At risk"), value=risk.at_risk, n=detractors + silent, unit=money
            )
            share = None if risk.share is None else 100 * risk.share
            figures.add(
                table, label, _("Share of revenue"), value=share, n=risk.customers, unit="%"
            )


def _people(figures: _Figures, x) -> None:
    """The page's section on people: eNPS, training and the reward plans' payouts."""
    table, training = _("People"), x.training
    figures.add(table, "eNPS", "eNPS", x.enps.enps, n=x.enps.n)
    done = None if training.share is None else 100 * training.share
    figures.add(table, _("Training done"), _("Share"), value=done, n=training.assigned, unit="%")
    figures.add(
        table, _("Training done"), _("Overdue"), value=training.overdue, n=training.assigned
    )
    table = _("Reward plans’ payouts")
    for plan in x.payouts:
        name = f"{plan.plan} ({_('pilot')})" if plan.is_pilot else plan.plan
        days = (date_format(day, "SHORT_DATE_FORMAT") for day in (plan.starts_on, plan.ends_on))
        row = f"{name}, {' – '.join(days)}"
        mean = None if plan.mean_share is None else 100 * plan.mean_share
        figures.add(table, row, _("People"), value=plan.people)
        figures.add(table, row, _("Mean payout, of the target bonus"), value=mean, unit="%")
        figures.add(table, row, _("Amount"), value=float(plan.amount), n=plan.people, unit="RUB")


def _closed_loop(figures: _Figures, total) -> None:
    table, hours = _("The closed loop"), _("hours")
    figures.add(
        table,
        _("Detractors contacted within the SLA"),
        "",
        total.in_time,
        n=total.decided,
        unit="%",
    )
    figures.add(
        table,
        _("Median time to first contact"),
        "",
        total.first_contact,
        n=total.contacted,
        unit=hours,
    )
    figures.add(
        table, _("Median time to resolution"), "", total.resolution, n=total.resolved, unit=hours
    )
    figures.add(table, _("Deadlines missed"), "", value=total.breaches)
    figures.add(table, _("Cases opened"), "", value=total.cases)


def _executive_rows(context: dict) -> list[tuple]:
    """The dashboard's tables of figures in the page's order, one row a figure."""
    figures = _Figures()
    _segment_nps(figures, context["executive"])
    _revenue_at_risk(figures, context["revenue_groups"])
    _people(figures, context["executive"])
    _closed_loop(figures, context["total"])
    return list(figures)


def executive_table(request: HttpRequest) -> Table:
    """The executive dashboard's tables of figures, flattened: one row a figure, the table and
    row it stands in on the page in the first columns — customers' NPS of the target segment
    and the rest, the revenue at risk, people, the reward plans' payouts and the closed loop —
    for the page's period. The lists of initiatives, alerts and opportunities are left to
    their own pages."""
    filters, context = executive_views.executive_figures(request)  # 403 as the page
    refuse_invalid(filters, request)
    columns = [
        Column(_("Table"), TEXT),
        Column(_("Row"), TEXT),
        Column(_("Figure"), TEXT),
        Column(_("Value"), NUMBER),
        *interval_columns(),
        Column(_("Based on"), INTEGER),
        Column(_("Unit"), TEXT),
        Column(_("Significant"), TEXT),
    ]
    rows = _executive_rows(context)
    return Table.of_rows(
        columns,
        rows,
        plain_query(request),
        charts=lambda: [
            titled(context["nps_chart"], _("The target segment and the other customers, by month")),
            titled(context["chart"], _("Contacted within the SLA by touchpoint")),
        ],
    )


# --- A touchpoint -----------------------------------------------------------------------------


def _touchpoint_pk(query: QueryDict) -> int | None:
    """The touchpoint the query string names (``touchpoint``), None when it names none."""
    try:
        return parse_row_id("touchpoint", query.get("touchpoint", ""))
    except ParamError:
        return None


def touchpoint_table(request: HttpRequest) -> Table:
    """A touchpoint's mean rating by period (``touchpoint``: its id), as its trend chart draws
    it: one row a month, or a quarter for a survey in waves."""
    pk = _touchpoint_pk(request.GET)
    try:
        if pk is None:
            raise Http404
        shown = insight_views.touchpoint_figures(request, pk)
    except Http404:
        raise RefusedFilters(
            [
                _("Touchpoint: no such touchpoint “%(value)s”.")
                % {"value": shown_value(request.GET.get("touchpoint", ""))}
            ]
        ) from None
    refuse_invalid(shown.filters, request)
    columns = [
        Column(_("Period"), TEXT),
        Column(_("First day"), DATE),
        Column(_("Last day"), DATE),
        Column(_("Ratings"), INTEGER),
        Column(_("Mean rating (1–5)"), NUMBER),
        *interval_columns(),
        Column(_("Fewer answers than the minimum"), TEXT),
        Column(_("The period is not over yet"), TEXT),
    ]
    result = shown.result
    points = () if result is None else result.mean_by_period
    rows = [
        (
            insight_views.period_label(p.period[:10], result.grain),
            _day(p.period),
            _day(p.end),
            p.n,
            p.value,
            p.low,
            p.high,
            yes_no(p.low_n),
            yes_no(p.partial),
        )
        for p in points
    ]
    return Table.of_rows(
        columns,
        rows,
        plain_query(request),
        charts=lambda: _titled_charts(
            insight_views.touchpoint_charts(shown),
            {
                "trend": _("Mean rating over time"),
                "control": _("Is it changing?"),
                "distribution": _("How the ratings spread"),
            },
        ),
    )


# --- What drives detractors -------------------------------------------------------------------


def theme_impact_table(request: HttpRequest) -> Table:
    """The themes of the customers' comments in the page's order: one row a theme with how
    often it is raised, how negative, and the NPS of those who raise it against the rest."""
    shown = theme_impact_views.theme_impacts(request)
    refuse_invalid(shown.filters, request)
    columns = [
        Column(_("Theme"), TEXT),
        Column(_("Code"), TEXT),
        Column(_("Active"), TEXT),
        Column(_("Comments"), INTEGER),
        Column(_("Share of commented"), SHARE),
        Column(_("Negative"), SHARE),
        Column(_("NPS with the theme"), NUMBER),
        Column(_("NPS without it"), NUMBER),
        Column(_("Difference"), NUMBER),
        *interval_columns(),
        Column(_("Significant"), TEXT),
    ]
    rows = []
    for row in shown.rows:
        theme = row["theme"]
        rows.append(
            (
                row["name"],
                theme.code,
                yes_no(theme.is_active),
                theme.n,
                as_share(theme.share),
                as_share(theme.negative_share),
                _value(theme.nps_with),
                _value(theme.nps_without),
                *estimate_cells(theme.difference),
                "" if theme.difference is None else yes_no(theme.significant),
            )
        )
    return Table.of_rows(
        columns,
        rows,
        plain_query(request),
        charts=lambda: _titled_charts(
            theme_impact_views.theme_impact_charts(shown),
            {
                "differences": _("NPS with each theme against without it"),
                "trend": _("How often the first themes come up, by month"),
            },
        ),
    )


EXPORTS = (
    ExportKind("overview", gettext_lazy("Overview"), "overview", overview_table, True),
    ExportKind("portfolio", gettext_lazy("Customer portfolio"), "portfolio", portfolio_table, True),
    ExportKind(
        "executive_dashboard",
        gettext_lazy("Executive dashboard"),
        "executive_dashboard",
        executive_table,
        True,
    ),
    ExportKind(
        "touchpoint",
        gettext_lazy("Touchpoint"),
        "touchpoint_detail",
        touchpoint_table,
        True,
        page_pk="touchpoint",
    ),
    ExportKind(
        "theme_impact",
        gettext_lazy("What drives detractors"),
        "theme_impact",
        theme_impact_table,
        True,
    ),
)
