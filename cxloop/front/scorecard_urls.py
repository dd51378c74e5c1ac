"""Scorecard pages; cxloop.front.urls includes them under people/scorecards/."""

from django.urls import path

from cxloop.front import scorecard_views

urlpatterns = [
    path("", scorecard_views.scorecard_list, name="scorecard_list"),
    path("me/", scorecard_views.scorecard_me, name="scorecard_me"),
    path("what-counts/", scorecard_views.metric_definitions, name="metric_definitions"),
    path("people/<int:pk>/", scorecard_views.person_scorecard, name="person_scorecard"),
    path("teams/<int:pk>/", scorecard_views.team_scorecard, name="team_scorecard"),
]
