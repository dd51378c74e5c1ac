"""The shape every export shares: a :class:`Table` (columns, rows read in batches, the filters
read, the page's charts), the :class:`ExportKind` that gives it for a request, the refusal of
filters a page would leave out (:class:`RefusedFilters`), and the small pieces each kind's
module builds its table with (:mod:`.kinds`, :mod:`.insight_kinds`, :mod:`.loop_kinds`,
:mod:`.people_kinds`)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from cxloop.front.filters import shown_value
from cxloop.lib.params import ParamError, parse_row_id
from cxloop.lib.tabular import NUMBER, Column

ORM_BATCH = 500  # rows read at a time as objects with their prefetched relations


class RefusedFilters(ValueError):
    """Filters of the query string the list would leave out: each message names the field,
    the value and why."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


class _Refusals:
    """Django's message storage as far as :func:`django.contrib.messages.add_message` uses
    it: the list parsers' refusals are collected instead of shown on the next page."""

    def __init__(self):
        self.messages: list[str] = []

    def add(self, level, message, extra_tags=""):
        self.messages.append(str(message))


def filter_request(user, query: str) -> HttpRequest:
    """A GET request of ``user`` for the query string ``query``, for a list's filter parser
    outside a request (the command line, the task)."""
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(query)
    request.user = user
    request._messages = _Refusals()
    return request


def refused(request: HttpRequest) -> list[str]:
    """The refusals the list's parser gave for ``request`` (one from :func:`filter_request`),
    or those the page's messages hold for a real request."""
    storage = getattr(request, "_messages", None)
    if isinstance(storage, _Refusals):
        return storage.messages
    return []


def no_charts() -> list[dict]:
    return []


@dataclass(frozen=True)
class Table:
    """A list as a table: its columns, its rows in batches (read when iterated), how many rows
    (``count``; capped at ``cap`` + 1 when given) and the filters it was read with. A
    dashboard's ``charts`` gives the Vega-Lite specs its page draws (``cxloop.insights.charts``),
    for the printed report; built only when asked."""

    columns: list[Column]
    batches: Callable[[], Iterator[list[tuple]]]
    count: Callable[[int | None], int]
    filters: dict[str, str]
    charts: Callable[[], list[dict]] = no_charts

    @classmethod
    def of_rows(
        cls,
        columns: list[Column],
        rows: list[tuple],
        filters: dict[str, str],
        charts: Callable[[], list[dict]] = no_charts,
    ) -> Table:
        """A table computed whole: a dashboard's few dozen rows."""
        return cls(columns, lambda: iter([rows]), lambda cap=None: len(rows), filters, charts)


@dataclass(frozen=True)
class ExportKind:
    """What can be exported: a list or a dashboard. ``page`` is the URL name of the page it
    exports; a page of one thing (a touchpoint, a pulse survey) takes its id from the query
    parameter ``page_pk``. A ``dashboard`` can also be e-mailed on a schedule."""

    name: str
    label: Promise
    page: str
    table: Callable[[HttpRequest], Table]
    dashboard: bool = False
    page_pk: str | None = None

    def read(self, request: HttpRequest) -> Table:
        """:attr:`table` outside a page's request (a schedule, a task, the command line): a
        page's refusal of the person (403) or of the thing named (404) is a refusal of the
        export, in words, like a bad filter."""
        try:
            return self.table(request)
        except PermissionDenied:
            raise RefusedFilters([_("Their role does not show this page.")]) from None
        except Http404:
            message = _("Nothing exists of what the filters name (%(query)s).") % {
                "query": shown_value(request.GET.urlencode()) or "—"
            }
            raise RefusedFilters([message]) from None

    def url(self, query: str = "") -> str:
        """The page this kind exports, for the query string ``query``; the home page if the
        kind is a page of one thing and the query names none."""
        if self.page_pk is None:
            path = reverse(self.page)
        else:
            try:
                pk = parse_row_id(self.page_pk, QueryDict(query).get(self.page_pk, ""))
            except ParamError:
                return reverse("home")
            path = reverse(self.page, args=[pk])
        return f"{path}?{query}" if query else path


def counter(queryset) -> Callable[[int | None], int]:
    def count(cap: int | None = None) -> int:
        rows = queryset.order_by()
        return rows.count() if cap is None else rows[: cap + 1].count()

    return count


def local(moment: dt.datetime | None) -> dt.datetime | None:
    """``moment`` in the site's time zone, as the pages show it."""
    return None if moment is None else moment.astimezone(_site_zone())


@functools.cache
def _site_zone() -> dt.tzinfo:
    return timezone.get_default_timezone()


def chunks(queryset, size: int = ORM_BATCH) -> Iterator[list]:
    chunk = []
    for record in queryset.iterator(chunk_size=size):
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def form_refusals(form) -> list[str]:
    """A filter form's errors, each naming the field and the value given; a form-wide error
    (a period that ends before it starts) names every value given."""

    def given(name: str) -> str:
        return _("%(field)s “%(value)s”") % {
            "field": form.fields[name].label,
            "value": shown_value(str(form.data.get(name, ""))),
        }

    refusals = []
    for name, errors in form.errors.items():
        if name in form.fields:
            where = given(name)
        else:
            where = ", ".join(given(other) for other in form.fields if form.data.get(other))
        refusals += [f"{where}: {error}" if where else str(error) for error in errors]
    return refusals


def refuse_invalid(form, request: HttpRequest) -> None:
    """Refuse what the page would leave out: its filter form's errors (``form`` may be None)
    and the refusals its parser gave."""
    invalid = form is not None and form.is_bound and not form.is_valid()
    messages = form_refusals(form) if invalid else []
    messages += refused(request)
    if messages:
        raise RefusedFilters(messages)


def plain_query(request: HttpRequest) -> dict[str, str]:
    return {name: value for name, value in request.GET.items() if value}


def titled(spec: dict, title: str) -> dict:
    """The page's chart with the heading the page gives it, for the printed report (which puts
    a spec's title under the chart), unless it has a title of its own."""
    return {"title": title, **spec}


def estimate_cells(estimate) -> tuple:
    if estimate is None:
        return (None, None, None)
    return (estimate.value, estimate.low, estimate.high)


def as_share(value: float | None) -> float | None:
    """A per cent (0–100), as the pages show it, as the fraction a SHARE column holds (0–1)."""
    return None if value is None else value / 100


def yes_no(flag: bool) -> str:
    return _("yes") if flag else _("no")


def interval_columns() -> list[Column]:
    """The two columns of a figure's 95-percent interval, after the figure's own."""
    return [
        Column(_("Lower bound of the 95-percent interval"), NUMBER),
        Column(_("Upper bound of the 95-percent interval"), NUMBER),
    ]
