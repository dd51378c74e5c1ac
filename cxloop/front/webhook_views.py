"""Webhook subscriptions, for the CX lead (the administrator role; anyone else 403): the list,
a subscription's form (name, URL, events) with its delivery log, a new signing secret shown
once, switching it off and on (after an automatic disabling too) and replaying a delivery
(docs/webhooks.md)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cxloop.people.queries import administers_cx
from cxloop.webhooks import queries, services
from cxloop.webhooks.choices import EventKind

# The secret, shown on the next page only: kept in the session between the POST and its GET.
SECRET_KEY = "webhook_secret_once"


class SubscriptionForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    url = forms.CharField(
        label=gettext_lazy("URL"),
        max_length=2000,
        help_text=gettext_lazy("Where each event is POSTed: http:// or https://."),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=EventKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )


def _require_cx_lead(request: HttpRequest) -> None:
    if not administers_cx(request.user):
        raise PermissionDenied


def _subscription_or_404(pk: int):
    subscription = queries.subscription(pk)
    if subscription is None:
        raise Http404
    return subscription


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    _require_cx_lead(request)
    return render(
        request, "front/webhooks/webhook_list.html", {"subscriptions": queries.subscriptions()}
    )


def _save(request: HttpRequest, subscription=None):
    form = SubscriptionForm(request.POST)
    if not form.is_valid():
        return form, None
    try:
        if subscription is None:
            subscription = services.create_subscription(**form.cleaned_data)
            request.session[SECRET_KEY] = [subscription.pk, subscription.secret]
        else:
            services.update_subscription(subscription, **form.cleaned_data)
    except services.SubscriptionError as error:
        form.add_error(error.field, str(error))
        return form, None
    return form, subscription


@login_required
def webhook_new(request: HttpRequest) -> HttpResponse:
    _require_cx_lead(request)
    form = SubscriptionForm()
    if request.method == "POST":
        form, saved = _save(request)
        if saved is not None:
            messages.success(request, _("Webhook saved."))
            return redirect("webhook_detail", pk=saved.pk)
    return render(request, "front/webhooks/webhook_detail.html", {"form": form})


@login_required
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The subscription's form and its delivery log; the secret once, after it was made."""
    _require_cx_lead(request)
    subscription = _subscription_or_404(pk)
    if request.method == "POST":
        form, saved = _save(request, subscription)
        if saved is not None:
            messages.success(request, _("Webhook saved."))
            return redirect("webhook_detail", pk=pk)
    else:
        form = SubscriptionForm(
            initial={
                "name": subscription.name,
                "url": subscription.url,
                "events": subscription.events,
            }
        )
    secret = None
    shown = request.session.pop(SECRET_KEY, None)
    if shown and shown[0] == subscription.pk:
        secret = shown[1]
    context = {
        "subscription": subscription,
        "form": form,
        "secret": secret,
        "deliveries": queries.delivery_log(subscription),
    }
    return render(request, "front/webhooks/webhook_detail.html", context)


@login_required
@require_POST
def webhook_secret(request: HttpRequest, pk: int) -> HttpResponse:
    _require_cx_lead(request)
    subscription = _subscription_or_404(pk)
    request.session[SECRET_KEY] = [subscription.pk, services.roll_secret(subscription)]
    messages.success(request, _("A new signing secret is in force from now on."))
    return redirect("webhook_detail", pk=pk)


@login_required
@require_POST
def webhook_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    _require_cx_lead(request)
    subscription = _subscription_or_404(pk)
    active = request.POST.get("active") == "1"
    services.set_active(subscription, active)
    if active:
        messages.success(request, _("Webhook switched on: waiting events are delivered in order."))
    else:
        messages.success(request, _("Webhook switched off."))
    return redirect("webhook_detail", pk=pk)


@login_required
@require_POST
def webhook_replay(request: HttpRequest, pk: int, delivery: int) -> HttpResponse:
    _require_cx_lead(request)
    subscription = _subscription_or_404(pk)
    found = queries.delivery(subscription, delivery)
    if found is None:
        raise Http404
    services.replay(found)
    messages.success(request, _("The event is queued to be sent again."))
    return redirect("webhook_detail", pk=pk)
