"""Exports of the closed loop and the improvement cycle (see :mod:`cxloop.exports.kinds`): the
loop dashboard's tables, the face-to-face follow-ups, the initiatives, the decision log and
the cycle review's next opportunities, each read with its page's own filters, query and
context, for the same user's scope.

A page that refuses a role refuses its export the same way: the cycle review's 403 is raised
from the kind's table, and the export view lets it through as the page would."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from cxloop.cases.queries import case_tabs
from cxloop.exports.tables import (
    ExportKind,
    Table,
    as_share,
    chunks,
    counter,
    estimate_cells,
    local,
    plain_query,
    refuse_invalid,
    titled,
    yes_no,
)
from cxloop.feedback.follow_ups import follow_ups_matching
from cxloop.front import case_views, cycle_views, decision_views, initiative_views, loop_views
from cxloop.improvements.queries import initiatives_matching
from cxloop.insights.loop import LoopFigures
from cxloop.lib.tabular import DATE, INTEGER, MOMENT, NUMBER, SHARE, TEXT, Column


def _float(value) -> float | None:
    """A decimal field's value as the number a spreadsheet reads."""
    return None if value is None else float(value)


# --- The closed-loop dashboard -------------------------------------------------------------


def _loop_columns() -> list[Column]:
    return [
        Column(_("Part of the dashboard"), TEXT),
        Column(_("Team or touchpoint"), TEXT),
        Column(_("Root cause"), TEXT),
        Column(_("Cases"), INTEGER),
        Column(_("Share of the touchpoint's cases"), SHARE),
        Column(_("Detractor cases"), INTEGER),
        Column(_("Detractors contacted within the SLA"), SHARE),
        Column(_("Contacted within the SLA, lower bound of the 95-percent interval"), SHARE),
        Column(_("Contacted within the SLA, upper bound of the 95-percent interval"), SHARE),
        Column(_("Detractor cases contacted within the SLA"), INTEGER),
        Column(_("Detractor cases contacted or past the deadline"), INTEGER),
        Column(_("Detractor cases still within the deadline"), INTEGER),
        Column(_("Fewer cases than the minimum"), TEXT),
        Column(_("Median to first contact, working hours"), NUMBER),
        Column(_("Median to first contact, lower bound of the 95-percent interval"), NUMBER),
        Column(_("Median to first contact, upper bound of the 95-percent interval"), NUMBER),
        Column(_("Cases contacted"), INTEGER),
        Column(_("Median to resolution, working hours"), NUMBER),
        Column(_("Median to resolution, lower bound of the 95-percent interval"), NUMBER),
        Column(_("Median to resolution, upper bound of the 95-percent interval"), NUMBER),
        Column(_("Cases resolved"), INTEGER),
        Column(_("Missed"), INTEGER),
        Column(pgettext("a column of case counts", "Escalated"), INTEGER),
        Column(_("Open now"), INTEGER),
        Column(_("Overdue now"), INTEGER),
        Column(_("Detractor answers without a case"), INTEGER),
    ]


def _figures_row(part: str, name: str, figures: LoopFigures, without_case=None) -> tuple:
    """A row of the loop's figures: the KPI tiles' (``part`` "All cases") or a team's or a
    touchpoint's."""
    return (
        part,
        name,
        "",
        figures.cases,
        None,
        figures.detractor_cases,
        *map(as_share, estimate_cells(figures.in_time)),
        figures.in_time_count,
        figures.decided,
        figures.pending,
        yes_no(figures.low_n),
        *estimate_cells(figures.first_contact),
        figures.contacted,
        *estimate_cells(figures.resolution),
        figures.resolved,
        figures.breaches,
        figures.escalations,
        figures.open_now,
        figures.overdue_now,
        without_case,
    )


def _cause_row(part: str, entry: dict, cause: dict) -> tuple:
    """A root cause of a touchpoint: its cases and their share of the touchpoint's, and
    whether the touchpoint has fewer cases than the minimum; the loop's figures are empty."""
    found = cause["cause"]
    named = (part, str(entry["touchpoint"]), found.label, found.count, found.share)
    # Empty from the detractor cases to the still pending, then empty after "few".
    return (*named, *(None,) * 7, yes_no(entry["item"].low_n), *(None,) * 13)


