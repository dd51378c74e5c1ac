"""Export pages, under /exports/."""

from django.urls import path

from cxloop.exports import views

urlpatterns = [
    path("", views.export_list, name="export_list"),
    path("new/", views.export_start, name="export_start"),
    path("<int:pk>/", views.export_detail, name="export_detail"),
    path("<int:pk>/file/", views.export_download, name="export_download"),
]
