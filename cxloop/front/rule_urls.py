"""The alert rules and SLA policies pages, under /rules/; cxloop.front.urls includes them."""

from django.urls import path

from cxloop.front import rule_views

urlpatterns = [
    path("", rule_views.rule_list, name="rule_list"),
    path("new/", rule_views.rule_edit, name="rule_new"),
    path("<int:pk>/", rule_views.rule_edit, name="rule_edit"),
    path("<int:pk>/active/", rule_views.rule_toggle, name="rule_toggle"),
    path("<int:pk>/run/", rule_views.rule_run, name="rule_run"),
    path("sla/", rule_views.sla_list, name="sla_list"),
    path("sla/<int:pk>/", rule_views.sla_edit, name="sla_edit"),
]
