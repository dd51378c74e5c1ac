"""The CX champions page (/people/champions/, issue #13 point 5): each team's champions with
what they did in the last year — meetings led, ideas signed, initiatives led, cases resolved —
counted from the records, and the teams with people but no champion named."""

import datetime as dt

from django.utils import timezone

from cxloop.cases.services import open_case
from cxloop.customers.models import Customer
from cxloop.feedback.models import FaceToFaceRecord
from cxloop.people.models import Employee, Idea, Role
from cxloop.test import BaseTestCase

URL = "/people/champions/"


class ChampionsTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        Employee.objects.filter(pk=cls.teammate.employee.pk).update(is_champion=True)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)

    def test_it_counts_what_each_champion_did_in_the_last_year(self):
        champion = self.teammate.employee
        today = timezone.localdate()
        now = timezone.now()
        customer = Customer.objects.create(external_id="C1", name="Acme", owner=champion)
        for days_ago in (3, 40, 400):  # the last is older than a year: not counted
            FaceToFaceRecord.objects.create(
                kind="visit",
                customer=customer,
                employee=champion,
                met_on=today - dt.timedelta(days=days_ago),
                language="ru",
            )
        for days_ago in (1, 500):
            Idea.objects.create(
                text="Idea", author=champion, team=champion.team,
                created_on=today - dt.timedelta(days=days_ago),
            )  # fmt: skip
        case = open_case(origin="manual", title="Call back", owner=champion, now=now)
        case.resolved_at = now
        case.save(update_fields=["resolved_at"])
        self.client.force_login(self.viewer)
        page = self.client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(page.status_code, 200)
        report = page.context["report"]
        ((path, rows),) = report.teams
        self.assertEqual(path, "Firm › Team A")
        (row,) = rows
        self.assertEqual(row.employee, champion)
        self.assertEqual((row.meetings, row.ideas, row.initiatives, row.cases), (2, 1, 0, 1))
        # Team A1 has no people; team B has the outsider and no champion; the firm the viewer.
        self.assertEqual(report.without, ("Firm", "Firm › Team B"))
        self.assertContains(page, 'id="teams-without"')
        self.assertContains(page, "Firm › Team B")
