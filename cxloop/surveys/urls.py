from django.urls import path

from cxloop.surveys import views

urlpatterns = [
    path("s/<str:token>/", views.respond, name="respond"),
    path("s/<str:token>/thanks/", views.respond_thanks, name="respond_thanks"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("o/<int:pk>/<str:signature>/", views.respond_open, name="respond_open"),
    path(
        "o/<int:pk>/<str:signature>/thanks/",
        views.respond_open_thanks,
        name="respond_open_thanks",
    ),
]
