"""A parameter fuzzer: every page the URL resolver knows, and every API operation of the OpenAPI
document, gets hostile values (huge, negative and overflowing numbers, extreme dates, NUL, lone
surrogates, long strings) in every parameter it reads, as an administrator who may see all.
0 × 5xx; a 400 or 422 names the parameter.

The parameters of a page are found, not listed: one plain request records the names its view
reads from ``request.GET``, and the names of the fields its page shows are added; a new page
or filter is covered without changing this test. Bounded: a few examples per page (about 30 s).
"""

import json
import re
from urllib.parse import quote

from django.http import QueryDict
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxloop.api.views import api
from cxloop.journeys.models import Journey, Stage, Touchpoint
from tests.api.base import ApiTestCase
from tests.fuzz_site import FuzzSiteTestCase

HOSTILE = [
    "99999999999999999999",
    "-99999999999999999999",
    "9223372036854775808",
    "-1",
    "0",
    "1e308",
    "NaN",
    "1.5",
    "０１",
    "0001-01-01",
    "9999-12-31",
    "1899-12-31",
    "2026-02-30",
    "2026-13-01",
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+14:00",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "x" * 5000,
    "'; --",
    "%",
    "",
    "all",
    "[]",
    "true",
]
VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20))

# /healthz and /metrics are for operators, and their status is their answer (503: unhealthy);
# tests/ops tests them.
SKIPPED_PREFIXES = ("admin/", "i18n/", "api/", "static/", "healthz", "metrics")
SEEN: set[str] = set()


class RecordingQueryDict(QueryDict):
    """request.GET that notes which names the view asks for."""

    def __getitem__(self, key):
        SEEN.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        SEEN.add(key)
        return super().get(key, default)

    def getlist(self, key, default=None):
        SEEN.add(key)
        return super().getlist(key, default)

    def __contains__(self, key):
        SEEN.add(key)
        return super().__contains__(key)


def recording_middleware(get_response):
    def middleware(request):
        request.GET = RecordingQueryDict(request.META.get("QUERY_STRING", ""), mutable=True)
        return get_response(request)

    return middleware


def _patterns(resolvers=None, prefix=""):
    """(route, pattern) of every URL pattern, walked from the root URLconf."""
    for entry in get_resolver().url_patterns if resolvers is None else resolvers:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def _query(params: dict[str, str]) -> str:
    # As a browser would send them; a lone surrogate goes as the bytes UTF-8 would give it.
    return "&".join(
        f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
        for k, v in params.items()
    )


