"""Employee voice, closed (issue #13, point 6): an idea moves new → under review → accepted →
an initiative (or declined) with an answer its author reads; an anonymous idea's answer is
public on the ideas page; who may answer; an initiative started from an idea."""

import datetime as dt

from django.urls import reverse

from cxloop.improvements.services import InitiativeError
from cxloop.people.models import Idea
from cxloop.people.services import OutOfScope, set_idea_status, submit_idea
from tests.improvements.data import ImprovementTestCase, propose

NOW = dt.datetime(2026, 3, 16, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


class IdeaAnswerTests(ImprovementTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.mine = submit_idea(
            "Шаблон отчёта", author=cls.teammate.employee, anonymous=False, today=TODAY
        )
        cls.secret = submit_idea(
            "Меньше совещаний", author=cls.teammate.employee, anonymous=True, today=TODAY
        )

    def answer(self, user, idea, status, answer=""):
        self.client.force_login(user)
        url = reverse("idea_answer", args=[idea.pk])
        return self.client.post(
            url, {"status": status, "answer": answer}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
        )

    def status(self, idea) -> str:
        return Idea.objects.get(pk=idea.pk).status

    def test_it_moves_an_idea_through_its_states_and_shows_the_author_the_answer(self):
        self.answer(self.owner, self.mine, "reviewing")
        self.assertEqual(self.status(self.mine), "reviewing")
        page = self.answer(self.owner, self.mine, "adopted", "Сделаем к апрелю")
        self.assertEqual(page.status_code, 200)
        idea = Idea.objects.get(pk=self.mine.pk)
        self.assertEqual((idea.status, idea.answer), ("adopted", "Сделаем к апрелю"))
        self.assertEqual(idea.answered_by, self.owner.employee)
        self.client.force_login(self.teammate)
        mine = self.client.get(reverse("ideas")).content.decode()
        section = mine[mine.index('id="my-ideas"') : mine.index('id="all-title"')]
        self.assertIn("Сделаем к апрелю", section)
        self.assertIn('data-status="adopted"', section)

    def test_it_asks_for_the_reason_to_accept_or_decline(self):
        for status in ("adopted", "declined"):
            page = self.answer(self.owner, self.mine, status, "   ")
            self.assertContains(
                page, "Answer to the author: Write the author the reason for the decision."
            )
            self.assertEqual(self.status(self.mine), "new")

    def test_it_refuses_a_move_its_state_does_not_allow(self):
        page = self.answer(self.owner, self.mine, "initiative", "Да")
        self.assertContains(page, "An idea that is “new” cannot become “became an initiative”.")
        self.assertEqual(self.status(self.mine), "new")
        page = self.answer(self.owner, self.mine, "nonsense", "Да")
        self.assertContains(page, "nonsense")
        self.assertEqual(self.status(self.mine), "new")
        self.answer(self.owner, self.mine, "declined", "Не сейчас")
        self.answer(self.owner, self.mine, "reviewing")  # looked at again
        self.assertEqual(self.status(self.mine), "reviewing")

    def test_it_lets_only_the_teams_managers_the_lead_and_executives_answer(self):
        self.assertEqual(self.answer(self.teammate, self.mine, "reviewing").status_code, 403)
        self.assertEqual(self.answer(self.viewer, self.mine, "reviewing").status_code, 403)
        # Another team's manager does not see the idea at all.
        self.assertEqual(self.answer(self.manager_b, self.mine, "reviewing").status_code, 404)
        # A manager does not see anonymous ideas; the lead answers them.
        self.assertEqual(self.answer(self.owner, self.secret, "reviewing").status_code, 404)
        self.assertEqual(self.status(self.mine), "new")
        self.client.force_login(self.owner)
        self.assertEqual(
            self.client.get(reverse("idea_answer", args=[self.mine.pk])).status_code, 405
        )
        with self.assertRaises(OutOfScope):
            set_idea_status(self.mine, "reviewing", answer="", by=self.outsider.employee, now=NOW)

    def test_it_shows_an_anonymous_ideas_answer_to_everyone(self):
        self.answer(self.lead, self.secret, "declined", "Совещания нужны для планирования")
        for user in (self.teammate, self.outsider, self.viewer):
            self.client.force_login(user)
            page = self.client.get(reverse("ideas")).content.decode()
            public = page[page.index('id="public-answers"') :]
            self.assertIn("Совещания нужны для планирования", public)
            self.assertIn("Меньше совещаний", public)

    def test_it_starts_an_initiative_from_an_idea_and_links_them(self):
        self.client.force_login(self.owner)
        form = self.client.get(reverse("initiative_new"), {"idea": self.mine.pk})
        self.assertEqual(form.context["form"].initial["from_idea"], self.mine)
        self.assertContains(form, 'name="from_idea"')
        initiative = propose(self.owner.employee, [self.kickoff], from_idea=self.mine)
        self.assertEqual(self.status(self.mine), "initiative")
        self.assertEqual(initiative.from_idea, self.mine)
        page = self.client.get(reverse("ideas")).content.decode()
        self.assertIn(reverse("initiative_detail", args=[initiative.pk]), page)
        detail = self.client.get(reverse("initiative_detail", args=[initiative.pk]))
        self.assertContains(detail, "Шаблон отчёта")
        # Once an initiative, the idea starts no second one.
        with self.assertRaises(InitiativeError) as raised:
            propose(self.owner.employee, [self.kickoff], from_idea=self.mine)
        self.assertEqual(raised.exception.field, "from_idea")

    def test_it_refuses_an_initiative_from_a_declined_idea_writing_nothing(self):
        set_idea_status(self.mine, "declined", answer="Нет", by=self.owner.employee, now=NOW)
        count = self.owner.employee.initiatives.count()
        with self.assertRaises(InitiativeError):
            propose(self.owner.employee, [self.kickoff], from_idea=self.mine)
        self.assertEqual(self.owner.employee.initiatives.count(), count)
        self.assertEqual(self.status(self.mine), "declined")

    def test_it_offers_the_initiative_button_only_to_those_who_answer(self):
        link = f"{reverse('initiative_new')}?idea={self.mine.pk}"
        self.client.force_login(self.owner)
        self.assertContains(self.client.get(reverse("ideas")), link)
        self.client.force_login(self.teammate)
        self.assertNotContains(self.client.get(reverse("ideas")), link)
        Idea.objects.filter(pk=self.mine.pk).update(status="declined")
        self.client.force_login(self.owner)
        self.assertNotContains(self.client.get(reverse("ideas")), link)
