"""One strict parser for every value a person or a program sends: page parameters, API fields,
form fields and import cells.

Each parser takes the field's name and the value, and returns the typed value or raises
:class:`ParamError` naming the field, the value and what was expected. The limits are those every
database cxloop runs on can store and compare (see docs/decisions/007-strict-input.md): dates
from 1900 to 2200, row ids and other whole numbers within a signed 64-bit integer (32-bit where
the column is an ``IntegerField``), text without NUL characters or lone surrogates (PostgreSQL
refuses the first, no UTF-8 encoder takes the second), money within its column's digits.

Pure: no Django. The messages are English templates marked with :func:`gettext_noop`, so that
``makemessages`` collects them and a page or form shows ``gettext(error.template) %
error.params`` in the reader's language.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation


def gettext_noop(message: str) -> str:
    """Marks a message for translation without translating it (as Django's does)."""
    return message


EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2200, 12, 31)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
ROW_ID_MAX = INT64_MAX

# A number longer than this is no id and no amount; refusing it first keeps int() and Decimal()
# from spending time on a megabyte of digits.
MAX_DIGITS_READ = 40

NUL = "\x00"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

MSG_DATE = gettext_noop("expected a date YYYY-MM-DD between %(earliest)s and %(latest)s")
MSG_INTEGER = gettext_noop("expected a whole number from %(low)s to %(high)s")
MSG_ROW_ID = gettext_noop("expected the number of a record (a whole number from 1 to %(high)s)")
MSG_NUL = gettext_noop("contains a NUL character (\\0), which cannot be stored")
MSG_SURROGATE = gettext_noop("contains a lone UTF-16 surrogate, which is not a character")
MSG_MONEY = gettext_noop(
    "expected an amount with at most %(whole)s digits before the decimal point and "
    "%(places)s after it"
)
MSG_MONEY_NEGATIVE = gettext_noop("expected an amount of at least 0")


class ParamError(ValueError):
    """A value a field cannot take: ``field``, ``value``, and what was expected as an English
    ``template`` with its ``params`` (``reason`` is them put together)."""

    def __init__(self, field: str, value: object, template: str, params: dict | None = None):
        self.field = field
        self.value = value
        self.template = template
        self.params = params or {}
        self.reason = template % self.params
        super().__init__(f"{field}: {self.reason}, got {_shown(value)}")


def _shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_date(
    field: str, value: dt.date, *, earliest: dt.date = EARLIEST_DATE, latest: dt.date = LATEST_DATE
) -> dt.date:
    """``value`` if it lies between ``earliest`` and ``latest`` (inclusive); a date or date and
    time outside them overflows month arithmetic and time-zone conversion."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not earliest <= day <= latest:
        raise ParamError(
            field,
            value.isoformat(),
            MSG_DATE,
            {"earliest": earliest.isoformat(), "latest": latest.isoformat()},
        )
    return value


def parse_date(
    field: str, raw: str, *, earliest: dt.date = EARLIEST_DATE, latest: dt.date = LATEST_DATE
) -> dt.date:
    """A date written YYYY-MM-DD within ``earliest``–``latest``."""
    bounds = {"earliest": earliest.isoformat(), "latest": latest.isoformat()}
    text = raw.strip() if isinstance(raw, str) else raw
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ParamError(field, raw, MSG_DATE, bounds)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ParamError(field, raw, MSG_DATE, bounds) from None
    return check_date(field, day, earliest=earliest, latest=latest)


def check_integer(field: str, value: int, *, low: int = INT64_MIN, high: int = INT64_MAX) -> int:
    """``value`` if it is a whole number within ``low``–``high`` (a signed 64-bit integer
    unless told)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ParamError(field, value, MSG_INTEGER, {"low": low, "high": high})
    return value


def parse_integer(field: str, raw: str, *, low: int = INT64_MIN, high: int = INT64_MAX) -> int:
    """A whole number written in decimal digits (an optional sign) within ``low``–``high``."""
    text = raw.strip() if isinstance(raw, str) else ""
    if len(text) > MAX_DIGITS_READ or not re.fullmatch(r"[+-]?\d+", text, flags=re.ASCII):
        raise ParamError(field, raw, MSG_INTEGER, {"low": low, "high": high})
    return check_integer(field, int(text), low=low, high=high)


def parse_row_id(field: str, raw: str) -> int:
    """The id of a record: a whole number from 1 to 2**63 - 1."""
    try:
        return parse_integer(field, raw, low=1, high=ROW_ID_MAX)
    except ParamError:
        raise ParamError(field, raw, MSG_ROW_ID, {"high": ROW_ID_MAX}) from None


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (a message template), or None when it can."""
    if NUL in value:
        return MSG_NUL
    if _LONE_SURROGATE.search(value):
        return MSG_SURROGATE
    return None


def check_text(field: str, value: str) -> str:
    """``value`` unchanged if it holds no NUL and no lone surrogate; ParamError otherwise."""
    problem = text_problem(value)
    if problem is not None:
        raise ParamError(field, value, problem)
    return value


def clean_text(value: str) -> str:
    """``value`` with NUL characters removed and lone surrogates replaced by U+FFFD, for text
    the user expects to be kept as it reads (see the decision record for where)."""
    return _LONE_SURROGATE.sub("\ufffd", value.replace(NUL, ""))


def check_money(
    field: str,
    value: Decimal,
    *,
    max_digits: int,
    decimal_places: int,
    negative: bool = False,
) -> Decimal:
    """``value`` if it fits a ``DecimalField(max_digits, decimal_places)``: finite, at most
    ``decimal_places`` decimals and ``max_digits - decimal_places`` digits before the point,
    and not below 0 unless ``negative``. Checked by its digits, never by rounding, which raises
    for a number like 1E+26 in Python's default decimal context."""
    whole = max_digits - decimal_places
    limits = {"whole": whole, "places": decimal_places}
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ParamError(field, value, MSG_MONEY, limits)
    # The digits as written, trailing zeros dropped by hand: normalize() raises decimal.Overflow
    # for an exponent beyond the context's (1E+999999999).
    sign, digits, exponent = value.as_tuple()
    while len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    if digits == (0,):
        exponent = min(exponent, 0)
    places = max(0, -exponent)
    integer_digits = max(0, len(digits) + exponent)
    if places > decimal_places or integer_digits > whole:
        raise ParamError(field, value, MSG_MONEY, limits)
    if sign and value != 0 and not negative:
        raise ParamError(field, value, MSG_MONEY_NEGATIVE)
    return value


def parse_money(
    field: str,
    raw: str,
    *,
    max_digits: int,
    decimal_places: int,
    negative: bool = False,
) -> Decimal:
    """An amount written with a decimal point (``1200000.50``; no grouping, which the caller
    removes first) that fits ``DecimalField(max_digits, decimal_places)``; see
    :func:`check_money`. Exponents (``1e26``) are read and then checked like any amount."""
    limits = {"whole": max_digits - decimal_places, "places": decimal_places}
    text = raw.strip() if isinstance(raw, str) else ""
    if not text or len(text) > MAX_DIGITS_READ:
        raise ParamError(field, raw, MSG_MONEY, limits)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ParamError(field, raw, MSG_MONEY, limits) from None
    try:
        return check_money(
            field, amount, max_digits=max_digits, decimal_places=decimal_places, negative=negative
        )
    except ParamError as error:
        raise ParamError(field, raw, error.template, error.params) from None
