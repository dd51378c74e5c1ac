"""The decision log's pages: the list (kind, touchpoint, verdict), recording a decision,
changing it, and a decision with its expected effect beside the measured one and its history.

Scope (decision 014, the decision log): everyone with an employee record reads; the CX lead
and executives record and change any decision; a manager records for a team of their part
and changes those; anyone else gets 404 on a decision and 403 on recording one."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from cxloop.front.decision_forms import DecisionForm
from cxloop.front.filters import refuse_filter, row_id_filter
from cxloop.front.templatetags.cx import signed
from cxloop.improvements import services
from cxloop.improvements.models import DecisionKind, Direction
from cxloop.improvements.queries import (
    VERDICTS,
    DecisionFilter,
    decision_history,
    decisions_matching,
    may_edit_decision,
    may_record_decision,
    touchpoint_choices,
    visible_decision,
    visible_initiatives,
)
from cxloop.insights.decisions import decision_effect
from cxloop.people.queries import employee_of

PER_PAGE = 50
POST_ONLY = ["GET", "HEAD", "POST"]
VERDICT_LABELS = {
    "as_expected": gettext_lazy("as expected"),
    "better": gettext_lazy("better than expected"),
    "worse": gettext_lazy("worse than expected"),
    "unclear": gettext_lazy("unclear"),
}
METHOD_LABELS = {
    "did": gettext_lazy("difference-in-differences against the other touchpoints"),
    "its": gettext_lazy("interrupted time series"),
    "before_after": gettext_lazy("before and after"),
}


def decision_rows(request: HttpRequest) -> tuple[list, dict[str, str]]:
    """The decisions the list shows for the request's user and query string, latest in force
    first, each with its measured effect as of today (``found``) and its verdict's words
    (``verdict_label``), and the filters it keeps in its links; a bad filter gets a message
    and is left out. The page and its export (cxloop.exports.loop_kinds) both read it."""
    accepted: dict[str, str] = {}
    kind = request.GET.get("kind", "")
    if kind and kind not in DecisionKind.values:
        refuse_filter(request, _("Kind of decision"), _("no such kind"), kind)
        kind = ""
    if kind:
        accepted["kind"] = kind
    verdict = request.GET.get("verdict", "")
    if verdict and verdict not in VERDICTS:
        refuse_filter(request, _("Verdict"), _("no such verdict"), verdict)
        verdict = ""
    if verdict:
        accepted["verdict"] = verdict
    where = DecisionFilter(
        kind=kind, touchpoint_id=row_id_filter(request, "touchpoint", _("Touchpoint"), accepted)
    )
    today = timezone.localdate()
    decisions = decisions_matching(request.user, where)
    rows = []
    for decision in decisions:
        found = decision_effect(decision, today=today)
        if verdict and found.verdict != verdict:
            continue
        decision.found = found
        decision.verdict_label = VERDICT_LABELS.get(found.verdict, "")
        rows.append(decision)
    return rows, accepted


@login_required
def decision_list(request: HttpRequest) -> HttpResponse:
    """Decisions, latest in force first, filtered by ``kind``, ``touchpoint`` (an id) and
    ``verdict`` (of the measured effect as of today)."""
    rows, accepted = decision_rows(request)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": accepted,
        "query": urlencode(accepted),
        "kinds": DecisionKind.choices,
        "verdicts": list(VERDICT_LABELS.items()),
        "touchpoints": touchpoint_choices(),
        "may_record": may_record_decision(request.user),
    }
    return render(request, "front/decisions/decision_list.html", context)


def _save(request, form, decision=None):
    data = dict(form.cleaned_data)
    data["expected_size"] = data.get("expected_size") or 0
    by, now = employee_of(request.user), timezone.now()
    try:
        if decision is None:
            touchpoints = data.pop("touchpoints")
            return services.create_decision(by=by, now=now, touchpoints=touchpoints, **data)
        return services.update_decision(decision, by=by, now=now, **data)
    except services.InitiativeError as error:
        form.add_error(error.field if error.field in form.fields else None, str(error))
        return None


@login_required
@require_http_methods(POST_ONLY)
def decision_new(request: HttpRequest) -> HttpResponse:
    if not may_record_decision(request.user):
        raise PermissionDenied
    form = DecisionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        decision = _save(request, form)
        if decision is not None:
            messages.success(request, _("Decision recorded."))
            return redirect("decision_detail", pk=decision.pk)
    return render(request, "front/decisions/decision_form.html", {"form": form, "decision": None})


@login_required
@require_http_methods(POST_ONLY)
def decision_edit(request: HttpRequest, pk: int) -> HttpResponse:
    decision = visible_decision(request.user, pk)
    if not may_edit_decision(request.user, decision):
        raise PermissionDenied
    initial = {
        "title": decision.title,
        "title_en": decision.title_en,
        "description": decision.description,
        "kind": decision.kind,
        "decided_on": decision.decided_on,
        "in_force_from": decision.in_force_from,
        "touchpoints": list(decision.touchpoints.all()),
        "metric": decision.metric,
        "expected_direction": decision.expected_direction,
        "expected_size": decision.expected_size,
        "team": decision.team,
        "initiative": decision.initiative,
    }
    form = DecisionForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid() and _save(request, form, decision):
        messages.success(request, _("Decision changed."))
        return redirect("decision_detail", pk=decision.pk)
    context = {"form": form, "decision": decision}
    return render(request, "front/decisions/decision_form.html", context)


@login_required
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    decision = visible_decision(request.user, pk)
    found = decision_effect(decision, today=timezone.localdate())
    history = list(decision_history(decision))
    for event in history:
        code = event.data.get("expected_direction", "")
        event.direction = Direction(code).label if code in Direction.values else code
    context = {
        "decision": decision,
        "found": found,
        "verdict_label": VERDICT_LABELS.get(found.verdict, ""),
        "method_label": METHOD_LABELS.get(found.method, ""),
        "touchpoints": decision.touchpoints.select_related("stage__journey"),
        "history": history,
        "expected_text": signed(found.expected),
        "measured_text": signed(found.measured.value) if found.measured else "",
        "may_edit": may_edit_decision(request.user, decision),
        # Shown only to those who see the initiative (the log itself is read by everyone).
        "initiative": visible_initiatives(request.user).filter(pk=decision.initiative_id).first(),
    }
    return render(request, "front/decisions/decision_detail.html", context)
