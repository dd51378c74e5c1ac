from django.test import override_settings
from django.urls import reverse

from cxloop.test import PASSWORD, BaseTestCase


class LoginTests(BaseTestCase):
    def test_it_shows_the_sign_in_page_in_russian_by_default(self):
        response = self.client.get(reverse("login"))
        self.assertContains(response, '<html lang="ru">', html=False)
        self.assertContains(response, "Войти")
        self.assertContains(response, 'autocomplete="current-password"')

    def test_it_shows_the_sign_in_page_in_english_when_asked(self):
        self.client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
        response = self.client.get(reverse("login"))
        self.assertContains(response, "Sign in")
        self.assertContains(response, "Русский")

    def test_it_signs_in_and_lands_on_home(self):
        response = self.client.post(
            reverse("login"), {"username": "owner", "password": PASSWORD}, follow=True
        )
        self.assertRedirects(response, reverse("home"))
        self.assertEqual(response.context["user"], self.owner)

    def test_it_names_the_problem_on_a_wrong_password(self):
        response = self.client.post(reverse("login"), {"username": "owner", "password": "nope"})
        self.assertContains(response, 'role="alert"')
        self.assertNotIn("_auth_user_id", self.client.session)

    @override_settings(AXES_FAILURE_LIMIT=3)
    def test_it_locks_out_after_repeated_failures(self):
        for _ in range(3):
            self.client.post(reverse("login"), {"username": "owner", "password": "nope"})
        response = self.client.post(reverse("login"), {"username": "owner", "password": PASSWORD})
        self.assertEqual(response.status_code, 429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_it_stores_passwords_with_argon2(self):
        self.assertTrue(self.owner.password.startswith("argon2"))

    def test_it_signs_out_with_a_post(self):
        self.client.force_login(self.owner)
        response = self.client.post(reverse("logout"))
        self.assertRedirects(response, reverse("login"), fetch_redirect_response=False)
        self.assertNotIn("_auth_user_id", self.client.session)
