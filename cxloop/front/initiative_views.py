"""The initiative pages: the list (state, touchpoint, owner, overdue action items), proposing
one (prefilled from the page it was started on, with its baseline), an initiative with its
touchpoints, root causes, linked cases, action items, state buttons and history, and changing
it.

Scope (decision 014): an initiative the user may not see answers 404, an action they may not
take 403, and a refused action changes nothing. The actions are POSTs; a GET of one (a reload,
a stale link) goes to the initiative's page."""

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from cxloop.cases.queries import root_cause_taxonomy, visible_cases
from cxloop.front.filters import refuse_filter, row_id_filter
from cxloop.front.initiative_forms import ActionItemForm, FinishForm, InitiativeForm, StateForm
from cxloop.i18n import localized
from cxloop.improvements import services
from cxloop.improvements.choices import (
    ACTIVE_STATES,
    EventKind,
    InitiativeState,
    Scope,
    StartedFrom,
    TargetMetric,
)
from cxloop.improvements.queries import (
    InitiativeFilter,
    action_items_of,
    initiative_history,
    initiative_owners,
    initiatives_matching,
    leads_initiatives,
    may_edit,
    may_propose,
    may_tick,
    moves_for,
    segment_choices,
    touchpoint_by_id,
    touchpoint_choices,
    visible_action_item,
    visible_initiative,
)
from cxloop.insights import charts
from cxloop.insights.initiatives import MIN_N as EFFECT_MIN_N
from cxloop.insights.initiatives import initiative_effect
from cxloop.people.queries import employee_of, ideas_for_initiatives

PER_PAGE = 50
# The state buttons of an initiative's page, by the state they move it to.
MOVE_LABELS = {
    InitiativeState.APPROVED: gettext_lazy("Approve"),
    InitiativeState.IN_PROGRESS: gettext_lazy("Start the work"),
    InitiativeState.ABANDONED: gettext_lazy("Abandon"),
}
POST_ONLY = ["GET", "HEAD", "POST"]


# --- the list -----------------------------------------------------------------------------


def initiative_filter(request: HttpRequest) -> tuple[InitiativeFilter, dict[str, str]]:
    """The initiative list's filters from the query string, and those it keeps in its links;
    a bad one gets a message and is left out."""
    accepted: dict[str, str] = {}
    state = request.GET.get("state", "active")
    if state and state != "active" and state not in InitiativeState.values:
        refuse_filter(request, _("State"), _("no such state"), state)
        state = "active"
    accepted["state"] = state
    overdue = request.GET.get("overdue") == "1"
    if overdue:
        accepted["overdue"] = "1"
    where = InitiativeFilter(
        state=state,
        touchpoint_id=row_id_filter(request, "touchpoint", _("Touchpoint"), accepted),
        owner_id=row_id_filter(request, "owner", _("Owner"), accepted),
        overdue=overdue,
    )
    return where, accepted


@login_required
def initiative_list(request: HttpRequest) -> HttpResponse:
    """Initiatives the user sees, filtered by ``state`` (a state, "active" — the default — or
    empty for all), ``touchpoint``, ``owner`` (ids) and ``overdue=1`` (with an action item past
    its day); by target date."""
    where, accepted = initiative_filter(request)
    today = timezone.localdate()
    page = Paginator(initiatives_matching(request.user, where, today=today), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "filters": accepted,
        "query": urlencode(accepted),
        "states": InitiativeState.choices,
        "touchpoints": touchpoint_choices(),
        "owners": initiative_owners(request.user),
        "may_propose": may_propose(request.user),
    }
    return render(request, "front/initiatives/initiative_list.html", context)


# --- proposing ----------------------------------------------------------------------------


def _named_row(request: HttpRequest, name: str, label: str, missing: str, find):
    """The record the query parameter ``name`` names (``find(pk)``, None when absent); a value
    that names nothing is refused with a message and gives None."""
    pk = row_id_filter(request, name, label, {})
    if pk is None:
        return None
    found = find(pk)
    if found is None:
        refuse_filter(request, label, missing)
    return found


