from django.urls import path

from cxloop.ops import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
]
