"""The case pages: the list (my cases / my team / all, filters, bulk assign), a case with its
customer's context, triggers, timeline and one small form per action, opening a case by hand
from a response, a customer or a meeting, face-to-face follow-ups as tracked actions, and the
root-cause taxonomy.

Scope: a case the user may not see answers 404, an action they may not take 403, and a refused
action changes nothing (the services write a change and its history in one transaction)."""

import datetime as dt
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cxloop.cases import services
from cxloop.cases.choices import (
    CaseState,
    EventKind,
    LoopChannel,
    Origin,
    Priority,
    Reaction,
    RoutingNote,
)
from cxloop.cases.queries import (
    ALL,
    MINE,
    TEAM,
    CaseFilter,
    assignable_employees,
    case_owners,
    case_tabs,
    case_timeline,
    case_triggers,
    cases_matching,
    earlier_cases,
    may_act,
    may_work_cases,
    root_cause_taxonomy,
    touchpoint_choices,
    visible_case,
)
from cxloop.cases.root_causes import (
    add_root_cause,
    rename_root_cause,
    root_cause_by_id,
    set_root_cause_active,
)
from cxloop.customers.queries import segments_of, visible_customer
from cxloop.feedback.follow_ups import (
    FollowUpFilter,
    follow_up_owners,
    follow_ups_matching,
    mark_done,
    may_complete,
    visible_follow_up,
    visible_meeting,
)
from cxloop.front import case_forms
from cxloop.front.evidence_views import MSG_TOO_LONG, comment_of, score_chips
from cxloop.front.filters import refuse_filter, row_id_filter, shown_value
from cxloop.lib.params import ParamError, check_text, parse_date, parse_row_id
from cxloop.people.queries import (
    administers_cx,
    employee_of,
    subtree_ids,
    visible_team_ids,
    visible_teams,
)
from cxloop.surveys.bands import band_of
from cxloop.surveys.queries import ResponseFilter, responses_matching, visible_response

PER_PAGE = 50
RECENT_RESPONSES = 5
SEARCH_MAX = 200
TAB_LABELS = {
    MINE: gettext_lazy("My cases"),
    TEAM: gettext_lazy("My team"),
    ALL: gettext_lazy("All"),
}
FOLLOW_UP_TAB_LABELS = {
    MINE: gettext_lazy("My follow-ups"),
    TEAM: gettext_lazy("My team"),
    ALL: gettext_lazy("All"),
}


