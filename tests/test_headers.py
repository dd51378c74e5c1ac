"""Response headers (issue #9, finding 6): a strict Content-Security-Policy and a
Permissions-Policy on every response, no caching of personal pages or API answers, and the
production settings behind a TLS proxy passing `check --deploy` with no warning."""

import os
import secrets
import subprocess
import sys

from django.test import override_settings
from django.urls import reverse

from cxloop.api.services import issue_token
from cxloop.test import BaseTestCase

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def policy(response) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    return {name: value for name, value in parts}


class HeaderTests(BaseTestCase):
    def test_it_sends_a_strict_policy_on_pages_errors_and_the_api(self):
        self.client.force_login(self.owner)
        token = issue_token(self.owner.employee, "script")[1]
        responses = [
            self.client.get(reverse("login")),
            self.client.get(reverse("home")),
            self.client.get("/no-such-page/"),
            self.client.get("/api/surveys", headers={"Authorization": f"Bearer {token}"}),
            self.client.get("/api/docs"),
        ]
        for response in responses:
            found = policy(response)
            for name, value in DIRECTIVES.items():
                self.assertEqual(found[name], value, (response.request["PATH_INFO"], name))
            everything = response["Content-Security-Policy"]
            self.assertNotIn("unsafe-eval", everything)
            self.assertNotIn("unsafe-inline", found["script-src"])
            for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
                self.assertIn(f"{feature}=()", response["Permissions-Policy"])

    def test_it_keeps_signed_in_pages_and_api_answers_out_of_caches(self):
        token = issue_token(self.owner.employee, "script")[1]
        api = self.client.get("/api/surveys", headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(api.status_code, 200)
        self.client.force_login(self.owner)
        for response in (self.client.get(reverse("home")), api):
            directives = {d.strip() for d in response["Cache-Control"].split(",")}
            self.assertLessEqual({"private", "no-store"}, directives)
            self.assertNotIn("public", directives)

    @override_settings(
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        SECURE_SSL_REDIRECT=True,
        SECURE_HSTS_SECONDS=31536000,
    )
    def test_it_trusts_the_proxy_redirects_plain_http_and_sends_hsts(self):
        plain = self.client.get(reverse("login"))
        self.assertEqual(plain.status_code, 301)
        self.assertTrue(plain["Location"].startswith("https://"))
        secure = self.client.get(reverse("login"), headers={"X-Forwarded-Proto": "https"})
        self.assertEqual(secure.status_code, 200)
        self.assertEqual(secure["Strict-Transport-Security"], "max-age=31536000")


def _run(code_or_args: list[str], tmp_path, **variables) -> subprocess.CompletedProcess:
    # Not what a browser test of the same run may have set for itself (async.E001 on --deploy).
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {
        **inherited,
        "CXLOOP_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "cxloop.settings",
        **variables,
    }
    return subprocess.run(
        [sys.executable, *code_or_args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "CXLOOP_DEBUG": "false",
    "CXLOOP_BASE_URL": "https://cx.example.com",
    "CXLOOP_ALLOWED_HOSTS": "cx.example.com",
    "CXLOOP_HTTPS_PROXY": "true",
    "CXLOOP_SECRET_KEY": secrets.token_urlsafe(50),
}


def test_it_passes_the_deployment_check_under_the_production_settings(tmp_path):
    result = _run(
        ["-m", "cxloop.cli", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **PRODUCTION
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_turns_on_hsts_and_secure_cookies_behind_a_tls_proxy(tmp_path):
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    on = _run(["-c", probe], tmp_path, CXLOOP_HTTPS_PROXY="true")
    assert on.stdout.split() == [
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "True",
        "31536000",
        "True",
        "True",
    ], on.stderr
    off = _run(["-c", probe], tmp_path, CXLOOP_HTTPS_PROXY="false")
    assert off.stdout.split() == ["None", "False", "0", "False", "False"], off.stderr


def test_it_stops_on_a_malformed_proxy_flag(tmp_path):
    result = _run(["-m", "cxloop.cli", "check"], tmp_path, CXLOOP_HTTPS_PROXY="perhaps")
    assert result.returncode == 2
    assert "CXLOOP_HTTPS_PROXY: expected true or false" in result.stderr
