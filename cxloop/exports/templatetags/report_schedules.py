"""``{% load report_schedules %}``: the way from a dashboard's page to a scheduled report of it,
for the export control every dashboard includes (exports/includes/export_form.html)."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from cxloop.exports import schedules
from cxloop.people.queries import administers_cx

register = template.Library()


@register.simple_tag(takes_context=True)
def schedule_href(context, kind: str, query: str = "") -> str:
    """The new-schedule form prefilled with the dashboard ``kind`` and the page's ``query``
    string, for a user who administers CX (only they may schedule reports); "" for anyone else
    and for a kind that is a list, not a dashboard."""
    request = context.get("request")
    if request is None or not administers_cx(request.user):
        return ""
    if kind not in schedules.dashboards():
        return ""
    return f"{reverse('report_schedule_new')}?{urlencode({'report': kind, 'query': query})}"
