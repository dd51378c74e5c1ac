from django.contrib.auth.models import User
from django.urls import reverse

from cxloop.insights.queries import pulse_results
from cxloop.people.models import Employee, Idea, Role, Team
from cxloop.surveys.models import PulseParticipation, Question, Response, Survey
from cxloop.test import PASSWORD, BaseTestCase


def make_pulse() -> Survey:
    survey = Survey.objects.create(
        name_ru="Пульс", name_en="Pulse", kind="pulse", is_anonymous=True, languages=["ru", "en"]
    )
    Question.objects.create(
        survey=survey,
        order=1,
        kind="nps",
        required=True,
        text_ru="Порекомендуете ли вы работу у нас?",
        text_en="Would you recommend working here?",
    )
    Question.objects.create(
        survey=survey, order=2, kind="text", text_ru="Что мешает?", text_en="What gets in the way?"
    )
    return survey


class PulseTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.survey = make_pulse()
        cls.url = reverse("pulse_answer", args=[cls.survey.pk])
        cls.results = reverse("pulse_results", args=[cls.survey.pk])

    def test_it_keeps_the_answer_apart_from_the_person(self):
        self.client.force_login(self.teammate)
        response = self.client.post(self.url, {"q1": "9", "q2": "Совещания"})
        self.assertRedirects(response, reverse("home"))
        stored = Response.objects.get()
        self.assertEqual((stored.team, stored.contact, stored.customer), (self.team_a, None, None))
        self.assertEqual((stored.submitted_at.hour, stored.submitted_at.minute), (12, 0))
        self.assertTrue(PulseParticipation.objects.filter(employee__user=self.teammate).exists())
        self.assertFalse(Response._meta.get_field("team").related_model is Employee)

    def test_it_takes_one_answer_per_employee(self):
        self.client.force_login(self.teammate)
        self.client.post(self.url, {"q1": "9"})
        self.client.post(self.url, {"q1": "0"})
        self.assertEqual(Response.objects.count(), 1)
        self.assertContains(self.client.get(self.url, follow=True), "Вы уже ответили")

    def _answers(self, team: Team, scores: list[int]) -> None:
        for i, score in enumerate(scores):
            user = User.objects.create_user(f"{team.pk}-{team.name}-{i}", password=PASSWORD)
            Employee.objects.create(user=user, team=team)
            self.client.force_login(user)
            self.client.post(self.url, {"q1": str(score)})

    def test_it_hides_a_team_of_fewer_than_five_answers(self):
        self._answers(self.team_a, [10, 10, 9, 9, 3, 8])
        self._answers(self.team_a1, [0, 0, 0, 0, 0])
        self._answers(self.team_b, [10, 10, 10, 10])
        Employee.objects.filter(user=self.owner).update(role=Role.ADMIN)
        self.client.force_login(self.owner)
        results = self.client.get(self.results).context["results"]
        by_team = {t.name: t for t in results.teams}
        self.assertAlmostEqual(by_team["Firm › Team A"].enps.value, 50.0)
        self.assertIsNone(by_team["Firm › Team B"].enps)
        self.assertEqual(by_team["Firm › Team B"].n, 4)
        self.assertIsNone(by_team["Firm › Team A › Team A1"].enps)  # or overall − A would show B
        self.assertEqual(results.overall.n, 15)
        hidden = "скрыто, чтобы сохранить анонимность групп меньше 5"
        self.assertContains(self.client.get(self.results), hidden)

    def test_it_hides_one_more_team_when_the_overall_would_give_a_small_team_away(self):
        self._answers(self.team_a, [10, 10, 9, 9, 3])
        self._answers(self.team_a1, [0, 0])  # alone under five: overall − team A would show it
        results = pulse_results(self.survey)
        by_team = {t.team_id: t for t in results.teams}
        self.assertIsNone(by_team[self.team_a1.pk].enps)
        self.assertIsNone(by_team[self.team_a.pk].enps)
        self.assertIsNotNone(results.overall.enps)

    def test_it_keeps_two_teams_of_the_same_name_apart(self):
        """Five answers from each of two teams called "Sales" under different parents: two rows
        of five, each named by its path; never one row of ten."""
        sales_a = Team.objects.create(name="Sales", parent=self.team_a)
        sales_b = Team.objects.create(name="Sales", parent=self.team_b)
        self._answers(sales_a, [10, 10, 10, 10, 10])
        self._answers(sales_b, [0, 0, 0, 0, 0])
        results = pulse_results(self.survey)
        rows = {t.name: (t.team_id, t.n, t.enps.value) for t in results.teams}
        self.assertEqual(
            rows,
            {
                "Firm › Team A › Sales": (sales_a.pk, 5, 100.0),
                "Firm › Team B › Sales": (sales_b.pk, 5, -100.0),
            },
        )
        manager_b = self._user("manager-b", self.team_b, Role.MANAGER)
        self.client.force_login(manager_b)
        page = self.client.get(self.results)
        self.assertEqual([t.team_id for t in page.context["teams"]], [sales_b.pk])
        self.assertContains(page, "Firm › Team B › Sales")
        self.assertNotContains(page, "Firm › Team A › Sales")

    def test_it_checks_the_group_size_per_team_not_per_name(self):
        sales_a = Team.objects.create(name="Sales", parent=self.team_a)
        sales_b = Team.objects.create(name="Sales", parent=self.team_b)
        self._answers(sales_a, [10, 10, 10])
        self._answers(sales_b, [0, 0, 0])
        results = pulse_results(self.survey)
        self.assertEqual([(t.n, t.enps) for t in results.teams], [(3, None), (3, None)])
        self.assertIsNotNone(results.overall.enps)  # six answers in all

    def test_it_shows_a_manager_only_their_teams_and_keeps_employees_out(self):
        self._answers(self.team_b, [9] * 5)
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(self.results).context["teams"], [])
        self.client.force_login(self.teammate)
        self.assertEqual(self.client.get(self.results).status_code, 403)

    def test_it_answers_404_for_a_survey_that_is_not_a_pulse(self):
        other = Survey.objects.create(name_ru="Клиенты", name_en="Clients", kind="relationship")
        self.client.force_login(self.teammate)
        self.assertEqual(self.client.get(reverse("pulse_answer", args=[other.pk])).status_code, 404)


class IdeaTests(BaseTestCase):
    url = reverse("ideas")

    def test_it_keeps_neither_author_nor_team_of_an_anonymous_idea(self):
        self.client.force_login(self.teammate)
        self.client.post(self.url, {"text": "Меньше совещаний", "anonymous": "on"})
        idea = Idea.objects.get()
        self.assertEqual((idea.author, idea.team), (None, None))

    def test_it_shows_signed_ideas_to_the_teams_manager_and_not_to_outsiders(self):
        self.client.force_login(self.teammate)
        self.client.post(self.url, {"text": "Шаблон отчёта"})
        self.client.post(self.url, {"text": "Тайная идея", "anonymous": "on"})
        self.client.force_login(self.owner)
        page = self.client.get(self.url)
        self.assertContains(page, "Шаблон отчёта")
        self.assertNotContains(page, "Тайная идея")
        self.client.force_login(self.outsider)
        self.assertNotContains(self.client.get(self.url), "Шаблон отчёта")
        Employee.objects.filter(user=self.outsider).update(role=Role.ADMIN)
        self.assertContains(self.client.get(self.url), "Тайная идея")

    def test_it_asks_for_the_text(self):
        self.client.force_login(self.teammate)
        response = self.client.post(self.url, {"text": ""})
        self.assertIn("text", response.context["form"].errors)
        self.assertFalse(Idea.objects.exists())
