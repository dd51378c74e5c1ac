"""The training pages: the course list with coverage, a course's page (its standard,
assignments, coverage and "Did it work"), my training with "mark done", and the manager's
confirmations — each scoped by role, an outsider gets 404, a viewer cannot write."""

import datetime as dt

from django.urls import reverse

from cxloop.improvements import training_services as services
from cxloop.improvements.training import Assignment
from cxloop.journeys.services import new_standard_version
from tests.improvements.data import NOW, ImprovementTestCase


class TrainingPageTests(ImprovementTestCase):
    def setUp(self):
        new_standard_version(
            self.kickoff, text_ru="Повестка за два дня", text_en="Agenda two days ahead",
            effective_from=dt.date(2026, 1, 1),
        )  # fmt: skip
        self.course = services.create_course(
            title="Повестка встречи",
            title_en="The meeting agenda",
            touchpoints=[self.kickoff],
            by=self.lead.employee,
            now=NOW,
        )
        people = [self.teammate.employee, self.outsider.employee]
        self.mine, self.theirs = services.assign_course(
            self.course, people, by=self.lead.employee, now=NOW
        )

    def test_it_asks_to_sign_in(self):
        for name in ("training_list", "my_training", "training_confirm"):
            response = self.client.get(reverse(name))
            self.assertEqual(response.status_code, 302, name)

    def test_the_list_shows_courses_with_coverage_of_the_teams_one_sees(self):
        self.client.force_login(self.teammate)
        response = self.client.get(reverse("training_list"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(response, "The meeting agenda")
        self.assertEqual(response.context["courses"][0][1].assigned, 1)  # their team's only
        self.client.force_login(self.lead)
        response = self.client.get(reverse("training_list"))
        self.assertEqual(response.context["courses"][0][1].assigned, 2)

    def test_the_course_page_shows_its_standard_and_the_assignments_in_scope(self):
        self.client.force_login(self.teammate)
        response = self.client.get(reverse("course_detail", args=[self.course.pk]))
        self.assertContains(response, "Повестка за два дня")
        self.assertEqual(list(response.context["assignments"]), [self.mine])
        self.assertIsNone(response.context["form"])
        self.assertEqual(response.context["effect"]["result"].status, "not_trained")
        self.assertContains(response, 'data-status="not_trained"')
        missing = self.client.get(reverse("course_detail", args=[self.course.pk + 99]))
        self.assertEqual(missing.status_code, 404)

    def test_a_manager_assigns_to_a_team_and_a_viewer_may_not(self):
        url = reverse("course_assign", args=[self.course.pk])
        self.client.force_login(self.viewer)
        self.assertEqual(self.client.post(url, {"teams": [self.team_a.pk]}).status_code, 403)
        self.client.force_login(self.owner)
        response = self.client.post(url, {"teams": [self.team_a.pk], "due_on": "2099-01-31"})
        self.assertEqual(response.status_code, 302)
        owner_assignment = Assignment.objects.get(employee=self.owner.employee)
        self.assertEqual(owner_assignment.due_on, dt.date(2099, 1, 31))
        empty = self.client.post(url, {"due_on": "2099-01-31"})
        self.assertContains(empty, "Выберите команды или сотрудников", status_code=400)
        outside = self.client.post(url, {"teams": [self.team_b.pk]})
        self.assertEqual(outside.status_code, 400)  # not a team the manager sees

    def test_the_person_marks_done_and_the_manager_confirms(self):
        self.client.force_login(self.outsider)
        done = reverse("assignment_done", args=[self.mine.pk])
        self.assertEqual(self.client.post(done).status_code, 404)  # not theirs to see
        self.client.force_login(self.owner)
        self.assertEqual(self.client.post(done).status_code, 403)  # seen, not theirs
        self.client.force_login(self.teammate)
        self.assertContains(self.client.get(reverse("my_training")), done)
        self.assertEqual(self.client.post(done).status_code, 302)
        self.mine.refresh_from_db()
        self.assertIsNotNone(self.mine.completed_at)
        self.assertEqual(self.client.get(reverse("training_confirm")).status_code, 403)
        confirm = reverse("assignment_confirm", args=[self.mine.pk])
        self.assertEqual(self.client.post(confirm).status_code, 403)  # not one's own
        self.client.force_login(self.manager_b)
        self.assertEqual(self.client.post(confirm).status_code, 404)  # another part
        self.client.force_login(self.owner)
        self.assertContains(self.client.get(reverse("training_confirm")), confirm)
        self.assertEqual(self.client.post(confirm, {"confirm": "1"}).status_code, 302)
        self.mine.refresh_from_db()
        self.assertEqual(self.mine.confirmed_by, self.owner.employee)

    def test_the_cx_lead_adds_a_course_and_others_may_not(self):
        url = reverse("course_new")
        data = {"title": "Счета", "touchpoints": [self.billing.pk], "due_days": "20"}
        for user in (self.owner, self.teammate, self.viewer):
            self.client.force_login(user)
            self.assertEqual(self.client.post(url, data).status_code, 403, user)
        self.client.force_login(self.lead)
        missing = self.client.post(url, {"title": "Счета", "due_days": "20"})
        self.assertEqual(missing.status_code, 400)
        self.assertIn("touchpoints", missing.context["form"].errors)
        too_long = self.client.post(url, {**data, "due_days": "900"})
        self.assertIn("due_days", too_long.context["form"].errors)
        response = self.client.post(url, {**data, "assign_on_change": "on"})
        added = self.course.__class__.objects.get(title="Счета")
        self.assertRedirects(response, reverse("course_detail", args=[added.pk]))
        self.assertEqual(added.due_days, 20)
        self.assertEqual(list(added.touchpoints.all()), [self.billing])
