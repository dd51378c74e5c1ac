"""Export pages, under /exports/."""

from django.urls import path

from cxloop.exports import schedule_views, views

urlpatterns = [
    path("", views.export_list, name="export_list"),
    path("new/", views.export_start, name="export_start"),
    path("<int:pk>/", views.export_detail, name="export_detail"),
    path("<int:pk>/file/", views.export_download, name="export_download"),
    path("schedules/", schedule_views.report_schedule_list, name="report_schedule_list"),
    path("schedules/new/", schedule_views.report_schedule_new, name="report_schedule_new"),
    path("schedules/<int:pk>/", schedule_views.report_schedule_edit, name="report_schedule_edit"),
    path(
        "schedules/<int:pk>/active/",
        schedule_views.report_schedule_toggle,
        name="report_schedule_toggle",
    ),
    path(
        "schedules/<int:pk>/send/", schedule_views.report_schedule_send, name="report_schedule_send"
    ),
]
