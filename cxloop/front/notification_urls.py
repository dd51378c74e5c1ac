"""Settings of the closed loop's news and the business calendars (under /settings/notifications/);
cxloop.front.urls includes them."""

from django.urls import path

from cxloop.front import notification_views

urlpatterns = [
    path("", notification_views.notification_settings, name="notification_settings"),
    path("calendars/", notification_views.calendar_list, name="calendar_list"),
    path("calendars/<int:pk>/", notification_views.calendar_edit, name="calendar_edit"),
]
