from django.urls import path

from cxloop.surveys import views

urlpatterns = [
    path("s/<str:token>/", views.respond, name="respond"),
    path("s/<str:token>/thanks/", views.respond_thanks, name="respond_thanks"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
