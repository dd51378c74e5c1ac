"""On the small demo's seeded cases, every figure of the loop dashboard that links to the case
list counts exactly the cases its link lists: root causes and touchpoints over the demo's whole
history and over the billing roll-back's month, for the CX lead and for a manager, whole and
narrowed to a team."""

import datetime as dt
from unittest import mock

from django.contrib.auth import get_user_model
from django.test import TestCase
from django.urls import reverse

from cxloop.demo.build import build_demo
from cxloop.demo.cases import demo_now
from cxloop.front import loop_views
from cxloop.people.models import Team
from tests.demo.test_demo import TRUTH
from tests.front.test_loop_pages import linked_figures


class DemoLoopLinkTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_demo(TRUTH, size="small", progress=False)
        cls.now = demo_now(TRUTH)

    def patched(self):
        return (
            mock.patch.object(loop_views.timezone, "now", return_value=self.now),
            mock.patch.object(loop_views.timezone, "localdate", return_value=TRUTH.end),
        )

    def get(self, url, params=None):
        now, today = self.patched()
        with now, today:
            response = self.client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        return response

    def test_each_linked_figure_counts_the_cases_its_link_lists(self):
        month = dt.date.fromisoformat(TRUTH.rollback["from_month"] + "-01")
        team = Team.objects.filter(employees__user__username="manager").get()
        periods = [
            {"since": TRUTH.cases["since"], "until": TRUTH.end.isoformat()},
            {"since": month.isoformat(), "until": (month + dt.timedelta(days=30)).isoformat()},
            {"since": TRUTH.cases["since"], "team": str(team.pk)},
        ]
        checked = cases = 0
        for username in ("cx.lead", "manager"):
            self.client.force_login(get_user_model().objects.get(username=username))
            for params in periods:
                response = self.get(reverse("loop_dashboard"), params)
                self.assertFalse(response.context["filters"].errors)
                cases += response.context["total"].cases
                for what, count, href in linked_figures(response):
                    with self.subTest(user=username, params=params, figure=what):
                        listed = self.get(href)
                        self.assertEqual(list(listed.context["messages"]), [])
                        self.assertEqual(listed.context["page"].paginator.count, count)
                        checked += 1
        # Enough figures and cases that an off-by-a-day or a missing filter would show.
        self.assertGreater(checked, 30)
        self.assertGreater(cases, 100)
