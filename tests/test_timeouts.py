"""Every request has a time limit (CXLOOP_REQUEST_TIMEOUT): a statement still running at the
deadline is stopped (SQLite's progress handler, PostgreSQL's statement_timeout) and the request
answers 503 with a message — JSON under /api/, a page elsewhere. Work outside a request (the
worker, commands) has no limit. The slow statement is a recursive CTE counting to a billion,
which either database would take minutes over."""

import time

from django.db import connection, transaction
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path

from cxloop.api.services import issue_token
from cxloop.test import BaseTestCase
from cxloop.timeouts import RequestTimeout

COUNT_TO_A_BILLION = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
    "SELECT count(*) FROM c"
)
COUNT_TO_TWO_MILLION = COUNT_TO_A_BILLION.replace("1000000000", "2000000")


def slow_page(request):
    # In a transaction as a view that writes would be: on PostgreSQL the stopped statement
    # aborts it, and the savepoint is what lets the test's own transaction go on.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(COUNT_TO_A_BILLION)
        return HttpResponse(str(cursor.fetchone()[0]))


# The site's pages plus one that runs the slow statement: a test-only address.
urlpatterns = [path("slow/", slow_page), path("", include("cxloop.urls"))]


def _slow_first(execute, sql, params, many, context):
    """Injected fault: before the statement that reads responses, the slow one."""
    if "surveys_response" in sql:
        execute(COUNT_TO_A_BILLION, None, False, context)
    return execute(sql, params, many, context)


# The limit for the requests meant to be stopped. A request meant to answer runs under the
# default limit: under 0.5 s a page can be stopped on a loaded machine for no fault of its own.
STOPPED_AFTER = 0.5


class RequestTimeoutTests(BaseTestCase):
    @override_settings(ROOT_URLCONF="tests.test_timeouts", REQUEST_TIMEOUT=STOPPED_AFTER)
    def test_it_stops_a_slow_page_with_a_503_page(self):
        self.client.force_login(self.owner)
        started = time.monotonic()
        response = self.client.get("/slow/", HTTP_ACCEPT_LANGUAGE="en")
        elapsed = time.monotonic() - started
        self.assertEqual(response.status_code, 503)
        self.assertTrue(response["Content-Type"].startswith("text/html"))
        self.assertContains(
            response, "took longer than 0.5 seconds and was stopped", status_code=503
        )
        self.assertLess(elapsed, 5)

    @override_settings(REQUEST_TIMEOUT=STOPPED_AFTER)
    def test_it_stops_a_slow_api_request_with_json(self):
        _, token = issue_token(self.owner.employee, "test")
        started = time.monotonic()
        with connection.execute_wrapper(_slow_first):
            response = self.client.get(
                "/api/responses",
                headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
            )
        elapsed = time.monotonic() - started
        self.assertEqual(response.status_code, 503)
        self.assertIn("took longer than 0.5 seconds", response.json()["detail"])
        self.assertLess(elapsed, 5)

    def test_it_answers_other_requests_after_one_was_stopped(self):
        self.client.force_login(self.owner)
        with override_settings(ROOT_URLCONF="tests.test_timeouts", REQUEST_TIMEOUT=STOPPED_AFTER):
            self.assertEqual(self.client.get("/slow/").status_code, 503)
        self.assertEqual(self.client.get("/").status_code, 200)

    @override_settings(REQUEST_TIMEOUT=0.01)
    def test_it_limits_nothing_outside_a_request(self):
        """The worker and commands run statements longer than a request may."""
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(COUNT_TO_TWO_MILLION)
            self.assertEqual(cursor.fetchone()[0], 2_000_000)
        self.assertGreater(time.monotonic() - started, 0.01)

    def test_it_leaves_no_limit_behind_in_the_callers_transaction(self):
        """A request run inside a transaction (as each test is) leaves the transaction's later
        statements unlimited: on PostgreSQL the limit set for the request is undone after it."""
        self.client.force_login(self.owner)
        with connection.cursor() as cursor:
            limit_before = _statement_timeout(cursor)
        self.assertEqual(self.client.get("/").status_code, 200)
        with override_settings(REQUEST_TIMEOUT=0.01), connection.cursor() as cursor:
            self.assertEqual(_statement_timeout(cursor), limit_before)
            cursor.execute(COUNT_TO_TWO_MILLION)
            self.assertEqual(cursor.fetchone()[0], 2_000_000)

    @override_settings(REQUEST_TIMEOUT=0)
    def test_it_sets_no_limit_when_the_setting_is_zero(self):
        self.client.force_login(self.owner)
        with (
            override_settings(ROOT_URLCONF="tests.test_timeouts"),
            connection.execute_wrapper(_count_to_two_million_instead),
        ):
            response = self.client.get("/slow/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"2000000")

    def test_its_timeout_is_a_database_error(self):
        """Code that catches database errors also catches a refused statement."""
        from django.db.utils import OperationalError

        self.assertTrue(issubclass(RequestTimeout, OperationalError))


def _count_to_two_million_instead(execute, sql, params, many, context):
    if sql == COUNT_TO_A_BILLION:
        sql = COUNT_TO_TWO_MILLION
    return execute(sql, params, many, context)


def _statement_timeout(cursor) -> str | None:
    """PostgreSQL's limit on the connection's statements; None on SQLite, which has none."""
    if connection.vendor != "postgresql":
        return None
    cursor.execute("SHOW statement_timeout")
    return cursor.fetchone()[0]
