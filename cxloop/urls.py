from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("cxloop.front.urls")),
    path("", include("cxloop.surveys.urls")),
    path("ask/", include("cxloop.cases.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("cxloop.api.urls")),
    path("exports/", include("cxloop.exports.urls")),
    path("", include("cxloop.reports.urls")),
    path("audit/", include("cxloop.privacy.urls")),
    path("admin/", admin.site.urls),
    path("", include("cxloop.ops.urls")),
]

# Error pages in the site's design and the reader's language (cxloop/templates/40x.html, 500.html).
handler403 = "cxloop.front.views.permission_denied"
handler404 = "cxloop.front.views.page_not_found"
handler500 = "cxloop.front.views.server_error"
