"""Pages of the closed loop; cxloop.front.urls includes them."""

from django.urls import path

from cxloop.front import loop_views

urlpatterns = [
    path("", loop_views.loop_dashboard, name="loop_dashboard"),
]
