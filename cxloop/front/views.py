from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cxloop.journeys.queries import active_journeys
from cxloop.people.queries import employee_of, role_of, visible_teams
from cxloop.surveys.queries import active_surveys


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
