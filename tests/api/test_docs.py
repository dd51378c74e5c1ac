"""/api/openapi.json and the /api/docs page, which loads nothing from outside the site."""

import json
import re

from django.contrib.staticfiles import finders
from django.test import TestCase


class OpenApiDocumentTests(TestCase):
    def test_it_describes_every_endpoint_and_the_token_scheme(self):
        response = self.client.get("/api/openapi.json")
        self.assertEqual(response.status_code, 200)
        document = json.loads(response.content)
        self.assertTrue(document["openapi"].startswith("3."))
        paths = {path: sorted(operations) for path, operations in document["paths"].items()}
        self.assertEqual(
            paths,
            {
                "/api/surveys": ["get"],
                "/api/surveys/{survey_id}": ["get"],
                "/api/responses": ["get", "post"],
                "/api/responses/batch": ["post"],
                "/api/insights/journey-map": ["get"],
                "/api/insights/compare": ["get"],
                "/api/scorecards/teams/{team_id}": ["get"],
                "/api/scorecards/people/{employee_id}": ["get"],
            },
        )
        submit = document["paths"]["/api/responses"]["post"]
        self.assertEqual(
            sorted(submit["responses"]), ["200", "201", "400", "401", "403", "404", "409", "422"]
        )
        (key,) = [p for p in submit["parameters"] if p["in"] == "header"]
        self.assertEqual((key["name"], key["required"]), ("Idempotency-Key", True))
        self.assertEqual(
            document["components"]["securitySchemes"]["BearerToken"],
            {"type": "http", "scheme": "bearer"},
        )
        tags = {op["tags"][0] for ops in document["paths"].values() for op in ops.values()}
        self.assertEqual(tags, {"surveys", "responses", "insights", "scorecards"})


class DocsPageTests(TestCase):
    def test_it_references_no_address_outside_the_site(self):
        response = self.client.get("/api/docs")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertEqual(re.findall(r"(?:https?:)?//[^\s\"'<>]+", html), [])
        self.assertIn('"validatorUrl": null', html)

    def test_it_loads_swagger_ui_from_the_sites_static_files(self):
        html = self.client.get("/api/docs").content.decode()
        assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
        self.assertEqual(
            sorted(assets),
            ["api/docs.js", "api/swagger-ui/swagger-ui-bundle.js", "api/swagger-ui/swagger-ui.css"],
        )
        for asset in assets:
            self.assertIsNotNone(finders.find(asset), asset)
        self.assertIn('"url": "/api/openapi.json"', html)
