import io
from dataclasses import dataclass
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cxloop.customers.queries import customers_of_teams
from cxloop.feedback.queries import MeetingFilter, face_to_face_records
from cxloop.feedback.services import AgreedFollowUp, log_face_to_face
from cxloop.front.filters import day_filter, row_id_filter
from cxloop.front.forms import (
    DistributionForm,
    FaceToFaceForm,
    IdeaAnswerForm,
    IdeaForm,
    QuestionForm,
    SurveyForm,
)
from cxloop.improvements.queries import initiatives_from_ideas, may_propose
from cxloop.insights.queries import (
    MIN_GROUP_SIZE,
    GroupScore,
    PulseResults,
    PulseWave,
    pulse_trend,
    pulse_trend_chart,
)
from cxloop.insights.queries import pulse_results as pulse_results_query
from cxloop.journeys.queries import active_journeys
from cxloop.people.choices import IdeaStatus, Role
from cxloop.people.queries import (
    INITIATIVE_FROM,
    administers_cx,
    answerable_ideas,
    answered_anonymous_ideas,
    employee_of,
    employees_named,
    may_record_feedback,
    own_ideas,
    role_of,
    visible_ideas,
    visible_team_ids,
    visible_teams,
)
from cxloop.people.services import IDEA_MOVES, IdeaError, OutOfScope, set_idea_status, submit_idea
from cxloop.surveys.distribution import distribute, plan_invitations
from cxloop.surveys.forms import PageForm, page_context
from cxloop.surveys.queries import (
    active_surveys,
    funnel,
    has_answered_pulse,
    interview_guides,
    open_link,
    open_pulse_survey,
    survey_with_questions,
)
from cxloop.surveys.services import (
    SurveyChangeError,
    add_question,
    answer_pulse,
    condition_holds,
    delete_question,
    preview_answers,
    set_open,
    update_question,
    visible_pages,
)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What the signed-in person works with: journeys, surveys and the teams their role shows."""
    role = role_of(request.user)
    surveys = list(active_surveys())
    context = {
        "employee": employee_of(request.user),
        "role": role,
        "journeys": active_journeys(),
        "surveys": surveys,
        "has_pulse": any(survey.kind == "pulse" for survey in surveys),
        "teams": visible_teams(request.user),
        "can_administer": request.user.is_staff,
        "can_build_surveys": administers_cx(request.user),
    }
    return render(request, "front/home.html", context)


@login_required
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A survey's questions and funnel; for the CX lead, the form that invites recipients."""
    survey = survey_with_questions(pk)
    form, plan, sent = DistributionForm(), None, False
    if request.method == "POST":
        _require_cx_lead(request)
        form = DistributionForm(request.POST, request.FILES)
        if form.is_valid():
            now = timezone.now()
            days = form.cleaned_data["fatigue_days"]
            contacts = form.cleaned_data["contacts"]
            if request.POST.get("action") == "send":
                plan, sent = distribute(survey, contacts, now=now, fatigue_days=days), True
            else:
                plan = plan_invitations(contacts, now=now, fatigue_days=days)
    context = {
        "survey": survey,
        "open_link": open_link(survey),
        "funnel": funnel(survey),
        "responses_href": f"{reverse('response_list')}?survey={survey.pk}",
        "form": form,
        "plan": plan,
        "sent": sent,
        "can_distribute": administers_cx(request.user),
    }
    return render(request, "front/survey_detail.html", context)


@dataclass(frozen=True)
class Meetings:
    """The meetings a query string asks for, newest first, with the filters the list kept
    (``accepted``; a refused one is left out with a message) and what they are (``where``)."""

    records: QuerySet
    where: MeetingFilter
    accepted: dict[str, str]


