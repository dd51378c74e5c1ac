"""The one way in: every channel's completed responses are announced to consumers once, after
the commit; the rules (pulse, closed survey, clock skew, scope) refuse with nothing written."""

import datetime as dt
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from django.core.management import call_command
from django.db import transaction
from django.test import TransactionTestCase
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cxloop.customers.models import Customer
from cxloop.feedback.services import (
    ClosedSurvey,
    Feedback,
    FutureSubmission,
    PulseSurvey,
    ingest,
    ingest_many,
    log_face_to_face,
)
from cxloop.people.services import OutOfScope
from cxloop.surveys.announce import announce_pending, announce_recorded
from cxloop.surveys.models import Question, Response, Survey
from cxloop.surveys.services import (
    answer_pulse,
    begin,
    begin_open,
    issue_invitation,
    save_page,
)
from cxloop.surveys.signals import responses_recorded
from tests.api.base import WHEN, ApiTestCase
from tests.cases.test_evaluate import database_url
from tests.surveys.test_respond import make_survey


def pulse_survey() -> Survey:
    pulse = Survey.objects.create(name_ru="Пульс", name_en="Pulse", kind="pulse", is_anonymous=True)
    Question.objects.create(survey=pulse, order=1, kind="nps", text_ru="?", text_en="?")
    return pulse


class Deliveries:
    """A consumer of responses_recorded that counts each id it is given."""

    def __init__(self, test, *, fail_times: int = 0):
        self.ids: Counter = Counter()
        self.months: set[str] = set()
        self.fail_times = fail_times
        responses_recorded.connect(self, dispatch_uid=f"test-deliveries-{id(self)}")
        test.addCleanup(responses_recorded.disconnect, dispatch_uid=f"test-deliveries-{id(self)}")

    def __call__(self, sender, *, response_ids, months, **kwargs):
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("the consumer failed")
        self.ids.update(response_ids)
        self.months |= set(months)


class ChannelTests(ApiTestCase):
    def setUp(self):
        self.deliveries = Deliveries(self)

    def _every_channel(self) -> list[int]:
        """One completed response through each channel; their ids."""
        api = self.post({"survey_id": self.survey.pk, "answers": {"1": 3}}, key="api-1")
        self.assertEqual(api.status_code, 201, api.content)
        contact = self.ann
        invitation, _token = issue_invitation(self.survey, contact, now=WHEN)
        page = begin(invitation, now=WHEN)
        first = self.survey.questions.get(order=1)
        save_page(page, [first], {first.pk: 2}, page=1, language="en", now=WHEN, finish=True)
        link = begin_open(self.survey, channel="qr", language="ru", now=WHEN)
        save_page(link, [first], {first.pk: 8}, page=1, language="ru", now=WHEN, finish=True)
        ingest_many(
            survey=self.survey,
            items=[Feedback({1: 9}, WHEN, "import", customer=self.acme, source_key="row-1")],
        )
        guide = Survey.objects.create(name_ru="Встреча", name_en="Meeting", kind="interview")
        nps = Question.objects.create(survey=guide, order=1, kind="nps", text_ru="?", text_en="?")
        meeting = log_face_to_face(
            guide=guide,
            kind="visit",
            customer=self.acme,
            employee=self.teammate.employee,
            met_on=WHEN.date(),
            language="ru",
            values={nps.pk: 4},
        )
        imported = Response.objects.get(source_key="row-1")
        api_id = Response.objects.get(source_key="api-1").pk
        return [api_id, page.pk, link.pk, imported.pk, meeting.response_id]

    def test_it_announces_every_channel_once_after_the_commit(self):
        with self.captureOnCommitCallbacks(execute=True):
            ids = self._every_channel()
        # Committed (any callback run), the writers have asked for nothing: no task row, and
        # nothing was announced inside the request…
        self.assertFalse(DBTaskResult.objects.exists())
        self.assertFalse(self.deliveries.ids)
        # …the worker's round announces what they committed.
        self.assertEqual(announce_pending(), 5)
        self.assertEqual(announce_pending(), 0)  # a second announcer finds nothing
        self.assertEqual(self.deliveries.ids, Counter(ids))
        self.assertEqual(self.deliveries.months, {"2026-03"} | {timezone.now().strftime("%Y-%m")})
        self.assertFalse(Response.objects.filter(pk__in=ids, announced_at=None).exists())

    def test_it_announces_neither_pulse_answers_nor_unfinished_responses(self):
        pulse = pulse_survey()
        first = pulse.questions.get(order=1)
        self.assertTrue(answer_pulse(pulse, self.teammate.employee, {first.pk: 7}, now=WHEN))
        begin_open(self.survey, channel="web", language="ru", now=WHEN)
        self.assertEqual(announce_pending(), 0)
        self.assertFalse(self.deliveries.ids)

    def test_a_replayed_key_is_announced_once(self):
        for _ in range(2):
            self.post({"survey_id": self.survey.pk, "answers": {"1": 3}}, key="api-1")
        announce_pending()
        self.assertEqual(list(self.deliveries.ids.values()), [1])

    def test_a_failed_announcement_is_announced_by_the_next_sweep(self):
        self.deliveries.fail_times = 1
        stored = self.stored()
        with self.assertRaises(RuntimeError):
            announce_pending()
        # The batch rolled back: still unannounced, and the consumer was given nothing.
        self.assertIsNone(Response.objects.get(pk=stored.pk).announced_at)
        self.assertEqual(announce_pending(), 1)
        self.assertEqual(self.deliveries.ids, Counter([stored.pk]))

    def test_a_response_whose_writer_died_before_on_commit_is_swept(self):
        stored = self.stored()  # a TestCase runs no on_commit callbacks: as if the process died
        self.assertFalse(DBTaskResult.objects.exists())
        self.assertEqual(announce_pending(), 1)
        self.assertEqual(self.deliveries.ids, Counter([stored.pk]))

    def test_a_task_queued_before_the_upgrade_announces_as_a_sweep(self):
        """A site upgraded with announcement tasks still queued: each runs as a sweep."""
        stored = self.stored()
        self.assertEqual(announce_recorded.call("2026-12-06T12:00:00+00:00"), {"announced": 1})
        self.assertEqual(self.deliveries.ids, Counter([stored.pk]))


