"""The inquiry form's topics, for the CX lead: what customers may ask about, which team of
specialists answers and how soon."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cxloop.cases import inquiries
from cxloop.cases.forms import TopicForm
from cxloop.people.queries import administers_cx


def _require_cx_lead(request: HttpRequest) -> None:
    if not administers_cx(request.user):
        raise PermissionDenied


@login_required
def topic_list(request: HttpRequest) -> HttpResponse:
    _require_cx_lead(request)
    return render(request, "front/topics/topic_list.html", {"topics": inquiries.topics()})


@login_required
def topic_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A new topic (no ``pk``) or a change to one; a topic is never deleted (its inquiries
    keep it), only taken off the form."""
    _require_cx_lead(request)
    topic = None
    if pk is not None:
        topic = inquiries.topic_by_id(pk)
        if topic is None:
            raise Http404
    form = TopicForm(request.POST or None, instance=topic)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Saved."))
            return redirect("topic_list")
        status = 400
    else:
        status = 200
    context = {"form": form, "topic": topic}
    return render(request, "front/topics/topic_edit.html", context, status=status)
