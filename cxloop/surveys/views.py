"""Public survey pages: no sign-in, plain HTML forms that work without JavaScript."""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from cxloop.customers.services import opt_out
from cxloop.surveys.forms import PageForm, initial_values, page_context
from cxloop.surveys.models import Channel, Invitation, Response, ResponseState, Survey
from cxloop.surveys.services import (
    answers_by_number,
    begin,
    begin_open,
    condition_holds,
    draft_answers,
    invitation_for_token,
    save_page,
    survey_for_open_link,
    visible_pages,
)


def _language(request: HttpRequest, survey: Survey, preferred: str) -> str:
    """The language asked for by the switch, else ``preferred``, among those the survey offers."""
    offered = survey.languages or ["ru", "en"]
    asked = request.POST.get("lang") or request.GET.get("lang") or preferred
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
        return _closed(request, language)
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


def _answer(
    request: HttpRequest,
    response: Response,
    language: str,
    *,
    thanks_url: str,
    refusal,
    start=None,
) -> HttpResponse:
    """One page of ``response``: show it, or save it and go on (the flow shared by invitation
    and open links). ``refusal()`` is the page shown when the response was completed meanwhile.

    A ``response`` not yet stored (an open link's first page) is stored by ``start()`` when its
    first page is saved, which returns the stored response or a page refusing to start one."""
    survey = response.survey
    questions = list(survey.questions.select_related("touchpoint"))
    answers = answers_by_number(response) if response.pk is not None else {}
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
        now = timezone.now()
        if response.pk is None:
            started = start()
            if isinstance(started, HttpResponse):
                return started
            response = started
        if not save_page(
            response, shown, values, page=page, language=language, now=now, finish=finish
        ):
            return refusal()
        if finish:
            return redirect(f"{thanks_url}?lang={language}")
        target = pages[max(index - 1, 0)] if going_back else pages[index + 1]
        return redirect(f"{request.path}?page={target}&lang={language}")
    context = page_context(survey, form, page, pages, language)
    return render(request, "surveys/respond.html", context)


def _closed(request: HttpRequest, language: str) -> HttpResponse:
    return _message(
        request,
        _("Survey closed"),
        _("This survey is closed and no longer takes answers."),
        status=410,
        language=language,
    )


def _thanks(request: HttpRequest, language: str) -> HttpResponse:
    return _message(
        request,
        _("Thank you!"),
        _("Your answers have been received. They help us serve you better."),
        status=200,
        language=language,
    )


def _not_found(request: HttpRequest) -> HttpResponse:
    return _message(
        request,
        _("Link not found"),
        _("This survey link is not valid. Please check that it was copied whole."),
        status=404,
        language=translation.get_language(),
    )


@never_cache
def respond(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_for_token(token)
    if invitation is None:
        return _not_found(request)
    language = _language(request, invitation.survey, invitation.contact.language)
    with translation.override(language):
        refusal = _refusal(request, invitation, language)
        if refusal is not None:
            return refusal
        return _answer(
            request,
            begin(invitation, now=timezone.now()),
            language,
            thanks_url=reverse("respond_thanks", args=[token]),
            refusal=lambda: _refusal(request, invitation, language),
        )


def respond_thanks(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_for_token(token)
    if (
        invitation is None
        or not invitation.responses.filter(state=ResponseState.COMPLETED).exists()
    ):
        return redirect("respond", token=token)
    language = _language(request, invitation.survey, invitation.contact.language)
    with translation.override(language):
        return _thanks(request, language)


@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Stop all surveys to the contact of this invitation; a GET only asks, a POST does it."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return _not_found(request)
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


def _session_key(survey: Survey) -> str:
    return f"cxloop.open.{survey.pk}"


def _over_rate(request: HttpRequest) -> bool:
    """Whether this address started too many open-link responses lately (a cheap flood guard)."""
    limit, seconds = settings.OPEN_LINK_RATE
    key = f"cxloop.open-rate.{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        return False


def _already_answered(request: HttpRequest, language: str) -> HttpResponse:
    return _message(
        request,
        _("Already answered"),
        _("This survey has already been answered from this browser. Thank you!"),
        status=200,
        language=language,
    )


@never_cache
def respond_open(request: HttpRequest, pk: int, signature: str) -> HttpResponse:
    """A survey's open web link (``?via=qr`` from its QR code): anyone may answer, once per
    browser session, without an invitation."""
    survey = survey_for_open_link(pk, signature)
    if survey is None:
        return _not_found(request)
    language = _language(request, survey, translation.get_language())
    with translation.override(language):
        if not (survey.is_active and survey.accepts_open_link):
            return _closed(request, language)
        response = survey.responses.filter(pk=request.session.get(_session_key(survey))).first()
        if response is not None and response.state == ResponseState.COMPLETED:
            return _already_answered(request, language)
        channel = Channel.QR if request.GET.get("via") == "qr" else Channel.WEB

        def start() -> Response | HttpResponse:
            if _over_rate(request):
                return _message(
                    request,
                    _("Too many answers"),
                    _("Too many surveys were started from your address. Please try again later."),
                    status=429,
                    language=language,
                )
            started = begin_open(survey, channel=channel, language=language, now=timezone.now())
            request.session[_session_key(survey)] = started.pk
            return started

        if response is None:
            # Stored only when the first page is answered: a visit (a crawler, a preview of the
            # link in a chat) writes nothing. The page's form posts back to this same address,
            # ?via=qr included, so the channel is still known then.
            response = Response(
                survey=survey,
                channel=channel,
                language=language,
                state=ResponseState.STARTED,
            )
        return _answer(
            request,
            response,
            language,
            thanks_url=reverse("respond_open_thanks", args=[pk, signature]),
            refusal=lambda: _already_answered(request, language),
            start=start,
        )


def respond_open_thanks(request: HttpRequest, pk: int, signature: str) -> HttpResponse:
    survey = survey_for_open_link(pk, signature)
    if survey is None:
        return _not_found(request)
    language = _language(request, survey, translation.get_language())
    with translation.override(language):
        return _thanks(request, language)
