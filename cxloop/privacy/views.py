"""The admin's audit log and personal-data pages."""

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cxloop.audit import queries as audit_queries
from cxloop.audit import services as audit
from cxloop.audit.choices import Action
from cxloop.people.queries import administers_cx
from cxloop.privacy import services

PAGE_SIZE = 50
# The date inputs' sane range: earlier or later dates are refused, not overflowed.
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2999, 12, 31)


def _require_admin(request: HttpRequest) -> None:
    if not administers_cx(request.user):
        raise PermissionDenied


def _day(request: HttpRequest, name: str, errors: list[str]) -> dt.date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        errors.append(
            _("%(field)s: expected a date such as 2026-01-31, got “%(value)s”.")
            % {"field": name, "value": raw[:40]}
        )
        return None
    return day


def _moment(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


@dataclass(frozen=True)
class AuditQuery:
    """The events a query string asks for, newest first: the filters read (``filters``, the
    days ``since`` and ``until``) and the refusals of those left out (``errors``)."""

    events: QuerySet
    filters: dict[str, str]
    since: dt.date | None
    until: dt.date | None
    errors: list[str]


def audit_events(request: HttpRequest) -> AuditQuery:
    """The audit log filtered by ``request``'s query string (``actor``: the start of a user
    name; ``action``, ``kind``, ``object_id``; ``since`` and ``until``: days, inclusive);
    PermissionDenied for anyone but the CX lead."""
    _require_admin(request)
    errors: list[str] = []
    since = _day(request, "since", errors)
    until = _day(request, "until", errors)
    action = request.GET.get("action", "")
    if action and action not in Action.values:
        errors.append(
            _("action: expected one of the listed actions, got “%(value)s”.")
            % {"value": action[:40]}
        )
        action = ""
    filters = {
        "actor": request.GET.get("actor", "").strip()[:150],
        "action": action,
        "kind": request.GET.get("kind", "").strip()[:50],
        "object_id": request.GET.get("object_id", "").strip()[:64],
    }
    found = audit_queries.events(
        **filters,
        since=_moment(since) if since else None,
        until=_moment(until + dt.timedelta(days=1)) if until else None,
    )
    return AuditQuery(found, filters, since, until, errors)


@login_required
@require_safe
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who signed in, read, changed, imported, exported or erased what; read-only."""
    shown = audit_events(request)
    page = Paginator(shown.events, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = audit_queries.kind_labels()
    for event in page:
        event.kind_label = labels.get(event.object_kind, event.object_kind)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "errors": shown.errors,
        "filters": shown.filters,
        "since": shown.since.isoformat() if shown.since else "",
        "until": shown.until.isoformat() if shown.until else "",
        "actions": Action.choices,
        "kinds": [(kind, labels.get(kind, kind)) for kind in audit_queries.kinds()],
        "query": query.urlencode(),
    }
    return render(request, "privacy/audit_log.html", context)


@login_required
@require_safe
def personal_data(request: HttpRequest) -> HttpResponse:
    """Find a contact by id; see what is held about them; export it or erase it."""
    _require_admin(request)
    raw = request.GET.get("contact", "").strip()
    data = None
    error = ""
    if raw:
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            error = _("contact: expected a contact's id (a whole number), got “%(value)s”.") % {
                "value": raw[:40]
            }
        else:
            try:
                data = services.contact_data(int(raw))
            except services.ContactNotFound:
                error = _("No contact with id %(id)s.") % {"id": raw}
            else:
                audit.record(
                    Action.READ,
                    kind="contact",
                    object_id=raw,
                    label=f"#{raw}",
                    details={"path": request.path},
                )
    context = {"contact_id": raw, "data": data, "error": error}
    if data is not None:
        context["comments"] = sum(1 for r in data["responses"] for a in r["answers"] if a["text"])
    return render(request, "privacy/personal_data.html", context)


@login_required
@require_POST
def personal_data_export(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    try:
        archive = services.export_zip(pk)
    except services.ContactNotFound:
        messages.error(request, _("No contact with id %(id)s.") % {"id": pk})
        return redirect("personal_data")
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="contact-{pk}.zip"'
    return response


@login_required
@require_POST
def personal_data_erase(request: HttpRequest, pk: int) -> HttpResponse:
    """Erases only when the admin typed the contact's id again."""
    _require_admin(request)
    if request.POST.get("confirm", "").strip() != str(pk):
        messages.error(request, _("Type the contact's id to confirm the erasure."))
        return redirect(f"{redirect('personal_data').url}?contact={pk}")
    try:
        erased = services.erase_contact(pk)
    except services.ContactNotFound:
        messages.error(request, _("No contact with id %(id)s.") % {"id": pk})
        return redirect("personal_data")
    messages.success(
        request,
        _(
            "Contact %(id)s erased: %(responses)s responses kept as anonymous scores, "
            "%(comments)s comments blanked, %(invitations)s invitations deleted."
        )
        % {
            "id": pk,
            "responses": erased.responses,
            "comments": erased.comments,
            "invitations": erased.invitations,
        },
    )
    if erased.traces:
        messages.error(
            request, _("Still found in: %(where)s.") % {"where": ", ".join(erased.traces)}
        )
    return redirect("personal_data")
