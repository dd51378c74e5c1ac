"""The cycle review's pages; cxloop.front.urls includes them."""

from django.urls import path

from cxloop.front import cycle_views

urlpatterns = [
    path("", cycle_views.cycle_review_page, name="cycle_review"),
    path("next/", cycle_views.cycle_next, name="cycle_next"),
]