def loop_table(request: HttpRequest) -> Table:
    """The closed-loop dashboard as one table, a row a figure line of the page, the first
    column naming its part: the KPI tiles (all cases), by team, by touchpoint, then the root
    causes ranked per touchpoint (those rows give the cause's cases and share alone). Shares
    are fractions (0–1), times are working hours."""
    filters = loop_views.loop_filters(request)
    refuse_invalid(filters, request)
    shown = loop_views.loop_context(request, filters)
    query, result = shown["query"], shown["result"]
    rows = [_figures_row(_("All cases"), "", shown["total"], result.detractors_without_case)]
    for part, entries in (
        (_("By team"), shown["teams"]),
        (_("By touchpoint"), shown["touchpoints"]),
    ):
        rows += [_figures_row(part, str(e["name"]), e["row"].figures) for e in entries]
    causes = _("Root causes by touchpoint")
    rows += [_cause_row(causes, e, cause) for e in shown["causes"] for cause in e["causes"]]
    period = {"since": query.since.isoformat(), "until": query.until.isoformat()}
    return Table.of_rows(_loop_columns(), rows, period | plain_query(request))


# --- Face-to-face follow-ups ---------------------------------------------------------------


def follow_ups_table(request: HttpRequest) -> Table:
    """The follow-up list (its tab and filters): one row a follow-up, open ones first by due
    date, then those done, latest first."""
    where, accepted = case_views.follow_up_filter(request, case_tabs(request.user))
    refuse_invalid(None, request)
    today = timezone.localdate()
    queryset = follow_ups_matching(request.user, where, today=today)
    columns = [
        Column(_("Follow-up id"), INTEGER),
        Column(_("Due"), DATE),
        Column(_("Overdue"), TEXT),
        Column(_("What was agreed"), TEXT),
        Column(_("Meeting day"), DATE),
        Column(_("Customer id"), INTEGER),
        Column(_("Customer"), TEXT),
        Column(_("Owner"), TEXT),
        Column(_("Team"), TEXT),
        Column(_("State"), TEXT),
        Column(_("Done"), MOMENT),
    ]
    states = {True: _("done"), False: _("open")}

    def batches() -> Iterator[list[tuple]]:
        for follow_ups in chunks(queryset):
            yield [
                (
                    item.pk,
                    item.due_on,
                    yes_no(item.done_at is None and item.due_on < today),
                    item.description,
                    item.record.met_on,
                    item.record.customer_id,
                    item.record.customer.name,
                    str(item.owner),
                    str(item.owner.team) if item.owner.team else "",
                    states[item.done_at is not None],
                    local(item.done_at),
                )
                for item in follow_ups
            ]

    return Table(columns, batches, counter(queryset), accepted)


# --- Initiatives ---------------------------------------------------------------------------


def initiatives_table(request: HttpRequest) -> Table:
    """The initiative list (its filters): one row an initiative, by target date, with its
    target as the list gives it and its open and overdue action items."""
    where, accepted = initiative_views.initiative_filter(request)
    refuse_invalid(None, request)
    queryset = initiatives_matching(request.user, where, today=timezone.localdate())
    columns = [
        Column(_("Initiative"), TEXT),
        Column(_("Title"), TEXT),
        Column(_("State"), TEXT),
        Column(_("Touchpoints"), TEXT),
        Column(_("Owner"), TEXT),
        Column(_("Team"), TEXT),
        Column(_("Target metric"), TEXT),
        Column(_("Baseline"), NUMBER),
        Column(_("Target"), NUMBER),
        Column(_("Target date"), DATE),
        Column(_("Open action items"), INTEGER),
        Column(_("Overdue action items"), INTEGER),
        Column(_("Proposed"), MOMENT),
        Column(_("Started"), MOMENT),
        Column(_("Done"), MOMENT),
    ]

    def batches() -> Iterator[list[tuple]]:
        for initiatives in chunks(queryset):
            yield [
                (
                    initiative.reference,
                    initiative.label,
                    initiative.get_state_display(),
                    "; ".join(str(t.name) for t in initiative.touchpoints.all()),
                    str(initiative.owner),
                    str(initiative.team),
                    initiative.get_metric_display(),
                    initiative.baseline,
                    _float(initiative.target_value),
                    initiative.target_date,
                    initiative.open_items,
                    initiative.overdue_items,
                    local(initiative.created_at),
                    local(initiative.started_at),
                    local(initiative.finished_at),
                )
                for initiative in initiatives
            ]

    return Table(columns, batches, counter(queryset), accepted)


