"""The public inquiry pages (no sign-in); cxloop.urls includes them under ``ask/``."""

from django.urls import path

from cxloop.cases import inquiry_views

urlpatterns = [
    path("", inquiry_views.ask, name="ask"),
    path("thanks/", inquiry_views.ask_thanks, name="ask_thanks"),
    path("<str:token>/", inquiry_views.inquiry_thread, name="inquiry_thread"),
]
