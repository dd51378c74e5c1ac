from django.urls import path

from cxloop.api.views import api

urlpatterns = [path("", api.urls)]