# --- The decision log ----------------------------------------------------------------------


def decisions_table(request: HttpRequest) -> Table:
    """The decision log (its filters): one row a decision, latest in force first, with the
    change expected and the one measured as of today, and the verdict."""
    decisions, accepted = decision_views.decision_rows(request)
    refuse_invalid(None, request)
    columns = [
        Column(_("Decision"), TEXT),
        Column(_("Title"), TEXT),
        Column(_("Kind of decision"), TEXT),
        Column(_("Decided on"), DATE),
        Column(_("In force from"), DATE),
        Column(_("Touchpoints"), TEXT),
        Column(_("Team"), TEXT),
        Column(_("Metric"), TEXT),
        Column(_("Expected change"), NUMBER),
        Column(_("Measured change"), NUMBER),
        Column(_("Measured change, lower bound of the 95-percent interval"), NUMBER),
        Column(_("Measured change, upper bound of the 95-percent interval"), NUMBER),
        Column(_("Verdict"), TEXT),
    ]
    rows = [
        (
            decision.reference,
            decision.label,
            decision.get_kind_display(),
            decision.decided_on,
            decision.in_force_from,
            "; ".join(str(t.name) for t in decision.touchpoints.all()),
            str(decision.team) if decision.team else "",
            decision.get_metric_display(),
            decision.expected_change,
            *estimate_cells(decision.found.measured),
            str(decision.verdict_label),
        )
        for decision in decisions
    ]
    return Table.of_rows(columns, rows, accepted)


# --- The cycle review's next opportunities -------------------------------------------------


def _opportunity_row(opportunity, touchpoint: str) -> tuple:
    return (
        opportunity.rank,
        touchpoint,
        opportunity.performance,
        opportunity.target,
        opportunity.gap,
        opportunity.importance,
        opportunity.target_segment_importance,
        opportunity.rest_importance,
        yes_no(opportunity.low_n),
    )


def cycle_table(request: HttpRequest) -> Table:
    """The cycle review's next opportunities for the target segment, ranked as the page
    lists them, for the page's period (the last complete quarter unless chosen), with the
    chart the page draws. Those who may not see the review get its 403."""
    cycle_views.require_reviewer(request.user)
    filters = cycle_views.CycleFilters(request.GET, today=timezone.localdate())
    refuse_invalid(filters, request)
    shown = cycle_views.review_page_context(request, filters)
    columns = [
        Column(_("Rank"), INTEGER),
        Column(_("Touchpoint"), TEXT),
        Column(_("Mean rating (1–5)"), NUMBER),
        Column(_("The journey’s average rating"), NUMBER),
        Column(_("Below the journey’s average by"), NUMBER),
        Column(_("Share of what drives NPS"), SHARE),
        Column(_("Share of what drives NPS in the target segment"), SHARE),
        Column(_("Share of what drives NPS among the other customers"), SHARE),
        Column(_("Fewer answers than the minimum"), TEXT),
    ]
    rows = [
        _opportunity_row(entry["item"], str(entry["touchpoint"]))
        for entry in shown["opportunities"]
    ]
    period = {"since": shown["since"].isoformat(), "until": shown["until"].isoformat()}
    return Table.of_rows(
        columns,
        rows,
        period | plain_query(request),
        charts=lambda: [titled(shown["chart"], _("Contacted within the SLA by touchpoint"))],
    )


EXPORTS = (
    ExportKind("loop", gettext_lazy("Closed loop"), "loop_dashboard", loop_table, True),
    ExportKind("follow_ups", gettext_lazy("Follow-ups"), "follow_up_list", follow_ups_table),
    ExportKind("initiatives", gettext_lazy("Initiatives"), "initiative_list", initiatives_table),
    ExportKind("decisions", gettext_lazy("Decision log"), "decision_list", decisions_table),
    ExportKind(
        "cycle_table",
        gettext_lazy("Cycle review: next opportunities"),
        "cycle_review",
        cycle_table,
        True,
    ),
)
