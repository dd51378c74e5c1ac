from django.urls import path

from cxloop.api import insight_views  # noqa: F401  (registers the analytics' endpoints on api)
from cxloop.api.views import api

urlpatterns = [path("", api.urls)]
