"""Face-to-face follow-ups as tracked actions: the list by role, overdue highlighted, filters,
and marking one done (once; viewers and outsiders may not)."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from cxloop.feedback.models import FollowUp
from cxloop.people.models import Role
from tests.front.evidence_data import EvidenceTestCase


class FollowUpTestCase(EvidenceTestCase):
    """A meeting's follow-ups: the teammate's agreed one (due in July 2026), one of the owner's
    three days late, and one of the teammate's due in a month."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        cls.agreed = cls.meeting.follow_ups.get()  # the teammate's, due in July 2026
        today = timezone.localdate()
        cls.late = FollowUp.objects.create(
            record=cls.meeting,
            description="Send the corrected invoice",
            owner=cls.owner.employee,
            due_on=today - dt.timedelta(days=3),
        )
        cls.later = FollowUp.objects.create(
            record=cls.meeting,
            description="Quarterly review",
            owner=cls.teammate.employee,
            due_on=today + dt.timedelta(days=30),
        )


class FollowUpTests(FollowUpTestCase):
    def get(self, user, query=""):
        self.client.force_login(user)
        return self.client.get(reverse("follow_up_list") + query, HTTP_ACCEPT_LANGUAGE="en")

    def items(self, page):
        return [item.pk for item in page.context["page"]]

    def test_each_role_sees_its_own_or_its_teams(self):
        self.assertEqual(set(self.items(self.get(self.teammate))), {self.agreed.pk, self.later.pk})
        team = self.items(self.get(self.owner, "?tab=team"))
        self.assertEqual(set(team), {self.agreed.pk, self.late.pk, self.later.pk})
        self.assertEqual(self.items(self.get(self.outsider, "?tab=mine")), [])
        self.assertEqual(len(self.items(self.get(self.viewer))), 3)

    def test_its_tabs_name_follow_ups_not_cases(self):
        page = self.get(self.owner)
        self.assertEqual(str(page.context["tabs"][0][1]), "My follow-ups")
        self.assertContains(page, ">My follow-ups</a>")
        self.assertNotContains(page, ">My cases</a>")

    def test_an_empty_mine_points_to_the_wider_tab_with_its_count(self):
        page = self.get(self.owner, "?tab=mine&done=all")
        self.assertEqual(self.items(page), [self.late.pk])
        empty = self.get(self.owner, "?tab=mine&done=done")
        self.assertNotContains(empty, "None of yours")
        self.client.force_login(self.owner)
        FollowUp.objects.filter(pk=self.late.pk).update(owner=self.teammate.employee)
        page = self.get(self.owner)
        self.assertContains(page, "None of yours match these filters.")
        self.assertContains(page, '<a href="?tab=team&amp;done=open">My team: 3 follow-ups</a>')

    def test_it_highlights_and_filters_the_overdue(self):
        page = self.get(self.owner, "?tab=team")
        self.assertEqual(
            self.items(page)[0], min((self.agreed, self.late), key=lambda f: f.due_on).pk
        )
        self.assertContains(page, "cx-overdue")
        overdue = self.items(self.get(self.owner, "?tab=team&overdue=1"))
        self.assertIn(self.late.pk, overdue)
        self.assertNotIn(self.later.pk, overdue)
        mine = self.items(self.get(self.owner, f"?tab=team&owner={self.owner.employee.pk}"))
        self.assertEqual(mine, [self.late.pk])

    def test_marking_done_is_once_and_moves_it_to_done(self):
        self.client.force_login(self.owner)
        url = reverse("follow_up_done", args=[self.late.pk])
        self.assertRedirects(self.client.post(url), reverse("follow_up_list"))
        first = FollowUp.objects.get(pk=self.late.pk).done_at
        self.assertIsNotNone(first)
        self.client.post(url)
        self.assertEqual(FollowUp.objects.get(pk=self.late.pk).done_at, first)
        self.assertNotIn(self.late.pk, self.items(self.get(self.owner, "?tab=team")))
        self.assertIn(self.late.pk, self.items(self.get(self.owner, "?tab=team&done=done")))

    def test_viewers_outsiders_and_bad_filters_are_refused(self):
        self.client.force_login(self.viewer)
        url = reverse("follow_up_done", args=[self.later.pk])
        self.assertEqual(self.client.post(url).status_code, 403)
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.post(url).status_code, 404)
        self.assertEqual(self.client.get(url).status_code, 404)
        self.client.force_login(self.owner)  # a reload of the action goes to the list
        self.assertRedirects(self.client.get(url), reverse("follow_up_list"))
        self.assertIsNone(FollowUp.objects.get(pk=self.later.pk).done_at)
        page = self.get(self.owner, "?done=maybe&owner=-1")
        self.assertContains(page, "Done “maybe”: expected open, done or all")
        self.assertContains(page, "Owner “-1”: expected the number of a record")
