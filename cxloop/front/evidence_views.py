"""Every number leads to its evidence: the feedback list with its filters, a response, a
customer (and the customer list) and a contact.

The response list's query string is the contract other pages use to link "the responses
behind this number" (see :func:`response_list`)."""

import datetime as dt
import re
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from cxloop.cases.queries import cases_of_customer, may_work_cases, visible_cases
from cxloop.customers.choices import Tier
from cxloop.customers.queries import (
    all_segments,
    customer_directory,
    customer_owners,
    customers_of_teams,
    segment_by_id,
    segments_of,
    visible_contact,
    visible_customer,
)
from cxloop.feedback.queries import meetings_about
from cxloop.front.filters import refuse_filter
from cxloop.insights.evidence import nps_history, nps_history_chart
from cxloop.journeys.queries import journey_touchpoints
from cxloop.lib.params import ParamError, check_text, parse_date, parse_integer, parse_row_id
from cxloop.lib.scales import SCORE_RANGES
from cxloop.people.queries import employees_named, subtree_ids, visible_team_ids, visible_teams
from cxloop.surveys.bands import BAND_LABELS, BANDS, KIND_LABELS, SCALE_ENDS, band_of
from cxloop.surveys.choices import Channel
from cxloop.surveys.queries import (
    ResponseFilter,
    customer_surveys,
    feedback_by_customer,
    responses_matching,
    visible_response,
)

PER_PAGE = 50
COUNT_CAP = 10_000  # responses counted at most for the list's total and its pages
CUSTOMERS_PER_PAGE = 50
RECENT = 20  # responses shown on a customer's or contact's page; the rest through the list
SEARCH_MAX = 200  # characters of a text search

MSG_NO_TEAM = gettext_noop("no such team among those you see")
MSG_NO_RECORD = gettext_noop("no such record among those you see")
MSG_TOO_LONG = gettext_noop("expected at most %(count)s characters")

# The response list's filters, in the order they are written back into links.
RESPONSE_FILTERS = (
    "since",
    "until",
    "period",
    "team",
    "segment",
    "touchpoint",
    "channel",
    "survey",
    "kind",
    "band",
    "score_min",
    "score_max",
    "q",
    "customer",
    "contact",
    "owner",
)
# A band's CSS class on the colour scale: the bad end dark, the good end light.
BAND_CLASSES = {
    "detractor": "cx-score-1",
    "passive": "cx-score-3",
    "promoter": "cx-score-5",
    "low": "cx-score-1",
    "mid": "cx-score-3",
    "high": "cx-score-5",
}


