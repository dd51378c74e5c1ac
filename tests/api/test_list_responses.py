"""GET /api/responses: completed responses, filtered, scoped by role, a page at a time."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cxloop.api.cursor import encode_cursor
from cxloop.surveys.models import Response, ResponseState
from tests.api.base import WHEN, ApiTestCase

DAY = dt.timedelta(days=1)


class ListResponsesTests(ApiTestCase):
    def ids(self, *, as_user: str = "owner", **params) -> list[int]:
        response = self.get("/api/responses", as_user=as_user, **params)
        self.assertEqual(response.status_code, 200, response.content)
        return [item["id"] for item in response.json()["items"]]

    def walk(self, *, as_user: str = "owner", between_pages=lambda: None, **params):
        """Every page from the first to the last; ``between_pages`` runs after each."""
        seen, cursor = [], None
        while True:
            query = params | ({"cursor": cursor} if cursor else {})
            page = self.get("/api/responses", as_user=as_user, **query).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next"]
            if cursor is None:
                return seen
            between_pages()

    def test_it_lists_responses_newest_first_with_their_answers(self):
        older = self.stored(when=WHEN - DAY)
        newer = self.stored(when=WHEN, touchpoint=self.kickoff)
        response = self.get("/api/responses")
        body = response.json()
        self.assertEqual([item["id"] for item in body["items"]], [newer.pk, older.pk])
        self.assertIsNone(body["next"])
        item = body["items"][0]
        self.assertEqual(
            (item["survey_id"], item["channel"], item["customer_external_id"]),
            (self.survey.pk, "api", "C-1"),
        )
        self.assertEqual(
            [
                (a["question_number"], a["kind"], a["score"], a["touchpoint_code"])
                for a in item["answers"]
            ],
            [(1, "nps", 9, "kickoff"), (5, "rating", 4, "billing")],
        )

    def test_it_leaves_out_responses_not_yet_completed(self):
        self.stored()
        Response.objects.create(
            survey=self.survey, customer=self.acme, channel="web", started_at=WHEN
        )
        self.assertEqual(len(self.ids()), 1)
        self.assertEqual(Response.objects.exclude(state=ResponseState.COMPLETED).count(), 1)

    def test_it_shows_each_role_the_customers_it_may_see(self):
        acme = self.stored(customer=self.acme)  # owned by the teammate, team A
        beta = self.stored(customer=self.beta)  # owned by the outsider, team B
        self.assertEqual(self.ids(as_user="owner"), [acme.pk])
        self.assertEqual(self.ids(as_user="teammate"), [acme.pk])
        self.assertEqual(self.ids(as_user="outsider"), [beta.pk])
        self.assertEqual(self.ids(as_user="viewer"), [beta.pk, acme.pk])

    def test_it_filters_by_survey_channel_customer_and_touchpoint(self):
        acme = self.stored(customer=self.acme)
        beta = self.stored(customer=self.beta, touchpoint=self.kickoff)
        imported = self.stored(customer=self.beta, channel="import")
        everything = {"as_user": "viewer"}
        self.assertEqual(
            self.ids(**everything, survey_id=self.survey.pk), [imported.pk, beta.pk, acme.pk]
        )
        self.assertEqual(self.ids(**everything, survey_id=self.survey.pk + 1), [])
        self.assertEqual(self.ids(**everything, channel="import"), [imported.pk])
        self.assertEqual(self.ids(**everything, customer_external_id="C-1"), [acme.pk])
        self.assertEqual(self.ids(**everything, touchpoint_code="kickoff"), [beta.pk])
        # Every response has an answer on the billing touchpoint (question 5).
        self.assertEqual(len(self.ids(**everything, touchpoint_code="billing")), 3)
        self.assertEqual(self.ids(**everything, touchpoint_code="nowhere"), [])

    def test_it_filters_by_when_they_were_submitted(self):
        first, second, third = (self.stored(when=WHEN + n * DAY) for n in range(3))
        since, until = (WHEN + DAY).isoformat(), (WHEN + 2 * DAY).isoformat()
        self.assertEqual(self.ids(since=since), [third.pk, second.pk])
        self.assertEqual(self.ids(until=until), [second.pk, first.pk])
        self.assertEqual(self.ids(since=since, until=until), [second.pk])
        for bound in ("2026-03-01T10:00:00", "1772359200", "0.5", "yesterday"):
            with self.subTest(since=bound):
                self.assertEqual(self.get("/api/responses", since=bound).status_code, 422)
        far = {"since": "0491-04-08T02:33:33Z", "until": "9999-12-31T23:59:59-05:00"}
        self.assertEqual(self.ids(**far), [third.pk, second.pk, first.pk])

    def test_it_refuses_an_unknown_channel(self):
        self.assertEqual(self.get("/api/responses", channel="pigeon").status_code, 422)

    def test_it_walks_every_response_once_while_new_ones_arrive(self):
        # Three share one moment, so the id decides their order.
        moments = [WHEN - 3 * DAY, WHEN - DAY, WHEN - DAY, WHEN - DAY, WHEN, WHEN + DAY, WHEN]
        stored = [self.stored(when=moment) for moment in moments]
        expected = [
            r.pk for r in sorted(stored, key=lambda r: (r.submitted_at, r.pk), reverse=True)
        ]
        arrivals = []

        def arrive():
            arrivals.append(self.stored(when=WHEN + 10 * DAY).pk)

        seen = self.walk(limit=2, between_pages=arrive)
        self.assertEqual(seen, expected)
        self.assertEqual(len(arrivals), 3)
        self.assertEqual(self.ids(limit=3), arrivals[::-1])

    def test_it_keeps_the_filters_while_walking(self):
        for n in range(5):
            self.stored(when=WHEN + n * DAY, customer=self.beta if n % 2 else self.acme)
        walked = self.walk(as_user="viewer", limit=1, customer_external_id="C-1")
        self.assertEqual(walked, self.ids(as_user="viewer", customer_external_id="C-1"))
        self.assertEqual(len(walked), 3)

    def test_it_hands_out_pages_of_at_most_limit_and_500(self):
        for n in range(3):
            self.stored(when=WHEN + n * DAY)
        page = self.get("/api/responses", limit=2).json()
        self.assertEqual(len(page["items"]), 2)
        self.assertIsNotNone(page["next"])
        self.assertIsNone(self.get("/api/responses", limit=3).json()["next"])
        self.assertEqual(len(self.ids(limit=500)), 3)
        for limit in (0, -1, 501, "many"):
            with self.subTest(limit=limit):
                self.assertEqual(self.get("/api/responses", limit=limit).status_code, 422)

    def test_it_reads_a_page_in_the_same_few_queries_however_long(self):
        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                self.assertEqual(self.get("/api/responses").status_code, 200)
            return len(captured)

        self.stored(touchpoint=self.kickoff)
        self.get("/api/responses")  # marks the token used, a write later requests skip
        one = queries()
        for _ in range(5):
            self.stored(customer=self.acme, touchpoint=self.kickoff)
        self.assertEqual(queries(), one)

    def test_it_refuses_a_cursor_it_did_not_give(self):
        naive, no_row = encode_cursor(dt.datetime(2026, 3, 1), 1), encode_cursor(WHEN, 0)
        for cursor in ("nonsense", "e30", naive, no_row, encode_cursor(WHEN, 2**63), "é"):
            with self.subTest(cursor=cursor):
                response = self.get("/api/responses", cursor=cursor)
                self.assertEqual(response.status_code, 422)
                self.assertIn("is not a cursor this API gave", response.json()["detail"])

    def test_it_asks_for_a_token(self):
        self.assertEqual(self.client.get("/api/responses").status_code, 401)
