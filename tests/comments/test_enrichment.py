"""Every comment, from every channel, gets its language, sentiment and themes once its response
is announced through the one way in; the fact store copies them; a rebuild re-enriches what a
taxonomy change made stale, resumably; erased comments lose what was found in them."""

import datetime as dt
import io
import os
import tempfile
from pathlib import Path
from unittest import mock

import pyarrow.parquet as pq
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import TestCase, TransactionTestCase, override_settings
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from cxloop import text
from cxloop.comments import queries, services
from cxloop.comments.models import CommentInsight, Theme
from cxloop.comments.tasks import on_responses_recorded
from cxloop.customers.models import Contact, Customer
from cxloop.facts import store, sync
from cxloop.facts.tasks import schedule as refresh_schedule
from cxloop.feedback.services import Feedback, ingest, ingest_many, log_face_to_face
from cxloop.people.models import Employee, Team
from cxloop.privacy.services import erase_contact
from cxloop.surveys.models import Answer, Question, Survey
from cxloop.surveys.services import begin_open, save_page
from tests.surveys.test_respond import make_survey

WHEN = dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC)
COMMENTS = {
    "api": "Счета приходят с ошибками, ужасный сервис",
    "web": "Great team, the invoice was clear and on time",
    "import": "Выставили счёт дважды, очень недовольны",
    "visit": "Менеджер был груб, счетов не видели",
}


def plant_taxonomy() -> None:
    Theme.objects.create(
        code="billing",
        name_ru="Счета",
        name_en="Billing",
        phrases_ru="счёт\nсписание",
        phrases_en="invoice\nbilled twice",
        order=1,
    )
    Theme.objects.create(
        code="rudeness",
        name_ru="Грубость",
        name_en="Rudeness",
        phrases_ru="грубый\nхамство",
        phrases_en="rude",
        order=2,
    )