def _say(request: HttpRequest, label: str, error: ParamError) -> None:
    """A filter that cannot match is left out, and the page says which and why."""
    reason = _(error.template) % error.params
    messages.error(
        request,
        _("%(field)s: %(reason)s — this filter is left out.")
        % {
            "field": label,
            "reason": reason,
        },
    )


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` + 1 rows: a total over millions of responses
    costs a read of every one of them, and nobody pages past the first thousands; beyond the
    cap the page says "more than" and the filters narrow it down."""

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


@dataclass(frozen=True)
class _Parsed:
    where: ResponseFilter
    accepted: dict[str, str]  # the filters kept, as written in the query string
    customer: object = None
    contact: object = None


def parse_response_filters(
    request: HttpRequest, team_ids: list[int] | None, known_teams: set[int]
) -> _Parsed:
    """The response list's filters from the query string; each bad one gets a message and is
    left out (decision 007)."""
    get = request.GET
    raw = {name: get.get(name, "") for name in RESPONSE_FILTERS}
    accepted: dict[str, str] = {}
    where = ResponseFilter()
    since = until = None

    for name, label in (("since", _("Submitted from")), ("until", _("Submitted up to"))):
        if raw[name]:
            try:
                day = parse_date(name, raw[name])
            except ParamError as error:
                _say(request, label, error)
                continue
            accepted[name] = day.isoformat()
            if name == "since":
                since = _day_start(day)
            else:
                until = _day_start(day + dt.timedelta(days=1))
    if raw["period"]:
        match = re.fullmatch(r"(\d{4})-(\d{2})", raw["period"].strip())
        year, month = (int(match[1]), int(match[2])) if match else (0, 0)
        if match and 1900 <= year <= 2200 and 1 <= month <= 12:
            first = _day_start(dt.date(year, month, 1))
            following = dt.date(year + month // 12, month % 12 + 1, 1)
            since = max(since, first) if since else first
            following_start = _day_start(following)
            until = min(until, following_start) if until else following_start
            accepted["period"] = f"{year:04d}-{month:02d}"
        else:
            refuse_filter(request, _("Month"), _("expected a month YYYY-MM between 1900 and 2200"))
    where = replace(where, since=since, until=until)

    if raw["team"]:
        try:
            team_id = parse_row_id("team", raw["team"])
            if team_id not in known_teams:
                raise ParamError("team", raw["team"], MSG_NO_TEAM)
            where = replace(where, team_ids=tuple(subtree_ids(team_id)))
            accepted["team"] = str(team_id)
        except ParamError as error:
            _say(request, _("Team"), error)
    if raw["segment"]:
        try:
            segment_id = parse_row_id("segment", raw["segment"])
            if segment_by_id(segment_id) is None:
                raise ParamError("segment", raw["segment"], MSG_NO_RECORD)
            where = replace(where, segment_id=segment_id)
            accepted["segment"] = str(segment_id)
        except ParamError as error:
            _say(request, _("Segment"), error)
    for name, label in (
        ("touchpoint", _("Touchpoint")),
        ("survey", _("Survey")),
        ("owner", _("Relationship owner")),
    ):
        if raw[name]:
            try:
                value = parse_row_id(name, raw[name])
            except ParamError as error:
                _say(request, label, error)
                continue
            where = replace(where, **{f"{name}_id": value})
            accepted[name] = str(value)
    if raw["channel"]:
        if raw["channel"] in Channel.values:
            where = replace(where, channel=raw["channel"])
            accepted["channel"] = raw["channel"]
        else:
            refuse_filter(request, _("Channel"), _("no such channel"))

    kind = raw["kind"]
    if kind and kind not in SCORE_RANGES:
        refuse_filter(request, _("Scale"), _("expected one of nps, csat, ces, rating"))
        kind = ""
    low = high = None
    if kind:
        where = replace(where, kind=kind)
        accepted["kind"] = kind
        low, high = SCORE_RANGES[kind]
    if raw["band"]:
        if not kind:
            refuse_filter(request, _("Band"), _("choose a scale first"))
        elif raw["band"] not in BANDS[kind]:
            refuse_filter(
                request,
                _("Band"),
                _("expected one of %(bands)s") % {"bands": ", ".join(BANDS[kind])},
            )
        else:
            low, high = BANDS[kind][raw["band"]]
            accepted["band"] = raw["band"]
    for name, label in (("score_min", _("Score from")), ("score_max", _("Score to"))):
        if not raw[name]:
            continue
        if not kind:
            refuse_filter(request, label, _("choose a scale first"))
            continue
        lowest, highest = SCORE_RANGES[kind]
        try:
            value = parse_integer(name, raw[name], low=lowest, high=highest)
        except ParamError as error:
            _say(request, label, error)
            continue
        accepted[name] = str(value)
        if name == "score_min":
            low = max(low, value)
        else:
            high = min(high, value)
    if kind:
        where = replace(where, score_min=low, score_max=high)

    text = raw["q"].strip()
    if text:
        try:
            check_text("q", text)
            if len(text) > SEARCH_MAX:
                raise ParamError("q", text, MSG_TOO_LONG, {"count": SEARCH_MAX})
            where = replace(where, text=text)
            accepted["q"] = text
        except ParamError as error:
            _say(request, _("Text"), error)

    customer = contact = None
    if raw["customer"]:
        try:
            customer_id = parse_row_id("customer", raw["customer"])
            customer = customers_of_teams(team_ids).filter(pk=customer_id).first()
            if customer is None:
                raise ParamError("customer", raw["customer"], MSG_NO_RECORD)
            where = replace(where, customer_id=customer_id)
            accepted["customer"] = str(customer_id)
        except ParamError as error:
            _say(request, _("Customer"), error)
    if raw["contact"]:
        try:
            contact_id = parse_row_id("contact", raw["contact"])
            try:
                contact = visible_contact(team_ids, contact_id)
            except Http404:  # another team's contact is no contact at all
                raise ParamError("contact", raw["contact"], MSG_NO_RECORD) from None
            where = replace(where, contact_id=contact_id)
            accepted["contact"] = str(contact_id)
        except ParamError as error:
            _say(request, _("Contact"), error)
    return _Parsed(where=where, accepted=accepted, customer=customer, contact=contact)


@dataclass(frozen=True)
class ScoreChip:
    """One scored answer as the lists show it: "CSAT 2", "Rating: billing accuracy 2"."""

    label: str
    score: int
    css: str
    kind: str


def score_chips(response) -> list[ScoreChip]:
    """Every scored answer of ``response`` (answers prefetched, in question order)."""
    chips = []
    for answer in response.answers.all():
        if answer.score is None:
            continue
        label = str(KIND_LABELS.get(answer.kind, answer.kind))
        if answer.kind == "rating" and answer.touchpoint is not None:
            label = f"{label}: {answer.touchpoint.name}"
        band = band_of(answer.kind, answer.score)
        chips.append(ScoreChip(label, answer.score, BAND_CLASSES.get(band, ""), answer.kind))
    return chips


def comment_of(response) -> str:
    """The response's free-text answers joined (most have one)."""
    return "\n".join(a.text for a in response.answers.all() if a.kind == "text" and a.text)


def _rows(responses) -> list[dict]:
    return [{"response": r, "scores": score_chips(r), "comment": comment_of(r)} for r in responses]


@login_required
def response_list(request: HttpRequest) -> HttpResponse:
    """Customer feedback of every channel, newest first, filtered.

    The query string is the contract other pages use to link to "the responses behind this
    number"; every parameter is optional, a bad one gets a message and is left out:

    - ``since``, ``until`` — dates YYYY-MM-DD, both inclusive (the site's time zone);
    - ``period`` — a month YYYY-MM (a chart point), within since/until if they are given too;
    - ``team`` — a team id: customers owned by that team or a team below it;
    - ``segment`` — a segment id: customers in the segment now;
    - ``touchpoint`` — a touchpoint id: responses about it or with an answer on it;
    - ``channel`` — a channel code (email, sms, web, qr, interview, visit, debrief, research,
      import, api);
    - ``survey`` — a survey id;
    - ``kind`` — nps | csat | ces | rating: responses with an answer on that scale; with
      ``band`` (nps: detractor | passive | promoter; the others: low | mid | high, high being
      the good end, for effort too: 7 = very easy; see :mod:`cxloop.surveys.bands`) and/or
      ``score_min``/``score_max`` (inclusive, on that scale) only those whose answer lies there;
    - ``q`` — text in a comment (case-insensitive for Latin letters on SQLite);
    - ``customer``, ``contact`` — ids;
    - ``owner`` — an employee id: customers they own now (a scorecard's answers).

    Example: ``/responses/?touchpoint=5&kind=rating&band=low&since=2026-07-01``.
    Scoped as every feedback read: a user sees the customers of their teams only.
    """
    team_ids = visible_team_ids(request.user)
    teams = list(visible_teams(request.user))
    parsed = parse_response_filters(request, team_ids, {team.pk for team in teams})
    responses = responses_matching(team_ids, parsed.where)
    page = CappedPaginator(responses, PER_PAGE).get_page(request.GET.get("page"))
    query = urlencode(parsed.accepted)
    context = {
        "page": page,
        "rows": _rows(page),
        "query": query,
        "filters": parsed.accepted,
        "chosen_customer": parsed.customer,
        "chosen_contact": parsed.contact,
        "chosen_owner": employees_named([parsed.where.owner_id]).get(parsed.where.owner_id)
        if parsed.where.owner_id is not None
        else None,
        "teams": teams,
        "segments": all_segments(),
        "touchpoints": journey_touchpoints(),
        "channels": Channel.choices,
        "surveys": customer_surveys(),
        "kinds": [(kind, KIND_LABELS[kind]) for kind in SCORE_RANGES],
        "nps_bands": [(band, BAND_LABELS[band]) for band in BANDS["nps"]],
        "scale_bands": [(band, BAND_LABELS[band]) for band in BANDS["csat"]],
    }
    if request.headers.get("HX-Request"):
        context["partial"] = True
        return render(request, "front/includes/evidence_response_results.html", context)
    return render(request, "front/response_list.html", context)


@dataclass(frozen=True)
class AnswerLine:
    """An answer as the response page shows it: the question in the UI language, the score on
    its scale with what the ends mean, or the text or choices."""

    question: str
    kind: str
    kind_label: str
    score: int | None
    low: int | None
    high: int | None
    low_means: str
    high_means: str
    css: str
    text: str
    choices: list[str]
    touchpoint: object


def _choice_labels(question, chosen) -> list[str]:
    language = "en" if (get_language() or "ru").startswith("en") else "ru"
    labels = {str(c.get("value")): c.get(language) or c.get("ru") for c in question.choices or []}
    return [labels.get(str(value), str(value)) for value in chosen or []]


def _answer_lines(response) -> list[AnswerLine]:
    lines = []
    for answer in response.answers.all():
        low, high = SCORE_RANGES.get(answer.kind, (None, None))
        ends = SCALE_ENDS.get(answer.kind, ("", ""))
        band = band_of(answer.kind, answer.score) if answer.score is not None else None
        lines.append(
            AnswerLine(
                question=answer.question.text,
                kind=answer.kind,
                kind_label=str(KIND_LABELS.get(answer.kind, "")),
                score=answer.score,
                low=low,
                high=high,
                low_means=str(ends[0]),
                high_means=str(ends[1]),
                css=BAND_CLASSES.get(band, ""),
                text=answer.text,
                choices=_choice_labels(answer.question, answer.choices),
                touchpoint=answer.touchpoint,
            )
        )
    return lines


@login_required
def response_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One response: every answer and comment, its survey, channel, contact, customer, team,
    touchpoints, time and invitation. Another team's response answers 404."""
    response = visible_response(visible_team_ids(request.user), pk)
    touchpoints = []
    for touchpoint in [response.touchpoint, *(a.touchpoint for a in response.answers.all())]:
        if touchpoint is not None and touchpoint not in touchpoints:
            touchpoints.append(touchpoint)
    owner = response.customer.owner if response.customer else None
    context = {
        "response": response,
        "answers": _answer_lines(response),
        "touchpoints": touchpoints,
        "owner": owner,
        "team": owner.team if owner else None,
        "scores": score_chips(response),
        "may_open_case": may_work_cases(request.user),
        **_response_cases(request.user, response),
    }
    return render(request, "front/response_detail.html", context)


def _response_cases(user, response) -> dict:
    """The cases this response raised or joined, apart from the customer's other cases: one
    list of both read as if this response had them all."""
    raised = list(visible_cases(user).filter(triggers__response=response).distinct())
    others = (
        [c for c in cases_of_customer(user, response.customer_id) if c not in raised]
        if response.customer_id
        else []
    )
    return {"response_cases": raised, "cases": others}


CUSTOMER_SORTS = ("name", "-name", "value", "-value", "tier")


@dataclass(frozen=True)
class CustomerQuery:
    """The customer list's filters read from a query string: ``customers`` the matching
    customers in the list's order, ``accepted`` the filters kept (as written in links)."""

    customers: object
    accepted: dict[str, str]
    sort: str
    teams: list
    owners: list[tuple[int, str]]


def parse_customer_filters(request: HttpRequest) -> CustomerQuery:
    """The customer list's customers for the query string; each bad filter gets a message
    and is left out (decision 007)."""
    team_ids = visible_team_ids(request.user)
    teams = list(visible_teams(request.user))
    known_teams = {team.pk for team in teams}
    get = request.GET
    accepted: dict[str, str] = {}
    options: dict = {}
    text = get.get("q", "").strip()
    if text:
        try:
            check_text("q", text)
            if len(text) > SEARCH_MAX:
                raise ParamError("q", text, MSG_TOO_LONG, {"count": SEARCH_MAX})
            options["search"] = accepted["q"] = text
        except ParamError as error:
            _say(request, _("Search"), error)
    if get.get("segment"):
        try:
            segment = segment_by_id(parse_row_id("segment", get["segment"]))
            if segment is None:
                raise ParamError("segment", get["segment"], MSG_NO_RECORD)
            options["segment"] = segment
            accepted["segment"] = str(segment.pk)
        except ParamError as error:
            _say(request, _("Segment"), error)
    if get.get("tier"):
        if get["tier"] in Tier.values:
            options["tier"] = accepted["tier"] = get["tier"]
        else:
            refuse_filter(request, _("Tier"), _("no such tier"))
    if get.get("team"):
        try:
            team_id = parse_row_id("team", get["team"])
            if team_id not in known_teams:
                raise ParamError("team", get["team"], MSG_NO_TEAM)
            options["owner_team_ids"] = subtree_ids(team_id)
            accepted["team"] = str(team_id)
        except ParamError as error:
            _say(request, _("Team"), error)
    owners = customer_owners(team_ids)
    if get.get("owner"):
        try:
            owner_id = parse_row_id("owner", get["owner"])
            if owner_id not in dict(owners):
                raise ParamError("owner", get["owner"], MSG_NO_RECORD)
            options["owner_id"] = owner_id
            accepted["owner"] = str(owner_id)
        except ParamError as error:
            _say(request, _("Owner"), error)
    sort = get.get("sort", "name")
    if sort not in CUSTOMER_SORTS:
        refuse_filter(
            request,
            _("Sort"),
            _("expected one of %(values)s") % {"values": ", ".join(CUSTOMER_SORTS)},
        )
        sort = "name"
    customers = customer_directory(team_ids, order=sort, **options)
    return CustomerQuery(customers, accepted, sort, teams, owners)


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    """Customers of the user's teams: search by the customer's name or a contact's name or
    e-mail (``q``), filters ``segment``, ``tier``, ``team`` (with the teams below it),
    ``owner`` (an employee id), ``sort`` (name, -name, value, -value, tier), ``page``."""
    query = parse_customer_filters(request)
    customers, accepted, sort = query.customers, query.accepted, query.sort
    teams, owners, get = query.teams, query.owners, request.GET
    page = Paginator(customers, CUSTOMERS_PER_PAGE).get_page(get.get("page"))
    feedback = feedback_by_customer([c.pk for c in page])
    rows = [{"customer": c, "feedback": feedback.get(c.pk)} for c in page]
    query = urlencode(accepted)
    sorted_query = urlencode({**accepted, "sort": sort})
    context = {
        "page": page,
        "rows": rows,
        "filters": accepted,
        "query": query,
        "sorted_query": sorted_query,
        "sort": sort,
        "segments": all_segments(),
        "tiers": Tier.choices,
        "teams": teams,
        "owners": owners,
    }
    if request.headers.get("HX-Request"):
        context["partial"] = True
        return render(request, "front/includes/evidence_customer_results.html", context)
    return render(request, "front/customer_list.html", context)


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A customer: owner, value, tier, segments, contacts, NPS by quarter with intervals, the
    latest responses (all of them through the list), meetings and their follow-ups."""
    team_ids = visible_team_ids(request.user)
    customer = visible_customer(team_ids, pk)
    responses = responses_matching(team_ids, ResponseFilter(customer_id=customer.pk))
    summary = feedback_by_customer([customer.pk]).get(customer.pk)
    history = nps_history(customer_id=customer.pk)
    query = urlencode({"customer": customer.pk})
    context = {
        "customer": customer,
        "segments": segments_of(customer),
        "contacts": customer.contacts.all(),
        "history": history,
        "history_chart": nps_history_chart(
            history, href=f"{reverse('response_list')}?{query}", today=timezone.localdate()
        ),
        "rows": _rows(responses[:RECENT]),
        "response_count": summary.count if summary else 0,
        "meetings": list(meetings_about(customer_id=customer.pk)),
        "query": query,
        "may_open_case": may_work_cases(request.user),
        "cases": cases_of_customer(request.user, customer.pk),
    }
    return render(request, "front/customer_detail.html", context)


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A contact: their customer, role, latest responses and the meetings they were at."""
    team_ids = visible_team_ids(request.user)
    contact = visible_contact(team_ids, pk)
    responses = responses_matching(team_ids, ResponseFilter(contact_id=contact.pk))
    history = nps_history(contact_id=contact.pk)
    query = urlencode({"contact": contact.pk})
    context = {
        "contact": contact,
        "customer": contact.customer,
        "history": history,
        "history_chart": nps_history_chart(
            history, href=f"{reverse('response_list')}?{query}", today=timezone.localdate()
        ),
        "rows": _rows(responses[:RECENT]),
        "response_count": responses.count(),
        "meetings": list(meetings_about(contact_id=contact.pk)),
        "query": query,
    }
    return render(request, "front/contact_detail.html", context)
