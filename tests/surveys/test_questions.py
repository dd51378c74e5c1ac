from django.core.exceptions import ValidationError
from django.utils import translation

from cxloop.surveys.models import Question, Survey
from cxloop.test import BaseTestCase

YES_NO = [{"value": "y", "ru": "Да", "en": "Yes"}, {"value": "n", "ru": "Нет", "en": "No"}]


class QuestionValidationTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.survey = Survey.objects.create(
            name_ru="Опрос", name_en="Survey", kind="relationship", languages=["ru", "en"]
        )

    def setUp(self):
        self.enterContext(translation.override("en"))

    def _question(self, **fields):
        defaults = {
            "survey": self.survey,
            "order": 3,
            "kind": "nps",
            "text_ru": "?",
            "text_en": "?",
        }
        return Question(**(defaults | fields))

    def assertProblem(self, question, field, message):
        with self.assertRaises(ValidationError) as caught:
            question.full_clean()
        self.assertIn(field, caught.exception.message_dict)
        self.assertIn(message, " ".join(caught.exception.message_dict[field]))

    def test_it_accepts_a_choice_question_with_a_condition_on_an_earlier_one(self):
        question = self._question(
            kind="single", choices=YES_NO, display_condition={"question": 1, "lte": 6}
        )
        question.full_clean()

    def test_it_asks_choice_questions_for_two_distinct_choices(self):
        self.assertProblem(self._question(kind="single", choices=YES_NO[:1]), "choices", "two")
        twins = [YES_NO[0], YES_NO[0]]
        self.assertProblem(self._question(kind="multiple", choices=twins), "choices", "differ")
        broken = [YES_NO[0], {"value": "n"}]
        self.assertProblem(self._question(kind="single", choices=broken), "choices", "Choice 2")
        self.assertProblem(self._question(choices=YES_NO), "choices", "Only choice questions")

    def test_it_names_what_is_wrong_with_a_display_condition(self):
        cases = [
            ({"lte": 6}, "Write a condition"),
            ({"question": 1, "like": 6}, "Unknown operator like"),
            ({"question": 3, "lte": 6}, "earlier question by its number, got 3"),
            ({"question": "one", "eq": 1}, "got one"),
        ]
        for condition, message in cases:
            with self.subTest(condition=condition):
                question = self._question(display_condition=condition)
                self.assertProblem(question, "display_condition", message)

    def test_it_offers_a_survey_only_in_known_languages(self):
        self.survey.languages = ["de"]
        with self.assertRaises(ValidationError) as caught:
            self.survey.full_clean()
        self.assertIn("languages", caught.exception.message_dict)
