"""The ``/api/docs`` page: Swagger UI from files vendored under ``static/api/swagger-ui``.

django-ninja's own page serves its bundled copy only when ``ninja`` is an installed app and
otherwise loads Swagger UI from a CDN; this one loads nothing from outside the site.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import DocsBase

SWAGGER_SETTINGS = {
    "layout": "BaseLayout",
    "deepLinking": True,
    # Swagger UI would otherwise fetch a badge from validator.swagger.io.
    "validatorUrl": None,
}


class BundledSwagger(DocsBase):
    def render_page(self, request: HttpRequest, api, **kwargs) -> HttpResponse:
        openapi_url = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": {**SWAGGER_SETTINGS, "url": openapi_url},
            "openapi_url": openapi_url,
        }
        return render(request, "api/docs.html", context)
