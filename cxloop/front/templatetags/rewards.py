"""Numbers of the reward plan pages (``{% load rewards %}``): shares of a target bonus as per
cent and metric figures in their unit, in the reader's locale."""

from django import template
from django.utils import formats

register = template.Library()

NBSP = "\xa0"


def _number(value: float, places: int) -> str:
    return formats.number_format(value, places, use_l10n=True, force_grouping=True)


@register.filter
def share(value, places: int = 1) -> str:
    """``{{ 0.9|share }}``: «90,0 %» / "90.0 %"; "—" for no value."""
    if value is None or value == "":
        return "—"
    return f"{_number(100 * float(value), int(places))}{NBSP}%"


@register.filter
def figure(value, unit: str = "") -> str:
    """A metric's figure in its unit (cxloop.insights.accountability): "percent" (0–100) with
    a per cent sign, "count" whole, "nps" and "hours" to one decimal; "—" for no value."""
    if value is None or value == "":
        return "—"
    if unit == "count":
        return _number(round(float(value)), 0)
    text = _number(float(value), 1)
    return f"{text}{NBSP}%" if unit == "percent" else text
