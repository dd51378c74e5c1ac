from django.urls import path

from cxloop.privacy import views

urlpatterns = [
    path("", views.audit_log, name="audit_log"),
    path("personal-data/", views.personal_data, name="personal_data"),
    path("personal-data/<int:pk>/export/", views.personal_data_export, name="personal_data_export"),
    path("personal-data/<int:pk>/erase/", views.personal_data_erase, name="personal_data_erase"),
]
