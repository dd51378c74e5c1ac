"""Sign-in lockout that cannot be turned against a user (issue #9, finding 4).

django-axes counts failures per (user name, address) and per address, and compares the larger
count with one limit (``AXES_FAILURE_LIMIT``). :func:`failure_limit` is that limit: a user name is
locked only from the address its wrong passwords came from, after ``PAIR_LIMIT`` of them, so the
real user signs in from anywhere else; an address that tries many user names is stopped after
``ADDRESS_LIMIT`` failures in all. Both are counted over axes' cool-off period.
"""

import datetime as dt
import hashlib
import logging

from axes.attempts import get_cool_off_threshold
from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cxloop.outbox.services import enqueue_email

log = logging.getLogger(__name__)

PAIR_LIMIT = 5  # wrong passwords for one user name from one address
ADDRESS_LIMIT = 30  # wrong passwords from one address, whatever the user names (an office's NAT)


def _failures(request, **match) -> int:
    attempts = AccessAttempt.objects.filter(
        attempt_time__gte=get_cool_off_threshold(request), **match
    )
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def pair_failures(request, credentials) -> int:
    username = get_client_username(request, credentials)
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    return _failures(request, username=username, ip_address=address)


def failure_limit(request, credentials) -> int:
    """The limit axes compares with the address's failures (the larger of its two counts, since
    the address's count includes the pair's): reached at once when the pair has reached its own
    limit, else only at ``ADDRESS_LIMIT``."""
    if pair_failures(request, credentials) >= PAIR_LIMIT:
        return PAIR_LIMIT
    return ADDRESS_LIMIT


def forget_pair(sender, request, user, **kwargs):
    """A successful sign-in forgets the wrong passwords of that user name from that address only."""
    if request is None:
        return
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    AccessAttempt.objects.filter(username=user.get_username(), ip_address=address).delete()


def tell_of_lockout(sender, request, username, ip_address, **kwargs):
    """Mails the user whose name was locked from an address, and the administrators, once per
    lockout (axes signals again on each attempt while it lasts)."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 3600
    by_pair = pair_failures(request, getattr(request, "axes_credentials", None)) >= PAIR_LIMIT
    # An address locked for trying many names is one lockout, whichever name it tries next.
    told = f"{username if by_pair else ''}\n{ip_address}".encode()
    key = "cxloop-lockout-told:" + hashlib.sha256(told).hexdigest()  # any name is a safe key
    if not cache.add(key, 1, timeout=seconds):
        return
    until = timezone.localtime(timezone.now() + (cool_off or dt.timedelta(0)))
    users = get_user_model().objects.filter(is_active=True)
    user = users.filter(username=username).exclude(email="").first() if username else None
    admins = list(users.filter(is_superuser=True).exclude(email="").values_list("email", flat=True))
    log.warning("sign-in locked for %r from %s until %s", username, ip_address, f"{until:%H:%M}")
    # The name is whatever the form was sent with: at most a line of it goes into an e-mail.
    context = {"username": (username or "")[:150], "address": ip_address, "until": f"{until:%H:%M}"}
    if user is not None and by_pair:
        with translation.override(settings.LANGUAGE_CODE):
            _mail(
                [user.email],
                _("Sign-in to cxloop paused after wrong passwords"),
                _(
                    "Someone entered a wrong password for %(username)s %(limit)s times from the "
                    "address %(address)s. Sign-in from that address is paused until %(until)s; "
                    "you can still sign in from your usual place. If it was not you, tell your "
                    "administrator and change your password."
                )
                % {**context, "limit": PAIR_LIMIT},
            )
    if admins:
        with translation.override(settings.LANGUAGE_CODE):
            _mail(
                admins,
                _("cxloop: sign-in locked out"),
                (
                    _(
                        "Sign-in as %(username)s from %(address)s is locked until %(until)s after "
                        "repeated wrong passwords."
                    )
                    if by_pair
                    else _(
                        "Sign-in from %(address)s is locked until %(until)s: it tried many wrong "
                        "passwords (last user name: %(username)s)."
                    )
                )
                % context
                + "\n\n"
                + _("The attempts are listed in the admin under Axes › Access attempts."),
            )


def _mail(to: list[str], subject: str, text: str) -> None:
    """Queued in the outbox (sent by the worker, with retries), one message per address."""
    for address in to:
        try:
            enqueue_email(address, subject, text, kind="lockout")
        except ValueError:  # an address the admin typed wrongly must not break the sign-in page
            log.warning("the lockout notice to %r was not queued: not an e-mail address", address)


def locked_out(request, original_response=None, credentials=None):
    """The page axes shows instead of signing in: what happened and when to try again."""
    cool_off = get_cool_off(request) or dt.timedelta(0)
    username = get_client_username(request, credentials) or ""
    context = {
        "username": username,
        "by_pair": bool(username) and pair_failures(request, credentials) >= PAIR_LIMIT,
        "until": timezone.localtime(timezone.now() + cool_off).strftime("%H:%M"),
        "minutes": round(cool_off.total_seconds() / 60),
    }
    return render(request, "front/locked_out.html", context, status=429)
