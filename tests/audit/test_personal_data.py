"""``cxloop personal-data export|erase`` and the retention rules.

After an erasure no table (the whole SQLite dump; every text column on PostgreSQL), no Parquet
file of the fact store and no cache entry holds the contact's name, e-mail, phone or comments,
while the scored answers — what the dashboards aggregate — are all still there.
"""

import datetime as dt
import io
import json
import pickle
import tempfile
import zipfile
import zlib
from pathlib import Path

import pyarrow.parquet as pq
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cxloop.audit.models import AuditEvent
from cxloop.customers.models import Contact, Customer
from cxloop.facts import store, sync
from cxloop.feedback.models import FaceToFaceRecord
from cxloop.feedback.services import AgreedFollowUp, Feedback, ingest_many, log_face_to_face
from cxloop.people.models import Employee, Role
from cxloop.privacy import services
from cxloop.surveys.models import Answer, Invitation, Question, Response, Survey
from cxloop.test import PASSWORD, BaseTestCase, OwnFactStore
from tests.surveys.test_respond import make_survey

NAME = "Zoltan Quibblesworth"
EMAIL = "zoltan.quibble@example.net"
PHONE = "+7 999 555-01-23"
COMMENT = "marmalade kettle arrived cold"
FORMULA = '=HYPERLINK("http://evil.example")'
SECRETS = (NAME, EMAIL, PHONE, COMMENT, "HYPERLINK")
JAN = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)
FEB = dt.datetime(2026, 2, 3, 8, 15, tzinfo=dt.UTC)


