"""The site's URLs plus one view that fails, for tests/front/test_error_pages.py."""

from django.urls import path

from cxloop.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401


def explode(request):
    raise RuntimeError("a failure the test planted")


urlpatterns = [*urlpatterns, path("explode/", explode)]
