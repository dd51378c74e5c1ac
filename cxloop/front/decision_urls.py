"""Pages of the decision log; cxloop.front.urls includes them."""

from django.urls import path

from cxloop.front import decision_views

urlpatterns = [
    path("", decision_views.decision_list, name="decision_list"),
    path("new/", decision_views.decision_new, name="decision_new"),
    path("<int:pk>/", decision_views.decision_detail, name="decision_detail"),
    path("<int:pk>/edit/", decision_views.decision_edit, name="decision_edit"),
]
