"""Exports of the people and records pages (see :mod:`cxloop.exports.kinds`): the weekly
weigh-in, the CX champions, the training coverage, the meetings with clients, the ideas, a
pulse survey's results and the audit log.

Each table is read through its page's own function (``weigh_in_board``, ``meetings_matching``,
``audit_events``, …), so that it holds the rows the page shows the same person for the same
query string. A page that refuses someone (the pulse results for an employee, the audit log for
anyone but the CX lead) raises the same PermissionDenied or Http404 here, and the export is
refused with the page's status."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from cxloop.audit import queries as audit_queries
from cxloop.audit.choices import Action
from cxloop.exports.tables import (
    ExportKind,
    RefusedFilters,
    Table,
    chunks,
    counter,
    estimate_cells,
    interval_columns,
    local,
    plain_query,
    refuse_invalid,
    titled,
    yes_no,
)
from cxloop.front import people_views, training_views, views
from cxloop.front.filters import shown_value
from cxloop.improvements.queries import initiatives_from_ideas
from cxloop.insights.queries import GroupScore, pulse_trend_chart
from cxloop.lib.params import ParamError, parse_row_id
from cxloop.lib.tabular import DATE, INTEGER, MOMENT, NUMBER, SHARE, TEXT, Column
from cxloop.people.queries import visible_ideas
from cxloop.privacy import views as privacy_views

# --- The weekly weigh-in ----------------------------------------------------------------------


def _against_the_rest(funnel: int) -> str:
    """Where a group's NPS lies against the funnel's limits, in the page's words."""
    if funnel > 0:
        return _("above the limits")
    if funnel < 0:
        return _("below the limits")
    return _("within chance")


def weigh_in_table(request: HttpRequest) -> Table:
    """The weigh-in's table (teams or people, the week the page shows): one row a team or a
    person, ranked first, with the funnel plot the page draws."""
    board = people_views.weigh_in_board(request)
    refuse_invalid(board.filters, request)
    columns = [
        Column(_("Rank"), INTEGER),
        Column(_("Rank range: best"), INTEGER),
        Column(_("Rank range: worst"), INTEGER),
        Column(_("Team") if board.by == "team" else _("Person"), TEXT),
        Column(_("Score"), NUMBER),
        *interval_columns(),
        Column(_("NPS of the answers"), NUMBER),
        Column(_("Answers"), INTEGER),
        Column(_("Since last week"), NUMBER),
        Column(_("Against the rest"), TEXT),
        Column(_("Fewer answers than the minimum"), TEXT),
    ]
    rows = []
    for row in board.rows:
        standing, rank = row["standing"], row["standing"].rank
        rows.append(
            (
                *((None, None, None) if rank is None else (rank.rank, rank.low, rank.high)),
                row["name"],
                # The page shows no score for a group it does not rank: too few answers.
                *((None, None, None) if rank is None else estimate_cells(standing.score)),
                standing.raw.value,
                standing.n,
                row["change"],
                _against_the_rest(standing.funnel),
                yes_no(standing.low_n),
            )
        )

    def charts() -> list[dict]:
        chart = board.chart()
        return [] if chart is None else [titled(chart, _("Who really differs: the funnel"))]

    return Table.of_rows(columns, rows, plain_query(request), charts)


# --- The CX champions -------------------------------------------------------------------------


def champions_table(request: HttpRequest) -> Table:
    """The champions page: one row a champion, team by team as the page lists them, with what
    each did in the last year."""
    report = people_views.champions_of_the_year()
    columns = [
        Column(_("Team"), TEXT),
        Column(_("Champion"), TEXT),
        Column(_("Job title"), TEXT),
        Column(_("Meetings with customers"), INTEGER),
        Column(_("Ideas"), INTEGER),
        Column(_("Initiatives led"), INTEGER),
        Column(_("Cases resolved"), INTEGER),
    ]
    rows = [
        (path, str(row.employee), row.employee.title_label, row.meetings, row.ideas,
         row.initiatives, row.cases)
        for path, champions in report.teams
        for row in champions
    ]  # fmt: skip
    return Table.of_rows(columns, rows, plain_query(request))


