"""A list page's query-string filters: one that names nothing is left out with a message saying
which field and why, so a stale or hand-edited link still shows the page."""

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from cxloop.lib.params import ParamError, parse_date, parse_row_id

SHOWN_CHARS = 40  # of a refused filter's value, named in its message


def shown_value(raw: str) -> str:
    """A query-string value as a refusal names it: cut short, since a link may be edited."""
    return Truncator(raw).chars(SHOWN_CHARS)


def refuse_filter(request: HttpRequest, label: str, reason: str, value: str | None = None) -> None:
    """Tell the user that the filter ``label`` (given as ``value``) is left out, and why."""
    if value is None:
        message = _("%(field)s: %(reason)s — this filter is left out.") % {
            "field": label,
            "reason": reason,
        }
    else:
        message = _("%(field)s “%(value)s”: %(reason)s — this filter is left out.") % {
            "field": label,
            "value": shown_value(value),
            "reason": reason,
        }
    messages.error(request, message)


def row_id_filter(request: HttpRequest, name: str, label: str, accepted: dict) -> int | None:
    """The row id in the query parameter ``name`` (None when absent or refused); an accepted
    one is also put into ``accepted`` (the filters the page keeps in its links)."""
    raw = request.GET.get(name, "")
    if not raw:
        return None
    try:
        value = parse_row_id(name, raw)
    except ParamError as error:
        refuse_filter(request, label, _(error.template) % error.params, raw)
        return None
    accepted[name] = str(value)
    return value


def day_filter(request: HttpRequest, name: str, label: str, accepted: dict) -> dt.date | None:
    """The day (YYYY-MM-DD) in the query parameter ``name``, as :func:`row_id_filter` takes a
    row id."""
    raw = request.GET.get(name, "")
    if not raw:
        return None
    try:
        value = parse_date(name, raw)
    except ParamError as error:
        refuse_filter(request, label, _(error.template) % error.params, raw)
        return None
    accepted[name] = value.isoformat()
    return value