class RefusalTests(ApiTestCase):
    """Each rule of the one way in refuses with nothing written and nothing to announce."""

    def assert_refused(self, error: type[Exception], write) -> None:
        before = Response.objects.count()
        with self.captureOnCommitCallbacks() as callbacks, self.assertRaises(error):
            write()
        self.assertEqual(Response.objects.count(), before)
        self.assertEqual(callbacks, [])

    def test_it_refuses_a_closed_survey_unless_the_key_was_stored(self):
        stored = self.stored(key="k-1")
        Survey.objects.filter(pk=self.survey.pk).update(is_active=False)
        self.survey.refresh_from_db()
        self.assert_refused(
            ClosedSurvey,
            lambda: ingest(survey=self.survey, answers={1: 9}, channel="api", source_key="k-2"),
        )
        again = ingest(survey=self.survey, answers={1: 9}, channel="api", source_key="k-1")
        self.assertEqual((again.response.pk, again.created), (stored.pk, False))

    def test_it_refuses_a_pulse_survey(self):
        pulse = pulse_survey()
        self.assert_refused(
            PulseSurvey, lambda: ingest(survey=pulse, answers={1: 9}, channel="api")
        )
        items = [Feedback({1: 9}, WHEN, "import")]
        self.assert_refused(PulseSurvey, lambda: ingest_many(survey=pulse, items=items))

    def test_it_refuses_a_submission_in_the_future(self):
        later = timezone.now() + dt.timedelta(minutes=6)
        self.assert_refused(
            FutureSubmission,
            lambda: ingest(survey=self.survey, answers={1: 9}, channel="api", submitted_at=later),
        )
        items = [Feedback({1: 9}, WHEN, "import"), Feedback({1: 9}, later, "import")]
        with self.assertRaises(FutureSubmission) as refused:
            ingest_many(survey=self.survey, items=items)
        self.assertIn("item 2", refused.exception.__notes__)
        self.assertEqual(Response.objects.count(), 0)

    def test_it_takes_a_clock_a_little_ahead(self):
        ahead = timezone.now() + dt.timedelta(minutes=4)
        result = ingest(survey=self.survey, answers={1: 9}, channel="api", submitted_at=ahead)
        self.assertTrue(result.created)

    def test_it_refuses_another_teams_customer(self):
        self.assert_refused(
            OutOfScope,
            lambda: ingest(
                survey=self.survey,
                answers={1: 9},
                channel="api",
                customer=self.beta,
                by=self.teammate.employee,
            ),
        )

    def test_the_api_names_the_rule(self):
        later = (timezone.now() + dt.timedelta(hours=1)).isoformat()
        answer = self.post(
            {"survey_id": self.survey.pk, "answers": {"1": 9}, "submitted_at": later}
        )
        self.assertEqual(answer.status_code, 422)
        self.assertIn("submitted_at", answer.json()["detail"])
        self.assertFalse(Response.objects.exists())


