from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("cxloop.front.urls")),
    path("", include("cxloop.surveys.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("cxloop.api.urls")),
    path("audit/", include("cxloop.privacy.urls")),
    path("admin/", admin.site.urls),
]
