"""Alert rules and SLA policies, for the CX lead (the administrator role; anyone else 403): the
list of rules, a rule's form with its condition builder and a preview of what it would have
done over the last 90 days before it is saved, switching a rule on and off, and running it
over the last N days after a confirmation that shows the same count."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cxloop.cases import rules
from cxloop.cases.choices import OwnerKind, Priority
from cxloop.cases.conditions import ConditionError, parse_condition
from cxloop.cases.evaluate import RUN_DAYS_MAX
from cxloop.front.rule_forms import RuleForm, SlaPolicyForm, initial_from_condition
from cxloop.people.queries import administers_cx, employee_of

RUN_DAYS_DEFAULT = 30


def _require_cx_lead(request: HttpRequest) -> None:
    if not administers_cx(request.user):
        raise PermissionDenied


def _rule_or_404(pk: int):
    rule = rules.rule_by_id(pk)
    if rule is None:
        raise Http404
    return rule


def _in_words(condition: object) -> str:
    try:
        return rules.in_words(parse_condition(condition))
    except ConditionError as error:
        return _("Cannot be used: %(error)s") % {"error": error}


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    _require_cx_lead(request)
    rows = [
        {
            "rule": rule,
            "version": version,
            "words": _in_words(version.condition) if version else "",
            "owner": OwnerKind(version.owner_kind).label if version else "",
            "priority": Priority(version.priority).label if version else "",
            "recent_cases": recent,
        }
        for rule, version, recent in rules.rules_overview(timezone.now())
    ]
    return render(request, "front/rules/rule_list.html", {"rows": rows})


@login_required
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A new rule (no ``pk``) or its next version. "Preview" shows what the condition would
    have done over the last 90 days and saves nothing; "Save" stores a new version."""
    _require_cx_lead(request)
    rule = _rule_or_404(pk) if pk is not None else None
    version = rules.current_version(rule) if rule is not None else None
    if request.method == "POST":
        form = RuleForm(request.POST, user=request.user)
    else:
        initial = {}
        if version is not None:
            initial = {
                "name_ru": rule.name_ru,
                "name_en": rule.name_en,
                "owner_kind": version.owner_kind,
                "team": version.team_id,
                "priority": version.priority,
                "sla_policy": version.sla_policy_id,
                **initial_from_condition(version.condition),
            }
        form = RuleForm(initial=initial, user=request.user)
    forecast, status = None, 200
    if request.method == "POST":
        forecast, saved = _preview_or_save(request, form, rule)
        if saved is not None:
            messages.success(
                request,
                _("Saved as version %(version)s.") % {"version": saved.version},
            )
            return redirect("rule_list")
        status = 200 if forecast is not None else 400
    context = {
        "form": form,
        "rule": rule,
        "version": version,
        "next_version": version.version + 1 if version is not None else None,
        "forecast": forecast,
        "examples": rules.example_rows(forecast.examples) if forecast else [],
    }
    return render(request, "front/rules/rule_edit.html", context, status=status)


def _preview_or_save(request: HttpRequest, form: RuleForm, rule):
    """(the preview, the saved version): one of them, or neither when the form has errors."""
    if not form.is_valid():
        return None, None
    try:
        condition = form.condition()
        parse_condition(condition)
    except ConditionError as error:
        form.add_condition_error(error)
        return None, None
    now = timezone.now()
    if request.POST.get("action") == "preview":
        return rules.preview(condition, now=now, rule=rule), None
    data = form.cleaned_data
    try:
        saved = rules.save_rule(
            rule,
            name_ru=data["name_ru"],
            name_en=data["name_en"],
            condition=condition,
            owner_kind=data["owner_kind"],
            team=data["team"],
            priority=data["priority"],
            sla_policy=data["sla_policy"],
            by=employee_of(request.user),
            now=now,
        )
    except rules.RuleError as error:
        form.add_error(error.field or None, str(error))
        return None, None
    return None, saved


@login_required
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    _require_cx_lead(request)
    rule = _rule_or_404(pk)
    active = request.POST.get("active") == "1"
    rules.set_active(rule, active)
    if active:
        messages.success(request, _("Rule «%(name)s» is on.") % {"name": rule.label})
    else:
        messages.success(request, _("Rule «%(name)s» is off.") % {"name": rule.label})
    return redirect("rule_list")


@login_required
def rule_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the rule's current version over the last N days: the page first shows how many
    cases that opens (the preview's count) and asks to confirm."""
    _require_cx_lead(request)
    rule = _rule_or_404(pk)
    version = rules.current_version(rule)
    if version is None:
        raise Http404
    raw_days = request.POST.get("days") or request.GET.get("days") or str(RUN_DAYS_DEFAULT)
    error, forecast, days = "", None, None
    try:
        days = rules.check_days(raw_days)
    except rules.RuleError as problem:
        error = str(problem)
    now = timezone.now()
    if days is not None and request.method == "POST" and request.POST.get("confirm") == "1":
        outcome = rules.run_rule(version, days, now=now)
        messages.success(
            request,
            _(
                "The rule ran over %(days)s days: %(opened)s cases opened, "
                "%(attached)s added to open cases."
            )
            % {"days": days, "opened": outcome.opened, "attached": outcome.attached},
        )
        return redirect("rule_list")
    if days is not None:
        try:
            forecast = rules.preview(version.condition, now=now, days=days, rule=rule)
        except ConditionError as problem:
            error = str(problem)
    context = {
        "rule": rule,
        "version": version,
        "days": days if days is not None else raw_days,
        "days_max": RUN_DAYS_MAX,
        "error": error,
        "forecast": forecast,
    }
    return render(request, "front/rules/rule_run.html", context, status=400 if error else 200)


@login_required
def sla_list(request: HttpRequest) -> HttpResponse:
    """SLA policies and a form to add one."""
    _require_cx_lead(request)
    return _sla_page(request, None)


@login_required
def sla_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_cx_lead(request)
    policy = rules.sla_policy_by_id(pk)
    if policy is None:
        raise Http404
    return _sla_page(request, policy)


def _sla_page(request: HttpRequest, policy) -> HttpResponse:
    if request.method == "POST":
        form = SlaPolicyForm(request.POST)
        if form.is_valid():
            rules.save_sla_policy(policy, **form.cleaned_data)
            messages.success(request, _("Saved."))
            return redirect("sla_list")
        status = 400
    else:
        initial = {}
        if policy is not None:
            initial = {name: getattr(policy, name) for name in SlaPolicyForm.base_fields}
        form = SlaPolicyForm(initial=initial)
        status = 200
    context = {"form": form, "policy": policy, "policies": rules.sla_policies()}
    return render(request, "front/rules/sla_list.html", context, status=status)