def meetings_matching(request: HttpRequest) -> Meetings:
    """Meetings about the customers of the teams the user may see, filtered as scorecards link
    to them: ``employee`` (an id: who led the meeting), ``team`` (an id: led by one of its
    people), ``since`` and ``until`` (days, inclusive)."""
    accepted: dict[str, str] = {}
    where = MeetingFilter(
        led_by=row_id_filter(request, "employee", _("Met by"), accepted),
        led_by_team=row_id_filter(request, "team", _("Team"), accepted),
        since=day_filter(request, "since", _("From date"), accepted),
        until=day_filter(request, "until", _("To date"), accepted),
    )
    records = where.apply(face_to_face_records(visible_team_ids(request.user)))
    return Meetings(records, where, accepted)


@login_required
def face_to_face_list(request: HttpRequest) -> HttpResponse:
    """The meetings of :func:`meetings_matching`, 50 a page; a bad filter is left out with a
    message."""
    meetings = meetings_matching(request)
    led_by = meetings.where.led_by
    context = {
        "page": Paginator(meetings.records, 50).get_page(request.GET.get("page")),
        "may_record": may_record_feedback(request.user),
        "filters": meetings.accepted,
        "query": urlencode(meetings.accepted),
        "teams": visible_teams(request.user).order_by("name"),
        "led_by": employees_named([led_by]).get(led_by) if led_by else None,
    }
    return render(request, "front/face_to_face_list.html", context)


@login_required
def face_to_face_new(request: HttpRequest) -> HttpResponse:
    """Record a meeting with one of the customers the user's teams own."""
    if not may_record_feedback(request.user):
        raise PermissionDenied
    guide = interview_guides().first()
    if guide is None:
        return render(request, "front/face_to_face_new.html", {"form": None}, status=409)
    customers = customers_of_teams(visible_team_ids(request.user))
    form = FaceToFaceForm(guide, request.POST or None, customers=customers)
    if request.method == "POST" and form.is_valid():
        employee = employee_of(request.user)
        data = form.cleaned_data
        try:
            log_face_to_face(
                guide=guide,
                kind=data["kind"],
                customer=data["customer"],
                employee=employee,
                met_on=data["met_on"],
                language=data["language"],
                values=form.scores(),
                contacts=data["contacts"],
                notes=data["notes"],
                source=data["source"],
                follow_ups=[AgreedFollowUp(text, employee, due) for text, due in form.follow_ups()],
                by=employee,
            )
        except OutOfScope:
            # The picker offers only customers in scope; this is one that left it meanwhile.
            form.add_error("customer", _("You may not record a meeting with this client."))
        else:
            messages.success(request, _("The meeting is recorded."))
            return redirect("face_to_face_list")
    return render(request, "front/face_to_face_new.html", {"form": form, "guide": guide})


@login_required
def pulse_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """An employee answers a pulse survey, once, anonymously."""
    survey = open_pulse_survey(pk)
    employee = employee_of(request.user)
    if employee is None:
        raise PermissionDenied
    if has_answered_pulse(survey, employee):
        messages.info(request, _("You have already answered this survey. Thank you!"))
        return redirect("home")
    questions = list(survey.questions.all())
    form = PageForm(questions, request.POST or None)
    if request.method == "POST" and form.is_valid():
        answer_pulse(survey, employee, form.answers_by_id(), now=timezone.now())
        messages.success(request, _("Thank you! Your answers are anonymous."))
        return redirect("home")
    context = {"survey": survey, "form": form, "min_group": MIN_GROUP_SIZE}
    return render(request, "front/pulse_answer.html", context)


@dataclass(frozen=True)
class PulseShown:
    """A pulse survey's results as its page shows them to a viewer: everyone's eNPS and that
    of the teams they see (``team_ids``; None: every team)."""

    results: PulseResults
    teams: list[GroupScore]
    team_ids: list[int] | None

    def waves(self) -> list[PulseWave]:
        """Every pulse survey's eNPS, of the same teams, for the trend."""
        return pulse_trend(self.team_ids)


def pulse_results_shown(user, pk: int) -> PulseShown:
    """Survey ``pk``'s results for ``user``: PermissionDenied for a role that does not see
    pulse results, Http404 when there is no such survey."""
    if role_of(user) not in (Role.ADMIN, Role.EXECUTIVE, Role.MANAGER):
        raise PermissionDenied
    results = pulse_results_query(survey_with_questions(pk))
    team_ids = visible_team_ids(user)
    teams = [t for t in results.teams if team_ids is None or t.team_id in team_ids]
    return PulseShown(results, teams, team_ids)


