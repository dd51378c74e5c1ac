"""The cycle review (issue #12, point 5): the page per role, its period and its errors, the PDF
in Russian and English with the page's figures and a chart, and the button that starts the next
cycle (proposed initiatives, once).

The world: the analytical pages' answers (Q1 2026, a target segment, so the journey map ranks
opportunities), an initiative on the kick-off meeting finished in February, and three detractor
cases of team A's customer opened in March, two contacted within their SLA."""

import datetime as dt
import io
import os
import re
from html import unescape
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cxloop.cases import services as cases
from cxloop.cases.choices import LoopChannel, Origin
from cxloop.cases.models import Case, SlaPolicy
from cxloop.facts.sync import rebuild
from cxloop.feedback.services import ingest
from cxloop.improvements import services
from cxloop.improvements.models import Initiative
from cxloop.people.models import Role
from cxloop.surveys.models import Survey
from tests.effect_data import finished
from tests.front.insight_data import InsightPageTestCase
from tests.improvements.data import propose, rollback_alert

try:
    import weasyprint  # noqa: F401  (loads Pango, a system library)

    HAS_PDF = True
except OSError:  # pragma: no cover - Pango missing: the README names the packages
    if os.environ.get("CI"):
        raise
    HAS_PDF = False

Q1 = {"since": "2026-01-01", "until": "2026-03-31"}
# reports/static/reports/print.css: the page's right margin, 18 mm in PDF points.
RIGHT_MARGIN_PT = 18 / 25.4 * 72


def _text_beyond_the_margin(page) -> list[str]:
    """The pieces of text on a PDF page that start right of its right margin: where each
    starts is its text matrix placed by the current transformation matrix (PDF 1.7, 9.4.4)."""
    right = float(page.mediabox.width) - RIGHT_MARGIN_PT
    beyond = []

    def visit(text, cm, tm, *_rest):
        if text.strip() and tm[4] * cm[0] + tm[5] * cm[2] + cm[4] > right:
            beyond.append(text)

    page.extract_text(visitor_text=visit)
    return beyond


HOUR = dt.timedelta(hours=1)


