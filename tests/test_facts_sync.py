"""The fact store: rebuilt from a small database and compared with it row by row; refreshed
after writes; never half-written."""

import datetime as dt
import json
import tempfile
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from unittest import mock

import duckdb
import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from django.test import override_settings

from cxloop.customers.models import Customer, Segment
from cxloop.customers.queries import segment_customers
from cxloop.facts import derived, queries, store, sync
from cxloop.facts.schema import (
    ANSWERS,
    COMMENTS,
    CUSTOMERS,
    RESPONSES,
    SCORED_KINDS,
    SEGMENTS,
    THEMES,
)
from cxloop.feedback.services import Feedback, ingest_many, log_face_to_face
from cxloop.insights import store as insights_store
from cxloop.insights.store import FactStore, Scope, run_cached
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.surveys.models import Answer, Question, Response, Survey
from cxloop.surveys.services import answer_pulse
from cxloop.test import BaseTestCase
from tests.surveys.test_respond import make_survey

UTC = dt.UTC
JAN = dt.datetime(2026, 1, 15, 9, 30, 0, 123456, tzinfo=UTC)
# 1 February in Moscow (the site's time zone) but still January in UTC, which months follow.
JAN_LAST = dt.datetime(2026, 1, 31, 22, 0, tzinfo=UTC)
FEB = dt.datetime(2026, 2, 3, 8, 15, tzinfo=UTC)
FEB_NEW = dt.datetime(2026, 2, 2, 7, 0, tzinfo=UTC)  # before the stored ones: an import's date


def question(survey, order, kind, touchpoint=None, **fields) -> Question:
    return Question.objects.create(
        survey=survey,
        order=order,
        kind=kind,
        text_ru=kind,
        text_en=kind,
        touchpoint=touchpoint,
        **fields,
    )


