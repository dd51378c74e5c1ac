"""``cxloop api_token create|revoke|list``."""

from io import StringIO

from django.core.management import CommandError, call_command

from cxloop.api.models import ApiToken
from cxloop.api.services import hash_token
from cxloop.test import BaseTestCase


def api_token(*args: str) -> str:
    out = StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue()


class ApiTokenCommandTests(BaseTestCase):
    def test_it_makes_a_token_that_the_api_accepts_and_shows_it_once(self):
        output = api_token("create", "--username", "owner", "--name", "CRM sync")
        token = output.splitlines()[-1]
        stored = ApiToken.objects.get()
        self.assertEqual((stored.name, stored.employee.user), ("CRM sync", self.owner))
        self.assertEqual(stored.token_hash, hash_token(token))
        self.assertIn(f"Token {stored.pk} (CRM sync) acts as owner", output)
        response = self.client.get("/api/surveys", headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(token, api_token("list"))

    def test_it_revokes_a_token(self):
        token = api_token("create", "--username", "owner", "--name", "CRM").splitlines()[-1]
        pk = ApiToken.objects.get().pk
        self.assertEqual(api_token("revoke", str(pk)), f"Token {pk} is revoked.\n")
        self.assertIsNotNone(ApiToken.objects.get().revoked_at)
        response = self.client.get("/api/surveys", headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(response.status_code, 401)
        with self.assertRaisesMessage(CommandError, f"No unrevoked token has the id {pk}."):
            api_token("revoke", str(pk))

    def test_it_lists_tokens_with_their_state(self):
        self.assertEqual(api_token("list"), "No tokens.\n")
        api_token("create", "--username", "owner", "--name", "CRM")
        api_token("create", "--username", "teammate", "--name", "BI")
        api_token("revoke", str(ApiToken.objects.get(name="BI").pk))
        lines = api_token("list").splitlines()
        self.assertEqual([line.split("\t")[1:4] for line in lines][0], ["CRM", "owner", "active"])
        self.assertEqual(lines[1].split("\t")[1:3], ["BI", "teammate"])
        self.assertTrue(lines[1].split("\t")[3].startswith("revoked "))
        self.assertTrue(lines[0].endswith("last used never"))

    def test_it_names_a_login_without_an_employee(self):
        with self.assertRaisesMessage(CommandError, "No employee has the login 'nobody'."):
            api_token("create", "--username", "nobody", "--name", "CRM")
        self.assertFalse(ApiToken.objects.exists())