def _prefill(request: HttpRequest) -> dict:
    """What the page the initiative was started on says: ``touchpoint``, ``root_cause``,
    ``case``, ``segment``, ``idea`` (ids), ``from`` (a :class:`StartedFrom` code) and
    ``metric``. A value that names nothing is left out with a message."""
    get, initial = request.GET, {"scope": Scope.ALL, "started_from": StartedFrom.MANUAL}
    touchpoint = _named_row(
        request, "touchpoint", _("Touchpoint"), _("no such touchpoint"), touchpoint_by_id
    )
    if touchpoint is not None:
        initial["touchpoints"] = [touchpoint]
    cause = _named_row(
        request,
        "root_cause",
        _("Root cause"),
        _("no such root cause"),
        lambda pk: root_cause_taxonomy().filter(pk=pk).first(),
    )
    if cause is not None:
        initial["root_causes"] = [cause]
        if cause.touchpoint is not None and "touchpoints" not in initial:
            initial["touchpoints"] = [cause.touchpoint]
        # The record keeps the firm's language in ``title`` whatever the page's.
        initial["title"], initial["title_en"] = cause.name_ru, cause.name_en
    case = _named_row(
        request,
        "case",
        _("Case"),
        _("no such case among those you see"),
        lambda pk: visible_cases(request.user).filter(pk=pk).first(),
    )
    if case is not None:
        initial["cases"] = case.reference
    started_from = get.get("from", "")
    if started_from in StartedFrom.values:
        initial["started_from"] = started_from
    elif started_from:
        refuse_filter(request, _("Started from"), _("no such starting point"), started_from)
    metric = get.get("metric", "")
    if metric in TargetMetric.values:
        initial["metric"] = metric
    elif metric:
        refuse_filter(request, _("Target metric"), _("no such metric"), metric)
    elif "touchpoints" in initial:
        # A touchpoint's own measure is its rating: NPS is asked of the relationship, not of
        # each touchpoint, so its baseline there is mostly empty.
        initial["metric"] = TargetMetric.RATING
    segment = _named_row(
        request,
        "segment",
        _("Segment"),
        _("no such segment"),
        lambda pk: segment_choices().filter(pk=pk).first(),
    )
    if segment is not None:
        initial.update(scope=Scope.SEGMENT, segment=segment)
    idea = _named_row(
        request,
        "idea",
        _("Idea"),
        _("no such open idea among those you answer"),
        lambda pk: ideas_for_initiatives(request.user).filter(pk=pk).first(),
    )
    if idea is not None:
        # The idea's words are the problem it names; the title is the proposer's to write.
        initial.update(from_idea=idea, problem=idea.text)
    return initial


def _baseline_preview(form: InitiativeForm) -> services.Baseline | None:
    """The baseline of the touchpoints, metric and scope the form holds (sent or prefilled),
    as proposing will measure it."""
    data = getattr(form, "cleaned_data", {}) if form.is_bound else form.initial
    touchpoints, metric = data.get("touchpoints") or [], data.get("metric", "")
    if not touchpoints or metric not in TargetMetric.values:
        return None
    scope = services.baseline_scope(
        data.get("scope", Scope.ALL), data.get("segment"), data.get("scope_teams") or []
    )
    return services.baseline_for(touchpoints, metric, timezone.localdate(), scope)


def _field_error(form, error: services.InitiativeError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error))


def _initiative_fields(data: dict) -> dict:
    fields = {k: v for k, v in data.items() if k != "started_from"}
    fields["title_en"] = fields.get("title_en", "")
    return fields


