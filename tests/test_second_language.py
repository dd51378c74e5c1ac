"""Teams, segments and job titles carry an optional English name: English pages show it, Russian
pages (and English pages where it is missing) show the firm's own name (issue #10, item 6)."""

from django.utils import translation

from cxloop.customers.models import Segment
from cxloop.people.models import Employee, Team
from cxloop.test import BaseTestCase


class SecondLanguageTests(BaseTestCase):
    def test_it_shows_the_english_name_on_english_pages_only(self):
        team = Team.objects.create(name="Налоги — Казань", name_en="Tax — Kazan")
        segment = Segment.objects.create(name="Промышленность", name_en="Manufacturing")
        with translation.override("en"):
            self.assertEqual((str(team), str(segment)), ("Tax — Kazan", "Manufacturing"))
        with translation.override("ru"):
            self.assertEqual((str(team), str(segment)), ("Налоги — Казань", "Промышленность"))

    def test_it_falls_back_to_the_name_when_no_english_name_is_given(self):
        team = Team.objects.create(name="Аудит")
        with translation.override("en"):
            self.assertEqual(team.label, "Аудит")

    def test_it_shows_the_job_title_in_the_pages_language(self):
        employee = Employee.objects.get(user=self.owner)
        employee.title, employee.title_en = "Партнёр", "Partner"
        with translation.override("en"):
            self.assertEqual(employee.title_label, "Partner")
        with translation.override("ru"):
            self.assertEqual(employee.title_label, "Партнёр")
