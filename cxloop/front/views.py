from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cxloop.front.forms import DistributionForm
from cxloop.journeys.queries import active_journeys
from cxloop.people.queries import administers_cx, employee_of, role_of, visible_teams
from cxloop.surveys.distribution import distribute, plan_invitations
from cxloop.surveys.queries import active_surveys, funnel, survey_with_questions


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What the signed-in person works with: journeys, surveys and the teams their role shows."""
    role = role_of(request.user)
    context = {
        "employee": employee_of(request.user),
        "role": role,
        "journeys": active_journeys(),
        "surveys": active_surveys(),
        "teams": visible_teams(request.user),
        "can_administer": request.user.is_staff,
    }
    return render(request, "front/home.html", context)


@login_required
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A survey's questions and funnel; for the CX lead, the form that invites recipients."""
    survey = survey_with_questions(pk)
    form, plan, sent = DistributionForm(), None, False
    if request.method == "POST":
        if not administers_cx(request.user):
            raise PermissionDenied
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
        "funnel": funnel(survey),
        "form": form,
        "plan": plan,
        "sent": sent,
        "can_distribute": administers_cx(request.user),
    }
    return render(request, "front/survey_detail.html", context)
