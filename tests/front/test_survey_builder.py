from django.urls import reverse

from cxloop.people.models import Employee, Role
from cxloop.surveys.models import Answer, Question, Response, Survey
from cxloop.test import BaseTestCase
from tests.surveys.test_respond import make_survey


class SurveyBuilderTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        Employee.objects.filter(user=cls.owner).update(role=Role.ADMIN)

    def setUp(self):
        self.client.force_login(self.owner)

    def _create(self) -> Survey:
        response = self.client.post(
            reverse("survey_new"),
            {
                "name_ru": "Опрос после проекта",
                "name_en": "After the project",
                "kind": "transactional",
                "languages": ["ru", "en"],
                "invitation_lifetime_days": 30,
            },
        )
        survey = Survey.objects.get()
        self.assertRedirects(response, reverse("survey_edit", args=[survey.pk]))
        return survey

    def _add(self, survey: Survey, **fields):
        data = {"action": "add_question", "text_ru": "?", "text_en": "?", "page": 1, **fields}
        return self.client.post(reverse("survey_edit", args=[survey.pk]), data)

    def test_it_builds_a_draft_with_every_kind_of_question(self):
        survey = self._create()
        self.assertFalse(survey.is_active)  # a draft takes no answers
        for kind in ["nps", "csat", "ces", "rating", "text"]:
            self._add(survey, kind=kind, required="on" if kind == "nps" else "")
        self._add(survey, kind="single", choices_text="a | Да | Yes\nb | Нет | No", page=2)
        self._add(survey, kind="multiple", choices_text="x | Икс | Ex\ny | Игрек | Why", page=2)
        kinds = list(survey.questions.values_list("order", "kind"))
        self.assertEqual(
            [k for _, k in kinds], ["nps", "csat", "ces", "rating", "text", "single", "multiple"]
        )
        self.assertEqual(
            survey.questions.get(order=6).choices[1], {"value": "b", "ru": "Нет", "en": "No"}
        )

    def test_it_adds_display_logic_on_an_earlier_page_only(self):
        survey = self._create()
        self._add(survey, kind="nps")
        self._add(
            survey,
            kind="text",
            page=2,
            condition_question=1,
            condition_operator="lte",
            condition_value="6",
        )
        self.assertEqual(survey.questions.get(order=2).display_condition, {"question": 1, "lte": 6})
        same_page = self._add(
            survey,
            kind="text",
            page=1,
            condition_question=1,
            condition_operator="lte",
            condition_value="6",
        )
        self.assertIn("condition_question", same_page.context["question_form"].errors)
        bad_choices = self._add(survey, kind="single", choices_text="only one line")
        self.assertIn("choices_text", bad_choices.context["question_form"].errors)
        self.assertEqual(survey.questions.count(), 2)

    def test_it_publishes_closes_and_edits_settings(self):
        survey = self._create()
        url = reverse("survey_edit", args=[survey.pk])
        self.client.post(url, {"action": "publish"})
        survey.refresh_from_db()
        self.assertTrue(survey.is_active)
        self.client.post(url, {"action": "close"})
        survey.refresh_from_db()
        self.assertFalse(survey.is_active)
        self.client.post(
            url,
            {
                "action": "settings",
                "name_ru": "Новое",
                "name_en": "New",
                "kind": "transactional",
                "languages": ["en"],
                "invitation_lifetime_days": 14,
                "reminder_after_days": 3,
            },
        )
        survey.refresh_from_db()
        self.assertEqual(
            (survey.name_ru, survey.languages, survey.reminder_after_days), ("Новое", ["en"], 3)
        )

    def test_it_keeps_answered_questions_from_changing_kind_or_vanishing(self):
        survey = make_survey()
        response = Response.objects.create(
            survey=survey, channel="web", started_at="2026-01-01T00:00Z"
        )
        question = survey.questions.get(order=1)
        Answer.objects.create(response=response, question=question, kind="nps", score=9)
        url = reverse("question_edit", args=[survey.pk, 1])
        changed = self.client.post(
            url, {"action": "save", "kind": "csat", "text_ru": "?", "text_en": "?", "page": 1}
        )
        self.assertIn("kind", changed.context["form"].errors)
        self.client.post(url, {"action": "delete"})
        self.assertTrue(Question.objects.filter(pk=question.pk, kind="nps").exists())

    def test_it_previews_page_by_page_without_storing(self):
        survey = make_survey()
        url = reverse("survey_preview", args=[survey.pk])
        page = self.client.get(url)
        self.assertContains(page, "Предпросмотр")
        self.assertRedirects(self.client.post(url, {"page": 1, "q1": "2"}), url + "?page=2&lang=ru")
        self.assertContains(self.client.get(url + "?page=2"), "Что пошло не так?")
        self.assertFalse(Response.objects.exists())

    def test_it_previews_in_the_language_of_the_interface(self):
        survey = make_survey()
        url = reverse("survey_preview", args=[survey.pk])
        page = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(page, '<html lang="en">')
        self.assertContains(page, "Preview: answers are not stored.")
        self.assertNotContains(page, "Предпросмотр")
        # The page's own switch still chooses another of the survey's languages.
        page = self.client.get(url + "?lang=ru", HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(page, '<html lang="ru">')
        self.assertRedirects(
            self.client.post(url, {"page": 1, "q1": "2"}, HTTP_ACCEPT_LANGUAGE="en"),
            url + "?page=2&lang=en",
        )

    def test_it_lets_only_the_cx_lead_build(self):
        survey = make_survey()
        self.client.force_login(self.teammate)
        for url in [
            reverse("survey_new"),
            reverse("survey_edit", args=[survey.pk]),
            reverse("survey_preview", args=[survey.pk]),
        ]:
            self.assertEqual(self.client.get(url).status_code, 403)
        self.client.force_login(self.outsider)
        self.assertEqual(
            self.client.post(
                reverse("survey_edit", args=[survey.pk]), {"action": "close"}
            ).status_code,
            403,
        )
        survey.refresh_from_db()
        self.assertTrue(survey.is_active)
