"""The design system's layer (docs/decisions/011-design-system.md): the score colour scale's
contrast and its legibility for colour-blind readers, money in both locales, form fields with
their errors next to them, and the vendored files as their README records them."""

import hashlib
import re
from pathlib import Path

from django import forms
from django.template import Context, Template
from django.test import SimpleTestCase
from django.urls import reverse
from django.utils import translation

import cxloop.front
from cxloop.customers.models import Customer, Segment
from cxloop.people.models import Employee, Role
from cxloop.test import BaseTestCase

STATIC = Path(cxloop.front.__file__).parent / "static" / "front"
CSS = (STATIC / "cxloop.css").read_text()


def _colour(name: str) -> tuple[float, float, float]:
    value = re.search(rf"--{name}:\s*#([0-9a-f]{{6}})", CSS).group(1)
    return tuple(int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _luminance(rgb) -> float:
    """WCAG 2.1 relative luminance."""
    r, g, b = (_linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    """WCAG 2.1 contrast ratio, (L1 + 0.05) / (L2 + 0.05)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of color
# vision deficiency", IEEE TVCG 15(6): the matrices for severity 1.0, on linear RGB.
DEUTERANOPIA = ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                (-0.011820, 0.042940, 0.968881))  # fmt: skip
PROTANOPIA = ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
              (-0.003882, -0.048116, 1.051998))  # fmt: skip


def _lab(linear_rgb) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of a linear sRGB colour."""
    r, g, b = (min(max(c, 0.0), 1.0) for c in linear_rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def seen_with(matrix, rgb) -> tuple[float, float, float]:
    linear = [_linear(c) for c in rgb]
    return _lab([sum(m * c for m, c in zip(row, linear, strict=True)) for row in matrix])


def delta_e(a, b) -> float:
    """CIE76 colour difference."""
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


STEPS = ["cx-score-1", "cx-score-2", "cx-score-3", "cx-score-4", "cx-score-5", "cx-score-none"]


class ScoreScaleTests(SimpleTestCase):
    def test_it_gives_every_step_text_contrast_of_at_least_4_5(self):
        for step in STEPS:
            with self.subTest(step=step):
                ratio = contrast(_colour(f"{step}-bg"), _colour(f"{step}-fg"))
                self.assertGreaterEqual(ratio, 4.5)

    def test_it_keeps_neighbouring_steps_apart_for_colour_blind_readers(self):
        # 10 units of CIE76 is a difference anyone notices side by side.
        for name, matrix in (("deuteranopia", DEUTERANOPIA), ("protanopia", PROTANOPIA)):
            seen = [seen_with(matrix, _colour(f"{step}-bg")) for step in STEPS[:5]]
            for low, high in zip(seen, seen[1:], strict=False):
                with self.subTest(vision=name):
                    self.assertGreater(delta_e(low, high), 10)

    def test_it_runs_dark_to_light_to_dark_so_lightness_alone_tells_the_ends_from_the_middle(self):
        lightness = [_lab([_linear(c) for c in _colour(f"{s}-bg")])[0] for s in STEPS[:5]]
        self.assertLess(lightness[0], lightness[1])
        self.assertLess(lightness[1], lightness[2])
        self.assertGreater(lightness[2], lightness[3])
        self.assertGreater(lightness[3], lightness[4])

    def test_it_gives_the_signal_badges_readable_text(self):
        for badge, background, text in (
            ("down", "#a63603", "#ffffff"),
            ("up", "#08519c", "#ffffff"),
            ("lown", "#e9ecef", "#3d444c"),
            ("partial", "#ffffff", "#555d66"),
        ):
            with self.subTest(badge=badge):
                rule = re.search(rf"\.badge\.cx-badge-{badge} \{{([^}}]*)\}}", CSS).group(1)
                self.assertIn(background, rule)
                self.assertIn(text, rule)

                def rgb(h):
                    return tuple(int(h[i : i + 2], 16) / 255 for i in (1, 3, 5))

                self.assertGreaterEqual(contrast(rgb(background), rgb(text)), 4.5)


class MoneyTests(SimpleTestCase):
    def render(self, value, language: str) -> str:
        with translation.override(language):
            return Template("{% load cx %}{{ value|money }}").render(Context({"value": value}))

    def test_it_writes_roubles_as_each_locale_does(self):
        self.assertEqual(self.render(1250000, "ru"), "1\xa0250\xa0000\xa0₽")
        self.assertEqual(self.render(1250000, "en"), "₽1,250,000")
        self.assertEqual(self.render("1250.5", "ru"), "1\xa0250,50\xa0₽")
        self.assertEqual(self.render("1250.5", "en"), "₽1,250.50")
        self.assertEqual(self.render(-300, "en"), "−₽300")

    def test_it_shows_a_dash_for_what_is_no_amount(self):
        for value in (None, "", "abc", float("nan")):
            with self.subTest(value=value):
                self.assertEqual(self.render(value, "ru"), "—")

    def test_it_groups_numbers_with_the_locales_separator(self):
        template = Template('{{ value|floatformat:"2g" }}')
        with translation.override("ru"):
            self.assertEqual(template.render(Context({"value": 1234567.891})), "1\xa0234\xa0567,89")
        with translation.override("en"):
            self.assertEqual(template.render(Context({"value": 1234567.891})), "1,234,567.89")


class Sample(forms.Form):
    name = forms.CharField(label="Name", help_text="As on the contract")
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], label="Kind")
    colours = forms.MultipleChoiceField(
        choices=[("r", "Red"), ("g", "Green")], widget=forms.CheckboxSelectMultiple, label="Colours"
    )
    agree = forms.BooleanField(label="Agree")


class FormFieldTests(SimpleTestCase):
    def render(self, form) -> str:
        with translation.override("en"):
            html = Template('{% include "front/includes/form.html" %}')
            return html.render(Context({"form": form}))

    def test_it_puts_errors_next_to_the_field_and_names_them_for_screen_readers(self):
        with translation.override("en"):
            html = self.render(Sample({"kind": "zzz"}))
        error = '<div class="invalid-feedback d-block" id="id_name-error">{}</div>'
        self.assertInHTML(error.format("This field is required."), html)
        self.assertIn('aria-describedby="id_name-help id_name-error"', html)
        self.assertIn('class="form-control is-invalid"', html)
        self.assertIn('class="form-select is-invalid"', html)
        self.assertIn('aria-invalid="true"', html)
        self.assertIn('<fieldset class="mb-3" aria-describedby="id_colours-error">', html)
        self.assertIn('class="form-check-input is-invalid"', html)

    def test_it_renders_a_valid_form_without_error_marks(self):
        form = Sample({"name": "x", "kind": "a", "colours": ["r"], "agree": "on"})
        self.assertTrue(form.is_valid())
        html = self.render(form)
        self.assertNotIn("is-invalid", html)
        self.assertNotIn("invalid-feedback", html)
        self.assertInHTML('<div class="form-text" id="id_name-help">As on the contract</div>', html)


class VendoredFilesTests(SimpleTestCase):
    def test_it_vendors_the_files_its_readmes_name_byte_for_byte(self):
        for folder in ("bootstrap", "htmx"):
            readme = (STATIC / "vendor" / folder / "README.md").read_text()
            sums = re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.MULTILINE)
            self.assertGreaterEqual(len(sums), 2)
            for digest, name in sums:
                with self.subTest(file=f"{folder}/{name}"):
                    data = (STATIC / "vendor" / folder / name).read_bytes()
                    self.assertEqual(hashlib.sha256(data).hexdigest(), digest)

    def test_it_fetches_nothing_from_another_host(self):
        vendor = STATIC / "vendor"
        for path in [*(vendor / "bootstrap").glob("*.min.*"), vendor / "htmx" / "htmx.min.js"]:
            with self.subTest(file=path.name):
                text = path.read_text()
                self.assertNotIn("sourceMappingURL", text)
                self.assertNotIn("@import", text)
                self.assertNotRegex(text, r"url\(\s*['\"]?(https?:)?//")


