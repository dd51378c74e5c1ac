from django.urls import reverse

from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.people.models import Employee, Role
from cxloop.surveys.models import Survey
from cxloop.test import BaseTestCase


class HomeTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        journey = Journey.objects.create(name_ru="Путь клиента", name_en="Client journey")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Начало", name_en="Start")
        Touchpoint.objects.create(
            stage=stage,
            order=1,
            code="kickoff",
            name_ru="Стартовая встреча",
            name_en="Kick-off meeting",
            channel="meeting",
            is_moment_of_truth=True,
        )
        Survey.objects.create(
            name_ru="Опрос клиентов", name_en="Client survey", kind="relationship"
        )

    def test_it_asks_for_sign_in(self):
        response = self.client.get(reverse("home"))
        self.assertRedirects(response, reverse("login") + "?next=/")

    def test_it_lists_journeys_surveys_and_teams_in_russian(self):
        self.client.force_login(self.owner)
        response = self.client.get(reverse("home"))
        self.assertContains(response, "Путь клиента")
        self.assertContains(response, "Стартовая встреча")
        self.assertContains(response, "Опрос клиентов")
        self.assertContains(response, "Ваши команды")

    def test_it_speaks_english_after_the_switch(self):
        self.client.force_login(self.owner)
        self.client.post(reverse("set_language"), {"language": "en", "next": "/"})
        response = self.client.get(reverse("home"))
        self.assertContains(response, "Client journey")
        self.assertContains(response, "Kick-off meeting")
        self.assertContains(response, "Your teams")
        self.assertNotContains(response, "Путь клиента")

    def test_it_shows_a_manager_their_team_and_its_sub_teams(self):
        self.client.force_login(self.owner)
        teams = set(self.client.get(reverse("home")).context["teams"])
        self.assertEqual(teams, {self.team_a, self.team_a1})

    def test_it_shows_an_employee_only_their_team(self):
        self.client.force_login(self.teammate)
        teams = list(self.client.get(reverse("home")).context["teams"])
        self.assertEqual(teams, [self.team_a])

    def test_it_keeps_an_outsider_away_from_other_teams(self):
        self.client.force_login(self.outsider)
        response = self.client.get(reverse("home"))
        self.assertEqual(list(response.context["teams"]), [self.team_b])
        self.assertNotContains(response, "Team A")

    def test_it_shows_an_executive_every_team(self):
        Employee.objects.filter(user=self.outsider).update(role=Role.EXECUTIVE)
        self.client.force_login(self.outsider)
        teams = set(self.client.get(reverse("home")).context["teams"])
        self.assertEqual(teams, {self.firm, self.team_a, self.team_a1, self.team_b})

    def test_it_offers_administration_only_to_staff(self):
        self.client.force_login(self.owner)
        self.assertNotContains(self.client.get(reverse("home")), reverse("admin:index"))
        self.owner.is_staff = True
        self.owner.save()
        self.assertContains(self.client.get(reverse("home")), reverse("admin:index"))
