from django.contrib.auth import views as auth_views
from django.urls import include, path

from cxloop.front import (
    evidence_views,
    executive_views,
    insight_views,
    journey_views,
    people_views,
    views,
)

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="front/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("surveys/new/", views.survey_new, name="survey_new"),
    path("surveys/<int:pk>/", views.survey_detail, name="survey_detail"),
    path("surveys/<int:pk>/edit/", views.survey_edit, name="survey_edit"),
    path("surveys/<int:pk>/preview/", views.survey_preview, name="survey_preview"),
    path("surveys/<int:pk>/questions/<int:number>/", views.question_edit, name="question_edit"),
    path("surveys/<int:pk>/qr.svg", views.survey_qr, name="survey_qr"),
    path("journey/", journey_views.journey_map, name="journey_map"),
    path("dashboard/", insight_views.overview, name="overview"),
    path("dashboard/compare/", insight_views.compare, name="compare"),
    path("dashboard/portfolio/", insight_views.portfolio, name="portfolio"),
    path("dashboard/executive/", executive_views.executive_dashboard, name="executive_dashboard"),
    path("touchpoints/<int:pk>/", insight_views.touchpoint_detail, name="touchpoint_detail"),
    path("feedback/", views.face_to_face_list, name="face_to_face_list"),
    path("responses/", evidence_views.response_list, name="response_list"),
    path("responses/<int:pk>/", evidence_views.response_detail, name="response_detail"),
    path("customers/", evidence_views.customer_list, name="customer_list"),
    path("customers/<int:pk>/", evidence_views.customer_detail, name="customer_detail"),
    path("contacts/<int:pk>/", evidence_views.contact_detail, name="contact_detail"),
    path("feedback/new/", views.face_to_face_new, name="face_to_face_new"),
    path("pulse/<int:pk>/", views.pulse_answer, name="pulse_answer"),
    path("pulse/<int:pk>/results/", views.pulse_results, name="pulse_results"),
    path("ideas/", views.ideas, name="ideas"),
    path("ideas/<int:pk>/answer/", views.idea_answer, name="idea_answer"),
    path("people/weigh-in/", people_views.weigh_in, name="weigh_in"),
    path("people/champions/", people_views.champion_list, name="champion_list"),
    path("people/rewards/", include("cxloop.front.reward_urls")),
    path("people/scorecards/", include("cxloop.front.scorecard_urls")),
    path("training/", include("cxloop.front.training_urls")),
    path("imports/", include("cxloop.front.import_urls")),
    path("cases/", include("cxloop.front.case_urls")),
    path("initiatives/", include("cxloop.front.initiative_urls")),
    path("decisions/", include("cxloop.front.decision_urls")),
    path("rules/", include("cxloop.front.rule_urls")),
    path("dashboard/loop/", include("cxloop.front.loop_urls")),
    path("cycle/", include("cxloop.front.cycle_urls")),
    path("settings/notifications/", include("cxloop.front.notification_urls")),
]
