from unittest import mock

from django.db import connection
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import translation

from cxloop.front.views import server_error
from cxloop.test import BaseTestCase


class ErrorPageTests(BaseTestCase):
    def test_it_answers_404_in_russian_with_a_way_back(self):
        self.client.force_login(self.owner)
        response = self.client.get("/no-such-page/")
        self.assertEqual(response.status_code, 404)
        self.assertTemplateUsed(response, "404.html")
        self.assertContains(response, '<html lang="ru">', status_code=404)
        self.assertContains(response, "Страница не найдена", status_code=404)
        self.assertContains(response, f'href="{reverse("home")}"', status_code=404)
        # In the site's design: the navigation is there.
        self.assertContains(response, 'class="navbar', status_code=404)

    def test_it_answers_404_in_english(self):
        response = self.client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(response, '<html lang="en">', status_code=404)
        self.assertContains(response, "Page not found", status_code=404)
        self.assertContains(response, "Go to the start page", status_code=404)

    def test_it_answers_an_unknown_survey_with_the_404_page(self):
        self.client.force_login(self.owner)
        response = self.client.get(reverse("survey_detail", args=[999999]))
        self.assertTemplateUsed(response, "404.html")

    def test_it_answers_403_in_the_sites_design(self):
        self.client.force_login(self.teammate)  # an employee may not build surveys
        response = self.client.get(reverse("survey_new"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 403)
        self.assertTemplateUsed(response, "403.html")
        self.assertContains(response, "Not allowed", status_code=403)
        self.assertContains(response, "Teammate", status_code=403)  # the signed-in person
        self.assertContains(response, f'href="{reverse("home")}"', status_code=403)


@override_settings(DEBUG=False, ROOT_URLCONF="tests.front.error_urls")
class ServerErrorTests(BaseTestCase):
    def setUp(self):
        self.client.raise_request_exception = False

    def test_it_answers_500_in_the_requests_language(self):
        for language, text in (("ru", "Что-то пошло не так"), ("en", "Something went wrong")):
            with self.subTest(language=language):
                with self.assertLogs("django.request", "ERROR"):
                    response = self.client.get("/explode/", HTTP_ACCEPT_LANGUAGE=language)
                self.assertEqual(response.status_code, 500)
                self.assertContains(response, f'<html lang="{language}">', status_code=500)
                self.assertContains(response, text, status_code=500)
                self.assertContains(response, f'href="{reverse("home")}"', status_code=500)

    def test_it_renders_without_a_query(self):
        request = RequestFactory().get("/explode/")
        with translation.override("en"), self.assertNumQueries(0):
            response = server_error(request)
        self.assertEqual(response.status_code, 500)
        self.assertIn(b"Something went wrong", response.content)

    def test_it_renders_when_the_database_is_down(self):
        request = RequestFactory().get("/explode/")
        with mock.patch.object(connection, "cursor", side_effect=RuntimeError("database down")):
            response = server_error(request)
        self.assertEqual(response.status_code, 500)
        self.assertNotIn(b"navbar-toggler", response.content)
