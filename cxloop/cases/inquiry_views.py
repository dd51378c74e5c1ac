"""The public inquiry pages: the form, its thank-you page and the customer's private thread.
No sign-in, plain HTML forms that work without JavaScript, in Russian or English."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from cxloop.cases import inquiries
from cxloop.cases.forms import HONEYPOT, InquiryForm, ReplyForm
from cxloop.cases.services import CaseError

_SENT = "cxloop.inquiry.reference"  # the session key of the reference the thank-you page shows
_LANGUAGES = {code for code, _name in settings.LANGUAGES}


def _language(request: HttpRequest, preferred: str) -> str:
    """The language asked for by the switch, else ``preferred``, else the site's."""
    asked = request.POST.get("lang") or request.GET.get("lang") or preferred or ""
    code = asked[:2].lower()
    return code if code in _LANGUAGES else settings.LANGUAGE_CODE


def _message(request, title: str, text: str, *, status: int, language: str) -> HttpResponse:
    context = {"title": title, "text": text, "language": language}
    return render(request, "cases/inquiry/message.html", context, status=status)


def _error_summary(form) -> list[tuple[str, str, str]]:
    """(field id, field label, message) of every error, for the list atop the form whose
    entries link to their fields; a form-wide error has neither id nor label."""
    rows = []
    for name, errors in form.errors.items():
        field = form[name] if name in form.fields else None
        for error in errors:
            rows.append((field.auto_id, field.label, error) if field else ("", "", error))
    return rows


def _form_page(request, form, language: str, *, stamp: str, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "stamp": stamp,
        "language": language,
        "honeypot": HONEYPOT,
        "errors": _error_summary(form),
    }
    return render(request, "cases/inquiry/ask.html", context, status=status)


@never_cache
def ask(request: HttpRequest) -> HttpResponse:
    """The form: a question becomes a case for the topic's specialists."""
    language = _language(request, translation.get_language())
    with translation.override(language):
        now = timezone.now()
        if request.method != "POST":
            return _form_page(request, InquiryForm(), language, stamp=inquiries.fill_stamp(now))
        if request.POST.get(HONEYPOT):
            return _message(
                request,
                _("Message not accepted"),
                _("The form came back with a field filled in that people never see."),
                status=400,
                language=language,
            )
        form = InquiryForm(request.POST)
        stamp = request.POST.get("stamp", "")
        if not form.is_valid():
            return _form_page(request, form, language, stamp=stamp, status=400)
        if inquiries.filled_too_fast(stamp, now):
            form.add_error(
                None,
                _(
                    "The form was sent faster than a person could fill it in. Please check "
                    "your message and send it again."
                ),
            )
            stamp = inquiries.fill_stamp(now)
            return _form_page(request, form, language, stamp=stamp, status=400)
        data = form.cleaned_data
        repeat = inquiries.already_asked(data["email"], data["topic"].pk, data["question"])
        client = request.META.get("REMOTE_ADDR", "")
        if repeat is None and inquiries.over_rate(data["email"], client):
            form.add_error(
                None,
                _("Many questions came from this address lately. Please try again in an hour."),
            )
            return _form_page(request, form, language, stamp=stamp, status=429)
        submitted = inquiries.submit(
            topic=data["topic"],
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            company=data["company"],
            text=data["question"],
            language=language,
            now=now,
        )
        request.session[_SENT] = submitted.reference
        return redirect(f"{reverse('ask_thanks')}?lang={language}")


@never_cache
def ask_thanks(request: HttpRequest) -> HttpResponse:
    """The reference of the question just sent (kept in the visitor's session)."""
    language = _language(request, translation.get_language())
    reference = request.session.get(_SENT)
    if reference is None:
        return redirect(f"{reverse('ask')}?lang={language}")
    with translation.override(language):
        context = {"reference": reference, "language": language}
        return render(request, "cases/inquiry/thanks.html", context)


@never_cache
def inquiry_thread(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's private page: the question, our answers, and a form to answer back."""
    inquiry = inquiries.inquiry_for_token(token)
    preferred = inquiry.language if inquiry is not None else translation.get_language()
    language = _language(request, preferred)
    with translation.override(language):
        if inquiry is None:
            return _message(
                request,
                _("Link not found"),
                _("This link is not one of ours. Please use the link from our e-mail."),
                status=404,
                language=language,
            )
        form = ReplyForm(request.POST if request.method == "POST" else None)
        if form.is_valid() and inquiries.replies_over_rate(inquiry):
            form.add_error(
                "text",
                _("Many messages came on this question lately. Please try again in an hour."),
            )
        if form.is_valid():
            try:
                inquiries.reply(inquiry, form.cleaned_data["text"], now=timezone.now())
            except CaseError as error:
                form.add_error("text", str(error))
            else:
                here = reverse("inquiry_thread", args=[token])
                return redirect(f"{here}?lang={language}&sent=1")
        context = {
            "inquiry": inquiry,
            "reference": inquiry.case.reference,
            "thread": inquiries.thread(inquiry),
            "form": form,
            "sent": request.GET.get("sent") == "1" and not form.is_bound,
            "language": language,
        }
        return render(
            request, "cases/inquiry/thread.html", context, status=400 if form.errors else 200
        )
