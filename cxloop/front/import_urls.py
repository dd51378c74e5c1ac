"""The import pages; cxloop.front.urls includes them under ``imports/``."""

from django.urls import path

from cxloop.front import imports

urlpatterns = [
    path("", imports.import_upload, name="import_upload"),
    path("<str:token>/mapping/", imports.import_mapping, name="import_mapping"),
    path("<str:token>/preview/", imports.import_preview, name="import_preview"),
    path("<str:token>/run/", imports.import_run, name="import_run"),
    path("<str:token>/result/", imports.import_result, name="import_result"),
]
