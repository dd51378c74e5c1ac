"""Scheduled reports, for the CX lead (the administrator role; anyone else 403): the list with
each schedule's next and last run and its latest deliveries, a schedule's form (a new one
prefilled from a dashboard's "E-mail this on a schedule" link), switching it off and on, and
"send now" (docs/reports.md)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cxloop.exports import schedules
from cxloop.exports.models import Frequency, ReportFormat, ReportSchedule
from cxloop.exports.tables import RefusedFilters, filter_request
from cxloop.front.initiative_forms import IdsChoiceField
from cxloop.insights.cycle import period_of
from cxloop.people.queries import administers_cx, scorecard_people

WEEKDAYS = [
    (0, gettext_lazy("Monday")),
    (1, gettext_lazy("Tuesday")),
    (2, gettext_lazy("Wednesday")),
    (3, gettext_lazy("Thursday")),
    (4, gettext_lazy("Friday")),
    (5, gettext_lazy("Saturday")),
    (6, gettext_lazy("Sunday")),
]
DELIVERIES_SHOWN = 20


class ScheduleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    report = forms.ChoiceField(label=gettext_lazy("Report"), choices=schedules.report_choices)
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=ReportFormat.choices,
        help_text=gettext_lazy(
            "The cycle review and the executive pack are PDF; the weekly digest is its own e-mail."
        ),
    )
    query = forms.CharField(
        label=gettext_lazy("Filters"),
        max_length=2000,
        required=False,
        help_text=gettext_lazy(
            "The page's query string, as in its address after the question mark "
            "(e.g. since=2026-01-01&segment=all); for the reviews, since and until or quarter. "
            "Empty: the page's defaults."
        ),
    )
    frequency = forms.ChoiceField(label=gettext_lazy("Frequency"), choices=Frequency.choices)
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("Weekday"), choices=WEEKDAYS, coerce=int, initial=0
    )
    day_of_month = forms.IntegerField(
        label=gettext_lazy("Day of the month"),
        min_value=1,
        max_value=28,
        initial=1,
        help_text=gettext_lazy("1 to 28, so that every month has it."),
    )
    hour = forms.IntegerField(
        label=gettext_lazy("Hour"),
        min_value=0,
        max_value=23,
        initial=8,
        help_text=gettext_lazy("In the site's time zone."),
    )
    recipients = IdsChoiceField(
        label=gettext_lazy("Recipients"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Each gets the report in their language and as their own page shows it to them; "
            "someone whose role does not show the report is skipped."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        people = scorecard_people(user).order_by("user__last_name", "user__first_name", "pk")
        self.fields["recipients"].queryset = people
        self.fields["recipients"].label_from_instance = lambda employee: (
            f"{employee.user.get_full_name() or employee.user.username} · {employee.team}"
        )
        report = (self.data.get("report") if self.is_bound else None) or self.initial.get(
            "report", ""
        )
        if report and report == self.initial.get("report") and not schedules.schedulable(report):
            # A schedule whose dashboard is gone shows it as gone (also after a refused
            # save), rather than the first choice, which saving would then put in its place
            # unseen; choosing it again is refused in clean().
            gone = (report, schedules.report_label(report))
            self.fields["report"].choices = [*schedules.report_choices(), gone]

    def clean(self):
        data = super().clean()
        report, query = data.get("report"), data.get("query", "")
        if report and not schedules.schedulable(report):
            self.add_error("report", _("This dashboard no longer exists; choose another report."))
        if report in schedules.PDF_ONLY and data.get("format") != ReportFormat.PDF:
            self.add_error("format", _("The cycle review and the executive pack are PDF only."))
        if report in schedules.REVIEWS:
            _since, _until, errors = period_of(QueryDict(query), timezone.localdate())
            for field, message in errors.items():
                self.add_error("query", f"{field}: {message}")
        elif (kind := schedules.dashboards().get(report)) is not None:
            try:
                kind.read(filter_request(self.user, query))
            except RefusedFilters as refused:
                for message in refused.messages:
                    self.add_error("query", message)
        return data


def _require_cx_lead(request: HttpRequest) -> None:
    if not administers_cx(request.user):
        raise PermissionDenied


def _schedule_or_404(pk: int) -> ReportSchedule:
    schedule = ReportSchedule.objects.filter(pk=pk).first()
    if schedule is None:
        raise Http404
    return schedule


@login_required
def report_schedule_list(request: HttpRequest) -> HttpResponse:
    _require_cx_lead(request)
    rows = []
    for schedule in ReportSchedule.objects.prefetch_related("recipients__user"):
        latest = list(
            schedule.deliveries.select_related("recipient__user").order_by("-occurrence", "pk")[
                :DELIVERIES_SHOWN
            ]
        )
        last = [d for d in latest if latest and d.occurrence == latest[0].occurrence]
        label = schedules.report_label(schedule.report)
        rows.append({"schedule": schedule, "label": label, "last": last})
    return render(request, "exports/schedules/schedule_list.html", {"rows": rows})


def _save(request: HttpRequest, schedule: ReportSchedule | None):
    kept = {"report": schedule.report} if schedule else {}  # shown again if refused
    form = ScheduleForm(request.POST, user=request.user, initial=kept)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    schedule = schedule or ReportSchedule()
    for field in ("name", "report", "format", "query", "frequency", "weekday", "day_of_month"):
        setattr(schedule, field, data[field])
    schedule.hour = data["hour"]
    saved = schedules.save_schedule(
        schedule, data["recipients"], now=timezone.now(), user=request.user
    )
    return form, saved


def _prefilled(request: HttpRequest) -> dict:
    """A new schedule's first values from the query string: ``report``, a dashboard's kind, and
    ``query``, its page's query string (the link under a dashboard's export control)."""
    kind = schedules.dashboards().get(request.GET.get("report", ""))
    if kind is None:
        return {}
    return {"name": str(kind.label), "report": kind.name, "query": request.GET.get("query", "")}


@login_required
def report_schedule_new(request: HttpRequest) -> HttpResponse:
    _require_cx_lead(request)
    form = ScheduleForm(user=request.user, initial=_prefilled(request))
    if request.method == "POST":
        form, saved = _save(request, None)
        if saved is not None:
            messages.success(request, _("Scheduled report saved."))
            return redirect("report_schedule_edit", pk=saved.pk)
    return render(request, "exports/schedules/schedule_detail.html", {"form": form})


@login_required
def report_schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_cx_lead(request)
    schedule = _schedule_or_404(pk)
    if request.method == "POST":
        form, saved = _save(request, schedule)
        if saved is not None:
            messages.success(request, _("Scheduled report saved."))
            return redirect("report_schedule_edit", pk=pk)
    else:
        form = ScheduleForm(
            user=request.user,
            initial={
                "name": schedule.name,
                "report": schedule.report,
                "format": schedule.format,
                "query": schedule.query,
                "frequency": schedule.frequency,
                "weekday": schedule.weekday,
                "day_of_month": schedule.day_of_month,
                "hour": schedule.hour,
                "recipients": list(schedule.recipients.all()),
            },
        )
    deliveries = schedule.deliveries.select_related("recipient__user")[:100]
    context = {"schedule": schedule, "form": form, "deliveries": deliveries}
    return render(request, "exports/schedules/schedule_detail.html", context)


@login_required
@require_POST
def report_schedule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    _require_cx_lead(request)
    schedule = _schedule_or_404(pk)
    active = request.POST.get("active") == "1"
    schedules.set_active(schedule, active, timezone.now())
    if active:
        messages.success(request, _("Scheduled report switched on."))
    else:
        messages.success(request, _("Scheduled report switched off."))
    return redirect("report_schedule_edit", pk=pk)


@login_required
@require_POST
def report_schedule_send(request: HttpRequest, pk: int) -> HttpResponse:
    _require_cx_lead(request)
    schedule = _schedule_or_404(pk)
    if not schedule.is_active:
        messages.error(request, _("Switch the scheduled report on to send it."))
    else:
        schedules.schedule_now(schedule, timezone.now())
        messages.success(request, _("The report goes out in the worker's next round."))
    return redirect("report_schedule_edit", pk=pk)