class FactData(BaseTestCase):
    """Customers of two teams and one without an owner; a relationship survey (two NPS
    questions, a rated touchpoint), a transactional survey, a face-to-face meeting, an open-link
    answer, a response left unfinished and an employee pulse."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        stage = Stage.objects.create(journey=Journey.objects.create(), order=1)
        cls.onboarding = Touchpoint.objects.create(
            stage=stage, order=1, code="onboarding", channel="email"
        )
        cls.kickoff = Touchpoint.objects.create(
            stage=stage, order=2, code="kickoff", channel="meeting"
        )
        cls.acme = Customer.objects.create(
            external_id="C-1",
            name="Acme",
            owner=cls.owner.employee,
            annual_value=Decimal("1200000.50"),
            tier="strategic",
        )
        cls.globex = Customer.objects.create(
            external_id="C-2",
            name="Globex",
            owner=cls.outsider.employee,
            currency="EUR",
            tier="key",
            lifecycle_stage="renewal",
        )
        cls.initech = Customer.objects.create(external_id="C-3", name="Initech")
        Segment.objects.create(
            name="Strategic", rule=[{"field": "tier", "op": "in", "value": ["strategic"]}]
        )
        Segment.objects.create(name="Picked", kind="manual").members.set([cls.globex, cls.initech])

        cls.survey = make_survey()  # 1 nps, 2 csat, 3 text, 4 text
        question(cls.survey, 5, "rating", cls.onboarding)
        question(cls.survey, 6, "nps")  # a second NPS question: the response's nps is the first
        cls.transactional = Survey.objects.create(
            name_ru="После события", name_en="After the event", kind="transactional"
        )
        question(cls.transactional, 1, "ces")  # takes the touchpoint of the response's event
        question(cls.transactional, 2, "nps")
        cls.guide = Survey.objects.create(name_ru="Встреча", name_en="Meeting", kind="interview")
        cls.guide_nps = question(cls.guide, 1, "nps")
        cls.guide_kickoff = question(cls.guide, 2, "rating", cls.kickoff)
        cls.pulse = Survey.objects.create(name_ru="Пульс", name_en="Pulse", kind="pulse")
        cls.pulse_nps = question(cls.pulse, 1, "nps")

        ingest_many(
            survey=cls.survey,
            items=[
                Feedback({1: 9, 2: 4, 4: "хорошо", 5: 3, 6: 2}, JAN, "email", customer=cls.acme),
                Feedback({1: 3, 3: "долго"}, JAN_LAST, "web"),  # an open link: no customer
                Feedback({1: 10, 2: 5}, FEB, "import", customer=cls.globex, language="en"),
            ],
        )
        ingest_many(
            survey=cls.transactional,
            items=[
                Feedback(
                    {1: 6, 2: 8}, FEB, "email", customer=cls.initech, touchpoint=cls.onboarding
                )
            ],
        )
        log_face_to_face(
            guide=cls.guide,
            kind="visit",
            customer=cls.acme,
            employee=cls.owner.employee,
            met_on=dt.date(2026, 2, 10),
            language="en",
            values={cls.guide_nps.pk: 9, cls.guide_kickoff.pk: 4},
        )
        unfinished = Response.objects.create(
            survey=cls.survey, customer=cls.acme, channel="email", state="partial", started_at=JAN
        )
        Answer.objects.create(
            response=unfinished, question=cls.survey.questions.get(order=1), kind="nps", score=0
        )
        answer_pulse(cls.pulse, cls.outsider.employee, {cls.pulse_nps.pk: 1}, now=JAN)

    def setUp(self):
        self.root = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.enterContext(override_settings(FACTS_DIR=self.root))


# What the store must hold, read from the database plainly, row by row -----------------------


def _month(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def _stored_responses():
    return (
        Response.objects.filter(state="completed")
        .exclude(survey__kind="pulse")
        .select_related("survey", "customer__owner")
    )


def _team(response: Response) -> int | None:
    customer = response.customer
    return customer.owner.team_id if customer and customer.owner else None


def expected_responses(month: str) -> list[dict]:
    rows = []
    for r in _stored_responses():
        if _month(r.submitted_at) != month:
            continue
        nps = r.answers.filter(kind="nps").order_by("question__order").first()
        rows.append(
            {
                "response_id": r.pk,
                "submitted_at": r.submitted_at,
                "survey_id": r.survey_id,
                "survey_kind": r.survey.kind,
                "channel": r.channel,
                "customer_id": r.customer_id,
                "team_id": _team(r),
                "touchpoint_id": r.touchpoint_id,
                "language": r.language,
                "nps": nps.score if nps else None,
            }
        )
    return sorted(rows, key=lambda row: (row["submitted_at"], row["response_id"]))


def expected_answers(month: str) -> list[dict]:
    rows = []
    for r in _stored_responses():
        if _month(r.submitted_at) != month:
            continue
        for a in r.answers.filter(kind__in=SCORED_KINDS).order_by("question__order"):
            rows.append(
                {
                    "response_id": r.pk,
                    "submitted_at": r.submitted_at,
                    "survey_id": r.survey_id,
                    "channel": r.channel,
                    "customer_id": r.customer_id,
                    "team_id": _team(r),
                    "touchpoint_id": a.touchpoint_id,
                    "kind": a.kind,
                    "score": a.score,
                }
            )
    return sorted(rows, key=lambda row: (row["submitted_at"], row["response_id"]))  # stable


def expected_months() -> set[str]:
    return {_month(r.submitted_at) for r in _stored_responses()}


def segment_ids(segment: Segment) -> list[int]:
    return list(segment_customers(segment).values_list("pk", flat=True))


def read(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def month_rows(table: str, month: str) -> list[dict]:
    """The stored rows of ``month`` of ``table``, every part the manifest names."""
    return store.read_month(table, month).to_pylist()


def by_time(rows: list[dict]) -> list[dict]:
    """``rows`` in the order of a month written whole (stable: a response's answers in their
    order)."""
    return sorted(rows, key=lambda row: (row["submitted_at"], row["response_id"]))


def expected_counts(answers: list[dict]) -> Counter:
    """The answer_counts of ``answers``, counted one by one: every answer in the row without a
    segment, and in the row of each segment its customer is in (the stored segments table)."""
    segments_of: dict[int, list[int]] = {}
    for row in read(store.table_path("segments")):
        segments_of.setdefault(row["customer_id"], []).append(row["segment_id"])
    counted = Counter()
    for a in answers:
        values = (a["team_id"], a["touchpoint_id"], a["kind"], a["score"])
        for segment in [None, *segments_of.get(a["customer_id"], [])]:
            counted[(segment, *values)] += 1
    return counted


def stored_counts(month: str) -> Counter:
    """The month's answer_counts, the parts added up (a row's key is in one part at most)."""
    counted = Counter()
    for r in month_rows("answer_counts", month):
        counted[(r["segment_id"], r["team_id"], r["touchpoint_id"], r["kind"], r["score"])] += r[
            "n"
        ]
    return counted


def totals_of(counts: Counter) -> Counter:
    """answer_counts summed over the teams: what answer_totals holds."""
    totals = Counter()
    for (segment, _team, *values), n in counts.items():
        totals[(segment, *values)] += n
    return totals


def stored_totals(month: str) -> Counter:
    totals = Counter()
    for r in month_rows("answer_totals", month):
        totals[(r["segment_id"], r["touchpoint_id"], r["kind"], r["score"])] += r["n"]
    return totals


def expected_sample(answers: list[dict]) -> list[tuple]:
    """(response, kind, score) of the NPS and rating answers of the responses drawn."""
    drawn = [
        a
        for a in answers
        if a["kind"] in ("nps", "rating")
        and derived.draws(np.array([a["response_id"]]))[0] < derived.SAMPLE_SHARE
    ]
    return sorted((a["response_id"], a["kind"], a["score"]) for a in drawn)


def expected_moments(answers: list[dict]) -> dict[tuple, tuple]:
    """answer_moments of ``answers``, one response at a time: (segment, a, b) → (n, Σa, Σa²,
    Σab) over the responses that rate a touchpoint, of each column its first answer."""
    segments_of: dict[int, list[int]] = {}
    for row in read(store.table_path("segments")):
        segments_of.setdefault(row["customer_id"], []).append(row["segment_id"])
    columns: dict[int, dict[int, int]] = {}
    customer = {}
    for a in answers:
        if a["kind"] == "nps":
            column = derived.NPS_COLUMN
        elif a["kind"] == "rating" and a["touchpoint_id"] is not None:
            column = a["touchpoint_id"]
        else:
            continue
        columns.setdefault(a["response_id"], {}).setdefault(column, a["score"])
        customer[a["response_id"]] = a["customer_id"]
    sums: dict[tuple, list] = {}
    for response, values in columns.items():
        if all(c == derived.NPS_COLUMN for c in values):
            continue  # rates no touchpoint
        values = {derived.RATED: 1, **values}
        for segment in [None, *segments_of.get(customer[response], [])]:
            for a, x in values.items():
                for b, y in values.items():
                    row = sums.setdefault((segment, a, b), [0, 0, 0, 0])
                    row[0] += 1
                    row[1] += x
                    row[2] += x * x
                    row[3] += x * y
    return {key: tuple(row) for key, row in sums.items()}


def stored_moments(month: str) -> dict[tuple, tuple]:
    """The month's answer_moments, the parts added up."""
    sums: dict[tuple, list] = {}
    for r in month_rows("answer_moments", month):
        row = sums.setdefault((r["segment_id"], r["a"], r["b"]), [0, 0, 0, 0])
        for i, name in enumerate(("n", "x", "x2", "xx")):
            row[i] += int(r[name])  # whole numbers, exact in float64
    return {key: tuple(row) for key, row in sums.items()}


