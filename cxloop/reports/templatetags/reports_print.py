"""``{% load reports_print %}``: chart specs drawn for paper inside a printed document."""

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.safestring import SafeString

from cxloop.reports.pdf import chart_svg

register = template.Library()


@register.filter
def print_chart(spec: Mapping[str, Any]) -> SafeString:
    """A Vega-Lite spec as inline SVG, its numbers and dates in the document's language."""
    return chart_svg(spec)
