"""The executive dashboard and quarterly review pack (issue #13, point 7): who sees them, the
target segment's NPS against the rest, the revenue at risk, eNPS, and the PDF in Russian and
English with its charts.

The world: the analytical pages' answers (Q1 2026): the target segment's one customer ("Ours",
annual value 1 000) gave 40 NPS answers 2, 4, 6, 8, 10 in turn — 8 promoters, 24 detractors:
NPS (8 − 24) / 40 = −40; the other customer ("Theirs", 500) ten answers of 3: NPS −100, a
detractor holding 500 of revenue."""

import datetime as dt
import io
import re

import pytest
from django.urls import reverse

from cxloop.people.models import Role
from cxloop.surveys.services import answer_pulse
from tests.front.insight_data import InsightPageTestCase
from tests.front.test_cycle_review import HAS_PDF, _text_beyond_the_margin
from tests.front.test_pulse import make_pulse

Q1 = {"since": "2026-01-01", "until": "2026-03-31"}


class ExecutiveDashboardTests(InsightPageTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.ceo = cls._user("ceo", cls.firm, Role.EXECUTIVE)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        pulse = make_pulse()
        at = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)
        # Six pulse answers: 3 promoters, 1 detractor — eNPS (3 − 1) / 6 = 33.
        nps = pulse.questions.get(kind="nps").pk
        for i, score in enumerate((10, 9, 9, 8, 7, 2)):
            person = cls._user(f"pulse{i}", cls.team_a, Role.EMPLOYEE).employee
            answer_pulse(pulse, person, {nps: score}, now=at)

    def page(self, user, language="en", url="executive_dashboard", **params):
        self.client.force_login(user)
        return self.client.get(reverse(url), params or Q1, HTTP_ACCEPT_LANGUAGE=language)

    def test_it_shows_the_executive_all_of_it_and_refuses_the_rest(self):
        for user in (self.ceo, self.lead, self.viewer):
            self.assertEqual(self.page(user).status_code, 200, user)
            self.assertEqual(self.page(user, url="executive_review_pdf").status_code, 200, user)
        for user in (self.owner, self.teammate, self.outsider):
            self.assertEqual(self.page(user).status_code, 403, user)
            self.assertEqual(self.page(user, url="executive_review_pdf").status_code, 403, user)
        self.client.logout()
        self.assertEqual(self.client.get(reverse("executive_dashboard")).status_code, 302)

    def test_it_sets_the_target_segment_against_the_rest_and_counts_the_revenue_at_risk(self):
        html = self.page(self.ceo).content.decode()
        self.assertRegex(html, r'id="nps-target">-40<')
        self.assertRegex(html, r'id="nps-rest">-100<')
        table = html[html.index('id="revenue-at-risk"') : html.index('id="people-title"')]
        self.assertIn("₽500", table)  # Theirs, a detractor
        self.assertRegex(html, r'id="enps">33 ')
        self.assertIn('id="executive-nps"', html)  # the NPS trend chart
        self.assertIn("/dashboard/executive/review.pdf?since=2026-01-01", html)

    def test_it_defaults_to_the_last_finished_quarter_and_refuses_a_bad_period_in_the_pdf(self):
        response = self.page(self.ceo, quarter="")
        self.assertEqual(response.status_code, 200)
        since = response.context["since"]
        self.assertEqual(since.day, 1)
        self.assertIn(since.month, (1, 4, 7, 10))
        self.assertLess(response.context["until"], dt.date.today())
        pdf = self.page(self.ceo, url="executive_review_pdf", since="2026-13-01", until="x")
        self.assertEqual(pdf.status_code, 400)
        self.assertIn("since", pdf.content.decode())

    @pytest.mark.skipif(not HAS_PDF, reason="WeasyPrint cannot load Pango")
    def test_the_pdf_has_the_figures_and_its_charts_in_both_languages(self):
        import pypdf

        for language, words in (
            ("ru", ("Key clients", "−100", "март 2026")),  # the chart's axis, in Russian
            ("en", ("Executive review", "Other customers", "NPS by month", "March 2026")),
        ):
            with self.subTest(language=language):
                response = self.page(self.ceo, language, url="executive_review_pdf")
                self.assertEqual(response["Content-Type"], "application/pdf")
                self.assertIn(
                    'filename="executive-review-2026-01-01-2026-03-31.pdf"',
                    response["Content-Disposition"],
                )
                reader = pypdf.PdfReader(io.BytesIO(response.content))
                text = " ".join(p.extract_text() for p in reader.pages)
                text = re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " "))
                for word in words:
                    self.assertIn(word, text)
                # The charts are drawn as vector forms (vl-convert's SVG), two of them at least.
                forms = [
                    x
                    for page in reader.pages
                    for x in page["/Resources"].get("/XObject", {}).values()
                    if x.get_object()["/Subtype"] == "/Form"
                ]
                self.assertGreaterEqual(len(forms), 2)
                for page in reader.pages:
                    self.assertEqual(_text_beyond_the_margin(page), [])
