"""Token authentication: ``Authorization: Bearer <token>`` on every endpoint."""

from django.utils import timezone

from cxloop.api.models import ApiToken
from cxloop.api.services import hash_token, revoke_token
from tests.api.base import ApiTestCase


class TokenAuthTests(ApiTestCase):
    def request(self, authorization: str | None):
        headers = {"Authorization": authorization} if authorization is not None else {}
        return self.client.get("/api/surveys", headers=headers)

    def test_it_refuses_a_request_without_a_token(self):
        response = self.request(None)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response["WWW-Authenticate"], "Bearer")
        self.assertIn("Authorization: Bearer", response.json()["detail"])

    def test_it_refuses_a_wrong_token_or_scheme(self):
        token = self.tokens["owner"]
        for authorization in ("Bearer nonsense", f"Bearer {token}x", f"Basic {token}", token):
            with self.subTest(authorization=authorization):
                self.assertEqual(self.request(authorization).status_code, 401)

    def test_it_refuses_a_revoked_token(self):
        api_token = ApiToken.objects.get(token_hash=hash_token(self.tokens["owner"]))
        self.assertTrue(revoke_token(api_token.pk, now=timezone.now()))
        self.assertEqual(self.request(f"Bearer {self.tokens['owner']}").status_code, 401)

    def test_it_refuses_the_token_of_a_deactivated_user(self):
        self.owner.is_active = False
        self.owner.save()
        self.assertEqual(self.request(f"Bearer {self.tokens['owner']}").status_code, 401)

    def test_it_lets_a_valid_token_in_and_marks_it_used(self):
        api_token = ApiToken.objects.get(token_hash=hash_token(self.tokens["owner"]))
        self.assertIsNone(api_token.last_used_at)
        before = timezone.now()
        self.assertEqual(self.request(f"Bearer {self.tokens['owner']}").status_code, 200)
        api_token.refresh_from_db()
        self.assertGreaterEqual(api_token.last_used_at, before)

    def test_it_keeps_only_the_hash_of_the_token(self):
        stored = ApiToken.objects.values_list("token_hash", flat=True)
        for token in self.tokens.values():
            self.assertNotIn(token, stored)
            self.assertIn(hash_token(token), stored)
