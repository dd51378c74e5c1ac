"""GET /api/surveys and /api/surveys/{id}: surveys with their questions."""

from tests.api.base import ApiTestCase


class SurveysTests(ApiTestCase):
    def test_it_lists_surveys_with_their_questions(self):
        response = self.get("/api/surveys", as_user="viewer")
        self.assertEqual(response.status_code, 200)
        (survey,) = response.json()
        self.assertEqual(
            (survey["id"], survey["name_en"], survey["kind"], survey["is_active"]),
            (self.survey.pk, "Client survey", "relationship", True),
        )
        self.assertEqual([q["number"] for q in survey["questions"]], [1, 2, 3, 4, 5, 6])

    def test_it_shows_a_survey_with_kinds_texts_choices_and_touchpoints(self):
        response = self.get(f"/api/surveys/{self.survey.pk}")
        self.assertEqual(response.status_code, 200)
        questions = {q["number"]: q for q in response.json()["questions"]}
        self.assertEqual(
            questions[1],
            {
                "number": 1,
                "page": 1,
                "kind": "nps",
                "text_ru": "Порекомендуете ли вы нас?",
                "text_en": "Would you recommend us?",
                "required": True,
                "choices": [],
                "touchpoint_code": None,
            },
        )
        self.assertEqual(questions[5]["touchpoint_code"], "billing")
        self.assertIn("Порекомендуете ли вы нас?", response.content.decode())  # not \u escapes
        self.assertEqual(
            questions[6]["choices"],
            [{"value": "a", "ru": "А", "en": "A"}, {"value": "b", "ru": "Б", "en": "B"}],
        )

    def test_it_names_a_survey_that_does_not_exist(self):
        response = self.get(f"/api/surveys/{self.survey.pk + 1}")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json(), {"detail": f"survey {self.survey.pk + 1} does not exist"})

    def test_it_asks_for_a_token(self):
        self.assertEqual(self.client.get(f"/api/surveys/{self.survey.pk}").status_code, 401)