class RollbackTests(TransactionTestCase):
    def test_a_rolled_back_write_announces_nothing(self):
        deliveries = Deliveries(self)
        survey = make_survey()
        with self.assertRaises(RuntimeError), transaction.atomic():
            ingest(survey=survey, answers={1: 9}, channel="api", submitted_at=WHEN)
            raise RuntimeError("the request failed after the write")
        self.assertFalse(DBTaskResult.objects.exists())
        self.assertEqual(announce_pending(), 0)
        self.assertFalse(deliveries.ids)

    def test_the_worker_goes_on_when_a_consumer_fails_and_announces_next_round(self):
        deliveries = Deliveries(self, fail_times=10**6)
        stored = ingest(survey=make_survey(), answers={1: 9}, channel="api").response
        with self.assertLogs("cxloop.management.commands.worker", "ERROR"):
            call_command("worker", batch=True, verbosity=0)
        self.assertIsNone(Response.objects.get(pk=stored.pk).announced_at)
        deliveries.fail_times = 0  # the consumer is mended
        call_command("worker", batch=True, verbosity=0)
        self.assertEqual(deliveries.ids, Counter([stored.pk]))


# Two announcers at once -----------------------------------------------------------------------

ANNOUNCER = """
import os, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
django.setup()
from cxloop.surveys.announce import announce_pending
from cxloop.surveys.signals import responses_recorded
delivered = open(sys.argv[1], "a")
def probe(sender, *, response_ids, **kwargs):
    delivered.write("".join(f"{pk}\\n" for pk in response_ids))
    delivered.flush()
    time.sleep(0.02)  # a consumer's work, so that the two announcers overlap
responses_recorded.connect(probe)
print(announce_pending(batch=int(sys.argv[2])))
"""


class TwoAnnouncersTests(TransactionTestCase):
    """Committed responses; two real processes announce them at once (SQLite, or PostgreSQL
    when CXLOOP_DATABASE_URL names one)."""

    def test_two_announcers_deliver_each_response_once(self):
        survey = make_survey()
        customer = Customer.objects.create(external_id="C-1", name="Acme")
        items = [
            Feedback({1: i % 11}, WHEN - dt.timedelta(days=i % 60), "import", customer=customer)
            for i in range(600)
        ]
        ingest_many(survey=survey, items=items)
        folder = Path(self.enterContext(tempfile.TemporaryDirectory()))
        files = [folder / f"announcer-{n}.txt" for n in range(2)]
        environment = {**os.environ, "CXLOOP_DATABASE_URL": database_url()}
        announcers = [
            subprocess.Popen(
                [sys.executable, "-c", ANNOUNCER, str(path), "20"],
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for path in files
        ]
        outputs = [announcer.communicate(timeout=300) for announcer in announcers]
        for announcer, (_out, err) in zip(announcers, outputs, strict=True):
            self.assertEqual(announcer.returncode, 0, err[-3000:])
        delivered = Counter(int(line) for path in files for line in path.read_text().split())
        stored = set(Response.objects.values_list("pk", flat=True))
        self.assertEqual(set(delivered), stored)
        self.assertEqual(set(delivered.values()), {1})
        self.assertEqual(sum(int(out) for out, _err in outputs), 600)
        self.assertFalse(Response.objects.filter(announced_at=None).exists())