class ShellTests(BaseTestCase):
    def test_it_configures_htmx_for_the_strict_csp(self):
        self.client.force_login(self.owner)
        response = self.client.get(reverse("home"))
        self.assertContains(
            response,
            """<meta name="htmx-config" content='{"includeIndicatorStyles":false,"""
            """"allowEval":false,"allowScriptTags":false}'>""",
        )

    def test_it_shows_the_name_and_role_and_groups_the_navigation(self):
        self.client.force_login(self.owner)
        response = self.client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(response, "<strong>Owner</strong> <span>manager</span>", html=False)
        for group in ("Journey", "Feedback", "Act", "People"):
            self.assertContains(
                response, f'data-bs-toggle="dropdown" aria-expanded="false">{group}<'
            )
        # Settings only for an administrator or staff.
        self.assertNotContains(response, reverse("audit_log"))

    def test_it_offers_the_settings_to_an_administrator(self):
        self.owner.employee.role = "admin"
        self.owner.employee.save()
        self.client.force_login(self.owner)
        response = self.client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(response, reverse("audit_log"))
        self.assertContains(response, reverse("personal_data"))
        self.assertContains(response, reverse("import_upload"))

    def test_it_puts_the_language_switch_first_among_the_forms(self):
        response = self.client.get(reverse("login"))
        first_form = re.search(r"<form [^>]*>", response.content.decode()).group(0)
        self.assertIn(reverse("set_language"), first_form)


class LargeIdTests(BaseTestCase):
    """Ids above 999 reach links and options whole: grouping digits is for numbers people read."""

    def test_it_never_groups_the_digits_of_an_id(self):
        Employee.objects.filter(user=self.owner).update(role=Role.ADMIN)
        Segment.objects.create(pk=123456, name="Крупные", name_en="Large")
        customer = Customer.objects.create(pk=234567, external_id="C-9", name="Acme")
        self.client.force_login(self.owner)
        for path in (reverse("response_list"), reverse("customer_list")):
            html = self.client.get(path, {"customer": customer.pk}).content.decode()
            self.assertIn('value="123456"', html, path)
            self.assertNotRegex(html, r"123[\s\xa0,.]456|234[\s\xa0,.]567", path)