def stored_sample(month: str) -> list[tuple]:
    rows = month_rows("answer_sample", month)
    return sorted((r["response_id"], r["kind"], r["score"]) for r in rows)


class FactStoreAssertions:
    def assertStoreEqualsDatabase(self):
        manifest = store.read_manifest()
        self.assertEqual(set(manifest.months), expected_months())
        self.assertEqual(store.stored_months("responses"), expected_months())
        self.assertEqual(store.stored_months("answers"), expected_months())
        for month in expected_months():
            responses, answers = expected_responses(month), expected_answers(month)
            with self.subTest(month=month):
                stored = manifest.months[month]
                # A month written whole is sorted by time; one with appended parts, by part.
                order = (lambda rows: rows) if len(stored.parts["answers"]) == 1 else by_time
                self.assertEqual(order(month_rows("responses", month)), responses)
                self.assertEqual(order(month_rows("answers", month)), answers)
                self.assertEqual(stored_counts(month), expected_counts(answers))
                if stored.parts["answer_totals"]:  # none in a month of schema 5
                    self.assertEqual(stored_totals(month), totals_of(expected_counts(answers)))
                self.assertEqual(stored_sample(month), expected_sample(answers))
                if stored.parts["answer_moments"]:  # none in a month of schema 5
                    self.assertEqual(stored_moments(month), expected_moments(answers))
                self.assertEqual((stored.responses, stored.answers), (len(responses), len(answers)))