@login_required
@require_http_methods(POST_ONLY)
def initiative_new(request: HttpRequest) -> HttpResponse:
    """Propose an initiative, prefilled from ``?touchpoint=``, ``?root_cause=``, ``?case=``
    (ids), ``?from=`` (where it was started: journey_map, opportunities, touchpoint,
    root_cause, cycle_review) and ``?metric=`` (nps, rating, csat, ces); the baseline of the
    chosen touchpoints and metric is shown before saving."""
    if not may_propose(request.user):
        raise PermissionDenied
    if request.method == "GET" and request.headers.get("HX-Request"):
        # The form changed: the preview for the touchpoints, metric and scope now chosen.
        form = InitiativeForm(request.GET, user=request.user, proposing=True)
        form.is_valid()
        context = {"baseline": _baseline_preview(form)}
        return render(request, "front/initiatives/includes/baseline_preview.html", context)
    employee = employee_of(request.user)
    initial = _prefill(request) if request.method != "POST" else {}
    if employee is not None:
        initial.setdefault("owner", employee)
    form = InitiativeForm(request.POST or None, user=request.user, proposing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            initiative = services.create_initiative(
                **_initiative_fields(data),
                started_from=data["started_from"],
                by=employee,
                now=timezone.now(),
            )
        except services.InitiativeError as error:
            _field_error(form, error)
        else:
            messages.success(
                request,
                _("Initiative %(reference)s is proposed.") % {"reference": initiative.reference},
            )
            return redirect("initiative_detail", pk=initiative.pk)
    started_from = form.data.get("started_from") or form.initial.get("started_from", "")
    context = {
        "form": form,
        "baseline": _baseline_preview(form),
        "started_from": StartedFrom(started_from).label
        if started_from in StartedFrom.values
        else "",
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "front/initiatives/initiative_new.html", context, status=status)


# --- one initiative -----------------------------------------------------------------------


def _event_detail(event, standards: dict, labels: dict) -> str:
    data, kind = event.data, event.kind
    if kind == EventKind.STATE:
        before, after = data.get("before", ""), data.get("after", "")
        labels = [
            str(InitiativeState(s).label) if s in InitiativeState.values else s
            for s in (before, after)
        ]
        return " → ".join(labels)
    if kind in (EventKind.ACTION_ADDED, EventKind.ACTION_OVERDUE):
        parts = [data.get("owner", {}).get("name", "")]
        if data.get("due_on"):
            day = date_format(dt.date.fromisoformat(data["due_on"]), "SHORT_DATE_FORMAT")
            parts.append(_("due %(day)s") % {"day": day})
        return " · ".join(p for p in parts if p)
    if kind == EventKind.EDITED:
        return ", ".join(labels.get(name, name) for name in data.get("fields", []))
    if kind == EventKind.STANDARD:
        return ", ".join(
            _("%(touchpoint)s, version %(version)s")
            % {"touchpoint": standards[s["id"]].touchpoint.name, "version": s.get("version")}
            for s in data.get("standards", [])
            if s.get("id") in standards
        )
    if kind == EventKind.CREATED and data.get("started_from") in StartedFrom.values:
        return str(StartedFrom(data["started_from"]).label)
    return ""


def _event_text(event, standards: dict) -> str:
    """The event's text; a new standard's in the page's language (the event keeps the
    Russian)."""
    if event.kind == EventKind.STANDARD:
        for ref in event.data.get("standards", []):
            if ref.get("id") in standards:
                return standards[ref["id"]].text
    return event.text


def _history(initiative) -> list[dict]:
    standards = {s.pk: s for s in initiative.standards.select_related("touchpoint")}
    # An edit names its fields by code: shown by their names.
    labels = {
        field.name: str(field.verbose_name)
        for field in initiative._meta.get_fields()
        if hasattr(field, "verbose_name")
    }
    return [
        {
            "at": event.at,
            "who": str(event.by) if event.by is not None else _("cxloop"),
            "what": event.get_kind_display(),
            "detail": _event_detail(event, standards, labels),
            "text": _event_text(event, standards),
            "kind": event.kind,
        }
        for event in initiative_history(initiative)
    ]


def _render_initiative(
    request: HttpRequest, initiative, *, bound: dict | None = None, status: int = 200
) -> HttpResponse:
    user, bound = request.user, bound or {}
    today = timezone.localdate()
    editing = may_edit(user, initiative)
    moves = moves_for(user, initiative)
    items = [
        {
            "item": item,
            "overdue": item.done_at is None and item.due_on < today,
            "may_tick": may_tick(user, item, editing=editing),
        }
        for item in action_items_of(initiative)
    ]
    cases = list(initiative.cases.order_by("-opened_at"))
    seen = set(
        visible_cases(user).filter(pk__in=[c.pk for c in cases]).values_list("pk", flat=True)
    )
    forms = {}
    if editing and initiative.is_active:
        forms["item"] = bound.get("item") or ActionItemForm(user=user, auto_id="id_item_%s")
    state_moves = [m for m in moves if m != InitiativeState.DONE]
    if state_moves:
        forms["state"] = bound.get("state") or StateForm(moves=moves, auto_id="id_state_%s")
    if InitiativeState.DONE in moves:
        forms["finish"] = bound.get("finish") or FinishForm(
            auto_id="id_finish_%s", initial={"effective_from": today}
        )
    context = {
        "initiative": initiative,
        "touchpoints": initiative.touchpoints.select_related("stage"),
        "root_causes": initiative.root_causes.select_related("touchpoint"),
        "cases": [(case, case.pk in seen) for case in cases],
        "scope_teams": initiative.scope_teams.all(),
        "standards": initiative.standards.select_related("touchpoint").order_by("touchpoint_id"),
        "items": items,
        "history": _history(initiative),
        "may_edit": editing and initiative.is_active,
        "forms": forms,
        "moves": state_moves,
        "move_buttons": [(move, MOVE_LABELS[move]) for move in state_moves],
        "is_lead": leads_initiatives(user),
        "change": localized(initiative, "change"),
        "effect": _effect(initiative, today),
    }
    return render(request, "front/initiatives/initiative_detail.html", context, status=status)


# What each estimate may claim (cxloop.analytics.impact.CLAIMS), in words.
CLAIM_TEXT = {
    "association_only": gettext_lazy(
        "A before/after comparison shows how much the metric moved, not why: anything else "
        "that changed in the same months (the season, the mix of customers, other work) is in "
        "it too."
    ),
    "causal_if_parallel_trends": gettext_lazy(
        "Before the change both groups moved in parallel, so the difference can be read as the "
        "initiative's effect, provided they would have kept moving alike without it. The test "
        "has little power with few periods: judge the chart too."
    ),
    "pre_trends_differ": gettext_lazy(
        "Before the change the two groups already moved differently, so this difference cannot "
        "be claimed as the initiative's effect."
    ),
    "pre_trends_untested": gettext_lazy(
        "Too few periods before the change to check that both groups moved in parallel: the "
        "difference is the initiative's effect only if they would have, which these data "
        "cannot show."
    ),
    "causal_if_trend_continues": gettext_lazy(
        "No comparison group has enough answers, so the series is compared with its own trend "
        "before the change. The jump is the initiative's effect only if that trend would have "
        "continued and nothing else changed at the same time."
    ),
    "too_few_periods": gettext_lazy(
        "No comparison group has enough answers, so the series is compared with its own trend "
        "before the change; with fewer than eight periods on a side that trend is uncertain: "
        "read the jump as a hint, not as proof."
    ),
}
# The comparison group of each scope, and the group the initiative changed.
COMPARISON_LABELS = {
    "touchpoints": (
        gettext_lazy("The touchpoints changed"),
        gettext_lazy("Other touchpoints of the journey"),
    ),
    "segment": (gettext_lazy("Customers in the segment"), gettext_lazy("Other customers")),
    "teams": (gettext_lazy("Teams in scope"), gettext_lazy("Other teams")),
}


def _p(value: float) -> str:
    """A p-value as people read it, in the page's number format: "p < 0.001" below that."""
    if value < 0.001:
        return "p < " + number_format(0.001, decimal_pos=3)
    return "p = " + number_format(value, decimal_pos=3)


def _effect(initiative, today: dt.date) -> dict:
    """The measured effect (cxloop.insights.initiatives) with its claims in words and charts
    of the periods in the page's language."""
    result = initiative_effect(initiative, today=today)
    metric = initiative.get_metric_display()
    out = {"result": result, "min_n": EFFECT_MIN_N, "charts": False, "metric": metric}
    if result.before_after is not None:
        out["before_after_claim"] = CLAIM_TEXT[result.before_after.claim]
        out["before_after_p"] = _p(result.before_after.change.p_value)
    if result.did is not None:
        did = result.did
        treated, control = COMPARISON_LABELS[did.comparison]
        out.update(
            did_claim=CLAIM_TEXT[did.claim],
            did_p=_p(did.effect.p_value),
            pre_trends_p=_p(did.pre_trends.p_value) if did.pre_trends else "",
            treated_label=treated,
            control_label=control,
            did_chart=charts.did_chart(
                did.points,
                change=did.change_period,
                title=_("%(metric)s by period") % {"metric": metric},
                y_title=metric,
                treated_label=str(treated),
                control_label=str(control),
                grain=result.grain,
            ),
            charts=True,
        )
    if result.its is not None:
        out.update(
            its_claim=CLAIM_TEXT[result.its.claim],
            its_p=_p(result.its.level_change.p_value),
            its_chart=charts.its_chart(
                result.its.points,
                change=result.its.change_period,
                title=_("%(metric)s by period") % {"metric": metric},
                y_title=metric,
                grain=result.grain,
            ),
            charts=True,
        )
    return out


@login_required
def initiative_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An initiative: its fields, touchpoints, root causes and linked cases, action items (add,
    tick), the moves open to the user, the history, and (later) its measured effect."""
    return _render_initiative(request, visible_initiative(request.user, pk))


@login_required
@require_http_methods(POST_ONLY)
def initiative_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an initiative not yet done or abandoned (leads, and managers for their part)."""
    initiative = visible_initiative(request.user, pk)
    if not may_edit(request.user, initiative):
        raise PermissionDenied
    if initiative.state not in ACTIVE_STATES:
        messages.error(request, _("A finished or abandoned initiative is not changed any more."))
        return redirect("initiative_detail", pk=initiative.pk)
    initial = {
        "title": initiative.title,
        "title_en": initiative.title_en,
        "touchpoints": list(initiative.touchpoints.all()),
        "problem": initiative.problem,
        "hypothesis": initiative.hypothesis,
        "root_causes": list(initiative.root_causes.all()),
        "cases": ", ".join(
            case.reference
            for case in initiative.cases.filter(
                pk__in=visible_cases(request.user).values("pk")
            ).order_by("pk")
        ),
        "metric": initiative.metric,
        "target_value": initiative.target_value,
        "target_date": initiative.target_date,
        "owner": initiative.owner,
        "team": initiative.team,
        "scope": initiative.scope,
        "segment": initiative.segment,
        "scope_teams": list(initiative.scope_teams.all()),
    }
    form = InitiativeForm(request.POST or None, user=request.user, proposing=False, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = _initiative_fields(form.cleaned_data)
        # Linked cases the user may not see stay linked: the form only knows the visible ones.
        hidden = initiative.cases.exclude(pk__in=visible_cases(request.user).values("pk"))
        fields["cases"] = [*fields["cases"], *hidden]
        fields["team"] = fields["team"] or fields["owner"].team
        try:
            services.update_initiative(
                initiative, by=employee_of(request.user), now=timezone.now(), **fields
            )
        except services.InitiativeError as error:
            _field_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("initiative_detail", pk=initiative.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "initiative": initiative}
    return render(request, "front/initiatives/initiative_edit.html", context, status=status)


def _acting(request: HttpRequest, pk: int):
    """The initiative of a POST-only action: 404 unseen; None for a GET (go to its page)."""
    initiative = visible_initiative(request.user, pk)
    if request.method != "POST":
        return initiative, redirect("initiative_detail", pk=initiative.pk)
    return initiative, None


@login_required
@require_http_methods(POST_ONLY)
def initiative_state(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve (leads), start or abandon the initiative (``state``, ``text``)."""
    initiative, away = _acting(request, pk)
    if away:
        return away
    moves = moves_for(request.user, initiative)
    if not moves:
        raise PermissionDenied
    form = StateForm(request.POST, moves=moves, auto_id="id_state_%s")
    if form.is_valid():
        try:
            services.change_state(
                initiative,
                form.cleaned_data["state"],
                text=form.cleaned_data["text"],
                by=employee_of(request.user),
                now=timezone.now(),
            )
        except services.InitiativeError as error:
            _field_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("initiative_detail", pk=initiative.pk)
    return _render_initiative(request, initiative, bound={"state": form}, status=400)


@login_required
@require_http_methods(POST_ONLY)
def initiative_finish(request: HttpRequest, pk: int) -> HttpResponse:
    """Done: the new standard of the initiative's touchpoints, from when, and the training."""
    initiative, away = _acting(request, pk)
    if away:
        return away
    if InitiativeState.DONE not in moves_for(request.user, initiative):
        if may_edit(request.user, initiative):
            messages.error(request, _("Only an initiative in progress can be finished."))
            return redirect("initiative_detail", pk=initiative.pk)
        raise PermissionDenied
    form = FinishForm(request.POST, auto_id="id_finish_%s")
    if form.is_valid():
        try:
            services.finish(
                initiative, by=employee_of(request.user), now=timezone.now(), **form.cleaned_data
            )
        except services.InitiativeError as error:
            _field_error(form, error)
        else:
            messages.success(
                request,
                _("Done. The touchpoints' standard is updated from %(day)s.")
                % {"day": form.cleaned_data["effective_from"].strftime("%d.%m.%Y")},
            )
            return redirect("initiative_detail", pk=initiative.pk)
    return _render_initiative(request, initiative, bound={"finish": form}, status=400)


@login_required
@require_http_methods(POST_ONLY)
def action_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A new action item (``text``, ``owner``, ``due_on``)."""
    initiative, away = _acting(request, pk)
    if away:
        return away
    if not may_edit(request.user, initiative):
        raise PermissionDenied
    form = ActionItemForm(request.POST, user=request.user, auto_id="id_item_%s")
    if form.is_valid():
        try:
            services.add_action_item(
                initiative, by=employee_of(request.user), now=timezone.now(), **form.cleaned_data
            )
        except services.InitiativeError as error:
            _field_error(form, error)
        else:
            messages.success(request, _("Action item added."))
            return redirect("initiative_detail", pk=initiative.pk)
    return _render_initiative(request, initiative, bound={"item": form}, status=400)


@login_required
@require_http_methods(POST_ONLY)
def action_item_done(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    """Tick (``done=1``) or untick (``done=0``) an action item: its owner, or whoever may
    change the initiative."""
    initiative, away = _acting(request, pk)
    action_item = visible_action_item(request.user, initiative, item)
    if away:
        return away
    if not may_tick(request.user, action_item):
        raise PermissionDenied
    done = request.POST.get("done", "1") != "0"
    if services.set_action_item_done(
        action_item, done, by=employee_of(request.user), now=timezone.now()
    ):
        messages.success(request, _("Marked done.") if done else _("Marked not done."))
    return redirect(reverse("initiative_detail", args=[initiative.pk]) + "#action-items")