@override_settings(FACTS_DELAY=0)
class EnrichmentThroughTheOneWayInTests(TransactionTestCase):
    """Committed data: the announcement's receivers act on commit, the worker runs each task in
    its own transaction."""

    def setUp(self):
        self.root = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.enterContext(override_settings(FACTS_DIR=self.root))
        refresh_schedule.clear()  # other tests of this process may have left keys pending
        plant_taxonomy()
        self.customer = Customer.objects.create(external_id="C-1", name="Acme")
        self.survey = make_survey()  # 1 NPS, 2 CSAT, 3 and 4 comments
        sync.rebuild()  # an empty store, as a running site has

    def _every_channel(self) -> dict[str, int]:
        """A comment through each channel; the comments' answer ids by channel."""
        comment = self.survey.questions.get(order=4)
        ingest(
            survey=self.survey,
            answers={1: 2, 4: COMMENTS["api"]},
            channel="api",
            submitted_at=WHEN,
            customer=self.customer,
        )
        link = begin_open(self.survey, channel="web", language="en", now=WHEN)
        first = self.survey.questions.get(order=1)
        save_page(link, [first], {first.pk: 9}, page=1, language="en", now=WHEN)
        save_page(
            link,
            [comment],
            {comment.pk: COMMENTS["web"]},
            page=3,
            language="en",
            now=WHEN,
            finish=True,
        )
        ingest_many(
            survey=self.survey,
            items=[Feedback({1: 3, 4: COMMENTS["import"]}, WHEN, "import", customer=self.customer)],
        )
        guide = Survey.objects.create(name_ru="Встреча", name_en="Meeting", kind="interview")
        nps = Question.objects.create(survey=guide, order=1, kind="nps", text_ru="?", text_en="?")
        notes = Question.objects.create(
            survey=guide, order=2, kind="text", text_ru="?", text_en="?"
        )
        user = get_user_model().objects.create(username="anna")
        employee = Employee.objects.create(user=user, team=Team.objects.create(name="Tax"))
        log_face_to_face(
            guide=guide,
            kind="visit",
            customer=self.customer,
            employee=employee,
            met_on=WHEN.date(),
            language="ru",
            values={nps.pk: 1, notes.pk: COMMENTS["visit"]},
        )
        answers = Answer.objects.filter(kind="text").exclude(text="").select_related("response")
        return {answer.response.channel: answer.pk for answer in answers}

    def test_every_channels_comment_is_enriched_and_copied_to_the_fact_store(self):
        ids = self._every_channel()
        self.assertEqual(set(ids), set(COMMENTS))
        self.assertFalse(CommentInsight.objects.exists())  # nothing inside the requests
        call_command("worker", batch=True, verbosity=0)  # announces; enriches; refreshes
        call_command("worker", batch=True, verbosity=0)  # the refresh the enrichment asked for
        found = {i.answer_id: i for i in CommentInsight.objects.prefetch_related("themes")}
        self.assertEqual(set(found), set(ids.values()))

        def themes(channel):
            return {theme.code for theme in found[ids[channel]].themes.all()}

        self.assertEqual(themes("api"), {"billing"})  # «Счета»: plural of «счёт»
        self.assertEqual(themes("web"), {"billing"})
        self.assertEqual(themes("import"), {"billing"})
        self.assertEqual(themes("visit"), {"billing", "rudeness"})  # «груб», «счетов»
        self.assertEqual(found[ids["web"]].language, "en")
        self.assertEqual(found[ids["api"]].language, "ru")
        self.assertEqual(found[ids["web"]].sentiment, "positive")
        # Each stored sentiment is what cxloop.text gives (its accuracy is measured in bench/).
        for channel, comment in COMMENTS.items():
            (expected,) = text.sentiment([comment])
            insight = found[ids[channel]]
            self.assertEqual((insight.sentiment, insight.engine), (expected.label, "linear"))
            self.assertAlmostEqual(insight.score, expected.score, places=6)
        stored = store.read_month("comments", "2026-03").to_pylist()
        self.assertEqual({row["answer_id"] for row in stored}, set(ids.values()))
        billing = Theme.objects.get(code="billing").pk
        by_answer = {row["answer_id"]: row for row in stored}
        self.assertIn(billing, by_answer[ids["api"]]["themes"])
        self.assertEqual(by_answer[ids["api"]]["nps"], 2)
        self.assertEqual(by_answer[ids["import"]]["customer_id"], self.customer.pk)
        self.assertEqual(by_answer[ids["api"]]["sentiment"], found[ids["api"]].sentiment)
        themes_table = pq.read_table(store.table_path("themes")).to_pylist()
        self.assertEqual({row["code"] for row in themes_table}, {"billing", "rudeness"})


class RebuildTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        plant_taxonomy()
        survey = make_survey()
        customer = Customer.objects.create(external_id="C-1", name="Acme")
        cls.contact = Contact.objects.create(
            customer=customer, name="Ann", email="ann@acme.example"
        )
        texts = ["Счёт неверный", "Хамство в офисе", "Всё хорошо", "rude staff", ""]
        for n, comment in enumerate(texts * 3):
            ingest(
                survey=survey,
                answers={1: n % 11, 4: comment} if comment else {1: n % 11},
                channel="api",
                submitted_at=WHEN,
                customer=customer,
                contact=cls.contact if n < 5 else None,
            )

    def test_a_rebuild_enriches_every_comment_and_a_second_finds_nothing_to_do(self):
        done = []
        rebuilt = services.rebuild(progress=lambda n, to_do: done.append((n, to_do)), batch=5)
        self.assertEqual((rebuilt.comments, rebuilt.total), (12, 12))
        self.assertEqual(done, [(5, 12), (10, 12), (12, 12)])
        self.assertEqual(CommentInsight.objects.count(), 12)
        self.assertEqual(services.rebuild().comments, 0)

    def test_it_resumes_where_a_stopped_rebuild_was_and_redoes_what_a_taxonomy_change_made_stale(
        self,
    ):
        first = queries.stale_comments("linear", queries.taxonomy().version, after=0, limit=4)
        services.enrich(first)  # a rebuild stopped after its first batch
        self.assertEqual(services.rebuild().comments, 8)
        theme = Theme.objects.get(code="rudeness")
        theme.phrases_en = "rude\nimpolite"
        theme.save()
        stale = queries.comment_counts("linear", queries.taxonomy().version)
        self.assertEqual(stale, (12, 0))
        self.assertEqual(services.rebuild().comments, 12)
        self.assertEqual(queries.comment_counts("linear", queries.taxonomy().version), (12, 12))

    def test_the_command_says_what_is_current_and_rebuilds(self):
        out = io.StringIO()
        with self.assertRaisesMessage(CommandError, "12 comments are not current"):
            call_command("text", "status", stdout=out)
        call_command("text", "rebuild", verbosity=0, stdout=out)
        self.assertIn("Comments enriched: 12 now; 12 in all.", out.getvalue())
        call_command("text", "status", stdout=out)  # exits 0 now
        self.assertIn("Comments: 12; current: 12", out.getvalue())

    def test_an_engine_that_does_not_exist_is_refused_by_name(self):
        with (
            mock.patch.dict(os.environ, {"CXLOOP_TEXT_ENGINE": "gpt"}),
            self.assertRaisesMessage(CommandError, "CXLOOP_TEXT_ENGINE"),
        ):
            call_command("text", "rebuild", verbosity=0)
        self.assertFalse(CommentInsight.objects.exists())

    def test_erasing_a_contact_removes_what_was_found_in_their_comments(self):
        services.rebuild()
        erase_contact(self.contact.pk)
        self.assertEqual(CommentInsight.objects.count(), 8)  # their four comments are gone
        self.assertFalse(CommentInsight.objects.filter(answer__text="").exists())


class ThemeTests(TestCase):
    def test_a_phrase_without_a_word_is_refused_naming_its_field_and_phrase(self):
        with translation.override("ru"), self.assertRaises(ValidationError) as refused:
            services.save_theme(
                None, code="price", name_ru="Цена", name_en="Price", phrases_ru="дорого\nне"
            )
        self.assertEqual(list(refused.exception.message_dict), ["phrases_ru"])
        self.assertIn("«не»", refused.exception.message_dict["phrases_ru"][0])
        self.assertFalse(Theme.objects.exists())

    def test_the_taxonomys_version_follows_its_phrases_and_not_its_names(self):
        theme = services.save_theme(
            None, code="price", name_ru="Цена", name_en="Price", phrases_en="expensive"
        )
        before = queries.taxonomy()
        self.assertEqual(before.phrases, {"price": ["expensive"]})
        services.save_theme(theme, name_en="Fees")
        self.assertEqual(queries.taxonomy().version, before.version)
        services.save_theme(theme, phrases_ru="дорого")
        self.assertNotEqual(queries.taxonomy().version, before.version)
        services.save_theme(theme, is_active=False)
        self.assertEqual(queries.taxonomy().phrases, {})


class NoCommentNoTaskTests(TestCase):
    def test_an_announcement_without_comments_enqueues_no_enrichment(self):
        survey = make_survey()
        silent = ingest(survey=survey, answers={1: 9}, channel="api").response
        talking = ingest(survey=survey, answers={1: 2, 4: "Долго"}, channel="api").response
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            on_responses_recorded(None, response_ids=[silent.pk], months=set())
        self.assertEqual(callbacks, [])
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            on_responses_recorded(None, response_ids=[silent.pk, talking.pk], months=set())
        self.assertEqual(len(callbacks), 1)
        task = DBTaskResult.objects.get(task_path="cxloop.comments.tasks.enrich_comments")
        self.assertEqual(task.args_kwargs["args"], [[silent.pk, talking.pk]])