@login_required
def pulse_results(request: HttpRequest, pk: int) -> HttpResponse:
    """eNPS overall and by team; a team with fewer than five answers shows its count only."""
    shown = pulse_results_shown(request.user, pk)
    waves = shown.waves()
    names = {t: g.name for wave in waves for t, g in wave.teams.items()}
    context = {
        "results": shown.results,
        "teams": shown.teams,
        "min_group": MIN_GROUP_SIZE,
        "waves": waves,
        # Each team's figure in every wave (None where it took no part), teams by name.
        "team_waves": [
            {"name": names[t], "cells": [wave.teams.get(t) for wave in waves]}
            for t in sorted(names, key=lambda t: (t is None, names[t]))
        ],
        "trend_chart": pulse_trend_chart(waves),
        "export_query": urlencode({"survey": pk}),
    }
    return render(request, "front/pulse_results.html", context)


@login_required
def ideas(request: HttpRequest) -> HttpResponse:
    """The ideas and remarks box: employees send, signed or anonymous; managers read their
    teams'; viewers only read."""
    employee = employee_of(request.user)
    may_send = may_record_feedback(request.user)
    form = IdeaForm(request.POST or None) if may_send else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            submit_idea(
                form.cleaned_data["text"],
                author=employee,
                anonymous=form.cleaned_data["anonymous"],
                today=timezone.localdate(),
            )
            messages.success(request, _("Thank you! Your idea has been received."))
            return redirect("ideas")
    page = Paginator(visible_ideas(request.user), 50).get_page(request.GET.get("page"))
    shown = [idea.pk for idea in page]
    answerable = set(
        answerable_ideas(request.user).filter(pk__in=shown).values_list("pk", flat=True)
    )
    initiatives = initiatives_from_ideas(shown)
    rows = [
        {
            "idea": idea,
            "initiative": initiatives.get(idea.pk),
            # The states the user may move it to, its own first (None: they may not answer).
            "moves": [IdeaStatus(s) for s in (idea.status, *IDEA_MOVES[idea.status])]
            if idea.pk in answerable
            else None,
        }
        for idea in page
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "may_propose": may_propose(request.user),
        "initiative_from": INITIATIVE_FROM,
        "mine": own_ideas(request.user)[:20],
        "public_answers": answered_anonymous_ideas()[:20],
    }
    return render(request, "front/ideas.html", context)


@login_required
@require_POST
def idea_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """Move an idea and answer its author: its team's managers, the CX lead and executives."""
    idea = get_object_or_404(visible_ideas(request.user), pk=pk)
    form = IdeaAnswerForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label}: {' '.join(errors)}")
        return redirect(f"{reverse('ideas')}#idea-{idea.pk}")
    try:
        set_idea_status(
            idea,
            form.cleaned_data["status"],
            answer=form.cleaned_data["answer"],
            by=employee_of(request.user),
            now=timezone.now(),
        )
    except IdeaError as error:
        messages.error(request, f"{form.fields[error.field].label}: {error}")
    else:
        messages.success(request, _("The idea’s status and answer are saved."))
    return redirect(f"{reverse('ideas')}#idea-{idea.pk}")


@login_required
def survey_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """The QR code of a survey's open link, as SVG (printable at any size)."""
    link = open_link(survey_with_questions(pk), via_qr=True)
    if link is None:
        raise Http404
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="svg", scale=8, border=2)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")


def _require_cx_lead(request: HttpRequest) -> None:
    if not administers_cx(request.user):
        raise PermissionDenied


@login_required
def survey_new(request: HttpRequest) -> HttpResponse:
    """A new survey starts as a draft: it takes no answers until published."""
    _require_cx_lead(request)
    form = SurveyForm(request.POST or None, initial={"languages": ["ru", "en"]})
    if request.method == "POST" and form.is_valid():
        form.instance.is_active = False
        survey = form.save()
        return redirect("survey_edit", pk=survey.pk)
    return render(request, "front/survey_new.html", {"form": form})


