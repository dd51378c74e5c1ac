"""Training's write and read side: courses and assignments (by hand, and when an initiative
writes a new standard for a touchpoint a course covers), the person's "done" and the manager's
confirmation, the figures other pages read (training_status, coverage by team and
touchpoint), and the overdue reminders through the outbox and a real SMTP server."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.test import TransactionTestCase, override_settings

from cxloop.improvements import reminders
from cxloop.improvements import training_queries as queries
from cxloop.improvements import training_services as services
from cxloop.improvements.queries import TrainingStatus, training_coverage_by_team, training_status
from cxloop.improvements.training import Assignment
from cxloop.journeys.models import Journey, Stage
from cxloop.outbox.delivery import send_due
from cxloop.people.models import Employee, Role, Team
from cxloop.test import BaseTestCase
from tests.cases.test_case_mail import parts
from tests.effect_data import finished
from tests.improvements.data import NOW, ImprovementTestCase, propose, touchpoint
from tests.smtp import SmtpServer

MSK = ZoneInfo("Europe/Moscow")
BASE_URL = "https://cx.example.org"


def course(tp, *, by, now=NOW, **fields):
    return services.create_course(
        title="Повестка встречи", title_en="The meeting agenda", touchpoints=[tp], by=by,
        now=now, **fields,
    )  # fmt: skip


class TrainingTests(ImprovementTestCase):
    def setUp(self):
        self.kickoff.team = self.team_a
        self.kickoff.save()
        self.course = course(self.kickoff, by=self.lead.employee, due_days=10)

    def assign(self, *users, now=NOW, **kwargs):
        people = [u.employee for u in users]
        return services.assign_course(self.course, people, by=self.lead.employee, now=now, **kwargs)

    def test_it_assigns_due_after_the_courses_days_and_keeps_an_open_one(self):
        (made,) = self.assign(self.teammate)
        self.assertEqual(made.due_on, NOW.date() + dt.timedelta(days=10))
        self.assertEqual(
            self.assign(self.teammate, self.outsider)[0].employee, self.outsider.employee
        )
        self.assertEqual(Assignment.objects.filter(employee=self.teammate.employee).count(), 1)

    def test_it_refuses_a_due_date_in_the_past_naming_it(self):
        with self.assertRaisesMessage(services.TrainingError, "01.03.2026"):
            self.assign(self.teammate, due_on=dt.date(2026, 3, 1))
        self.assertFalse(Assignment.objects.exists())

    def test_it_refuses_a_course_without_title_or_touchpoints(self):
        with self.assertRaises(services.TrainingError) as refused:
            services.create_course(title=" ", touchpoints=[self.kickoff], by=None, now=NOW)
        self.assertEqual(refused.exception.field, "title")
        with self.assertRaises(services.TrainingError) as refused:
            services.create_course(title="x", touchpoints=[], by=None, now=NOW)
        self.assertEqual(refused.exception.field, "touchpoints")

    def test_a_new_standard_assigns_the_course_to_the_owning_teams_people(self):
        sub = self._user("subteam", self.team_a1, Role.EMPLOYEE)
        initiative = propose(self.owner.employee, [self.kickoff])
        finished(initiative, effective_from=dt.date(2026, 4, 1), by=self.lead.employee)
        standard = initiative.standards.get()
        assigned = Assignment.objects.filter(course=self.course, standard=standard)
        self.assertEqual(
            set(assigned.values_list("employee__user__username", flat=True)),
            {"owner", "teammate", "subteam"},
        )
        self.assertNotIn(self.outsider.employee.pk, assigned.values_list("employee", flat=True))
        self.assertIn(standard, self.course.standards.all())
        self.assertEqual(assigned.get(employee=sub.employee).due_on, dt.date(2026, 4, 11))

    def test_the_person_marks_done_and_a_manager_above_confirms(self):
        (made,) = self.assign(self.teammate)
        with self.assertRaises(services.TrainingError):
            services.mark_completed(made, by=self.outsider.employee, now=NOW)
        with self.assertRaises(services.TrainingError):
            services.confirm_completion(made, by=self.owner.employee, now=NOW)
        self.assertTrue(services.mark_completed(made, by=self.teammate.employee, now=NOW))
        self.assertFalse(services.mark_completed(made, by=self.teammate.employee, now=NOW))
        made.refresh_from_db()
        self.assertTrue(queries.may_confirm(self.owner, made))
        self.assertTrue(queries.may_confirm(self.lead, made))
        for user in (self.teammate, self.outsider, self.viewer, self.manager_b):
            self.assertFalse(queries.may_confirm(user, made), user)
        self.assertEqual(list(queries.awaiting_confirmation(self.owner)), [made])
        self.assertEqual(list(queries.awaiting_confirmation(self.manager_b)), [])
        self.assertTrue(services.confirm_completion(made, by=self.owner.employee, now=NOW))
        self.assertFalse(services.confirm_completion(made, by=self.owner.employee, now=NOW))
        made.refresh_from_db()
        self.assertEqual(made.confirmed_by, self.owner.employee)

    def test_a_manager_sends_a_course_back(self):
        (made,) = self.assign(self.teammate)
        services.mark_completed(made, by=self.teammate.employee, now=NOW)
        self.assertTrue(services.send_back(made, by=self.owner.employee, now=NOW))
        made.refresh_from_db()
        self.assertIsNone(made.completed_at)

    def test_status_counts_assigned_done_and_overdue_as_of_a_day(self):
        made = {a.employee_id: a for a in self.assign(self.teammate, self.owner)}
        first, second = made[self.teammate.employee.pk], made[self.owner.employee.pk]
        services.mark_completed(first, by=self.teammate.employee, now=NOW + dt.timedelta(days=2))
        first.refresh_from_db()
        services.confirm_completion(first, by=self.owner.employee, now=NOW + dt.timedelta(days=3))
        due = second.due_on
        self.assertEqual(training_status(None, as_of=NOW.date() - dt.timedelta(days=1)), {})
        status = training_status([self.teammate.employee.pk, self.owner.employee.pk], as_of=due)
        self.assertEqual(status[self.teammate.employee.pk], TrainingStatus(1, 1, 0))
        self.assertEqual(status[self.owner.employee.pk], TrainingStatus(1, 0, 0))
        later = training_status(None, as_of=due + dt.timedelta(days=1))
        self.assertEqual(later[self.owner.employee.pk], TrainingStatus(1, 0, 1))
        self.assertEqual(later[self.owner.employee.pk].share, 0.0)
        self.assertIsNone(TrainingStatus().share)
        before_confirmed = training_status(None, as_of=NOW.date() + dt.timedelta(days=2))
        self.assertEqual(before_confirmed[self.teammate.employee.pk].done, 0)
        by_team = training_coverage_by_team(due + dt.timedelta(days=1))
        self.assertEqual(by_team, {self.team_a.pk: TrainingStatus(2, 1, 1)})
        self.assertEqual(by_team[self.team_a.pk].share, 0.5)
        by_touchpoint = queries.coverage_by_touchpoint(due, None)
        self.assertEqual(by_touchpoint, {self.kickoff.pk: TrainingStatus(2, 1, 0)})
        self.assertEqual(queries.coverage_by_touchpoint(due, [self.team_b.pk]), {})

    def test_completions_are_the_confirmed_ones_and_the_waiting_are_apart(self):
        made = {a.employee_id: a for a in self.assign(self.teammate, self.owner)}
        first, second = made[self.teammate.employee.pk], made[self.owner.employee.pk]
        services.mark_completed(first, by=self.teammate.employee, now=NOW)
        services.mark_completed(second, by=self.owner.employee, now=NOW)
        first.refresh_from_db()
        services.confirm_completion(first, by=self.owner.employee, now=NOW)
        done, waiting = queries.course_completions(self.course)
        self.assertEqual(done, {self.teammate.employee.pk: NOW.date()})
        self.assertEqual(waiting, {self.owner.employee.pk})


@override_settings(BASE_URL=BASE_URL)
class OverdueTrainingTests(TransactionTestCase):
    """Committed data: the outbox sends from threads with their own database connections."""

    def setUp(self):
        team = Team.objects.create(name="Sales")
        self.anna = self.employee("anna", team, "en")
        self.boris = self.employee("boris", team, "ru")
        stage = Stage.objects.create(
            journey=Journey.objects.create(name_ru="Путь", name_en="Journey"),
            order=1,
            name_ru="Начало",
            name_en="Start",
        )
        self.course = course(touchpoint(stage, 1, "kickoff", "Встреча", "Kick-off"), by=None)

    @staticmethod
    def employee(username, team, language) -> Employee:
        user = BaseTestCase._user(username, team, Role.EMPLOYEE)
        Employee.objects.filter(user=user).update(language=language)
        return Employee.objects.get(user=user)

    def deliver(self, smtp, now):
        reminders.run_due(now)
        with override_settings(**smtp.settings):
            return send_due(now=now)

    def test_the_person_hears_once_in_their_language_within_working_hours(self):
        assigned = dt.datetime(2026, 3, 2, 10, tzinfo=MSK)
        services.assign_course(
            self.course, [self.anna, self.boris], by=None, now=assigned, due_on=dt.date(2026, 3, 16)
        )
        tuesday_10 = dt.datetime(2026, 3, 17, 10, tzinfo=MSK)
        with SmtpServer() as smtp:
            self.deliver(smtp, dt.datetime(2026, 3, 16, 12, tzinfo=MSK))  # due today: not yet
            self.deliver(smtp, dt.datetime(2026, 3, 17, 7, 30, tzinfo=MSK))  # before work
            self.assertEqual(smtp.messages, [])
            self.assertEqual(self.deliver(smtp, tuesday_10), {"sent": 2})
            self.assertEqual(self.deliver(smtp, tuesday_10 + dt.timedelta(hours=1)), {})
            by_recipient = {m["To"]: m for m in smtp.messages}
        english = by_recipient["anna@example.org"]
        self.assertEqual(
            english["Subject"], "Training overdue since 16.03.2026: The meeting agenda"
        )
        body = parts(english)
        self.assertIn(f"{BASE_URL}/training/mine/", body["text/plain"])
        self.assertIn('<html lang="en">', body["text/html"])
        self.assertIn('<html lang="ru">', parts(by_recipient["boris@example.org"])["text/html"])

    def test_a_course_marked_done_is_not_overdue(self):
        (made,) = services.assign_course(
            self.course, [self.anna], by=None, now=dt.datetime(2026, 3, 2, 10, tzinfo=MSK),
            due_on=dt.date(2026, 3, 16),
        )  # fmt: skip
        services.mark_completed(made, by=self.anna, now=dt.datetime(2026, 3, 16, 18, tzinfo=MSK))
        with SmtpServer() as smtp:
            self.deliver(smtp, dt.datetime(2026, 3, 17, 10, tzinfo=MSK))
            self.assertEqual(smtp.messages, [])
