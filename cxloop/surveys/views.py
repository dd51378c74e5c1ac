"""Public survey pages: no sign-in, plain HTML forms that work without JavaScript."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from cxloop.customers.services import opt_out
from cxloop.surveys.forms import PageForm, initial_values
from cxloop.surveys.models import Invitation, ResponseState
from cxloop.surveys.services import (
    answers_by_number,
    begin,
    condition_holds,
    draft_answers,
    invitation_for_token,
    save_page,
    visible_pages,
)


def _language(request: HttpRequest, invitation: Invitation) -> str:
    offered = invitation.survey.languages or ["ru", "en"]
    asked = request.POST.get("lang") or request.GET.get("lang") or invitation.contact.language
    return asked if asked in offered else offered[0]


def _message(request, title: str, text: str, *, status: int, language: str) -> HttpResponse:
    context = {"title": title, "text": text, "language": language}
    return render(request, "surveys/respond_message.html", context, status=status)


def _refusal(request: HttpRequest, invitation: Invitation, language: str) -> HttpResponse | None:
    """A page explaining why this link takes no answers now, or None when it does."""
    if invitation.responses.filter(state=ResponseState.COMPLETED).exists():
        return _message(
            request,
            _("Already answered"),
            _("This survey has already been answered from this link. Thank you!"),
            status=200,
            language=language,
        )
    if not invitation.survey.is_active:
        return _message(
            request,
            _("Survey closed"),
            _("This survey is closed and no longer takes answers."),
            status=410,
            language=language,
        )
    if invitation.expires_at <= timezone.now():
        return _message(
            request,
            _("Link expired"),
            _("This link has expired. If you would still like to answer, reply to the e-mail."),
            status=410,
            language=language,
        )
    return None


def _page_number(request: HttpRequest, pages: list[int], last_saved: int) -> int:
    """The page asked for, if it is one the respondent may see; else where they left off."""
    asked = request.POST.get("page") or request.GET.get("page")
    if asked and asked.isdigit() and int(asked) in pages:
        return int(asked)
    return next((page for page in pages if page > last_saved), pages[-1])


@never_cache
def respond(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_for_token(token)
    if invitation is None:
        language = translation.get_language()
        return _message(
            request,
            _("Link not found"),
            _("This survey link is not valid. Please check that it was copied whole."),
            status=404,
            language=language,
        )
    language = _language(request, invitation)
    with translation.override(language):
        refusal = _refusal(request, invitation, language)
        if refusal is not None:
            return refusal
        now = timezone.now()
        response = begin(invitation, now=now)
        questions = list(invitation.survey.questions.select_related("touchpoint"))
        answers = answers_by_number(response)
        pages = visible_pages(questions, answers)
        page = _page_number(request, pages, response.last_page)
        shown = [
            q for q in questions if q.page == page and condition_holds(q.display_condition, answers)
        ]
        form = PageForm(shown, request.POST or None, initial=initial_values(shown, answers))
        if request.POST.get("action") == "back" and not form.is_valid():
            previous = pages[max(pages.index(page) - 1, 0)]
            return redirect(f"{request.path}?page={previous}&lang={language}")
        if request.method == "POST" and form.is_valid():
            values = form.answers_by_id()
            # This page's answers may show or hide later pages: decide where to go before saving,
            # so that the last page is saved and completed in one step.
            after = {n: a for n, a in answers.items() if n not in {q.order for q in shown}}
            after |= draft_answers(response, shown, values)
            pages = visible_pages(questions, after)
            index = pages.index(page) if page in pages else len(pages) - 1
            going_back = request.POST.get("action") == "back"
            finish = not going_back and index + 1 >= len(pages)
            saved = save_page(
                response, shown, values, page=page, language=language, now=now, finish=finish
            )
            if not saved:
                return _refusal(request, invitation, language)
            if finish:
                return redirect(reverse("respond_thanks", args=[token]) + f"?lang={language}")
            target = pages[max(index - 1, 0)] if going_back else pages[index + 1]
            return redirect(f"{request.path}?page={target}&lang={language}")
        position = pages.index(page) + 1
        context = {
            "survey": invitation.survey,
            "form": form,
            "page": page,
            "position": position,
            "page_count": len(pages),
            "is_first": position == 1,
            "is_last": position == len(pages),
            "language": language,
            "other_languages": [code for code in invitation.survey.languages if code != language],
        }
        return render(request, "surveys/respond.html", context)


def respond_thanks(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_for_token(token)
    if (
        invitation is None
        or not invitation.responses.filter(state=ResponseState.COMPLETED).exists()
    ):
        return redirect("respond", token=token)
    language = _language(request, invitation)
    with translation.override(language):
        return _message(
            request,
            _("Thank you!"),
            _("Your answers have been received. They help us serve you better."),
            status=200,
            language=language,
        )


@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Stop all surveys to the contact of this invitation; a GET only asks, a POST does it."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return _message(
            request,
            _("Link not found"),
            _("This survey link is not valid. Please check that it was copied whole."),
            status=404,
            language=translation.get_language(),
        )
    contact = invitation.contact
    with translation.override(contact.language):
        if request.method == "POST":
            opt_out(contact, now=timezone.now())
            return _message(
                request,
                _("Unsubscribed"),
                _("We will not send you any more surveys. Thank you for your time."),
                status=200,
                language=contact.language,
            )
        context = {"language": contact.language, "contact": contact}
        return render(request, "surveys/unsubscribe.html", context)