@login_required
def survey_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The survey builder: its settings, its questions, a new question, publish or close."""
    _require_cx_lead(request)
    survey = survey_with_questions(pk)
    settings_form = SurveyForm(instance=survey)
    question_form = QuestionForm(survey=survey)
    if request.method == "POST":
        action = request.POST.get("action")
        if action in ("publish", "close"):
            set_open(survey, action == "publish")
            return redirect("survey_edit", pk=pk)
        if action == "settings":
            settings_form = SurveyForm(request.POST, instance=survey)
            if settings_form.is_valid():
                settings_form.save()
                messages.success(request, _("Saved."))
                return redirect("survey_edit", pk=pk)
        if action == "add_question":
            question_form = QuestionForm(request.POST, survey=survey)
            if question_form.is_valid():
                add_question(survey, question_form.instance)
                return redirect("survey_edit", pk=pk)
    context = {"survey": survey, "settings_form": settings_form, "question_form": question_form}
    return render(request, "front/survey_edit.html", context)


@login_required
def question_edit(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    _require_cx_lead(request)
    survey = survey_with_questions(pk)
    question = get_object_or_404(survey.questions.all(), order=number)
    form = QuestionForm(request.POST or None, instance=question, survey=survey)
    if request.method == "POST" and request.POST.get("action") == "delete":
        try:
            delete_question(question)
        except SurveyChangeError as error:
            messages.error(request, str(error))
        return redirect("survey_edit", pk=pk)
    if request.method == "POST" and form.is_valid():
        try:
            update_question(form.instance)
        except SurveyChangeError as error:
            form.add_error("kind", str(error))
        else:
            return redirect("survey_edit", pk=pk)
    return render(request, "front/question_edit.html", {"survey": survey, "form": form})


@login_required
def survey_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The survey as a respondent sees it, page by page; answers live in the session only."""
    _require_cx_lead(request)
    survey = survey_with_questions(pk)
    offered = survey.languages or ["ru"]
    # The language switch on the page, else the language of the interface, else the survey's first.
    switched = request.GET.get("lang") or request.POST.get("lang")
    ui = translation.get_language()
    language = switched if switched in offered else ui if ui in offered else offered[0]
    with translation.override(language):
        key = f"cxloop.preview.{survey.pk}"
        stored = request.session.get(key, {})
        questions = list(survey.questions.all())
        answers = preview_answers(survey, questions, {int(k): v for k, v in stored.items()})
        pages = visible_pages(questions, answers) or [1]
        asked = request.POST.get("page") or request.GET.get("page") or ""
        page = int(asked) if asked.isdigit() and int(asked) in pages else pages[0]
        shown = [
            q for q in questions if q.page == page and condition_holds(q.display_condition, answers)
        ]
        form = PageForm(shown, request.POST or None)
        if request.method == "POST" and form.is_valid():
            stored |= {str(k): v for k, v in form.answers_by_id().items()}
            request.session[key] = stored
            answers = preview_answers(survey, questions, {int(k): v for k, v in stored.items()})
            pages = visible_pages(questions, answers)
            following = [p for p in pages if p > page]
            if not following:
                request.session.pop(key, None)
                messages.info(request, _("End of the preview: nothing was stored."))
                return redirect("survey_edit", pk=pk)
            return redirect(f"{request.path}?page={following[0]}&lang={language}")
        context = page_context(survey, form, page, pages, language) | {
            "is_first": True,  # the preview keeps no answers to go back to
            "preview": True,
        }
        return render(request, "surveys/respond.html", context)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 in the site's design and the reader's language, with a way back."""
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403 in the site's design and the reader's language, with a way back."""
    return render(request, "403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 without a query: the database may be what failed, so the page is rendered without the
    request's context (no user, session or messages), in the language the request chose."""
    return HttpResponseServerError(loader.get_template("500.html").render({}))
