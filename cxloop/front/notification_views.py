"""Settings of the closed loop's news: each person's choice of instant or daily-summary delivery
per kind of news and the language of their e-mails; the CX lead's business calendars (working
hours, time zone, holidays), on which the SLA clocks and the news' working hours run."""

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.cases.choices import Delivery, NotificationKind
from cxloop.cases.notify import preferences_of, set_preferences
from cxloop.front.forms import DateField, TextField
from cxloop.people.queries import (
    administers_cx,
    business_calendar,
    business_calendars,
    calendar_days,
    employee_of,
)
from cxloop.people.services import (
    remove_calendar_day,
    set_calendar_day,
    set_language,
    update_calendar,
)

WEEKDAYS = [
    ("1", gettext_lazy("Monday")),
    ("2", gettext_lazy("Tuesday")),
    ("3", gettext_lazy("Wednesday")),
    ("4", gettext_lazy("Thursday")),
    ("5", gettext_lazy("Friday")),
    ("6", gettext_lazy("Saturday")),
    ("7", gettext_lazy("Sunday")),
]


class PreferencesForm(forms.Form):
    """A delivery per kind of news, and the language of the e-mails."""

    language = forms.ChoiceField(
        label=gettext_lazy("Language of e-mails"), choices=settings.LANGUAGES
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label, choices=Delivery.choices, widget=forms.RadioSelect
            )

    def deliveries(self) -> dict[str, str]:
        return {kind: self.cleaned_data[kind] for kind in NotificationKind.values}


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in person's news: at once or in the daily summary, per kind; their language."""
    employee = employee_of(request.user)
    if employee is None:
        raise Http404(_("Notifications are for employees."))
    initial = {"language": employee.language, **preferences_of(employee)}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        set_preferences(employee, form.deliveries())
        set_language(employee, form.cleaned_data["language"])
        messages.success(request, _("Your notification settings are saved."))
        return redirect("notification_settings")
    return render(
        request,
        "front/notifications/settings.html",
        {"form": form, "may_edit_calendars": administers_cx(request.user)},
    )


def _require_cx_lead(request: HttpRequest) -> None:
    if not administers_cx(request.user):
        raise PermissionDenied


class CalendarForm(forms.Form):
    name = TextField(label=gettext_lazy("Name"), max_length=200)
    time_zone = TextField(
        label=gettext_lazy("Time zone"),
        max_length=64,
        help_text=gettext_lazy("A time zone name, e.g. Europe/Moscow or Asia/Yekaterinburg."),
    )
    work_days = forms.MultipleChoiceField(
        label=gettext_lazy("Working weekdays"),
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
    )
    # Hours and minutes: a working day starts on the minute, and "09:00:00" reads as machine talk.
    day_start = forms.TimeField(
        label=gettext_lazy("Working day starts"), widget=forms.TimeInput(format="%H:%M")
    )
    day_end = forms.TimeField(
        label=gettext_lazy("Working day ends"), widget=forms.TimeInput(format="%H:%M")
    )


class CalendarDayForm(forms.Form):
    date = DateField(label=gettext_lazy("Date"))
    is_working = forms.TypedChoiceField(
        label=gettext_lazy("The day is"),
        choices=[("0", gettext_lazy("a holiday")), ("1", gettext_lazy("a working day"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    name = TextField(label=gettext_lazy("Name"), max_length=200, required=False)


@login_required
def calendar_list(request: HttpRequest) -> HttpResponse:
    _require_cx_lead(request)
    return render(
        request, "front/notifications/calendar_list.html", {"calendars": business_calendars()}
    )


@login_required
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A calendar's hours, time zone and weekdays, and its holidays and transferred working days
    of one year (``?year=``)."""
    _require_cx_lead(request)
    calendar = business_calendar(pk)
    if calendar is None:
        raise Http404
    year = _year(request)
    action = request.POST.get("action")
    calendar_form = CalendarForm(
        request.POST if action == "calendar" else None,
        initial={
            "name": calendar.name,
            "time_zone": calendar.time_zone,
            "work_days": list(calendar.work_days),
            "day_start": calendar.day_start,
            "day_end": calendar.day_end,
        },
    )
    day_form = CalendarDayForm(
        request.POST if action == "add_day" else None, initial={"is_working": "0"}
    )
    back = f"{request.path}?year={year}"
    if action == "calendar" and calendar_form.is_valid():
        data = {
            **calendar_form.cleaned_data,
            "work_days": "".join(sorted(calendar_form.cleaned_data["work_days"])),
        }
        try:
            update_calendar(calendar, **data)
        except ValidationError as error:
            for field, field_errors in error.message_dict.items():
                calendar_form.add_error(
                    field if field in calendar_form.fields else None, field_errors
                )
        else:
            messages.success(request, _("The calendar is saved."))
            return redirect(back)
    elif action == "add_day" and day_form.is_valid():
        set_calendar_day(calendar, **day_form.cleaned_data)
        messages.success(request, _("The day is saved."))
        return redirect(f"{request.path}?year={day_form.cleaned_data['date'].year}")
    elif action == "remove_day":
        removed = _remove_day(calendar, request.POST.get("date", ""))
        if removed:
            messages.success(request, _("The day follows the usual week again."))
        return redirect(back)
    return render(
        request,
        "front/notifications/calendar_edit.html",
        {
            "calendar": calendar,
            "calendar_form": calendar_form,
            "day_form": day_form,
            "days": calendar_days(calendar, year),
            "year": year,
            "years": range(year - 1, year + 2),
        },
    )


def _year(request: HttpRequest) -> int:
    text = request.GET.get("year", "")
    if text.isdigit() and 2000 <= int(text) <= 2100:
        return int(text)
    return timezone.localdate().year


def _remove_day(calendar, text: str) -> bool:
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        return False
    return remove_calendar_day(calendar, date)
