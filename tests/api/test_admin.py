"""API tokens in the admin: looked over and revoked there, made by the command."""

from django.contrib.auth.models import User
from django.urls import reverse

from cxloop.api.services import issue_token
from cxloop.test import BaseTestCase


class ApiTokenAdminTests(BaseTestCase):
    def test_it_lists_tokens_but_makes_none(self):
        issue_token(self.owner.employee, "CRM sync")
        admin = User.objects.create_superuser("admin", "admin@example.org", "x")
        self.client.force_login(admin)
        listed = self.client.get(reverse("admin:api_apitoken_changelist"))
        self.assertContains(listed, "CRM sync")
        self.assertEqual(self.client.get(reverse("admin:api_apitoken_add")).status_code, 403)