class RebuildTests(FactStoreAssertions, FactData):
    def test_it_writes_every_completed_response_and_scored_answer_as_the_database_holds_them(
        self,
    ):
        written = sync.rebuild()
        self.assertEqual(written.months, ("2026-01", "2026-02"))
        self.assertEqual((written.responses, written.answers), (5, 11))
        self.assertStoreEqualsDatabase()
        january = month_rows("responses", "2026-01")
        self.assertEqual([r["submitted_at"] for r in january], [JAN, JAN_LAST])
        self.assertEqual(january[0]["nps"], 9)  # the first of its two NPS questions
        self.assertEqual(january[0]["team_id"], self.team_a.pk)
        self.assertEqual((january[1]["customer_id"], january[1]["team_id"]), (None, None))
        february = month_rows("responses", "2026-02")
        visit = next(r for r in february if r["channel"] == "visit")
        self.assertEqual((visit["survey_kind"], visit["nps"]), ("interview", 9))
        answers = month_rows("answers", "2026-02")
        touchpoints = {(a["kind"], a["touchpoint_id"]) for a in answers}
        self.assertIn(("ces", self.onboarding.pk), touchpoints)  # the event's touchpoint
        self.assertIn(("rating", self.kickoff.pk), touchpoints)

    def test_it_leaves_out_employee_pulse_answers(self):
        sync.rebuild()
        pulse_responses = set(
            Response.objects.filter(survey=self.pulse).values_list("pk", flat=True)
        )
        self.assertEqual(len(pulse_responses), 1)
        for table in ("responses", "answers"):
            stored = ds.dataset(self.root / table, format="parquet").to_table()
            self.assertFalse(pulse_responses & set(stored["response_id"].to_pylist()))
            self.assertNotIn(self.pulse.pk, stored["survey_id"].to_pylist())

    def test_it_writes_the_agreed_schemas_with_zstd_sorted_by_time(self):
        sync.rebuild()
        files = {
            "responses": (store.month_path("responses", "2026-02"), RESPONSES),
            "answers": (store.month_path("answers", "2026-02"), ANSWERS),
            "customers": (store.table_path("customers"), CUSTOMERS),
            "segments": (store.table_path("segments"), SEGMENTS),
            "comments": (store.month_path("comments", "2026-02"), COMMENTS),
            "themes": (store.table_path("themes"), THEMES),
        }
        for name, (path, schema) in files.items():
            with self.subTest(table=name):
                self.assertTrue(pq.read_schema(path).equals(schema, check_metadata=False))
                metadata = pq.ParquetFile(path).metadata
                if metadata.num_row_groups:  # an empty table has no row group to compress
                    self.assertEqual(metadata.row_group(0).column(0).compression, "ZSTD")
        times = read(store.month_path("answers", "2026-02"))
        self.assertEqual(
            [a["submitted_at"] for a in times], sorted(a["submitted_at"] for a in times)
        )
        manifest = json.loads((self.root / "manifest.json").read_text())
        self.assertEqual(set(manifest), {"schema", "version", "written_at", "segments", "months"})
        self.assertEqual(manifest["schema"], 6)
        segments = pq.read_table(store.table_path("segments"))
        self.assertEqual(manifest["segments"], derived.segments_digest(segments))
        one_part = dict.fromkeys(sorted(store.MONTHLY), [0])
        self.assertEqual(
            manifest["months"]["2026-01"],
            {"responses": 2, "answers": 5, "comments": 0, "parts": one_part},
        )
        self.assertTrue(manifest["written_at"].endswith("+00:00"))

    def test_it_writes_customers_and_current_segment_members(self):
        sync.rebuild()
        self.assertEqual(
            read(store.table_path("customers")),
            [
                {
                    "customer_id": self.acme.pk,
                    "team_id": self.team_a.pk,
                    "owner_id": self.owner.employee.pk,
                    "annual_value": 1200000.5,
                    "currency": "RUB",
                    "tier": "strategic",
                    "lifecycle_stage": "active",
                },
                {
                    "customer_id": self.globex.pk,
                    "team_id": self.team_b.pk,
                    "owner_id": self.outsider.employee.pk,
                    "annual_value": 0.0,
                    "currency": "EUR",
                    "tier": "key",
                    "lifecycle_stage": "renewal",
                },
                {
                    "customer_id": self.initech.pk,
                    "team_id": None,
                    "owner_id": None,
                    "annual_value": 0.0,
                    "currency": "RUB",
                    "tier": "standard",
                    "lifecycle_stage": "active",
                },
            ],
        )
        strategic, picked = (
            Segment.objects.get(name="Strategic"),
            Segment.objects.get(name="Picked"),
        )
        self.assertEqual(
            {(row["customer_id"], row["segment_id"]) for row in read(store.table_path("segments"))},
            {
                (self.acme.pk, strategic.pk),
                (self.globex.pk, picked.pk),
                (self.initech.pk, picked.pk),
            },
        )

    def test_it_is_read_by_duckdb_with_the_month_as_partition_key(self):
        sync.rebuild()
        pattern = str(self.root / "responses" / "*" / "*.parquet")
        counts = duckdb.sql(
            f"SELECT month, count(*) FROM read_parquet('{pattern}', hive_partitioning = true) "
            "GROUP BY month ORDER BY month"
        ).fetchall()
        self.assertEqual(counts, [("2026-01", 2), ("2026-02", 3)])

    def test_it_removes_months_that_no_longer_have_data(self):
        sync.rebuild()
        version = store.read_manifest().version
        Response.objects.filter(submitted_at__lt=dt.datetime(2026, 2, 1, tzinfo=UTC)).delete()
        written = sync.rebuild()
        self.assertEqual(written.removed, ("2026-01",))
        self.assertFalse((self.root / "responses" / "month=2026-01").exists())
        self.assertFalse((self.root / "answers" / "month=2026-01").exists())
        self.assertNotEqual(store.read_manifest().version, version)
        self.assertStoreEqualsDatabase()

    def test_it_writes_an_empty_store_for_an_empty_database(self):
        Response.objects.all().delete()
        written = sync.rebuild()
        self.assertEqual((written.months, written.responses), ((), 0))
        self.assertEqual(store.read_manifest().months, {})
        self.assertEqual(pq.read_table(store.table_path("customers")).num_rows, 3)