def database_text() -> str:
    """Every value of every table, lower-cased: the SQLite dump, or on PostgreSQL every text-like
    column of every table of the schema, read independently of the code under test."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump()).lower()
    parts = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type IN "
            "('text', 'character varying', 'jsonb', 'json', 'character')"
        )
        for table, column in cursor.fetchall():
            cursor.execute(f'SELECT "{column}"::text FROM "{table}"')
            parts.extend(str(v) for (v,) in cursor.fetchall() if v is not None)
    return "\n".join(parts).lower()


def parquet_text(root: Path) -> str:
    """The bytes of every file of the fact store and the values of every Parquet table."""
    parts = []
    for path in root.rglob("*"):
        if path.is_file():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
            if path.suffix == ".parquet":
                parts.append(json.dumps(pq.read_table(path).to_pylist(), default=str))
    return "\n".join(parts).lower()


def cache_text() -> str:
    """Every entry of the file cache, unpickled (Django stores them zlib-compressed)."""
    parts = []
    for path in Path(settings.CACHES["default"]["LOCATION"]).glob("*.djcache"):
        with path.open("rb") as file:
            pickle.load(file)  # the expiry time
            parts.append(repr(pickle.loads(zlib.decompress(file.read()))))
    return "\n".join(parts).lower()


def found(text: str) -> list[str]:
    return [s for s in SECRETS if s.lower() in text]


class PersonalData(OwnFactStore, BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.admin = User.objects.create_user("cx.lead", "lead@example.org", PASSWORD)
        Employee.objects.create(user=cls.admin, team=cls.firm, role=Role.ADMIN)
        cls.acme = Customer.objects.create(external_id="C-1", name="Acme", owner=cls.owner.employee)
        cls.zoltan = Contact.objects.create(
            customer=cls.acme, name=NAME, email=EMAIL, phone=PHONE, consent=True
        )
        cls.other = Contact.objects.create(customer=cls.acme, name="Olga Other", email="o@acme.ru")
        cls.survey = make_survey()  # 1 nps, 2 csat, 3 text, 4 text
        cls.invitation = Invitation.objects.create(
            survey=cls.survey,
            contact=cls.zoltan,
            token_hash="a" * 64,
            created_at=JAN - dt.timedelta(days=1),
            expires_at=JAN + dt.timedelta(days=30),
        )
        ingest_many(
            survey=cls.survey,
            items=[
                Feedback(
                    {1: 3, 2: 2, 3: COMMENT, 4: FORMULA},
                    JAN,
                    "email",
                    customer=cls.acme,
                    contact=cls.zoltan,
                    source_key=EMAIL,
                ),
                Feedback({1: 9, 2: 5}, FEB, "web", customer=cls.acme, contact=cls.zoltan),
                Feedback({1: 10, 4: "fine"}, FEB, "email", customer=cls.acme, contact=cls.other),
            ],
        )
        Response.objects.filter(contact=cls.zoltan, submitted_at=JAN).update(
            invitation=cls.invitation
        )
        guide = Survey.objects.create(name_ru="Встреча", name_en="Meeting", kind="interview")
        nps = Question.objects.create(survey=guide, order=1, kind="nps", text_ru="n", text_en="n")
        log_face_to_face(
            guide=guide,
            kind="visit",
            customer=cls.acme,
            employee=cls.owner.employee,
            met_on=dt.date(2026, 2, 10),
            language="en",
            values={nps.pk: 8},
            contacts=[cls.zoltan, cls.other],
            notes=f"Met {NAME} and Olga; {NAME.upper()} wants {EMAIL} kept off lists.",
            follow_ups=[
                AgreedFollowUp(f"Call {NAME} back", cls.owner.employee, dt.date(2026, 2, 20))
            ],
        )

        if apps.is_installed("cxloop.outbox"):  # an e-mail sent to them, kept by the outbox
            apps.get_model("outbox", "OutboxMessage").objects.create(
                kind="notification",
                recipient=f"{NAME} <{EMAIL}>",
                subject=f"Dear {NAME}",
                text=f"Dear {NAME}, thank you.",
                message_id="<erase-test@cxloop>",
                state="sent",
                created_at=FEB,
                sent_at=FEB,
            )

    def setUp(self):
        cache.clear()
        self.client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    def scored(self) -> list[tuple[int, int | None]]:
        return sorted(Answer.objects.exclude(score=None).values_list("question_id", "score"))

    def stored_scores(self) -> list[tuple[int, int]]:
        rows = []
        for month in store.read_manifest().months:
            table = store.read_month("answers", month)
            rows += zip(table["response_id"].to_pylist(), table["score"].to_pylist(), strict=True)
        return sorted(rows)

    def test_it_exports_everything_held_about_the_contact(self):
        with tempfile.TemporaryDirectory() as folder:
            out = io.StringIO()
            call_command(
                "personal-data", "export", "--contact", self.zoltan.pk, "--out", folder, stdout=out
            )
            files = {p.name: p.read_text() for p in Path(folder).iterdir()}
        data = json.loads(files[f"contact-{self.zoltan.pk}.json"])
        self.assertEqual(data["contact"]["email"], EMAIL)
        self.assertEqual(data["customer"]["external_id"], "C-1")
        self.assertEqual(len(data["responses"]), 3)  # two answered, the meeting's scores
        texts = [a["text"] for r in data["responses"] for a in r["answers"] if a["text"]]
        self.assertEqual(sorted(texts), sorted([COMMENT, FORMULA]))
        self.assertEqual([i["id"] for i in data["invitations"]], [self.invitation.pk])
        self.assertIn(NAME, data["face_to_face_records"][0]["notes"])
        self.assertIn(COMMENT, files["answers.csv"])
        self.assertIn("'" + FORMULA.replace('"', '""'), files["answers.csv"])  # not a formula
        self.assertNotIn(",=HYPERLINK", files["answers.csv"])
        self.assertIn(EMAIL, files["contact.csv"])
        export = AuditEvent.objects.get(action="export", object_id=str(self.zoltan.pk))
        self.assertEqual(export.details["responses"], 3)

    def test_it_erases_the_contact_everywhere_and_keeps_the_scores(self):
        sync.rebuild()
        # What pages would have cached: a result holding the contact's comment and name.
        cache.set("insights:comments", [{"text": COMMENT, "who": NAME}])
        version = store.read_manifest().version
        scores, stored = self.scored(), self.stored_scores()
        responses = Response.objects.count()
        self.assertEqual(sorted(found(database_text())), sorted(SECRETS))  # the probes see them
        self.assertEqual(found(cache_text()), [NAME, COMMENT])
        pk = self.zoltan.pk

        out = io.StringIO()
        call_command("personal-data", "erase", "--contact", pk, "--yes", stdout=out)

        result = json.loads(out.getvalue())
        self.assertEqual(result["traces"], [])
        self.assertEqual(
            (result["responses"], result["comments"], result["invitations"]), (3, 2, 1)
        )  # two surveys answered and the meeting's scores
        if apps.is_installed("cxloop.outbox"):
            self.assertEqual(result["messages"], 1)
        self.assertEqual(found(database_text()), [])
        self.assertEqual(found(parquet_text(store.root())), [])
        self.assertEqual(found(cache_text()), [])
        self.assertFalse(Contact.objects.filter(pk=pk).exists())
        self.assertFalse(Invitation.objects.filter(pk=self.invitation.pk).exists())
        # the aggregates: every scored answer is still there, in the database and the store
        self.assertEqual(self.scored(), scores)
        self.assertEqual(self.stored_scores(), stored)
        self.assertEqual(Response.objects.count(), responses)
        self.assertNotEqual(store.read_manifest().version, version)  # its months rewritten
        self.assertEqual(Response.objects.filter(source_key=EMAIL).count(), 0)
        # the other participant keeps their record and notes
        record = FaceToFaceRecord.objects.get()
        self.assertEqual(list(record.contacts.all()), [self.other])
        self.assertIn("Olga", record.notes)
        self.assertEqual(record.notes.count(services.ERASED), 3)
        # the log keeps the fact, not the person
        erased = AuditEvent.objects.get(action="erase", object_id=str(pk))
        self.assertEqual(erased.details["comments"], 2)
        self.assertTrue(
            AuditEvent.objects.filter(
                action="delete", object_kind="contact", object_id=str(pk)
            ).exists()
        )

    def test_it_refuses_an_unknown_contact(self):
        with self.assertRaisesMessage(CommandError, "no contact with id 999999"):
            call_command("personal-data", "erase", "--contact", 999999, "--yes")
        with self.assertRaisesMessage(CommandError, "needs --contact"):
            call_command("personal-data", "export")

    def test_the_page_shows_exports_and_erases_for_admins_only(self):
        url = reverse("personal_data")
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(url, {"contact": self.zoltan.pk}).status_code, 403)
        export = reverse("personal_data_export", args=[self.zoltan.pk])
        self.assertEqual(self.client.post(export).status_code, 403)
        self.client.force_login(self.admin)
        page = self.client.get(url, {"contact": self.zoltan.pk})
        self.assertContains(page, NAME)
        self.assertContains(page, reverse("contact_detail", args=[self.zoltan.pk]))
        self.assertTrue(
            AuditEvent.objects.filter(
                action="read", object_kind="contact", object_id=str(self.zoltan.pk)
            ).exists()
        )
        self.assertContains(
            self.client.get(url, {"contact": "99999999999999999999999"}), "contact: expected"
        )
        download = self.client.post(export)
        self.assertEqual(download["Content-Type"], "application/zip")
        names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
        self.assertIn("answers.csv", names)
        erase = reverse("personal_data_erase", args=[self.zoltan.pk])
        self.client.post(erase, {"confirm": "1" + str(self.zoltan.pk)})
        self.assertTrue(Contact.objects.filter(pk=self.zoltan.pk).exists())
        self.client.post(erase, {"confirm": str(self.zoltan.pk)})
        self.assertFalse(Contact.objects.filter(pk=self.zoltan.pk).exists())

    def test_retention_blanks_old_comments_deletes_old_responses_and_stale_contacts(self):
        now = dt.datetime(2026, 2, 20, tzinfo=dt.UTC)
        with override_settings(RETENTION_COMMENTS_DAYS=30):  # January's comments go
            self.assertEqual(services.apply_retention(now=now).comments_blanked, 2)
        self.assertEqual(Answer.objects.filter(text=COMMENT).count(), 0)
        self.assertEqual(Answer.objects.filter(text="fine").count(), 1)
        before = Response.objects.count()
        with override_settings(RETENTION_RESPONSES_DAYS=30):
            self.assertEqual(services.apply_retention(now=now).responses_deleted, 1)
        self.assertEqual(Response.objects.count(), before - 1)
        # every contact's last trace is its audited creation (today) or a February answer
        later = timezone.now() + dt.timedelta(days=400)
        with override_settings(RETENTION_CONTACTS_DAYS=365):
            self.assertEqual(services.apply_retention(now=now).contacts_erased, 0)
            self.assertEqual(services.apply_retention(now=later).contacts_erased, 2)
        self.assertFalse(Contact.objects.exists())
        self.assertEqual(services.apply_retention(now=later).to_dict()["contacts_erased"], 0)

    def test_retention_runs_once_a_day(self):
        now = timezone.now()
        self.assertIsNotNone(services.apply_retention_daily(now=now))
        self.assertIsNone(services.apply_retention_daily(now=now + dt.timedelta(minutes=5)))
