"""What each list exports: its columns and its rows, read with the list page's own filter parser
and query, so that an export holds exactly what the page lists for the same user and query
string, every page of it.

A kind's :attr:`ExportKind.table` takes a request (a real one, or :func:`filter_request`'s for
the command line and the task) and gives a :class:`Table` whose rows are read in batches, in
the page's order, never all at once. A filter the page would leave out with a message refuses
the export instead (:class:`RefusedFilters`): an export that silently held more than asked
would be worse than none."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.cases.choices import OPEN_STATES, CaseState, Priority
from cxloop.cases.queries import case_tabs, cases_matching
from cxloop.comments import search
from cxloop.exports.tables import (
    ExportKind,
    RefusedFilters,
    Table,
    chunks,
    counter,
    estimate_cells,
    interval_columns,
    local,
    no_charts,
    plain_query,
    refuse_invalid,
    titled,
    yes_no,
)
from cxloop.front import (
    case_views,
    comment_views,
    evidence_views,
    insight_views,
    journey_views,
    scorecard_views,
)
from cxloop.insights import pages
from cxloop.journeys.queries import journey_touchpoints
from cxloop.lib.tabular import DATE, INTEGER, MOMENT, NUMBER, SHARE, TEXT, Column
from cxloop.people.queries import visible_team_ids, visible_teams
from cxloop.rows import value_batches
from cxloop.surveys.choices import Channel
from cxloop.surveys.queries import (
    answer_cells,
    customer_surveys,
    feedback_by_customer,
    responses_matching,
)

BATCH = 2_000  # rows read at a time: one query for them and one for their answers
ORM_BATCH = 500  # rows read at a time as objects with their prefetched relations


# --- Responses --------------------------------------------------------------------------------

_RESPONSE_FIELDS = (
    "pk",
    "submitted_at",
    "customer_id",
    "customer__name",
    "contact__name",
    "customer__owner__team_id",
    "channel",
    "survey_id",
    "touchpoint_id",
)


def _response_rows(queryset, size: int = BATCH) -> Iterator[list[tuple]]:
    """The responses of ``queryset`` in its order (newest first) as value tuples in batches,
    read from one query."""
    return value_batches(queryset.prefetch_related(None).values_list(*_RESPONSE_FIELDS), size)


def responses_table(request: HttpRequest) -> Table:
    """The feedback list: one row a response, its NPS, CSAT, effort and every touchpoint's
    rating in columns of their own, its comments joined."""
    team_ids = visible_team_ids(request.user)
    teams = {team.pk: str(team) for team in visible_teams(request.user)}
    parsed = evidence_views.parse_response_filters(request, team_ids, set(teams))
    refuse_invalid(None, request)
    queryset = responses_matching(team_ids, parsed.where)
    touchpoints = journey_touchpoints()
    names = {touchpoint.pk: str(touchpoint.name) for touchpoint in touchpoints}
    position = {touchpoint.pk: i for i, touchpoint in enumerate(touchpoints)}
    surveys = {survey.pk: str(survey) for survey in customer_surveys()}
    channels = dict(Channel.choices)
    columns = [
        Column(_("Response id"), INTEGER),
        Column(_("Submitted"), MOMENT),
        Column(_("Customer id"), INTEGER),
        Column(_("Customer"), TEXT),
        Column(_("Contact"), TEXT),
        Column(_("Team"), TEXT),
        Column(_("Channel"), TEXT),
        Column(_("Survey"), TEXT),
        Column(_("About touchpoint"), TEXT),
        Column("NPS", INTEGER),
        Column("CSAT", INTEGER),
        Column(_("Effort (CES)"), INTEGER),
        *(
            Column(_("Rating: %(touchpoint)s") % {"touchpoint": names[t.pk]}, INTEGER)
            for t in touchpoints
        ),
        Column(_("Comment"), TEXT),
    ]
    scales = {"nps": 0, "csat": 1, "ces": 2}
    width = 3 + len(touchpoints)

    def batches() -> Iterator[list[tuple]]:
        for batch in _response_rows(queryset):
            answers = answer_cells([row[0] for row in batch])
            rows = []
            for row in batch:
                pk, submitted, customer_id, customer, contact, team, channel, survey, about = row
                scores: list[int | None] = [None] * width
                comments = []
                for _pk, kind, score, text, touchpoint_id in answers.get(pk, ()):
                    if kind in scales and scores[scales[kind]] is None:
                        scores[scales[kind]] = score
                    elif kind == "rating" and touchpoint_id in position:
                        at = 3 + position[touchpoint_id]
                        if scores[at] is None:
                            scores[at] = score
                    elif kind == "text" and text:
                        comments.append(text)
                rows.append(
                    (
                        pk,
                        local(submitted),
                        customer_id,
                        customer or "",
                        contact or "",
                        teams.get(team, ""),
                        str(channels.get(channel, channel)),
                        surveys.get(survey, ""),
                        names.get(about, ""),
                        *scores,
                        "\n".join(comments),
                    )
                )
            yield rows

    return Table(columns, batches, counter(queryset), parsed.accepted)


# --- Comments ---------------------------------------------------------------------------------


def comments_table(request: HttpRequest) -> Table:
    """The comment explorer: one row a comment with what text analytics found in it."""
    teams = list(visible_teams(request.user))
    where, accepted = comment_views.parse_comment_filters(request, teams)
    refuse_invalid(None, request)
    queryset = search.comments_matching(visible_team_ids(request.user), where)
    columns = [
        Column(_("Comment id"), INTEGER),
        Column(_("Response id"), INTEGER),
        Column(_("Submitted"), MOMENT),
        Column(_("Customer id"), INTEGER),
        Column(_("Customer"), TEXT),
        Column(_("Comment"), TEXT),
        Column(_("Language"), TEXT),
        Column(_("Sentiment"), TEXT),
        Column(_("Themes"), TEXT),
        Column("NPS", INTEGER),
    ]

    def batches() -> Iterator[list[tuple]]:
        for answers in chunks(queryset):
            texts = {answer.pk: answer.text for answer in answers}
            yield [
                (
                    row.answer_id,
                    row.response_id,
                    local(row.submitted_at),
                    row.customer_id,
                    row.customer_name,
                    texts[row.answer_id],
                    row.language_label,
                    row.sentiment_label,
                    "; ".join(str(theme.name) for theme in row.themes),
                    row.nps,
                )
                for row in search.comment_rows(answers)
            ]

    return Table(columns, batches, counter(queryset), accepted)


# --- Cases ------------------------------------------------------------------------------------


def cases_table(request: HttpRequest) -> Table:
    """The case list (its tab and filters): one row a case, open ones first by deadline."""
    now = timezone.now()
    where, accepted = case_views.case_filter(request, case_tabs(request.user))
    refuse_invalid(None, request)
    queryset = cases_matching(request.user, where, now=now).prefetch_related(
        "touchpoints", "root_causes"
    )
    states, priorities = dict(CaseState.choices), dict(Priority.choices)
    columns = [
        Column(_("Case"), TEXT),
        Column(_("Summary"), TEXT),
        Column(_("Opened"), MOMENT),
        Column(_("State"), TEXT),
        Column(_("Priority"), TEXT),
        Column(_("Customer id"), INTEGER),
        Column(_("Customer"), TEXT),
        Column(_("Owner"), TEXT),
        Column(_("Team"), TEXT),
        Column(_("Touchpoints"), TEXT),
        Column(_("Root causes"), TEXT),
        Column(_("Next deadline"), MOMENT),
        Column(_("Overdue"), TEXT),
        Column(_("First contact"), MOMENT),
        Column(_("Resolved"), MOMENT),
        Column(_("Closed"), MOMENT),
        Column(_("Escalation level"), INTEGER),
    ]

    def overdue(case) -> str:
        running = case.state in OPEN_STATES and case.paused_at is None
        return yes_no(running and case.next_due is not None and case.next_due < now)

    def batches() -> Iterator[list[tuple]]:
        for cases in chunks(queryset):
            yield [
                (
                    case.reference,
                    case.label,
                    local(case.opened_at),
                    str(states.get(case.state, case.state)),
                    str(priorities.get(case.priority, case.priority)),
                    case.customer_id,
                    case.customer.name if case.customer else "",
                    str(case.owner) if case.owner else "",
                    str(case.team) if case.team else "",
                    "; ".join(str(t.name) for t in case.touchpoints.all()),
                    "; ".join(str(cause) for cause in case.root_causes.all()),
                    local(case.next_due),
                    overdue(case),
                    local(case.first_contacted_at),
                    local(case.resolved_at),
                    local(case.closed_at),
                    case.escalation_level,
                )
                for case in cases
            ]

    return Table(columns, batches, counter(queryset), accepted)


# --- Customers --------------------------------------------------------------------------------


def customers_table(request: HttpRequest) -> Table:
    """The customer list (its search, filters and order): one row a customer."""
    query = evidence_views.parse_customer_filters(request)
    refuse_invalid(None, request)
    columns = [
        Column(_("Customer id"), INTEGER),
        Column(_("External id"), TEXT),
        Column(_("Customer"), TEXT),
        Column(_("Tier"), TEXT),
        Column(_("Relationship owner"), TEXT),
        Column(_("Team"), TEXT),
        Column(_("Annual value"), NUMBER),
        Column(_("Currency"), TEXT),
        Column(_("Responses"), INTEGER),
        Column(_("Latest response"), DATE),
    ]

    def batches() -> Iterator[list[tuple]]:
        for customers in chunks(query.customers):
            feedback = feedback_by_customer([customer.pk for customer in customers])
            rows = []
            for customer in customers:
                summary = feedback.get(customer.pk)
                owner = customer.owner
                rows.append(
                    (
                        customer.pk,
                        customer.external_id or "",
                        customer.name,
                        customer.get_tier_display(),
                        str(owner) if owner else "",
                        str(owner.team) if owner and owner.team else "",
                        None if customer.annual_value is None else float(customer.annual_value),
                        customer.currency,
                        summary.count if summary else 0,
                        local(summary.latest).date() if summary else None,
                    )
                )
            yield rows

    return Table(columns, batches, counter(query.customers), query.accepted)


# --- Dashboards -------------------------------------------------------------------------------


def journey_table(request: HttpRequest) -> Table:
    """The journey map's table: one row a touchpoint, in the map's order, with what its card
    shows (for the page's period, segment and team, in the viewer's scope)."""
    filters, scope = insight_views.insight_filters(request)
    refuse_invalid(filters, request)
    try:
        journey = journey_views.chosen_journey(request)
    except Http404:
        raise RefusedFilters([_("Journey: no such active journey")]) from None
    directions = {"up": _("up"), "down": _("down")}
    columns = [
        Column(_("Stage"), TEXT),
        Column(_("Touchpoint"), TEXT),
        Column(_("Ratings"), INTEGER),
        Column(_("Mean rating (1–5)"), NUMBER),
        Column(_("Mean rating, lower bound of the 95-percent interval"), NUMBER),
        Column(_("Mean rating, upper bound of the 95-percent interval"), NUMBER),
        Column(_("Fewer answers than the minimum"), TEXT),
        Column(_("Rated 4–5"), SHARE),
        Column(_("CSAT, satisfied"), SHARE),
        Column(_("Effort (CES)"), NUMBER),
        Column("NPS", NUMBER),
        Column(_("Scored answers"), INTEGER),
        Column(_("Share of what drives NPS"), SHARE),
        Column(_("Opportunity rank"), INTEGER),
        Column(_("Change from the previous period"), NUMBER),
        Column(_("Change is significant"), TEXT),
        Column(_("Control chart signal"), TEXT),
    ]
    rows: list[tuple] = []
    drawn = no_charts
    if journey is not None:
        result = pages.journey_map_query(journey, scope).run()
        drawn = _journey_charts(journey, result, scope, filters)
        names = {
            tp.pk: (str(stage.name), str(tp.name))
            for stage in journey.stages.all()
            for tp in stage.touchpoints.all()
        }

        def share(estimate):
            return None if estimate is None else estimate.value / 100

        for card in result.cards:
            stage, touchpoint = names[card.touchpoint_id]
            rows.append(
                (
                    stage,
                    touchpoint,
                    card.n,
                    *estimate_cells(card.score),
                    yes_no(card.low_n),
                    share(card.top_box),
                    share(card.csat),
                    None if card.ces is None else card.ces.value,
                    None if card.nps is None else card.nps.value,
                    card.volume,
                    card.importance_share,
                    card.rank,
                    None if card.change is None else card.change.value,
                    yes_no(card.change_significant),
                    "" if card.signal is None else str(directions.get(card.signal.direction, "")),
                )
            )
    return Table.of_rows(columns, rows, plain_query(request), drawn)


def _journey_charts(journey, result, scope, filters) -> Callable[[], list[dict]]:
    """The journey map's charts, as its page draws them: the importance–performance grid (when
    anything is ranked) and the emotion curve."""

    def drawn() -> list[dict]:
        stages = list(journey.stages.all())
        touchpoints = {tp.pk: tp for stage in stages for tp in stage.touchpoints.all()}
        grid = journey_views.opportunity_grid_chart(result, touchpoints, scope, filters)
        curve = journey_views.emotion_curve_chart(stages, result)
        return [
            *([titled(grid, _("Importance against rating"))] if grid else []),
            titled(curve, _("Mean rating by journey stage")),
        ]

    return drawn


def comparison_table(request: HttpRequest) -> Table:
    """The comparison page's table: one row a group (segment, team or month)."""
    try:
        shown = insight_views.comparison(request)
    except Http404 as error:
        raise RefusedFilters([str(error)]) from None
    refuse_invalid(shown.filters, request)
    share = shown.metric in ("csat",)  # the page's per cent of satisfied answers
    figure = SHARE if share else NUMBER
    columns = [
        Column(_("Group"), TEXT),
        Column(_("Answers"), INTEGER),
        Column(_("Value"), figure),
        Column(_("Lower bound of the 95-percent interval"), figure),
        Column(_("Upper bound of the 95-percent interval"), figure),
        Column(_("The rest"), figure),
        Column(_("Answers of the rest"), INTEGER),
        Column(_("Difference"), NUMBER),
        Column(_("q-value (Benjamini–Hochberg)"), NUMBER),
        Column(_("Significant"), TEXT),
        Column(_("Why not tested"), TEXT),
    ]

    def scaled(value):
        return None if value is None or not share else value / 100

    rows = []
    for row in shown.rows:
        group = row["group"]
        value, low, high = estimate_cells(group.estimate)
        rest = None if group.reference is None else group.reference.value
        if share:
            value, low, high, rest = scaled(value), scaled(low), scaled(high), scaled(rest)
        rows.append(
            (
                row["name"],
                group.n,
                value,
                low,
                high,
                rest,
                group.reference_n,
                None if group.difference is None else group.difference.value,
                group.q_value,
                yes_no(group.significant),
                row["untested"],
            )
        )
    return Table.of_rows(columns, rows, plain_query(request), _comparison_chart(shown))