@dataclass(frozen=True)
class AnswersCounted:
    """A query of the pages' kind: how many answers the store holds."""

    scope: Scope = Scope()

    def calculate(self, tables) -> int:
        return int(tables.answers.count().to_pyarrow().as_py())


class RefreshTests(FactStoreAssertions, FactData):
    def setUp(self):
        super().setUp()
        sync.rebuild()

    def test_it_follows_an_edited_answer(self):
        Answer.objects.filter(response__customer=self.globex, kind="nps").update(score=0)
        self.assertNotEqual(month_rows("responses", "2026-02"), expected_responses("2026-02"))
        written = sync.refresh_months(["2026-02"])
        self.assertEqual(written.months, ("2026-02",))
        self.assertStoreEqualsDatabase()

    def test_it_adds_a_new_response_and_a_new_month_and_leaves_the_others(self):
        january = store.month_path("answers", "2026-01")
        before = january.read_bytes(), january.stat().st_mtime_ns
        march = dt.datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
        ingest_many(
            survey=self.survey,
            items=[
                Feedback({1: 7, 5: 2}, march, "api", customer=self.initech),
                Feedback({1: 8}, FEB, "api", customer=self.acme),
            ],
        )
        counted = store.month_path("answer_counts", "2026-01")
        counted_before = counted.stat().st_mtime_ns
        sync.refresh_months(["2026-03", "2026-02"])
        self.assertStoreEqualsDatabase()
        self.assertEqual((january.read_bytes(), january.stat().st_mtime_ns), before)
        self.assertEqual(counted.stat().st_mtime_ns, counted_before)  # segments unchanged

    def test_it_follows_a_new_owner_and_segment_rule(self):
        Customer.objects.filter(pk=self.initech.pk).update(owner=self.teammate.employee)
        Segment.objects.filter(name="Strategic").update(rule=[])  # everyone
        Segment.objects.get(name="Picked").members.add(self.acme)  # who answered in January
        january = store.month_path("answers", "2026-01")
        before = stored_counts("2026-01"), january.stat().st_mtime_ns
        sync.refresh_months(["2026-02"], appended=True)
        # January's answers were not rewritten, but its counts follow the segments' new members,
        # as a part of their own; February is written whole (its counts too).
        self.assertStoreEqualsDatabase()
        self.assertNotEqual(stored_counts("2026-01"), before[0])
        self.assertEqual(january.stat().st_mtime_ns, before[1])
        parts = store.read_manifest().months
        self.assertEqual(
            (parts["2026-01"].parts["answer_counts"], parts["2026-01"].parts["answers"]),
            ((1,), (0,)),
        )
        self.assertEqual(parts["2026-02"].parts, dict.fromkeys(store.MONTHLY, (1,)))
        self.assertFalse(store.month_path("answer_counts", "2026-01").exists())
        customers = read(store.table_path("customers"))
        self.assertEqual(customers[2]["team_id"], self.team_a.pk)
        self.assertEqual(len(read(store.table_path("segments"))), 6)

    def new_february_response(self):
        ingest_many(
            survey=self.survey, items=[Feedback({1: 3, 5: 1}, FEB_NEW, "api", customer=self.acme)]
        )

    def test_an_announced_response_is_appended_as_a_part_of_its_own(self):
        files = {
            table: (path := store.month_path(table, "2026-02"), path.read_bytes())
            for table in store.APPENDABLE
        }
        self.new_february_response()
        written = sync.refresh_months(["2026-02"], appended=True)
        self.assertEqual(written.months, ("2026-02",))
        self.assertStoreEqualsDatabase()
        february = store.read_manifest().months["2026-02"]
        self.assertEqual(
            february.parts, dict.fromkeys(store.APPENDABLE, (0, 1)) | {"comments": (1,)}
        )
        for table, (path, content) in files.items():
            self.assertEqual(path.read_bytes(), content, table)  # the stored part untouched
        added = pq.read_table(store.month_path("responses", "2026-02", part=1))
        self.assertEqual(added.num_rows, 1)  # the new response only
        self.assertFalse(store.month_path("comments", "2026-02").exists())  # written whole
        # The pages' engine reads every part the manifest names.
        tables = FactStore(self.root).tables()
        self.assertEqual(
            tables.answers.count().to_pyarrow().as_py(),
            sum(len(expected_answers(m)) for m in expected_months()),
        )

    def test_an_append_finds_nothing_new_and_writes_the_comments_only(self):
        sync.refresh_months(["2026-02"], appended=True)
        february = store.read_manifest().months["2026-02"]
        self.assertEqual(february.parts, dict.fromkeys(store.APPENDABLE, (0,)) | {"comments": (1,)})
        self.assertStoreEqualsDatabase()

    def test_a_month_whose_stored_response_is_gone_is_written_whole(self):
        Response.objects.filter(customer=self.globex, submitted_at__gte=FEB).delete()
        self.new_february_response()
        sync.refresh_months(["2026-02"], appended=True)
        self.assertEqual(
            store.read_manifest().months["2026-02"].parts, dict.fromkeys(store.MONTHLY, (1,))
        )
        self.assertStoreEqualsDatabase()
        self.assertEqual(
            sorted(p.name for p in (self.root / "answers" / "month=2026-02").iterdir()),
            ["part-1.parquet"],
        )

    def test_a_month_of_many_parts_is_written_whole_again(self):
        with mock.patch.object(sync, "MAX_PARTS", 2):
            self.new_february_response()
            sync.refresh_months(["2026-02"], appended=True)
            self.new_february_response()
            sync.refresh_months(["2026-02"], appended=True)
        self.assertEqual(
            store.read_manifest().months["2026-02"].parts, dict.fromkeys(store.MONTHLY, (2,))
        )
        self.assertStoreEqualsDatabase()

    def test_too_many_new_responses_are_read_with_the_whole_month(self):
        with mock.patch.object(sync, "MAX_APPENDED", 0):
            self.new_february_response()
            sync.refresh_months(["2026-02"], appended=True)
        self.assertEqual(
            store.read_manifest().months["2026-02"].parts, dict.fromkeys(store.MONTHLY, (1,))
        )
        self.assertStoreEqualsDatabase()

    def test_a_new_month_of_an_announcement_is_written_whole(self):
        march = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        ingest_many(survey=self.survey, items=[Feedback({1: 7}, march, "api", customer=self.acme)])
        sync.refresh_months(["2026-03"], appended=True)
        self.assertEqual(
            store.read_manifest().months["2026-03"].parts, dict.fromkeys(store.MONTHLY, (0,))
        )
        self.assertStoreEqualsDatabase()

    def test_a_page_reading_a_version_whose_parts_were_removed_reads_the_newer_one(self):
        reader = FactStore(self.root)
        read_before = reader.manifest()
        Response.objects.filter(customer=self.globex, submitted_at__gte=FEB).delete()
        sync.refresh_months(["2026-02"], appended=True)  # written whole: part 0 is removed
        self.assertFalse(store.month_path("answers", "2026-02").exists())
        answers = sum(len(expected_answers(m)) for m in expected_months())
        query = AnswersCounted()
        # The page read the manifest just before the write; the write removed its files.
        with mock.patch.object(reader, "manifest", side_effect=[read_before, reader.manifest()]):
            self.assertEqual(run_cached(query, store=reader, cache=False), answers)
        with self.assertRaises(duckdb.IOException):  # without a newer version: the error
            AnswersCounted().calculate(reader.tables(read_before))

    def test_a_store_that_lost_a_file_is_written_anew(self):
        store.month_path("answers", "2026-01").unlink()  # a disk error, a hand that slipped
        with self.assertLogs("cxloop.facts.sync", "WARNING") as logs:
            written = sync.refresh_months(["2026-02"], appended=True)
        self.assertIn("answers/month=2026-01/part-0.parquet", logs.output[0])
        self.assertEqual(written.months, ("2026-01", "2026-02"))  # a rebuild
        self.assertStoreEqualsDatabase()

    def test_a_month_whose_customer_moved_team_is_written_whole(self):
        Customer.objects.filter(pk=self.globex.pk).update(owner=self.owner.employee)  # team A
        self.new_february_response()
        sync.refresh_months(["2026-02"], appended=True)
        self.assertEqual(
            store.read_manifest().months["2026-02"].parts, dict.fromkeys(store.MONTHLY, (1,))
        )
        self.assertStoreEqualsDatabase()  # every February row has globex's team now

    def test_segments_read_in_several_statements(self):
        with mock.patch.object(queries, "SEGMENTS_PER_STATEMENT", 1):
            self.assertEqual(len(queries.segment_memberships()), Segment.objects.count())
            sync.rebuild()
        self.assertEqual(
            {(r["customer_id"], r["segment_id"]) for r in read(store.table_path("segments"))},
            {(c, s.pk) for s in Segment.objects.all() for c in segment_ids(s)},
        )

    def test_counts_follow_a_segment_change_whose_manifest_was_never_written(self):
        Segment.objects.get(name="Picked").members.add(self.acme)  # who answered in January
        with (
            mock.patch.object(store, "write_manifest", side_effect=OSError("disk full")),
            self.assertRaises(OSError),
        ):
            sync.refresh_months(["2026-02"], appended=True)  # segments.parquet is replaced
        sync.refresh_months(["2026-02"], appended=True)
        self.assertStoreEqualsDatabase()  # January recounted with acme in Picked

    def test_a_store_of_schema_4_is_read_as_part_0_and_written_anew_at_its_first_refresh(self):
        path = self.root / "manifest.json"
        old = json.loads(path.read_text())
        old["schema"] = 4
        del old["segments"]
        for month in old["months"].values():
            del month["parts"]
        path.write_text(json.dumps(old))
        self.assertEqual(
            store.read_manifest().months["2026-01"].parts,
            # Tables that came with schema 6: none.
            dict.fromkeys(store.MONTHLY, (0,)) | {"answer_moments": (), "answer_totals": ()},
        )
        self.new_february_response()
        written = sync.refresh_months(["2026-02"], appended=True)
        self.assertEqual(written.months, ("2026-01", "2026-02"))
        manifest = store.read_manifest()
        self.assertEqual(manifest.schema, 6)
        self.assertTrue(all(c.parts["answer_moments"] for c in manifest.months.values()))
        self.assertStoreEqualsDatabase()

    def test_a_store_of_schema_5_is_read_and_written_anew_at_its_first_refresh(self):
        path = self.root / "manifest.json"
        old = json.loads(path.read_text())
        old["schema"] = 5
        for month in old["months"].values():
            del month["parts"]["answer_moments"], month["parts"]["answer_totals"]
        path.write_text(json.dumps(old))
        self.assertEqual(store.read_manifest().months["2026-02"].parts["answer_moments"], ())
        self.new_february_response()
        written = sync.refresh_months(["2026-02"], appended=True)
        # Written anew, every month: the old months would otherwise never get the new tables.
        self.assertEqual(written.months, ("2026-01", "2026-02"))
        manifest = store.read_manifest()
        self.assertEqual(manifest.schema, 6)
        self.assertTrue(manifest.holds("answer_moments", None, None))
        self.assertStoreEqualsDatabase()

    def test_a_month_without_a_derived_table_is_written_whole_not_appended(self):
        path = self.root / "manifest.json"
        lacking = json.loads(path.read_text())
        lacking["months"]["2026-02"]["parts"]["answer_moments"] = []  # none written
        path.write_text(json.dumps(lacking))
        self.new_february_response()
        sync.refresh_months(["2026-02"], appended=True)
        february = store.read_manifest().months["2026-02"]
        # Appending would have given the month the moments of its new response alone.
        self.assertEqual(len(february.parts["answers"]), 1)
        self.assertEqual(february.parts["answer_moments"], february.parts["answers"])
        self.assertStoreEqualsDatabase()

    def test_it_removes_a_refreshed_month_without_data(self):
        Response.objects.filter(submitted_at__gte=dt.datetime(2026, 2, 1, tzinfo=UTC)).delete()
        written = sync.refresh_months(["2026-02"])
        self.assertEqual((written.months, written.removed), ((), ("2026-02",)))
        self.assertStoreEqualsDatabase()

    def test_it_rebuilds_a_store_that_was_never_written(self):
        (self.root / "manifest.json").unlink()
        written = sync.refresh_months(["2026-02"])
        self.assertEqual(written.months, ("2026-01", "2026-02"))
        self.assertStoreEqualsDatabase()

    def test_it_refuses_a_malformed_month(self):
        with self.assertRaisesMessage(ValueError, "expected a month as YYYY-MM, got '2026-13'"):
            sync.refresh_months(["2026-13"])

    def test_a_failure_while_writing_leaves_the_previous_files_and_manifest(self):
        files = sorted(p for p in self.root.rglob("*") if p.is_file() and p.name != ".lock")
        before = {p: p.read_bytes() for p in files}
        Answer.objects.filter(kind="nps").update(score=0)
        real_write = store._write_parquet

        def write_then_fail(table, path, *args):
            real_write(table, path, *args)  # the temporary file is complete…
            if "answers" in str(path):
                raise OSError("disk full")  # …and then the writer fails

        with (
            mock.patch.object(store, "_write_parquet", write_then_fail),
            self.assertRaisesMessage(OSError, "disk full"),
        ):
            sync.refresh_months(["2026-01", "2026-02"])
        after = sorted(p for p in self.root.rglob("*") if p.is_file() and p.name != ".lock")
        self.assertEqual(after, files)  # no temporary file left behind
        self.assertEqual({p: p.read_bytes() for p in after}, before)
        with (
            mock.patch.object(store, "_write_parquet", write_then_fail),
            self.assertRaises(OSError),
        ):
            sync.rebuild()
        self.assertEqual({p: p.read_bytes() for p in after}, before)
        sync.refresh_months(["2026-01", "2026-02"])
        self.assertStoreEqualsDatabase()

    def test_it_clears_what_a_writer_that_died_left_behind(self):
        leftover = self.root / "answers" / "month=2026-01" / ".part-0.parquet.0123456789ab.tmp"
        leftover.write_bytes(b"half a file")
        committed = (
            self.root / "answers" / "month=2026-01" / "part-7.parquet"
        )  # not in the manifest
        committed.write_bytes(b"a part no manifest names")
        sync.refresh_months(["2026-02"])
        self.assertFalse(leftover.exists())
        self.assertFalse(committed.exists())
        self.assertTrue(store.month_path("answers", "2026-01").exists())


def test_a_month_with_comments_names_its_comments_file_even_when_it_is_gone(tmp_path):
    """A reader must fail (and read the newer version) rather than count no comments."""
    with_comments = store.MonthCounts(2, 4, comments=3)
    without = store.MonthCounts(1, 2, comments=0)
    manifest = store.Manifest(
        version="v",
        written_at=dt.datetime(2026, 3, 1, tzinfo=UTC),
        months={"2026-01": with_comments, "2026-02": without},
    )
    comments = insights_store._files(tmp_path, manifest)["comments"]
    assert comments == ["comments/month=2026-01/part-0.parquet"]
