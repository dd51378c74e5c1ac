"""The comment explorer: a search finds a word in any of its forms (Russian inflections, English
plurals) on SQLite and on PostgreSQL alike, marks the matches in text it has escaped first, every
filter narrows as it says, a bad one is refused by name while the page still shows, and nobody
reads the comments of another team's customers.

Run on both databases: ``CXLOOP_DATABASE_URL=postgres://… pytest tests/comments/test_search.py``.
"""

import datetime as dt
import unittest

from django.contrib.messages import get_messages
from django.db import connection
from django.test import TestCase
from django.urls import reverse

from cxloop.comments import search, services
from cxloop.comments.models import CommentInsight, Theme
from cxloop.customers.models import Customer, Segment
from cxloop.feedback.services import ingest
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.lib.params import ParamError
from cxloop.people.models import Employee
from cxloop.surveys.models import Answer, Question, Survey
from cxloop.test import BaseTestCase

MAY = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)
JUNE = dt.datetime(2026, 6, 10, 9, tzinfo=dt.UTC)
JULY = dt.datetime(2026, 7, 10, 9, tzinfo=dt.UTC)

SCRIPT = "<script>alert(1)</script>"


class CommentSearchData(BaseTestCase):
    """Comments of team A's customers Acme (owned by the teammate) and Bolt (team A1), and of
    team B's Zeta (the outsider's); a survey with an NPS question (1), a comment (2) and a
    comment on billing (3); enriched with a billing and a rudeness theme."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        journey = Journey.objects.create(name_ru="Путь", name_en="Journey")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Этап", name_en="Stage")
        cls.billing = Touchpoint.objects.create(
            stage=stage, order=1, code="billing", channel="email", name_en="Billing"
        )
        cls.kickoff = Touchpoint.objects.create(
            stage=stage, order=2, code="kickoff", channel="meeting", name_en="Kick-off"
        )
        cls.survey = Survey.objects.create(
            name_ru="Опрос", name_en="Survey", kind="relationship", languages=["ru", "en"]
        )
        for order, kind, touchpoint in ((1, "nps", None), (2, "text", None), (3, "text", None)):
            Question.objects.create(
                survey=cls.survey,
                order=order,
                kind=kind,
                text_ru="?",
                text_en="?",
                touchpoint=cls.billing if order == 3 else touchpoint,
            )
        teammate = Employee.objects.get(user=cls.teammate)
        sub = cls._user("subowner", cls.team_a1, "employee").employee
        outsider = Employee.objects.get(user=cls.outsider)
        cls.acme = Customer.objects.create(
            external_id="A", name="Acme", owner=teammate, tier="strategic"
        )
        cls.bolt = Customer.objects.create(external_id="B", name="Bolt", owner=sub, tier="small")
        cls.zeta = Customer.objects.create(external_id="Z", name="Zeta", owner=outsider)
        cls.strategic = Segment.objects.create(
            name="Strategic", rule=[{"field": "tier", "op": "in", "value": ["strategic"]}]
        )
        Theme.objects.create(
            code="billing", name_ru="Счета", name_en="Billing", phrases_ru="счёт", order=1
        )
        Theme.objects.create(
            code="rudeness", name_ru="Грубость", name_en="Rudeness", phrases_ru="грубый", order=2
        )

        def add(customer, when, answers, touchpoint=None) -> int:
            response = ingest(
                survey=cls.survey,
                answers=answers,
                channel="api",
                submitted_at=when,
                customer=customer,
                touchpoint=touchpoint,
            ).response
            return Answer.objects.get(response=response, kind="text").pk

        cls.c_twice = add(cls.acme, MAY, {1: 3, 2: "Выставили счёт дважды, ужасный сервис"})
        cls.c_refunds = add(
            cls.acme, JUNE, {1: 10, 2: "Great kick-off, the refunds came quickly"}, cls.kickoff
        )
        cls.c_script = add(cls.bolt, JULY, {1: 8, 2: f"Два счета пришли {SCRIPT}"})
        cls.c_july = add(cls.acme, JULY, {1: 6, 3: "Нет счетов за июль, the refund is missing"})
        cls.c_counter = add(
            cls.acme, JUNE, {1: 9, 2: "Счётчик сломан, но менеджер вежливый"}, cls.billing
        )
        # About the kick-off, but the answer is on billing: the answer's touchpoint counts.
        cls.c_kickoff_bill = add(cls.acme, JUNE, {1: 7, 3: "Грубый менеджер и счета"}, cls.kickoff)
        cls.c_hidden = add(cls.zeta, JUNE, {1: 0, 2: "Счёт секретный, a refund too"})
        services.rebuild()
        cls.team_a_comments = {
            cls.c_twice,
            cls.c_refunds,
            cls.c_script,
            cls.c_july,
            cls.c_counter,
            cls.c_kickoff_bill,
        }
        cls.url = reverse("comment_list")

    def page(self, params=None, user=None):
        self.client.force_login(user or self.owner)
        response = self.client.get(self.url, params or {}, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        return response

    def ids(self, params=None, user=None) -> set[int]:
        rows = self.page(params, user).context["rows"]
        return {row["comment"].answer_id for row in rows}

    def refused(self, params) -> tuple[list[str], object]:
        response = self.page(params)
        return [str(m) for m in get_messages(response.wsgi_request)], response


class SearchTests(CommentSearchData):
    def test_it_finds_a_russian_word_in_every_form_and_nothing_that_only_begins_like_it(self):
        inflected = {self.c_twice, self.c_script, self.c_july, self.c_kickoff_bill}
        for query in ("счёт", "счет", "счета", "СЧЕТОВ"):
            with self.subTest(query=query):
                self.assertEqual(self.ids({"q": query}), inflected)  # not «Счётчик»

    def test_it_finds_english_plurals_and_singulars(self):
        for query in ("refund", "refunds", "Refunds"):
            with self.subTest(query=query):
                self.assertEqual(self.ids({"q": query}), {self.c_refunds, self.c_july})

    def test_it_takes_every_word_a_phrase_or_and_a_minus(self):
        self.assertEqual(self.ids({"q": "счета refund"}), {self.c_july})
        self.assertEqual(self.ids({"q": "счётчик or kick-off"}), {self.c_counter, self.c_refunds})
        self.assertEqual(self.ids({"q": "счётчик ИЛИ kick-off"}), {self.c_counter, self.c_refunds})
        self.assertEqual(self.ids({"q": '"the refunds came"'}), {self.c_refunds})
        self.assertEqual(self.ids({"q": '"came the refunds"'}), set())
        self.assertEqual(self.ids({"q": "счёт -июль -пришли"}), {self.c_twice, self.c_kickoff_bill})

    def test_it_marks_the_matches_in_text_it_escaped_first(self):
        page = self.page({"q": "счёт"})
        html = {row["comment"].answer_id: row["comment"].html for row in page.context["rows"]}
        self.assertIn("<mark>счёт</mark>", html[self.c_twice])
        self.assertIn("<mark>счета</mark>", html[self.c_script])
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", html[self.c_script])
        self.assertNotIn(SCRIPT, page.content.decode())
        self.assertContains(page, "&lt;script&gt;alert(1)&lt;/script&gt;")
        self.assertContains(page, "Грубый менеджер и <mark>счета</mark>", html=False)

    def test_it_marks_english_words_by_their_stem(self):
        page = self.page({"q": "refund"})
        html = {row["comment"].answer_id: row["comment"].html for row in page.context["rows"]}
        self.assertIn("<mark>refunds</mark>", html[self.c_refunds])
        self.assertIn("<mark>refund</mark>", html[self.c_july])
        self.assertEqual(
            html[self.c_july], "Нет счетов за июль, the <mark>refund</mark> is missing"
        )

    def test_without_a_search_the_text_is_escaped_and_unmarked(self):
        page = self.page()
        html = {row["comment"].answer_id: row["comment"].html for row in page.context["rows"]}
        self.assertNotIn("<mark>", "".join(html.values()))
        self.assertNotIn(SCRIPT, page.content.decode())

    def test_the_index_follows_edits_and_deletions(self):
        answer = Answer.objects.get(pk=self.c_counter)
        answer.text = "Счета неверные"
        answer.save()
        self.assertIn(self.c_counter, self.ids({"q": "счёт"}))
        self.assertNotIn(self.c_counter, self.ids({"q": "сломан"}))
        Answer.objects.filter(pk=self.c_counter).update(text="")  # erased
        self.assertNotIn(self.c_counter, self.ids({"q": "счёт"}))
        Answer.objects.get(pk=self.c_twice).response.delete()
        self.assertNotIn(self.c_twice, self.ids({"q": "счёт"}))
        self.assertIn(self.c_script, self.ids({"q": "счёт"}))

    def test_a_search_that_cannot_run_is_refused_by_name_and_the_page_still_shows(self):
        for query in ("-счёт", "--- ...", "a " * 101, "один два три четыре пять шесть семь 8 9"):
            with self.subTest(query=query[:20]):
                said, page = self.refused({"q": query})
                self.assertEqual(len(said), 1)
                self.assertIn("Search", said[0])
                self.assertNotIn("q", page.context["filters"])
                self.assertEqual(
                    {r["comment"].answer_id for r in page.context["rows"]}, self.team_a_comments
                )


class FilterTests(CommentSearchData):
    def test_it_lists_the_teams_customers_comments_newest_first_with_what_was_found(self):
        page = self.page()
        rows = [row["comment"] for row in page.context["rows"]]
        self.assertEqual({row.answer_id for row in rows}, self.team_a_comments)
        moments = [row.submitted_at for row in rows]
        self.assertEqual(moments, sorted(moments, reverse=True))
        twice = next(row for row in rows if row.answer_id == self.c_twice)
        insight = CommentInsight.objects.get(pk=self.c_twice)
        self.assertEqual((twice.nps, twice.nps_band), (3, "detractor"))
        self.assertEqual((twice.language, twice.sentiment), ("ru", insight.sentiment))
        self.assertEqual([theme.name for theme in twice.themes], ["Billing"])
        self.assertEqual(twice.customer_name, "Acme")
        self.assertContains(page, reverse("response_detail", args=[twice.response_id]))
        self.assertContains(page, reverse("customer_detail", args=[self.acme.pk]))

    def test_it_filters_by_theme(self):
        billing = Theme.objects.get(code="billing").pk
        rudeness = Theme.objects.get(code="rudeness").pk
        self.assertEqual(
            self.ids({"theme": billing}),
            {self.c_twice, self.c_script, self.c_july, self.c_kickoff_bill},
        )
        self.assertEqual(self.ids({"theme": rudeness}), {self.c_kickoff_bill})

    def test_it_filters_by_sentiment(self):
        found = dict(CommentInsight.objects.values_list("answer_id", "sentiment"))
        seen = set()
        for label in ("negative", "neutral", "positive"):
            expected = {pk for pk in self.team_a_comments if found[pk] == label}
            seen |= self.ids({"sentiment": label})
            self.assertEqual(self.ids({"sentiment": label}), expected)
        self.assertEqual(seen, self.team_a_comments)
        self.assertLess(len(self.ids({"sentiment": "negative"})), len(self.team_a_comments))

    def test_it_filters_by_the_answers_touchpoint_else_the_responses(self):
        self.assertEqual(
            self.ids({"touchpoint": self.billing.pk}),
            {self.c_july, self.c_counter, self.c_kickoff_bill},
        )
        self.assertEqual(self.ids({"touchpoint": self.kickoff.pk}), {self.c_refunds})

    def test_it_filters_by_segment_team_and_dates(self):
        acme = {self.c_twice, self.c_refunds, self.c_july, self.c_counter, self.c_kickoff_bill}
        self.assertEqual(self.ids({"segment": self.strategic.pk}), acme)
        self.assertEqual(self.ids({"team": self.team_a1.pk}), {self.c_script})
        self.assertEqual(self.ids({"team": self.team_a.pk}), self.team_a_comments)
        self.assertEqual(self.ids({"since": "2026-07-01"}), {self.c_script, self.c_july})
        self.assertEqual(self.ids({"until": "2026-05-31"}), {self.c_twice})
        self.assertEqual(
            self.ids({"since": "2026-06-10", "until": "2026-06-10"}),
            {self.c_refunds, self.c_counter, self.c_kickoff_bill},
        )

    def test_it_filters_by_the_responses_nps_band(self):
        self.assertEqual(self.ids({"band": "detractor"}), {self.c_twice, self.c_july})
        self.assertEqual(self.ids({"band": "passive"}), {self.c_script, self.c_kickoff_bill})
        self.assertEqual(self.ids({"band": "promoter"}), {self.c_refunds, self.c_counter})

    def test_filters_and_a_search_narrow_together_and_stay_in_the_links(self):
        params = {"q": "счёт", "band": "detractor", "team": self.team_a.pk}
        page = self.page(params)
        self.assertEqual(
            {r["comment"].answer_id for r in page.context["rows"]}, {self.c_twice, self.c_july}
        )
        self.assertEqual(page.context["filters"], {k: str(v) for k, v in params.items()})

    def test_a_bad_filter_is_refused_by_name_and_the_page_still_shows(self):
        bad = {
            "theme": ("abc", "Theme"),
            "sentiment": ("angry", "Sentiment"),
            "touchpoint": ("-1", "Touchpoint"),
            "segment": ("987654", "Segment"),
            "team": (str(self.team_b.pk), "Team"),
            "since": ("2026-13-01", "Submitted from"),
            "until": ("yesterday", "Submitted up to"),
            "band": ("awful", "NPS band"),
        }
        bad_theme = {"theme": ("987654", "Theme")}
        for name, (value, label) in [*bad.items(), *bad_theme.items()]:
            with self.subTest(name=name, value=value):
                said, page = self.refused({name: value})
                self.assertEqual(len(said), 1)
                self.assertIn(label, said[0])
                self.assertNotIn(name, page.context["filters"])
                self.assertEqual(
                    {r["comment"].answer_id for r in page.context["rows"]}, self.team_a_comments
                )


class ScopeAndPagingTests(CommentSearchData):
    def test_an_outsider_reads_none_of_team_as_comments(self):
        self.assertEqual(self.ids(user=self.outsider), {self.c_hidden})
        self.assertEqual(self.ids({"q": "счёт"}, user=self.outsider), {self.c_hidden})
        self.assertEqual(self.ids({"q": "refund"}, user=self.outsider), {self.c_hidden})
        page = self.page({"q": "секретный"})
        self.assertEqual(page.context["rows"], [])
        self.assertNotContains(page, "секретный, a refund")

    def test_it_asks_for_a_login(self):
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 302)

    def test_it_shows_fifty_a_page(self):
        for n in range(50):
            ingest(
                survey=self.survey,
                answers={1: 5, 2: f"Счёт номер {n}"},
                channel="api",
                submitted_at=JULY,
                customer=self.bolt,
            )
        first = self.page({"q": "счёт"})
        self.assertEqual(len(first.context["rows"]), 50)
        self.assertEqual(first.context["page"].paginator.count, 54)
        self.assertContains(first, "page=2")
        second = self.page({"q": "счёт", "page": 2})
        self.assertEqual(len(second.context["rows"]), 4)


class SearchUnitTests(TestCase):
    def test_a_russian_word_becomes_its_every_form_in_both_spellings(self):
        forms = search.russian_forms("счёт")
        self.assertEqual(forms[0], "счет")
        self.assertTrue({"счета", "счетов", "счётом", "счетом", "счету"} <= set(forms))
        self.assertNotIn("счетчик", forms)

    def test_it_parses_what_websearch_to_tsquery_takes(self):
        T = search.Term
        self.assertEqual(
            search.parse_search('счёт "two words" or x -bad'),
            [[T(("счёт",))], [T(("two", "words")), T(("x",))], [T(("bad",), negated=True)]],
        )
        with self.assertRaises(ParamError) as caught:
            search.parse_search("-only")
        self.assertEqual(caught.exception.field, "q")

    def test_marks_are_trusted_only_when_they_give_back_the_text(self):
        self.assertEqual(
            search.safe_html("a <b> c", "a \x02<b>\x03 c"), "a <mark>&lt;b&gt;</mark> c"
        )
        # The comment holds a mark of its own: no HTML comes from it.
        self.assertEqual(search.safe_html("x\x02y", "\x02x\x03\x02y"), "xy")
        self.assertEqual(search.safe_html("abc", "\x02zzz\x03"), "abc")

    def test_a_long_comment_is_cut_and_an_open_mark_closed(self):
        text = "а" * (search.SHOWN_MAX - 1) + "счёт и ещё"
        marked = "а" * (search.SHOWN_MAX - 1) + "\x02счёт\x03 и ещё"
        self.assertTrue(search.safe_html(text, marked).endswith("<mark>с</mark>…"))


@unittest.skipUnless(connection.vendor == "sqlite", "the FTS5 table and its triggers: SQLite")
class SqliteIndexTests(TestCase):
    def test_the_search_table_and_its_triggers_exist_after_every_migration(self):
        # A migration that makes SQLite rebuild surveys_answer drops its triggers.
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'surveys_answer'")
            names = {name for (name,) in cursor.fetchall()}
        self.assertTrue(
            {
                "comment_search_insert",
                "comment_search_update_out",
                "comment_search_update_in",
                "comment_search_delete",
            }
            <= names
        )


@unittest.skipUnless(connection.vendor == "postgresql", "the GIN index: PostgreSQL")
class PostgresIndexTests(TestCase):
    def test_the_gin_index_is_on_the_very_expression_the_search_asks(self):
        # PostgreSQL uses an expression index only for the same expression, as written.
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'comment_search'")
            (definition,) = cursor.fetchone()
        self.assertIn(f"gin ({search.PG_VECTOR.format(column='text')})", definition)
        self.assertIn("WHERE (((kind)::text = 'text'::text) AND (text <> ''::text))", definition)
        answers = search.comments_matching(None, search.CommentFilter(text="счёт"))
        self.assertIn(search.PG_VECTOR.format(column="surveys_answer.text"), str(answers.query))
