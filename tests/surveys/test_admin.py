"""Responses and invitations in the admin: listed, and responses filtered by when they came."""

import datetime as dt

from django.contrib.auth.models import User
from django.utils import timezone

from cxloop.feedback.services import ingest
from cxloop.test import BaseTestCase
from tests.surveys.test_respond import make_survey


class ResponseAdminTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.admin = User.objects.create_superuser("root", "root@example.org", "pw")
        survey = make_survey()
        now = timezone.now()
        for key, when in (("recent", now), ("old", now - dt.timedelta(days=400))):
            ingest(survey=survey, answers={1: 9}, channel="api", submitted_at=when, source_key=key)

    def test_it_lists_responses_and_filters_them_by_period(self):
        self.client.force_login(self.admin)
        listed = self.client.get("/admin/surveys/response/")
        self.assertEqual(listed.context["cl"].result_count, 2)
        # What the filter's "Past 7 days" link sends: an aware moment.
        midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        since = str(midnight - dt.timedelta(days=7))
        recent = self.client.get("/admin/surveys/response/", {"submitted_at__gte": since})
        self.assertEqual(recent.status_code, 200)
        self.assertEqual([r.source_key for r in recent.context["cl"].result_list], ["recent"])

    def test_it_lists_invitations(self):
        self.client.force_login(self.admin)
        self.assertEqual(self.client.get("/admin/surveys/invitation/").status_code, 200)