# --- Training ---------------------------------------------------------------------------------


def training_table(request: HttpRequest) -> Table:
    """The training page's three tables in one, each row named by its table: the courses, the
    coverage by team and by touchpoint, over the teams the viewer sees."""
    coverage = training_views.training_coverage(request.user, timezone.localdate())
    columns = [
        Column(_("Table"), TEXT),
        Column(_("Name"), TEXT),
        Column(_("Number"), TEXT),
        Column(_("Touchpoints"), TEXT),
        Column(_("Assigned"), INTEGER),
        Column(_("Trained"), INTEGER),
        Column(_("Overdue"), INTEGER),
        Column(_("Coverage"), SHARE),
    ]

    def totals(status) -> tuple:
        return (status.assigned, status.done, status.overdue, status.share)

    courses, teams, touchpoints = _("Courses"), _("Coverage by team"), _("Coverage by touchpoint")
    rows = [
        (courses, course.label, course.reference,
         ", ".join(str(tp) for tp in course.touchpoints.all()), *totals(status))
        for course, status in coverage.courses
    ]  # fmt: skip
    rows += [(teams, row.name, "", "", *totals(row.status)) for row in coverage.teams]
    rows += [(touchpoints, row.name, "", "", *totals(row.status)) for row in coverage.touchpoints]
    return Table.of_rows(columns, rows, plain_query(request))


# --- Meetings with clients --------------------------------------------------------------------


def meetings_table(request: HttpRequest) -> Table:
    """The face-to-face list (its filters): one row a meeting, newest first, its notes whole."""
    meetings = views.meetings_matching(request)
    refuse_invalid(None, request)
    columns = [
        Column(_("Meeting id"), INTEGER),
        Column(_("Date"), DATE),
        Column(_("Kind"), TEXT),
        Column(_("Customer id"), INTEGER),
        Column(_("Client"), TEXT),
        Column(_("Met by"), TEXT),
        Column("NPS", INTEGER),
        Column(_("Notes"), TEXT),
        Column(_("Follow-ups"), INTEGER),
    ]

    def batches() -> Iterator[list[tuple]]:
        for records in chunks(meetings.records):
            yield [
                (
                    record.pk,
                    record.met_on,
                    record.get_kind_display(),
                    record.customer_id,
                    str(record.customer),
                    str(record.employee),
                    record.nps,
                    record.notes,
                    record.follow_up_count,
                )
                for record in records
            ]

    return Table(columns, batches, counter(meetings.records), meetings.accepted)


# --- Ideas ------------------------------------------------------------------------------------


def ideas_table(request: HttpRequest) -> Table:
    """The ideas list: one row an idea the viewer sees, newest first, with its status, its
    answer and the initiative started from it. An anonymous idea's author stays unnamed."""
    ideas = visible_ideas(request.user)
    columns = [
        Column(_("Date"), DATE),
        Column(_("Idea or remark"), TEXT),
        Column(pgettext("author", "From"), TEXT),
        Column(_("Team"), TEXT),
        Column(_("Status"), TEXT),
        Column(_("Our answer"), TEXT),
        Column(_("Initiative"), TEXT),
    ]
    anonymous = _("anonymous")

    def batches() -> Iterator[list[tuple]]:
        for chunk in chunks(ideas):
            initiatives = initiatives_from_ideas([idea.pk for idea in chunk])
            rows = []
            for idea in chunk:
                initiative = initiatives.get(idea.pk)
                # As on the page: the team only beside a named author.
                team = str(idea.team) if idea.author and idea.team else ""
                rows.append(
                    (
                        idea.created_on,
                        idea.text,
                        str(idea.author) if idea.author else anonymous,
                        team,
                        idea.get_status_display(),
                        idea.answer,
                        f"{initiative.reference} · {initiative}" if initiative else "",
                    )
                )
            yield rows

    return Table(columns, batches, counter(ideas), plain_query(request))


