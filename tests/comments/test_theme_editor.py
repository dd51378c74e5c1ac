"""The theme editor: only the CX lead changes themes (others may read the list); a phrase the
matcher cannot read is refused beside its field with nothing saved; the preview tries the draft
on the latest comments (capped), marks the matched words in escaped text and says what the
change gains and loses; the spot-check stores one verdict per comment and shows the precision
with its Wilson interval; "Re-match comments now" queues one background rebuild; every change
is in the audit log, field by field."""

import datetime as dt

from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from statsmodels.stats.proportion import proportion_confint

from cxloop.audit.models import AuditEvent
from cxloop.comments import checks, preview, services
from cxloop.comments.models import CommentTheme, Theme, ThemeCheck
from cxloop.customers.models import Customer
from cxloop.feedback.services import ingest
from cxloop.people.models import Employee, Role
from cxloop.test import BaseTestCase
from tests.surveys.test_respond import make_survey

WHEN = dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC)
REBUILD = "cxloop.comments.rebuild_task.rebuild_comments"

# In the order recorded: the preview reads the latest first.
COMMENTS = [
    "Счёт пришёл дважды",  # billing, saved and draft
    "Списание без предупреждения",  # saved phrases only: lost by the draft
    "The invoice was <b>wrong</b>",  # draft only: gained
    "Всё хорошо, спасибо",  # neither
    "Счета и invoice, опять счета",  # both
]


class ThemeEditorTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        cls.theme = Theme.objects.create(
            code="billing",
            name_ru="Счета",
            name_en="Billing",
            phrases_ru="счёт\nсписание",
            order=1,
        )
        survey = make_survey()
        customer = Customer.objects.create(external_id="C-1", name="Acme")
        cls.answers = []
        for n, comment in enumerate(COMMENTS):
            response = ingest(
                survey=survey,
                answers={1: n, 4: comment},
                channel="api",
                submitted_at=WHEN + dt.timedelta(hours=n),
                customer=customer,
            ).response
            cls.answers.append(response.answers.get(question__order=4).pk)

    def setUp(self):
        self.client.force_login(self.lead)

    def form(self, **fields) -> dict:
        data = {
            "code": "billing",
            "name_ru": "Счета",
            "name_en": "Billing",
            "phrases_ru": "счёт\nсписание",
            "phrases_en": "",
            "is_active": "on",
            "order": "1",
            "save": "1",
        }
        data.update(fields)
        return data

    def edit_url(self, theme=None) -> str:
        return reverse("theme_edit", args=[(theme or self.theme).pk])

    # --- roles ----------------------------------------------------------------------------

    def test_it_sends_anyone_signed_out_to_sign_in(self):
        self.client.logout()
        for url in (reverse("theme_list"), reverse("theme_new"), self.edit_url()):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 302, url)
            self.assertIn(reverse("login"), response["Location"])

    def test_only_the_cx_lead_may_see_the_list_and_edit(self):
        # The list counts every team's comments: no one else's page (nor in their menu).
        for user in (self.viewer, self.teammate, self.owner):
            self.client.force_login(user)
            self.assertEqual(self.client.get(reverse("theme_list")).status_code, 403)
            writes = [
                (reverse("theme_new"), self.form(code="price")),
                (self.edit_url(), self.form(phrases_ru="цена")),
                (reverse("theme_check", args=[self.theme.pk]), {"answer": "1", "verdict": "right"}),
                (reverse("theme_list"), {"rematch": "1"}),
            ]
            for url, data in writes:
                self.assertEqual(self.client.post(url, data).status_code, 403, (user, url))
            self.assertEqual(self.client.get(self.edit_url()).status_code, 403)
        self.theme.refresh_from_db()
        self.assertEqual(self.theme.phrases_ru, "счёт\nсписание")
        self.assertEqual(Theme.objects.count(), 1)
        self.assertFalse(ThemeCheck.objects.exists())
        self.assertFalse(DBTaskResult.objects.filter(task_path=REBUILD).exists())

    def test_the_cx_lead_sees_the_editing_links(self):
        listed = self.client.get(reverse("theme_list"))
        self.assertContains(listed, reverse("theme_new"))
        self.assertContains(listed, self.edit_url())

    # --- saving and the audit log ---------------------------------------------------------

    def test_it_creates_and_changes_a_theme_and_logs_each_field_changed(self):
        response = self.client.post(
            reverse("theme_new"),
            self.form(code="rudeness", name_ru="Грубость", name_en="Rudeness", phrases_ru="грубый"),
        )
        created = Theme.objects.get(code="rudeness")
        self.assertRedirects(response, self.edit_url(created))
        self.assertEqual(created.phrases, ["грубый"])
        event = AuditEvent.objects.get(object_kind="theme", action="create")
        self.assertEqual(event.object_id, str(created.pk))
        self.assertEqual(event.actor, "lead")

        self.client.post(
            self.edit_url(created),
            self.form(
                code="rudeness",
                name_ru="Грубость",
                name_en="Rudeness",
                phrases_ru=" грубый\r\n\r\nхамство ",  # blank lines and spaces go
                is_active="",
            ),
        )
        change = AuditEvent.objects.get(object_kind="theme", action="change")
        self.assertEqual(
            change.details["changes"],
            {"phrases_ru": ["грубый", "грубый\nхамство"], "is_active": [True, False]},
        )
        page = self.client.get(self.edit_url(created))
        self.assertContains(page, "хамство")  # in the theme's history
        self.assertEqual(len(page.context["history"]), 2)

    def test_a_bad_phrase_is_refused_beside_its_field_and_nothing_is_saved(self):
        response = self.client.post(self.edit_url(), self.form(phrases_en="refund\n!!!"))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(list(response.context["form"].errors), ["phrases_en"])
        self.assertContains(response, 'id="id_phrases_en-error"', status_code=400)
        self.assertIn("!!!", response.context["form"].errors["phrases_en"][0])
        self.theme.refresh_from_db()
        self.assertEqual(self.theme.phrases_en, "")
        self.assertFalse(AuditEvent.objects.filter(object_kind="theme").exists())

        new = self.client.post(reverse("theme_new"), self.form(code="price", phrases_ru="—"))
        self.assertEqual(list(new.context["form"].errors), ["phrases_ru"])
        # A negation alone has a lemma but no word the matcher could look for.
        negation = self.client.post(reverse("theme_new"), self.form(code="no", phrases_ru="не"))
        self.assertEqual(list(negation.context["form"].errors), ["phrases_ru"])
        self.assertEqual(Theme.objects.count(), 1)

    def test_a_code_taken_is_refused_beside_its_field(self):
        response = self.client.post(reverse("theme_new"), self.form(name_en="Bills"))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(list(response.context["form"].errors), ["code"])
        self.assertEqual(Theme.objects.count(), 1)

    # --- preview --------------------------------------------------------------------------

    def test_the_preview_counts_and_marks_what_the_draft_matches_and_saves_nothing(self):
        draft = self.form(phrases_ru="счёт", phrases_en="invoice", save="", preview="1")
        del draft["save"]
        response = self.client.post(self.edit_url(), draft)
        self.assertEqual(response.status_code, 200)
        shown = response.context["preview"]
        self.assertEqual((shown.read, shown.matched), (5, 3))
        # Latest first: "Счета и invoice, опять счета", "The invoice was <b>wrong</b>", "Счёт…"
        self.assertEqual(
            [example.answer_id for example in shown.examples],
            [self.answers[4], self.answers[2], self.answers[0]],
        )
        self.assertEqual(
            str(shown.examples[0].html),
            "<mark>Счета</mark> и <mark>invoice</mark>, опять <mark>счета</mark>",
        )
        self.assertEqual(
            str(shown.examples[1].html), "The <mark>invoice</mark> was &lt;b&gt;wrong&lt;/b&gt;"
        )
        self.assertContains(response, "&lt;b&gt;wrong&lt;/b&gt;")
        self.assertNotContains(response, "<b>wrong</b>")
        # Against the saved phrases (счёт, списание): "invoice" gains one, dropping "списание"
        # loses one.
        self.assertTrue(shown.compared)
        self.assertEqual((shown.gained, shown.lost), (1, 1))
        self.assertEqual([e.answer_id for e in shown.gained_examples], [self.answers[2]])
        self.assertEqual([e.answer_id for e in shown.lost_examples], [self.answers[1]])
        self.assertEqual(
            str(shown.lost_examples[0].html), "<mark>Списание</mark> без предупреждения"
        )
        self.theme.refresh_from_db()
        self.assertEqual(self.theme.phrases, ["счёт", "списание"])
        self.assertFalse(AuditEvent.objects.filter(object_kind="theme").exists())

    def test_a_new_themes_preview_compares_with_nothing(self):
        draft = self.form(code="thanks", phrases_ru="спасибо")
        del draft["save"]
        response = self.client.post(reverse("theme_new"), {**draft, "preview": "1"})
        shown = response.context["preview"]
        self.assertEqual((shown.matched, shown.compared), (1, False))
        self.assertEqual(Theme.objects.count(), 1)

    def test_a_preview_of_a_bad_phrase_is_refused_beside_its_field(self):
        draft = self.form(phrases_ru="счёт\n…")
        del draft["save"]
        response = self.client.post(self.edit_url(), {**draft, "preview": "1"})
        self.assertEqual(response.status_code, 400)
        self.assertIsNone(response.context["preview"])
        self.assertEqual(list(response.context["form"].errors), ["phrases_ru"])

    def test_the_preview_reads_only_the_latest_comments(self):
        self.assertEqual(preview.PREVIEW_COMMENTS, 5000)
        shown = preview.preview(["счёт"], limit=2)
        self.assertEqual((shown.read, shown.matched), (2, 1))  # the two latest: 5th and 4th
        self.assertEqual([e.answer_id for e in shown.examples], [self.answers[4]])
        few = preview.preview(["счёт", "invoice"], examples=1, changes=0, saved=["счёт"])
        self.assertEqual((few.matched, len(few.examples)), (3, 1))
        self.assertEqual((few.gained, few.gained_examples), (1, []))

    # --- spot-checks ----------------------------------------------------------------------

    def check(self, answer, verdict="right"):
        return self.client.post(
            reverse("theme_check", args=[self.theme.pk]),
            {"answer": str(answer), "verdict": verdict},
        )

    def test_a_verdict_is_stored_once_per_comment_and_the_precision_shown(self):
        services.rebuild()
        matched = sorted(
            CommentTheme.objects.filter(theme=self.theme).values_list("insight_id", flat=True)
        )
        self.assertEqual(matched, [self.answers[0], self.answers[1], self.answers[4]])
        page = self.client.get(self.edit_url())
        offered = [answer for answer, _text in page.context["to_check"]]
        self.assertEqual(sorted(offered), matched)
        self.assertEqual(offered, [a for a, _t in checks.to_check(self.theme)])  # stable

        response = self.check(self.answers[0], "wrong")
        self.assertRedirects(response, self.edit_url() + "#check", fetch_redirect_response=False)
        self.check(self.answers[0], "right")  # replaces the first verdict
        self.check(self.answers[1], "wrong")
        stored = ThemeCheck.objects.get(theme=self.theme, answer_id=self.answers[0])
        self.assertTrue(stored.is_right)
        self.assertEqual(stored.checked_by, Employee.objects.get(user__username="lead"))
        self.assertEqual(ThemeCheck.objects.count(), 2)

        page = self.client.get(self.edit_url())
        self.assertEqual([a for a, _t in page.context["to_check"]], [self.answers[4]])
        estimate = page.context["precision"]
        low, high = proportion_confint(1, 2, alpha=0.05, method="wilson")  # statsmodels
        self.assertAlmostEqual(estimate.value, 50.0)
        self.assertAlmostEqual(estimate.low, 100 * low, places=6)
        self.assertAlmostEqual(estimate.high, 100 * high, places=6)
        self.assertEqual((page.context["counts"].right, page.context["counts"].checked), (1, 2))
        listed = self.client.get(reverse("theme_list"))
        row = listed.context["rows"][0]
        self.assertEqual((row["counts"].comments, row["counts"].checked), (3, 2))
        self.assertAlmostEqual(row["precision"].value, 50.0)
        self.assertContains(listed, 'class="num precision">50&nbsp;%')

    def test_a_verdict_on_a_comment_the_theme_did_not_match_is_refused(self):
        services.rebuild()
        for answer, verdict in (
            (self.answers[3], "right"),  # "Всё хорошо": not billing
            ("x1", "right"),
            (self.answers[0], "maybe"),
        ):
            response = self.check(answer, verdict)
            self.assertEqual(response.status_code, 302)
            page = self.client.get(response["Location"])
            shown = [str(message) for message in page.context["messages"]]
            self.assertEqual(len(shown), 1, shown)
            self.assertIn(str(answer) if verdict != "maybe" else "maybe", shown[0])
        self.assertFalse(ThemeCheck.objects.exists())
        self.assertIsNone(self.client.get(self.edit_url()).context["precision"])

    def test_a_check_no_longer_counts_once_the_theme_stops_matching_its_comment(self):
        services.rebuild()
        checks.record_check(self.theme, self.answers[1], True, None)
        self.assertEqual(checks.counts_of(self.theme).checked, 1)
        services.save_theme(self.theme, phrases_ru="счёт")
        services.rebuild()
        self.assertEqual(checks.counts_of(self.theme).checked, 0)

    # --- re-matching ----------------------------------------------------------------------

    def test_re_matching_queues_one_rebuild(self):
        page = self.client.get(self.edit_url())
        self.assertEqual((page.context["total"], page.context["stale"]), (5, 5))
        self.assertContains(page, 'id="rematch"')
        response = self.client.post(self.edit_url(), {"rematch": "1"})
        self.assertRedirects(response, self.edit_url(), fetch_redirect_response=False)
        self.client.post(reverse("theme_list"), {"rematch": "1"})  # already waiting
        queued = DBTaskResult.objects.filter(task_path=REBUILD)
        self.assertEqual(queued.count(), 1)
        self.assertEqual(queued.get().status, "READY")
        self.assertContains(self.client.get(self.edit_url()), 'id="rematch-state"')

        queued.get().task.call()  # what the worker does
        self.assertEqual(self.client.get(self.edit_url()).context["stale"], 0)
