"""The demo's scorecards and weekly digest (issue #13): every employee has a scorecard with every
metric, the customers' owners with their customers' answers behind it, and on the Monday after
the demo's last day everyone with an e-mail address gets one digest, once."""

import datetime as dt
from zoneinfo import ZoneInfo

from cxloop.insights.accountability import METRIC_KEYS, person_figures, weigh_in_scope
from cxloop.outbox.models import OutboxMessage
from cxloop.people.models import Employee
from cxloop.reports import weekly_digest
from tests.demo.test_demo import TRUTH


class FullDemoScorecardTruths:
    """Mixed into tests/demo/test_full_demo.py's FullDemoTests."""

    def test_every_employee_has_a_scorecard_with_every_metric(self):
        ids = list(Employee.objects.values_list("pk", flat=True))
        scope = weigh_in_scope(TRUTH.end)
        found = person_figures(ids, since=scope.since, until=scope.until)
        self.assertEqual(set(found), set(ids))
        for figures in found.values():
            self.assertEqual(tuple(figures), METRIC_KEYS)
        owners = set(Employee.objects.filter(customers__isnull=False).values_list("pk", flat=True))
        answered = {pk for pk in owners if found[pk]["own_nps"].n > 0}
        self.assertGreater(len(answered), len(owners) // 2)

    def test_everyone_gets_the_weekly_digest_once_on_the_monday_after(self):
        monday = TRUTH.end + dt.timedelta(days=7 - TRUTH.end.weekday())
        now = dt.datetime.combine(monday, dt.time(10), tzinfo=ZoneInfo("Europe/Moscow"))
        with_email = Employee.objects.exclude(user__email="").filter(user__is_active=True)
        self.assertEqual(weekly_digest.send_due(now), with_email.count())
        self.assertEqual(weekly_digest.send_due(now), 0)
        digests = OutboxMessage.objects.filter(kind="weekly_digest")
        self.assertEqual(digests.count(), with_email.count())
        self.assertTrue(all("cid:" not in m.html and "data:image/png" in m.html for m in digests))