# --- clocks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """A deadline as a person reads it: "due in 3 hours", "overdue by 2 hours", with the exact
    moment for the tooltip."""

    due: dt.datetime | None
    text: str
    overdue: bool
    paused: bool
    met: bool


def clock(due, *, done_at=None, paused_at=None, now: dt.datetime) -> Clock:
    """How the deadline ``due`` stands at ``now``: met or missed once ``done_at``, paused while
    the case waits on the customer, else due in or overdue by the time left or passed."""
    if due is None:
        return Clock(due=None, text="—", overdue=False, paused=False, met=False)
    if done_at is not None:
        met = done_at <= due
        late = _("late by %(time)s") % {"time": timesince(due, done_at, depth=1)}
        return Clock(due=due, text=_("met") if met else late, overdue=False, paused=False, met=met)
    if paused_at is not None:
        text = _("paused: waiting on the customer")
        return Clock(due=due, text=text, overdue=False, paused=True, met=False)
    if due < now:
        text = _("overdue by %(time)s") % {"time": timesince(due, now, depth=1)}
        return Clock(due=due, text=text, overdue=True, paused=False, met=False)
    text = _("due in %(time)s") % {"time": timeuntil(due, now, depth=1)}
    return Clock(due=due, text=text, overdue=False, paused=False, met=False)


def next_clock(case, now: dt.datetime) -> Clock:
    """The deadline running now: first contact until it happened, then resolution."""
    if not case.is_open:
        return clock(case.resolution_due, done_at=case.resolved_at or case.closed_at, now=now)
    if case.first_contacted_at is None and case.first_contact_due is not None:
        return clock(case.first_contact_due, paused_at=case.paused_at, now=now)
    return clock(case.resolution_due, paused_at=case.paused_at, now=now)


# --- the list -----------------------------------------------------------------------------


def _day_start(day: dt.date) -> dt.datetime:
    """The first moment of ``day`` in the site's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _period(
    request: HttpRequest, accepted: dict[str, str], errors: dict[str, str]
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``since`` and ``until``: days YYYY-MM-DD, both inclusive, of the cases' opening in the
    site's time zone (as the loop dashboard counts them). A bad day, or an end before the
    start, is named with its value and left out."""
    days: dict[str, dt.date] = {}
    for name, label in (("since", _("Opened from")), ("until", _("Opened to"))):
        raw = request.GET.get(name, "")
        if not raw:
            continue
        try:
            days[name] = parse_date(name, raw)
        except ParamError as error:
            errors[name] = _("“%(value)s” is not a day: %(reason)s") % {
                "value": shown_value(raw),
                "reason": _(error.template) % error.params,
            }
            refuse_filter(request, label, errors[name])
    since, until = days.get("since"), days.get("until")
    if since is not None and until is not None and until < since:
        errors["until"] = _("%(until)s is before the start, %(since)s") % {
            "until": until.isoformat(),
            "since": since.isoformat(),
        }
        refuse_filter(request, _("Opened to"), errors["until"])
        del days["until"]
    for name, day in days.items():
        accepted[name] = day.isoformat()
    until = days.get("until")
    return (
        None if since is None else _day_start(since),
        None if until is None else _day_start(until + dt.timedelta(days=1)),
    )


def _team_ids(request: HttpRequest, accepted: dict[str, str]) -> tuple[int, ...] | None:
    """``team``: the team and those under it, as far as the user sees them (the loop
    dashboard's team filter); a team the user does not see is refused."""
    team_id = row_id_filter(request, "team", _("Team"), accepted)
    if team_id is None:
        return None
    visible = visible_team_ids(request.user)
    if not visible_teams(request.user).filter(pk=team_id).exists():
        del accepted["team"]
        refuse_filter(request, _("Team"), _("no such team among those you see"))
        return None
    return tuple(t for t in subtree_ids(team_id) if visible is None or t in visible)


def case_filter(
    request: HttpRequest, tabs: list[str], errors: dict[str, str] | None = None
) -> tuple[CaseFilter, dict[str, str]]:
    """The list's filters from the query string; a bad one gets a message and is left out
    (a bad day is also named in ``errors``, by field, to be shown next to its input)."""
    get = request.GET
    accepted: dict[str, str] = {}
    errors = {} if errors is None else errors
    tab = get.get("tab", "")
    tab = tab if tab in tabs else (tabs[0] if tabs else "")
    accepted["tab"] = tab
    state = get.get("state", "open")
    if state and state != "open" and state not in CaseState.values:
        refuse_filter(request, _("State"), _("no such state"), state)
        state = "open"
    accepted["state"] = state
    overdue = get.get("overdue") == "1"
    if overdue:
        accepted["overdue"] = "1"
    priority = get.get("priority", "")
    if priority and priority not in Priority.values:
        refuse_filter(request, _("Priority"), _("no such priority"), priority)
        priority = ""
    if priority:
        accepted["priority"] = priority
    text = get.get("q", "").strip()
    if text:
        try:
            check_text("q", text)
            if len(text) > SEARCH_MAX:
                raise ParamError("q", text, MSG_TOO_LONG, {"count": SEARCH_MAX})
            accepted["q"] = text
        except ParamError as error:
            refuse_filter(request, _("Text"), _(error.template) % error.params)
            text = ""
    opened_since, opened_before = _period(request, accepted, errors)
    where = CaseFilter(
        tab=tab,
        state=state,
        overdue=overdue,
        priority=priority,
        touchpoint_id=row_id_filter(request, "touchpoint", _("Touchpoint"), accepted),
        root_cause_id=row_id_filter(request, "root_cause", _("Root cause"), accepted),
        customer_id=row_id_filter(request, "customer", _("Customer"), accepted),
        owner_id=row_id_filter(request, "owner", _("Owner"), accepted),
        text=accepted.get("q", ""),
        opened_since=opened_since,
        opened_before=opened_before,
        team_ids=_team_ids(request, accepted),
    )
    return where, accepted


def _wider_tabs(request: HttpRequest, tabs: list[str], where: CaseFilter, accepted: dict) -> list:
    """When a narrower tab lists nothing, the wider tabs with what the same filters count
    there (label, count, query), so the empty list points onward instead of reading "no
    cases" while the team or the firm has some. One count per wider tab, only when empty."""
    wider = []
    for tab in tabs[tabs.index(where.tab) + 1 :] if where.tab in tabs else ():
        count = cases_matching(request.user, replace(where, tab=tab), now=timezone.now()).count()
        if count:
            wider.append((TAB_LABELS[tab], count, urlencode({**accepted, "tab": tab})))
    return wider


def _list_context(request: HttpRequest, bulk_form=None) -> dict:
    now = timezone.now()
    tabs = case_tabs(request.user)
    errors: dict[str, str] = {}
    where, accepted = case_filter(request, tabs, errors)
    cases = cases_matching(request.user, where, now=now)
    page = Paginator(cases, PER_PAGE).get_page(request.GET.get("page"))
    may_assign = may_work_cases(request.user)
    return {
        "page": page,
        "wider": _wider_tabs(request, tabs, where, accepted) if not page.paginator.count else [],
        "rows": [{"case": case, "clock": next_clock(case, now)} for case in page],
        "filters": accepted,
        "filter_errors": errors,
        "query": urlencode(accepted),
        "tabs": [(tab, TAB_LABELS[tab], urlencode({**accepted, "tab": tab})) for tab in tabs],
        "states": CaseState.choices,
        "priorities": Priority.choices,
        "touchpoints": touchpoint_choices(),
        "root_causes": [
            (str(cause.pk), f"{cause.touchpoint.name}: {cause}" if cause.touchpoint else str(cause))
            for cause in root_cause_taxonomy()
        ],
        "owners": case_owners(request.user),
        "may_assign": may_assign,
        "assignees": assignable_employees(request.user) if may_assign else [],
        "bulk_form": bulk_form,
        "chosen_team": visible_teams(request.user).filter(pk=accepted["team"]).first()
        if "team" in accepted
        else None,
    }


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """Cases by tab (mine / my team / all, by role), filtered by ``state`` (a state, "open" —
    the default — or empty for all), ``overdue=1``, ``priority``, ``touchpoint``,
    ``root_cause``, ``customer``, ``owner``, ``team`` (ids; a team with those under it),
    ``since`` and ``until`` (days the case was opened, YYYY-MM-DD, both inclusive, in the
    site's time zone) and ``q`` (text in the summary, customer or resolution); open ones first
    by the deadline running now."""
    context = _list_context(request)
    if request.headers.get("HX-Request"):
        context["partial"] = True
        return render(request, "front/cases/includes/case_results.html", context)
    return render(request, "front/cases/case_list.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def case_bulk_assign(request: HttpRequest) -> HttpResponse:
    """Give the ticked cases to one colleague; cases the user may only read are left as they
    are and counted in the message. A GET (a reload, a stale link) goes to the list."""
    if request.method != "POST":
        return redirect("case_list")
    if not may_work_cases(request.user):
        raise PermissionDenied
    employee = employee_of(request.user)
    form = case_forms.BulkAssignForm(request.POST, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        # The list drawn again as it was sent from: its tab and filters are the query string.
        request.GET = QueryDict(request.POST.get("back", "")[:2000])
        return render(
            request, "front/cases/case_list.html", _list_context(request, form), status=400
        )
    now, owner = timezone.now(), form.cleaned_data["owner"]
    assigned = skipped = 0
    for case in form.cleaned_data["cases"]:
        if may_act(request.user, case):
            services.assign(case, owner, by=employee, now=now)
            assigned += 1
        else:
            skipped += 1
    messages.success(
        request,
        ngettext(
            "%(count)s case assigned. Its owner now: %(owner)s.",
            "%(count)s cases assigned. Their owner now: %(owner)s.",
            assigned,
        )
        % {"count": assigned, "owner": owner},
    )
    if skipped:
        messages.warning(
            request,
            _("%(count)s cases you may only read were left as they were.") % {"count": skipped},
        )
    return redirect(_list_url(request.POST.get("back", "")))


def _list_url(query: str) -> str:
    """The case list with the tab and filters the bulk form was sent from: ``query`` is only
    ever a query string, re-encoded onto the list's own path, so it cannot lead elsewhere."""
    params = QueryDict(query[:2000]).urlencode()
    return reverse("case_list") + (f"?{params}" if params else "")


# --- one case -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventLine:
    """One step of the timeline, in the page's language."""

    at: dt.datetime
    who: str
    what: str
    detail: str
    text: str
    kind: str


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def _event_detail(event) -> str:
    data, kind = event.data, event.kind
    english = (get_language() or "ru").startswith("en")
    if kind == EventKind.OPENED:
        parts = [_label(Origin, data.get("origin", ""))]
        if event.case.rule_version_id is not None:
            parts.append(event.case.rule_version.rule.label)
        parts += [_label(RoutingNote, code) for code in data.get("routing", ())]
        return " · ".join(part for part in parts if part)
    if kind == EventKind.ASSIGNED:
        return data.get("owner", {}).get("name", "")
    if kind == EventKind.STATE:
        return f"{_label(CaseState, data.get('before'))} → {_label(CaseState, data.get('after'))}"
    if kind == EventKind.PRIORITY:
        return f"{_label(Priority, data.get('before'))} → {_label(Priority, data.get('after'))}"
    if kind in (EventKind.CONTACTED, EventKind.LOOP_CLOSED):
        parts = [
            _label(LoopChannel, data.get("channel", "")),
            _label(Reaction, data.get("reaction", "")),
        ]
        return " · ".join(part for part in parts if part)
    if kind == EventKind.ROOT_CAUSES:
        names = [
            (c.get("name_en") if english else "") or c.get("name", "")
            for c in data.get("causes", [])
        ]
        return ", ".join(names) or _("none")
    if kind == EventKind.TOUCHPOINTS:
        return ", ".join(data.get("touchpoints", [])) or _("none")
    if kind == EventKind.TRIGGER and data.get("response"):
        return _("response %(number)s") % {"number": data["response"]}
    return ""


def _who(event) -> str:
    if event.by is not None:
        return str(event.by)
    return _("the customer") if event.kind == EventKind.MESSAGE_IN else _("cxloop")


def _event_text(event) -> str:
    english = (get_language() or "ru").startswith("en")
    return (english and event.data.get("text_en")) or event.text


def timeline(case) -> list[EventLine]:
    return [
        EventLine(
            e.at, _who(e), _label(EventKind, e.kind), _event_detail(e), _event_text(e), e.kind
        )
        for e in case_timeline(case)
    ]


ACTIONS = {
    "assign": (
        case_forms.AssignForm,
        lambda case, data, **kw: services.assign(case, data["owner"], **kw),
    ),
    "state": (
        case_forms.StateForm,
        lambda case, data, **kw: services.change_state(
            case, data["state"], text=data["text"], **kw
        ),
    ),
    "priority": (
        case_forms.PriorityForm,
        lambda case, data, **kw: services.set_priority(case, data["priority"], **kw),
    ),
    "note": (
        case_forms.NoteForm,
        lambda case, data, **kw: services.add_note(case, data["text"], **kw),
    ),
    "contact": (
        case_forms.ContactForm,
        lambda case, data, **kw: services.record_contact(
            case, data["channel"], text=data["text"], **kw
        ),
    ),
    "loop": (
        case_forms.LoopForm,
        lambda case, data, **kw: services.record_contact(
            case, data["channel"], text=data["text"], reaction=data["reaction"], **kw
        ),
    ),
    "root_causes": (
        case_forms.RootCausesForm,
        lambda case, data, **kw: services.set_root_causes(case, data["causes"], **kw),
    ),
    "touchpoints": (
        case_forms.TouchpointsForm,
        lambda case, data, **kw: services.set_touchpoints(case, data["touchpoints"], **kw),
    ),
}


def _auto_id(action: str) -> str:
    """Ids of one action form's fields: several forms on the page have a "text" field."""
    return f"id_{action}_%s"


def _has_inquiry(case) -> bool:
    """Whether the case came from the inquiry form (its page then shows the thread)."""
    return hasattr(case, "inquiry")


def _customer_context(request: HttpRequest, case) -> dict:
    if case.customer is None:
        return {}
    team_ids = visible_team_ids(request.user)
    responses = responses_matching(team_ids, ResponseFilter(customer_id=case.customer_id))
    return {
        "recent": [
            {"response": r, "scores": score_chips(r), "comment": comment_of(r)}
            for r in responses[:RECENT_RESPONSES]
        ],
        "segments": segments_of(case.customer),
        "earlier": list(earlier_cases(case)),
    }


def _render_case(request: HttpRequest, case, *, bound: dict | None = None, status: int = 200):
    now = timezone.now()
    acting = may_act(request.user, case)
    forms = {}
    if acting:
        forms = {
            action: (bound or {}).get(action)
            or form_class(user=request.user, case=case, auto_id=_auto_id(action))
            for action, (form_class, _apply) in ACTIONS.items()
        }
    context = {
        "case": case,
        "first_contact": clock(
            case.first_contact_due,
            done_at=case.first_contacted_at,
            paused_at=case.paused_at,
            now=now,
        ),
        "resolution": clock(
            case.resolution_due, done_at=case.resolved_at, paused_at=case.paused_at, now=now
        ),
        "triggers": case_triggers(case),
        "timeline": timeline(case),
        "root_causes": case.root_causes.select_related("touchpoint"),
        "touchpoints": case.touchpoints.all(),
        "may_act": acting,
        "forms": forms,
        "has_inquiry": _has_inquiry(case),
        **_customer_context(request, case),
    }
    return render(request, "front/cases/case_detail.html", context, status=status)


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A case: its clocks, the customer's context, the triggers, the timeline and the actions
    (for those who may act). A case the user may not see answers 404."""
    return _render_case(request, visible_case(request.user, pk))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action on a case (see :data:`ACTIONS`; the URL admits no other): 404 for a case the
    user may not see, 403 for a read-only user; a refused change is shown next to its form.
    A GET (a reload, a stale link) goes to the case."""
    case = visible_case(request.user, pk)
    if request.method != "POST":
        return redirect("case_detail", pk=case.pk)
    if not may_act(request.user, case):
        raise PermissionDenied
    form_class, apply = ACTIONS[action]
    form = form_class(request.POST, user=request.user, case=case, auto_id=_auto_id(action))
    if form.is_valid():
        try:
            apply(case, form.cleaned_data, by=employee_of(request.user), now=timezone.now())
        except services.CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved."))
            return redirect("case_detail", pk=case.pk)
    return _render_case(request, case, bound={action: form}, status=400)


# --- opening a case by hand ---------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """What a case is opened from, and what it prefills."""

    kind: str
    pk: int
    label: str
    title: str
    customer: object = None
    contact: object = None
    touchpoints: tuple = ()
    responses: tuple = ()


def _low_touchpoints(response) -> tuple:
    """The touchpoints the response rated at the bad end."""
    found = []
    for answer in response.answers.all():
        if answer.touchpoint is None or answer.score is None:
            continue
        if band_of(answer.kind, answer.score) == "low" and answer.touchpoint not in found:
            found.append(answer.touchpoint)
    return tuple(found)


def _source(request: HttpRequest) -> Source | None:
    """The response, customer or meeting named in the query string (404 when it is not one
    the user sees; None when none is named)."""
    team_ids = visible_team_ids(request.user)
    for kind in ("response", "customer", "meeting"):
        raw = request.GET.get(kind)
        if raw is None:
            continue
        try:
            pk = parse_row_id(kind, raw)
        except ParamError:
            raise Http404 from None
        if kind == "response":
            response = visible_response(team_ids, pk)
            customer = response.customer
            return Source(
                kind,
                pk,
                _("response %(number)s") % {"number": pk},
                _("Feedback of %(customer)s")
                % {"customer": customer.name if customer else _("anonymous")},
                customer,
                response.contact,
                _low_touchpoints(response),
                (response,),
            )
        if kind == "customer":
            customer = visible_customer(team_ids, pk)
            return Source(
                kind,
                pk,
                customer.name,
                _("Follow-up with %(customer)s") % {"customer": customer.name},
                customer,
            )
        meeting = visible_meeting(request.user, pk)
        contacts = list(meeting.contacts.all())
        met_on = date_format(meeting.met_on, "SHORT_DATE_FORMAT")
        return Source(
            kind,
            pk,
            _("meeting of %(date)s") % {"date": met_on},
            _("After the meeting with %(customer)s") % {"customer": meeting.customer.name},
            meeting.customer,
            contacts[0] if len(contacts) == 1 else None,
            responses=(meeting.response,) if meeting.response_id else (),
        )
    return None


@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    """Open a case by hand from ``?response=``, ``?customer=`` or ``?meeting=`` (an id): the
    customer, contact and low-rated touchpoints are prefilled and a response becomes the case's
    trigger (without a rule). Without one, the page says where cases are opened from."""
    if not may_work_cases(request.user):
        raise PermissionDenied
    employee = employee_of(request.user)
    source = _source(request)
    if source is None:
        return render(request, "front/cases/case_new.html", {"form": None})
    owners = assignable_employees(request.user)
    default_owner = source.customer.owner if source.customer is not None else None
    if default_owner is None or not owners.filter(pk=default_owner.pk).exists():
        default_owner = employee
    initial = {"title": source.title, "owner": default_owner, "priority": Priority.NORMAL}
    form = case_forms.CaseNewForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case = services.open_case(
            origin=Origin.MANUAL,
            title=data["title"],
            now=timezone.now(),
            by=employee,
            customer=source.customer,
            contact=source.contact,
            owner=data["owner"],
            priority=data["priority"],
            sla_policy=data["sla_policy"],
            touchpoints=source.touchpoints,
            responses=source.responses,
            text=data["note"],
        )
        messages.success(request, _("Case %(reference)s is open.") % {"reference": case.reference})
        return redirect("case_detail", pk=case.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "front/cases/case_new.html", {"form": form, "source": source}, status=status
    )


# --- follow-ups ---------------------------------------------------------------------------


def follow_up_filter(request: HttpRequest, tabs: list[str]) -> tuple[FollowUpFilter, dict]:
    """The follow-up list's filters from the query string, and those it keeps in its links; a
    bad one gets a message and is left out."""
    get = request.GET
    accepted: dict[str, str] = {}
    tab = get.get("tab", "")
    accepted["tab"] = tab = tab if tab in tabs else (tabs[0] if tabs else "")
    done_choice = get.get("done", "open")
    if done_choice not in ("open", "done", "all"):
        refuse_filter(request, _("Done"), _("expected open, done or all"), done_choice)
        done_choice = "open"
    accepted["done"] = done_choice
    overdue = get.get("overdue") == "1"
    if overdue:
        accepted["overdue"] = "1"
    where = FollowUpFilter(
        mine=tab == MINE,
        owner_id=row_id_filter(request, "owner", _("Owner"), accepted),
        overdue=overdue,
        done={"open": False, "done": True, "all": None}[done_choice],
    )
    return where, accepted


@login_required
def follow_up_list(request: HttpRequest) -> HttpResponse:
    """Face-to-face follow-ups: tab (mine / my team / all, by role), ``owner`` (an id),
    ``overdue=1``, ``done`` (open — the default —, done, all)."""
    tabs = case_tabs(request.user)
    where, accepted = follow_up_filter(request, tabs)
    today = timezone.localdate()
    follow_ups = follow_ups_matching(request.user, where, today=today)
    page = Paginator(follow_ups, PER_PAGE).get_page(request.GET.get("page"))
    wider = []
    if not page.paginator.count and where.mine and len(tabs) > 1:
        # Only "mine" narrows here (team and all are the user's whole scope): the next tab
        # shows what the same filters find without it.
        others = follow_ups_matching(request.user, replace(where, mine=False), today=today)
        if count := others.count():
            query = urlencode({**accepted, "tab": tabs[1]})
            wider.append((FOLLOW_UP_TAB_LABELS[tabs[1]], count, query))
    context = {
        "page": page,
        "wider": wider,
        "today": today,
        "filters": accepted,
        "query": urlencode(accepted),
        "tabs": [(t, FOLLOW_UP_TAB_LABELS[t], urlencode({**accepted, "tab": t})) for t in tabs],
        "owners": follow_up_owners(request.user),
        "may_complete": may_complete(request.user),
    }
    return render(request, "front/cases/follow_up_list.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a face-to-face follow-up done; a GET (a reload, a stale link) goes to the list."""
    follow_up = visible_follow_up(request.user, pk)
    if request.method != "POST":
        return redirect("follow_up_list")
    if not may_complete(request.user):
        raise PermissionDenied
    if mark_done(follow_up, now=timezone.now()):
        messages.success(request, _("Marked done: %(what)s") % {"what": follow_up})
    return redirect("follow_up_list")


# --- the root-cause taxonomy --------------------------------------------------------------


def _require_cx_lead(request: HttpRequest) -> None:
    if not administers_cx(request.user):
        raise PermissionDenied


@login_required
def root_cause_list(request: HttpRequest) -> HttpResponse:
    """The taxonomy per touchpoint, and a form to add a cause (the CX lead only)."""
    _require_cx_lead(request)
    form = case_forms.RootCauseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            add_root_cause(**form.cleaned_data)
        except services.CaseError as error:
            form.add_error("name_ru", str(error))
        else:
            messages.success(request, _("Root cause added."))
            return redirect("root_cause_list")
    return _render_taxonomy(request, form, status=400 if request.method == "POST" else 200)


def _render_taxonomy(request: HttpRequest, form, *, renamed=None, status: int = 200):
    """The taxonomy page; ``renamed`` is a rename form refused, shown with its errors."""
    causes = []
    for cause in root_cause_taxonomy():
        rename = case_forms.RootCauseRenameForm(
            initial={"name_ru": cause.name_ru, "name_en": cause.name_en}, prefix=f"c{cause.pk}"
        )
        if renamed is not None and renamed.prefix == rename.prefix:
            rename = renamed
        causes.append((cause, rename))
    context = {"form": form, "causes": causes}
    return render(request, "front/cases/root_cause_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def root_cause_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename a cause (``name_ru``, ``name_en`` with the prefix ``c<pk>``), or retire
    (``active=0``) or restore (``active=1``) it. A GET — a reload, a stale link — goes to the
    taxonomy, where the forms are."""
    _require_cx_lead(request)
    cause = root_cause_by_id(pk)
    if cause is None:
        raise Http404
    if request.method != "POST":
        return redirect("root_cause_list")
    if "active" in request.POST:
        set_root_cause_active(cause, request.POST["active"] == "1")
        messages.success(request, _("Saved."))
        return redirect("root_cause_list")
    form = case_forms.RootCauseRenameForm(request.POST, prefix=f"c{cause.pk}")
    if form.is_valid():
        try:
            rename_root_cause(cause, **form.cleaned_data)
        except services.CaseError as error:
            form.add_error("name_ru", str(error))
        else:
            messages.success(request, _("Saved."))
            return redirect("root_cause_list")
    return _render_taxonomy(request, case_forms.RootCauseForm(), renamed=form, status=400)