class CycleReviewTests(InsightPageTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        cls.done = finished(
            propose(cls.owner.employee, [cls.kickoff], now=dt.datetime(2026, 1, 2, tzinfo=dt.UTC)),
            effective_from=dt.date(2026, 2, 10),
            by=cls.lead.employee,
        )
        policy = SlaPolicy.objects.create(
            name_ru="Стандарт", name_en="Standard", first_contact_hours=4, resolution_hours=16
        )
        survey = Survey.objects.get(name_en="Survey")
        # More kick-off ratings, so that the effect has enough answers on both sides.
        for i in range(28):
            at = dt.datetime(2026, 1, 6, 11, tzinfo=dt.UTC) + dt.timedelta(days=3 * i)
            rating = 3 if at.date() < dt.date(2026, 2, 10) else 4 + i % 2
            ingest(
                survey=survey,
                answers={1: 2 * rating, 2: rating, 3: 3},
                channel="email",
                submitted_at=at,
                customer=cls.ours,
            )
        for day, contact_after in ((9, 1), (10, 2), (11, None)):
            opened = dt.datetime(2026, 3, day, 7, tzinfo=dt.UTC)
            response = ingest(
                survey=survey,
                answers={1: 2, 2: 1, 3: 1},
                channel="email",
                submitted_at=opened - HOUR,
                customer=cls.ours,
            ).response
            case = cases.open_case(
                origin=Origin.MANUAL,
                title="NPS 2",
                now=opened,
                customer=cls.ours,
                owner=cls.teammate.employee,
                sla_policy=policy,
                responses=[response],
                touchpoints=[cls.billing],
            )
            if contact_after is not None:
                cases.record_contact(
                    case,
                    LoopChannel.CALL,
                    by=cls.teammate.employee,
                    now=opened + contact_after * HOUR,
                )
        rebuild()

    def page(self, user, language="en", **params):
        self.client.force_login(user)
        return self.client.get("/cycle/", params or Q1, HTTP_ACCEPT_LANGUAGE=language)

    # -- the page ------------------------------------------------------------------------

    def test_it_shows_the_cycle_to_the_lead_with_its_figures(self):
        response = self.page(self.lead)
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn(f'data-initiative="{self.done.pk}"', html)
        self.assertIn("Kick-off meeting", html)
        # Two of three detractor cases contacted within the SLA: 67 %.
        self.assertEqual(response.context["total"].in_time_count, 2)
        self.assertRegex(html, r'id="in-time">67')
        self.assertIn('id="start-next-cycle"', html)
        self.assertIn("from=cycle_review", html)
        self.assertIn("/cycle/review.pdf?since=2026-01-01", html)
        self.assertIn('id="cycle-in-time"', html)

    def test_it_shows_the_last_complete_quarter_by_default(self):
        self.client.force_login(self.lead)
        response = self.client.get("/cycle/")
        self.assertEqual(response.status_code, 200)
        since, until = response.context["since"], response.context["until"]
        # A whole quarter, ended before today and less than a quarter ago.
        self.assertEqual((since.day, since.month % 3), (1, 1))
        after = until + dt.timedelta(days=1)
        self.assertEqual((after.day, after.month % 3), (1, 1))
        self.assertEqual((after.year - since.year) * 12 + after.month - since.month, 3)
        today = timezone.localdate()
        self.assertLess(until, today)
        self.assertLessEqual((today - after).days, 92)

    def test_it_names_the_field_of_a_bad_period_and_never_fails(self):
        for params, field in (
            ({"since": "2026-03-31", "until": "2026-01-01"}, "until"),
            ({"since": "2026-02-30", "until": "2026-03-31"}, "since"),
            ({"since": "2026-01-01"}, "until"),
            ({"quarter": "1999-Q9"}, "quarter"),
            ({"since": "2020-01-01", "until": "2026-01-01"}, "until"),
        ):
            with self.subTest(params=params):
                response = self.page(self.lead, **params)
                self.assertEqual(response.status_code, 200)
                self.assertIn(field, response.context["filters"].errors)
                pdf = self.client.get("/cycle/review.pdf", params)
                self.assertEqual(pdf.status_code, 400)
                self.assertIn(field, pdf.content.decode())

    def test_it_scopes_the_review_by_role(self):
        for user, status in (
            (self.lead, 200),
            (self.viewer, 200),
            (self.owner, 200),
            (self.teammate, 403),
            (self.outsider, 403),
        ):
            with self.subTest(user=user.username):
                self.assertEqual(self.page(user).status_code, status)
        # A manager of another team sees none of team A's initiatives or cases.
        manager_b = self._user("managerb", self.team_b, Role.MANAGER)
        response = self.page(manager_b)
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(f'data-initiative="{self.done.pk}"', response.content.decode())
        self.assertEqual(response.context["total"].cases, 0)
        # A viewer reads it but starts nothing.
        html = self.page(self.viewer).content.decode()
        self.assertNotIn('id="start-next-cycle"', html)
        self.client.force_login(self.viewer)
        self.assertEqual(
            self.client.post("/cycle/next/?since=2026-01-01&until=2026-03-31").status_code, 403
        )

    def test_it_lists_the_periods_roll_back_alerts_with_what_was_done(self):
        case = Case.objects.filter(first_contacted_at__isnull=True).get()
        Case.objects.filter(pk=case.pk).update(
            state="resolved", resolution="Invoice template fixed again"
        )
        rollback_alert(
            self.kickoff,
            self.done,
            dt.date(2026, 3, 1),
            baseline_since=dt.date(2026, 2, 10),
            baseline_until=dt.date(2026, 2, 28),
            center=4.5,
            level=3.25,
            answers=12,
            statistic=5.1,
            detected_at=dt.datetime(2026, 4, 2, 6, tzinfo=dt.UTC),
            case=case,
        )
        html = self.page(self.lead).content.decode()
        alerts = html[html.index('id="alerts"') :]
        self.assertIn("3.25", alerts)
        self.assertIn("resolved: Invoice template fixed again", alerts)
        # The case's reference, linked to its page; the initiative by its English title.
        self.assertIn(f'<a href="/cases/{case.pk}/">{case.reference}</a>', alerts)
        self.assertIn("Agenda sent ahead", alerts)
        self.assertNotIn("Повестка встречи заранее", html)
        # Not in the next quarter's review.
        html = self.page(self.lead, since="2026-07-01", until="2026-09-30").content.decode()
        self.assertNotIn('id="alerts"', html)

    def test_it_lists_initiatives_in_progress_with_their_overdue_action_items(self):
        going = propose(self.owner.employee, [self.billing])
        lead = self.lead.employee
        services.change_state(
            going, "approved", by=lead, now=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
        )
        services.change_state(
            going, "in_progress", by=lead, now=dt.datetime(2026, 1, 6, tzinfo=dt.UTC)
        )
        first, _second = (
            services.add_action_item(
                going,
                text="Step",
                owner=self.owner.employee,
                due_on=due,
                by=lead,
                now=dt.datetime(2026, 1, 7, tzinfo=dt.UTC),
            )
            for due in (dt.date(2026, 1, 20), dt.date(2026, 2, 1))
        )
        response = self.page(self.lead)
        (shown,) = response.context["review"].in_progress
        self.assertEqual((shown.pk, shown.overdue_items), (going.pk, 2))
        # A past period counts what was overdue on its last day: the first item, done since.
        services.set_action_item_done(
            first, True, by=lead, now=dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
        )
        january = self.page(self.lead, since="2026-01-01", until="2026-01-31")
        shown = {i.pk: i for i in january.context["review"].in_progress}[going.pk]
        self.assertEqual(shown.overdue_items, 1)
        (shown,) = self.page(self.lead).context["review"].in_progress
        self.assertEqual(shown.overdue_items, 1)

    def test_it_lists_the_initiatives_in_progress_during_the_period(self):
        going = propose(self.owner.employee, [self.billing])
        lead = self.lead.employee
        for state, day in (("approved", 5), ("in_progress", 6)):
            services.change_state(
                going, state, by=lead, now=dt.datetime(2026, 1, day, tzinfo=dt.UTC)
            )
        # Started on 6 January; the done initiative ran from 31 January to 10 February.
        for since, until, expected in (
            ("2025-10-01", "2025-12-31", set()),  # before either started
            ("2026-01-01", "2026-01-31", {going.pk, self.done.pk}),
            ("2026-01-01", "2026-03-31", {going.pk}),  # the other one is finished in it
            ("2026-04-01", "2026-06-30", {going.pk}),
        ):
            with self.subTest(since=since):
                review = self.page(self.lead, since=since, until=until).context["review"]
                self.assertEqual({i.pk for i in review.in_progress}, expected)
        Initiative.objects.filter(pk=going.pk).update(
            state="abandoned", abandoned_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
        )
        review = self.page(self.lead, since="2026-04-01", until="2026-06-30").context["review"]
        self.assertEqual(review.in_progress, ())

    def test_it_names_initiatives_and_words_the_journeys_average_in_the_pages_language(self):
        html = self.page(self.lead).content.decode()
        finished_table = html[html.index('id="finished"') : html.index('id="progress-title"')]
        self.assertIn("Agenda sent ahead", finished_table)
        self.assertNotIn("Повестка встречи заранее", html)
        # The opportunities' yardstick is the journey's average, not a target anyone set.
        opportunities = html[html.index('id="opportunities"') :]
        self.assertIn("against the journey’s average of", opportunities)
        ru = self.page(self.lead, "ru").content.decode()
        self.assertIn("Повестка встречи заранее", ru)

    def test_it_signs_the_decisions_effects_as_the_decision_list_does(self):
        row = {
            "decision": SimpleNamespace(
                pk=1, label="New billing", in_force_from=dt.date(2026, 1, 1)
            ),
            "effect": SimpleNamespace(
                expected=0.2, measured=SimpleNamespace(value=-0.81, low=-0.87, high=-0.75)
            ),
        }
        with translation.override("en"):
            html = render_to_string(
                "front/cycle/includes/decisions.html", {"worse_decisions": [row]}
            )
        self.assertIn(">+0.20<", html)
        self.assertIn("−0.81 (−0.87 … −0.75)", html)  # the charts' minus sign, not a hyphen
        self.assertNotIn("<a ", html)  # the PDF's copy: no links

    # -- the next cycle ------------------------------------------------------------------

    def test_the_next_cycle_proposes_initiatives_once(self):
        self.client.force_login(self.lead)
        url = "/cycle/next/?since=2026-01-01&until=2026-03-31"
        form = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(form.status_code, 200)
        chosen = [str(e["item"].touchpoint_id) for e in form.context["opportunities"]]
        self.assertTrue(chosen)
        before = Initiative.objects.count()
        first = self.client.post(url, {"touchpoint": chosen}, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(first.status_code, 200)
        created = Initiative.objects.filter(started_from="cycle_review", state="proposed")
        self.assertEqual(created.count(), len(chosen))
        self.assertEqual(Initiative.objects.count(), before + len(chosen))
        self.assertIn('id="created"', first.content.decode())
        second = self.client.post(url, {"touchpoint": chosen}, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(Initiative.objects.count(), before + len(chosen))
        self.assertEqual(len(second.context["skipped"]), len(chosen))
        self.assertIn('id="skipped"', second.content.decode())

    # -- the PDF -------------------------------------------------------------------------

    @pytest.mark.skipif(not HAS_PDF, reason="WeasyPrint cannot load Pango")
    def test_the_pdf_has_the_pages_figures_and_a_chart_in_both_languages(self):
        import pypdf

        for language, axis in (("ru", "SLA"), ("en", "Contacted within the SLA")):
            with self.subTest(language=language):
                html = self.page(self.lead, language).content.decode()
                in_time = unescape(re.search(r'id="in-time">([^<]+)<', html).group(1))
                achieved = unescape(re.search(r'class="achieved">([^<]+)<', html).group(1))
                self.client.force_login(self.lead)
                response = self.client.get("/cycle/review.pdf", Q1, HTTP_ACCEPT_LANGUAGE=language)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response["Content-Type"], "application/pdf")
                self.assertIn(
                    'attachment; filename="cycle-review-2026-01-01-2026-03-31.pdf"',
                    response["Content-Disposition"],
                )
                reader = pypdf.PdfReader(io.BytesIO(response.content))
                text = " ".join(p.extract_text() for p in reader.pages)
                text = re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " "))
                self.assertIn(in_time.replace("\u202f", " ").replace("\xa0", " ").strip(), text)
                self.assertIn(achieved.replace("\xa0", " "), text)
                # Each language's own decimal mark, as the page writes it.
                self.assertIn("," if language == "ru" else ".", achieved)
                self.assertIn(axis, text)  # the chart's axis title, drawn as vector text
                # Nothing runs off the page: every piece of text starts inside the right margin.
                for page in reader.pages:
                    self.assertEqual(_text_beyond_the_margin(page), [])
                # The initiative by its title in the page's language.
                title = "Agenda sent ahead" if language == "en" else "Повестка встречи заранее"
                self.assertIn(title, text)
                self.assertIn("Kick-off meeting" if language == "en" else "Kick-off", text)
