"""Training pages (issue #13, point 3): the courses with their coverage, a course's page (the
standard it teaches, its assignments, coverage by team and by touchpoint, and "Did it work":
the staggered difference-in-differences of its touchpoints' ratings), my training (mark a
course done) and the manager's confirmations.

Who sees what: :mod:`cxloop.improvements.training_queries` — every signed-in person the
courses; the assignments and coverage of the teams they see; a manager, the CX lead and
executives assign and confirm; a viewer reads; a course that does not exist is 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from cxloop.front.initiative_forms import IdsChoiceField
from cxloop.front.initiative_views import POST_ONLY
from cxloop.improvements import training_queries as queries
from cxloop.improvements import training_services as services
from cxloop.improvements.choices import DEFAULT_DUE_DAYS
from cxloop.improvements.training_queries import TrainingStatus
from cxloop.insights import charts
from cxloop.insights.training import PRE_MONTHS, course_effect
from cxloop.journeys.queries import touchpoints_with_stage
from cxloop.people.queries import employee_of, team_paths, visible_team_ids, visible_teams


@dataclass(frozen=True)
class CoverageRow:
    """A team's, a touchpoint's or a course's totals, with its name and link."""

    name: str
    status: TrainingStatus
    href: str = ""


def _team_rows(totals: dict[int, TrainingStatus]) -> list[CoverageRow]:
    paths = team_paths(list(totals))
    rows = [CoverageRow(paths.get(pk, "—"), status) for pk, status in totals.items()]
    return sorted(rows, key=lambda row: row.name)


def _touchpoint_rows(totals: dict[int, TrainingStatus]) -> list[CoverageRow]:
    touchpoints = (
        touchpoints_with_stage().filter(pk__in=list(totals)).order_by("stage__order", "order")
    )
    return [
        CoverageRow(str(tp), totals[tp.pk], reverse("touchpoint_detail", args=[tp.pk]))
        for tp in touchpoints
    ]


def _visible_totals(user, totals: dict[int, TrainingStatus]) -> dict[int, TrainingStatus]:
    team_ids = visible_team_ids(user)
    if team_ids is None:
        return totals
    return {pk: status for pk, status in totals.items() if pk in set(team_ids)}


@dataclass(frozen=True)
class TrainingCoverage:
    """The training page's three tables: each course with its totals, and the coverage by
    team and by touchpoint, all counted over the teams the viewer sees."""

    courses: list[tuple]  # (course, its TrainingStatus), by title
    teams: list[CoverageRow]
    touchpoints: list[CoverageRow]


def training_coverage(user, today: dt.date) -> TrainingCoverage:
    """The course list's tables for ``user`` as of ``today``."""
    team_ids = visible_team_ids(user)
    by_course = queries.coverage_by_course(today, team_ids)
    return TrainingCoverage(
        courses=[
            (course, by_course.get(course.pk, TrainingStatus()))
            for course in queries.courses().order_by("title")
        ],
        teams=_team_rows(_visible_totals(user, queries.training_coverage_by_team(today))),
        touchpoints=_touchpoint_rows(queries.coverage_by_touchpoint(today, team_ids)),
    )


@login_required
def training_list(request: HttpRequest) -> HttpResponse:
    coverage = training_coverage(request.user, timezone.localdate())
    context = {
        "courses": coverage.courses,
        "teams": coverage.teams,
        "touchpoints": coverage.touchpoints,
        "mine": queries.my_assignments(request.user).filter(confirmed_at__isnull=True).count(),
        "to_confirm": queries.awaiting_confirmation(request.user).count(),
        "may_assign": queries.may_assign(request.user),
        "may_create": queries.may_create_course(request.user),
    }
    return render(request, "front/training/list.html", context)


class CourseForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300)
    title_en = forms.CharField(
        label=gettext_lazy("Title in English"), max_length=300, required=False
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    touchpoints = IdsChoiceField(
        label=gettext_lazy("Touchpoints it covers"),
        queryset=touchpoints_with_stage().order_by("stage__order", "order"),
        help_text=gettext_lazy("The course teaches their current standard."),
    )
    due_days = forms.IntegerField(
        label=gettext_lazy("Days to complete"), min_value=1, max_value=365, initial=DEFAULT_DUE_DAYS
    )
    assign_on_change = forms.BooleanField(
        label=gettext_lazy("Assign when the standard changes"), required=False, initial=True
    )


@login_required
def course_new(request: HttpRequest) -> HttpResponse:
    if not queries.may_create_course(request.user):
        raise PermissionDenied
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            course = services.create_course(
                by=employee_of(request.user), now=timezone.now(), **form.cleaned_data
            )
        except services.TrainingError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(
                request, _("Course %(reference)s is added.") % {"reference": course.reference}
            )
            return redirect("course_detail", pk=course.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "front/training/course_new.html", {"form": form}, status=status)


class AssignForm(forms.Form):
    """Whom to assign a course to (teams, people or both) and by when."""

    teams = IdsChoiceField(label=gettext_lazy("Teams"), queryset=None, required=False)
    people = IdsChoiceField(label=gettext_lazy("People"), queryset=None, required=False)
    due_on = forms.DateField(
        label=gettext_lazy("Due"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: the course's days to complete from today."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = visible_teams(user).order_by("name")
        self.fields["people"].queryset = queries.assignable_people(user)

    def clean(self):
        data = super().clean()
        if not data.get("teams") and not data.get("people"):
            raise forms.ValidationError(_("Choose the teams or the people to assign it to."))
        return data


def _course_or_404(pk: int):
    course = queries.course(pk)
    if course is None:
        raise Http404
    return course


def _effect_context(course, today: dt.date) -> dict:
    effect = course_effect(course, today=today)
    chart = None
    if effect.did is not None:
        chart = charts.effect_by_time(
            effect.did.by_time,
            x_title=_("Months since the course"),
            y_title=_("Change in the rating"),
        )
    return {"result": effect, "chart": chart, "pre_months": PRE_MONTHS}


@login_required
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course_or_404(pk)
    return _render_course(request, course)


def _render_course(request, course, form: AssignForm | None = None, status: int = 200):
    today = timezone.localdate()
    team_ids = visible_team_ids(request.user)
    may_assign = queries.may_assign(request.user)
    assignments = queries.visible_assignments(request.user).filter(course=course)
    context = {
        "course": course,
        "standards": course.standards.select_related("touchpoint").order_by(
            "touchpoint__code", "-version"
        ),
        "assignments": assignments.order_by("confirmed_at", "due_on", "employee__user__last_name"),
        "teams": _team_rows(
            _visible_totals(request.user, queries.course_coverage_by_team(course, today))
        ),
        "touchpoints": _touchpoint_rows(
            queries.coverage_by_touchpoint(today, team_ids, course_id=course.pk)
        ),
        "effect": _effect_context(course, today),
        "may_assign": may_assign,
        "form": form or (AssignForm(user=request.user) if may_assign else None),
        "today": today,
    }
    return render(request, "front/training/course.html", context, status=status)


@login_required
@require_http_methods(POST_ONLY)
def course_assign(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course_or_404(pk)
    if request.method != "POST":
        return redirect("course_detail", pk=course.pk)
    if not queries.may_assign(request.user):
        raise PermissionDenied
    form = AssignForm(request.POST, user=request.user)
    if form.is_valid():
        teams = [team.pk for team in form.cleaned_data["teams"]]
        people = {
            e.pk: e for e in queries.assignable_people(request.user).filter(team_id__in=teams)
        }
        people.update({e.pk: e for e in form.cleaned_data["people"]})
        try:
            made = services.assign_course(
                course,
                people.values(),
                by=employee_of(request.user),
                now=timezone.now(),
                due_on=form.cleaned_data["due_on"],
            )
        except services.TrainingError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(
                request,
                _("Assigned to %(count)s people (those who have it open already keep it).")
                % {"count": len(made)},
            )
            return redirect(reverse("course_detail", args=[course.pk]) + "#assignments")
    return _render_course(request, course, form=form, status=400)


@login_required
def my_training(request: HttpRequest) -> HttpResponse:
    assignments = queries.my_assignments(request.user).order_by("confirmed_at", "due_on")
    context = {"assignments": assignments, "today": timezone.localdate()}
    return render(request, "front/training/mine.html", context)


@login_required
@require_http_methods(POST_ONLY)
def assignment_done(request: HttpRequest, pk: int) -> HttpResponse:
    """The person marks their course done (no one else: 403 for another's they see)."""
    assignment = get_object_or_404(queries.visible_assignments(request.user), pk=pk)
    if request.method != "POST":
        return redirect("my_training")
    by = employee_of(request.user)
    if by is None or by.pk != assignment.employee_id:
        raise PermissionDenied
    if services.mark_completed(assignment, by=by, now=timezone.now()):
        messages.success(request, _("Marked done. Your manager confirms it."))
    return redirect("my_training")


@login_required
def training_confirm(request: HttpRequest) -> HttpResponse:
    if not queries.may_assign(request.user):
        raise PermissionDenied
    waiting = queries.awaiting_confirmation(request.user).order_by("completed_at")
    return render(request, "front/training/confirm.html", {"assignments": waiting})


@login_required
@require_http_methods(POST_ONLY)
def assignment_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The manager confirms (``confirm=1``) or sends back (``confirm=0``) a course marked done."""
    assignment = get_object_or_404(queries.visible_assignments(request.user), pk=pk)
    if request.method != "POST":
        return redirect("training_confirm")
    if not queries.may_confirm(request.user, assignment):
        raise PermissionDenied
    by, now = employee_of(request.user), timezone.now()
    if request.POST.get("confirm", "1") == "0":
        if services.send_back(assignment, by=by, now=now):
            messages.success(request, _("Sent back: the course is open again for %(name)s.")
                             % {"name": assignment.employee})  # fmt: skip
    else:
        try:
            if services.confirm_completion(assignment, by=by, now=now):
                messages.success(request, _("Confirmed."))
        except services.TrainingError as error:
            messages.error(request, str(error))
    return redirect("training_confirm")