# --- A pulse survey's results -----------------------------------------------------------------


def _survey_id(query: QueryDict) -> int:
    """The pulse survey the query string names (``survey``); ParamError naming it."""
    return parse_row_id("survey", query.get("survey", ""))


def _pulse_row(name: str, group: GroupScore) -> tuple:
    return (name, group.n, *estimate_cells(group.enps), yes_no(group.enps is None))


def pulse_results_table(request: HttpRequest) -> Table:
    """A pulse survey's results (``survey``, its id): everyone's eNPS, then each team's the
    viewer sees, withheld where the page withholds it; the trend the page draws."""
    try:
        pk = _survey_id(request.GET)
    except ParamError as error:
        raise RefusedFilters(
            [
                _("%(field)s: %(reason)s, not “%(value)s”.")
                % {
                    "field": _("Survey"),
                    "reason": _(error.template) % error.params,
                    "value": shown_value(str(error.value)),
                }
            ]
        ) from None
    shown = views.pulse_results_shown(request.user, pk)
    columns = [
        Column(_("Team"), TEXT),
        Column(_("Answers"), INTEGER),
        Column("eNPS", NUMBER),
        *interval_columns(),
        Column(_("Withheld to keep the answers anonymous"), TEXT),
    ]
    rows = [_pulse_row(_("Everyone"), shown.results.overall)]
    rows += [_pulse_row(team.name, team) for team in shown.teams]
    return Table.of_rows(
        columns,
        rows,
        {"survey": str(pk)},
        lambda: [titled(pulse_trend_chart(shown.waves()), _("eNPS by team over time"))],
    )


# --- The audit log ----------------------------------------------------------------------------


def _details(details: dict) -> str:
    """An event's details as the page lists them: "key: value" joined by semicolons."""
    return "; ".join(f"{key}: {value}" for key, value in details.items())


def audit_log_table(request: HttpRequest) -> Table:
    """The audit log (its filters), for the CX lead only: one row an event, newest first,
    with what the page shows of it and nothing more (no user id)."""
    shown = privacy_views.audit_events(request)
    if shown.errors:
        raise RefusedFilters(shown.errors)
    labels = audit_queries.kind_labels()
    actions = dict(Action.choices)
    columns = [
        Column(_("When"), MOMENT),
        Column(_("Who"), TEXT),
        Column(_("Address"), TEXT),
        Column(_("Action"), TEXT),
        Column(_("Kind of record"), TEXT),
        Column(_("Record id"), TEXT),
        Column(_("Record"), TEXT),
        Column(_("Details"), TEXT),
    ]

    def batches() -> Iterator[list[tuple]]:
        for events in chunks(shown.events):
            yield [
                (
                    local(event.at),
                    event.actor,
                    event.address,
                    str(actions.get(event.action, event.action)),
                    labels.get(event.object_kind, event.object_kind),
                    event.object_id,
                    # The page leaves out a label that only repeats the id.
                    "" if event.label == f"#{event.object_id}" else event.label,
                    _details(event.details),
                )
                for event in events
            ]

    return Table(columns, batches, counter(shown.events), plain_query(request))


EXPORTS = (
    ExportKind("weigh_in", gettext_lazy("Weekly weigh-in"), "weigh_in", weigh_in_table, True),
    ExportKind("champions", gettext_lazy("CX champions"), "champion_list", champions_table),
    ExportKind("training", gettext_lazy("Training"), "training_list", training_table),
    ExportKind(
        "meetings", gettext_lazy("Meetings with clients"), "face_to_face_list", meetings_table
    ),
    ExportKind("ideas", gettext_lazy("Ideas and remarks"), "ideas", ideas_table),
    ExportKind(
        "pulse_results",
        gettext_lazy("Pulse survey results"),
        "pulse_results",
        pulse_results_table,
        dashboard=True,
        page_pk="survey",
    ),
    ExportKind("audit_log", gettext_lazy("Audit log"), "audit_log", audit_log_table),
)