def _comparison_chart(shown) -> Callable[[], list[dict]]:
    def drawn() -> list[dict]:
        chart = insight_views.comparison_chart(shown)
        return [titled(chart, _("Each group with its likely range"))]

    return drawn


def scorecard_table(request: HttpRequest) -> Table:
    """A person's (``person``) or a team's (``team``) scorecard: one row a metric, with its
    figure now and a week before, over the page's period."""
    try:
        named = scorecard_views.named_scorecard(request)
    except Http404 as error:
        raise RefusedFilters([str(error)]) from None
    shown = scorecard_views.scorecard_rows(request, named)
    columns = [
        Column(_("Metric"), TEXT),
        Column(_("Value"), NUMBER),
        *interval_columns(),
        Column(_("Based on"), INTEGER),
        Column(_("A week before"), NUMBER),
    ]
    rows = [
        (str(row.metric.label), row.figure.value, row.figure.low, row.figure.high, row.figure.n,
         row.before.value)
        for row in shown
    ]  # fmt: skip

    def drawn() -> list[dict]:
        return [scorecard_views.scorecard_chart(named)]  # titled "Customers’ NPS" of itself

    return Table.of_rows(columns, rows, plain_query(request), drawn)


EXPORTS = (
    ExportKind("responses", gettext_lazy("Feedback"), "response_list", responses_table),
    ExportKind("comments", gettext_lazy("Comments"), "comment_list", comments_table),
    ExportKind("cases", gettext_lazy("Cases"), "case_list", cases_table),
    ExportKind("customers", gettext_lazy("Customers"), "customer_list", customers_table),
    ExportKind("journey", gettext_lazy("Journey map"), "journey_map", journey_table, True),
    ExportKind("comparison", gettext_lazy("Comparison"), "compare", comparison_table, True),
    ExportKind("scorecard", gettext_lazy("Scorecard"), "scorecard_list", scorecard_table, True),
)