class ParameterFuzzTests(FuzzSiteTestCase):
    def _path(self, route: str) -> str | None:
        """A path for ``route`` with its converters filled by records that exist."""
        path = re.sub(r"<int:\w+>", str(self.survey.pk), route)
        if re.search(r"<[^>]+>", path) or "(?" in path or "^" in path:
            return None  # a signed token or a regex: nothing to fill it with
        return "/" + path

    def _parameters(self, path: str) -> set[str]:
        SEEN.clear()
        with override_settings(
            MIDDLEWARE=[*self._middleware(), "tests.test_fuzz_params.recording_middleware"]
        ):
            response = self.client.get(path)
        names = set(SEEN)
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            names |= set(re.findall(r'name="([\w-]+)"', response.content.decode()))
        return names - {"csrfmiddlewaretoken"}

    @staticmethod
    def _middleware():
        from django.conf import settings as django_settings

        return list(django_settings.MIDDLEWARE)

    def test_it_answers_every_page_without_a_server_error(self):
        self.client.force_login(self.lead)
        pages = 0
        for route, _pattern in _patterns():
            if route.startswith(SKIPPED_PREFIXES):
                continue
            path = self._path(route)
            if path is None:
                continue
            names = sorted(self._parameters(path) | {"page"})
            pages += 1
            self._fuzz_page(path, names)
        self.assertGreater(pages, 15)

    def _fuzz_page(self, path: str, names: list[str]):
        @settings(
            max_examples=8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.dictionaries(st.sampled_from(names), VALUES, min_size=1, max_size=3))
        def check(params):
            response = self.client.get(f"{path}?{_query(params)}")
            where = f"GET {path}?{_query(params)[:200]}"
            self.assertLess(response.status_code, 500, where)
            if response.status_code in (400, 422):
                body = response.content.decode(errors="replace")
                self.assertTrue(any(name in body for name in params), where)

        check()

    def test_it_answers_every_api_filter_without_a_server_error(self):
        schema = api.get_openapi_schema()
        headers = {"Authorization": f"Bearer {self.tokens['owner']}"}
        operations = 0
        for route, methods in schema["paths"].items():
            for method, operation in methods.items():
                if method != "get":
                    continue
                operations += 1
                names = [p["name"] for p in operation.get("parameters", [])]
                self._fuzz_api_get(route, names, headers)
        self.assertGreaterEqual(operations, 3)

    def _fuzz_api_get(self, route: str, names: list[str], headers: dict):
        query_names = [n for n in names if "{" + n + "}" not in route] or ["x"]
        path_names = [n for n in names if "{" + n + "}" in route]

        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            st.dictionaries(st.sampled_from(query_names), VALUES, max_size=3),
            st.fixed_dictionaries({n: VALUES for n in path_names}),
        )
        def check(params, path_params):
            path = route
            for name, value in path_params.items():
                path = path.replace(
                    "{" + name + "}", quote(value.encode("utf-8", "surrogatepass"), safe="")
                )
            url = f"{path}?{_query(params)}"
            response = self.client.get(url, headers=headers)
            self.assertLess(response.status_code, 500, f"GET {url[:300]}")
            if response.status_code == 422:
                body = response.content.decode()
                self.assertTrue(any(n in body for n in [*params, *path_params]), url[:300])

        check()

    def test_it_refuses_hostile_json_fields_naming_them(self):
        base = {
            "survey_id": self.survey.pk,
            "answers": {"1": 9},
            "customer_external_id": "C-1",
        }
        fields = [
            "survey_id",
            "submitted_at",
            "customer_external_id",
            "contact_email",
            "touchpoint_code",
            "language",
            "answers",
        ]
        headers = {"Authorization": f"Bearer {self.tokens['owner']}"}
        counter = iter(range(10**6))

        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.sampled_from(fields), st.one_of(VALUES, st.integers(), st.floats()))
        def check(field, value):
            body = dict(base)
            body[field] = {"1": 9, "3": value} if field == "answers" else value
            content = json.dumps(body)  # lone surrogates go as \\ud800 escapes
            response = self.client.post(
                "/api/responses",
                content,
                content_type="application/json",
                headers={**headers, "Idempotency-Key": f"fuzz-{next(counter)}"},
            )
            self.assertLess(response.status_code, 500, content[:300])
            if response.status_code in (400, 422):
                # An answer's problem names its question; anything else names the field.
                named = ('"question": 3' if field == "answers" else field, field)
                body = response.content.decode()
                self.assertTrue(any(n in body for n in named), f"{content[:300]} → {body}")

        check()


class ReportedRequestsTests(ApiTestCase):
    """The requests that answered 500 when the product was probed (issue #9, finding 2)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        Journey.objects.update(name_ru="Путь", name_en="Journey")
        Stage.objects.update(name_ru="Начало", name_en="Start")
        Touchpoint.objects.update(name_ru="Точка", name_en="Touchpoint")

    def test_it_keeps_pages_up_with_dates_out_of_range(self):
        self.client.force_login(self.owner)
        pages = ["/dashboard/", "/journey/", "/dashboard/portfolio/"]
        pages.append(f"/touchpoints/{self.kickoff.pk}/")
        for page in pages:
            for query in (
                "since=0001-01-01",
                "until=9999-12-31",
                "since=0001-01-01&until=9999-12-31",
            ):
                with self.subTest(page=page, query=query):
                    response = self.client.get(f"{page}?{query}", HTTP_ACCEPT_LANGUAGE="en")
                    self.assertEqual(response.status_code, 200)
                    self.assertContains(response, "between 1900-01-01 and 2200-12-31")

    def test_it_leaves_out_a_survey_filter_too_large_for_an_id(self):
        self.client.force_login(self.owner)
        response = self.client.get(
            "/responses/?survey=99999999999999999999", HTTP_ACCEPT_LANGUAGE="en"
        )
        self.assertContains(response, "Survey: expected the number of a record")

    def test_it_refuses_text_that_cannot_be_stored_naming_the_field(self):
        cases = [
            ("answers", {"survey_id": self.survey.pk, "answers": {"1": 9, "3": "\ud800"}}),
            ("answers", {"survey_id": self.survey.pk, "answers": {"1": 9, "3": "a\x00b"}}),
            (
                "customer_external_id",
                {"survey_id": self.survey.pk, "answers": {"1": 9}, "customer_external_id": "C\x00"},
            ),
        ]
        for field, body in cases:
            with self.subTest(field=field, body=body):
                response = self.post(body, key=f"k-{len(str(body))}-{field}")
                self.assertEqual(response.status_code, 422)
                self.assertIn(field, response.content.decode())
        for name in ("customer_external_id", "touchpoint_code", "cursor"):
            with self.subTest(filter=name):
                response = self.get("/api/responses", **{name: "a\x00b"})
                self.assertEqual(response.status_code, 422)
                self.assertIn(name, response.content.decode())
