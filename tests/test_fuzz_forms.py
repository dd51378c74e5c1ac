"""A form fuzzer: every page the URL resolver knows is read as the CX lead (and a respondent's
pages through their tokens); every ``<form method="post">`` on it is posted with its own valid
defaults, one field at a time replaced by a hostile value (NUL, a lone surrogate, 10,000
characters, thirty nines, negative and overflowing numbers, extreme dates, markup, nothing).
0 × 5xx; a form shown again with errors names the field (or the form as a whole); no text with a
NUL is stored. Each post runs in a savepoint rolled back afterwards, so every form meets the same
data. Bounded: a fixed list per field and a few drawn examples per form (about 30 s).

The forms are found, not listed: a new page or field is covered without changing this test.
"""

import datetime as dt
from html.parser import HTMLParser
from urllib.parse import quote, urljoin

from django.apps import apps
from django.db import models, transaction
from django.forms import BaseForm, BaseFormSet
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxloop.surveys.models import Question, Survey
from cxloop.surveys.services import issue_invitation, open_link_signature
from tests.front.test_pulse import make_pulse
from tests.fuzz_site import FuzzSiteTestCase
from tests.test_fuzz_params import _patterns

HOSTILE = [
    "\x00",
    "a\x00b",
    "\ud800",
    "x" * 10_000,
    "9" * 30,
    "-1",
    "1e308",
    "nan",
    "0001-01-01",
    "9999-12-31",
    "<script>alert(1)</script>",
    "",
]
DRAWN = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))

# Not forms of the product: Django's admin, the language switch, signing out.
# /healthz and /metrics are for operators, and their status is their answer (503: unhealthy);
# tests/ops tests them.
SKIPPED_PREFIXES = ("admin/", "i18n/", "api/", "static/", "healthz", "metrics")
# A valid value for an empty input of these types, so that one hostile field is what is wrong.
PLAUSIBLE = {
    "date": dt.date(2026, 3, 1).isoformat(),
    "email": "ann@acme.example",
    "number": "1",
}
SKIPPED_ACTIONS = ("/admin/", "/i18n/", "/logout/")


class FormParser(HTMLParser):
    """The POST forms of a page: their action and their fields with the values they show."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self._form = {"action": a.get("action") or "", "fields": {}, "radios": {}}
                self.forms.append(self._form)
            return
        form = self._form
        if form is None or (tag != "option" and "name" not in a):
            return
        fields = form["fields"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            name = a["name"]
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.setdefault(name, []).append(a.get("value") or "on")
                else:
                    fields.setdefault(name, [])
                    if kind == "radio":  # a choice is required more often than not: the first
                        form["radios"].setdefault(name, a.get("value") or "on")
            elif kind in ("submit", "image", "button", "reset"):
                form.setdefault("submit", (name, a.get("value") or ""))
            elif kind == "file":
                fields.setdefault(name, [])
            else:
                value = a.get("value") or ""
                if not value and kind in PLAUSIBLE:  # a valid default for what the page asks
                    value = PLAUSIBLE[kind]
                fields.setdefault(name, []).append(value)
        elif tag == "button":
            if (a.get("type") or "submit").lower() == "submit":
                form.setdefault("submit", (a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select = {"name": a["name"], "options": [], "chosen": []}
            fields.setdefault(a["name"], [])
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if value:  # the first real option, not "---"
                self._select["options"].append(value)
            if "selected" in a:
                self._select["chosen"].append(value)
        elif tag == "textarea":
            self._textarea = a["name"]
            fields.setdefault(a["name"], [""])

    def handle_data(self, data):
        if self._form is not None and self._textarea is not None:
            self._form["fields"][self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            for name, value in self._form["radios"].items():
                self._form["fields"][name] = self._form["fields"][name] or [value]
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            # Django marks its empty "---------" selected: the first real option instead.
            chosen = [v for v in self._select["chosen"] if v] or self._select["options"][:1]
            self._form["fields"][self._select["name"]] = chosen
            self._select = None
        elif tag == "textarea":
            self._textarea = None


FORM_ENCODED = "application/x-www-form-urlencoded"


def _body(data: dict[str, list[str]]) -> str:
    # As a browser would send it; a lone surrogate goes as the bytes UTF-8 would give it.
    return "&".join(
        f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
        for k, values in data.items()
        for v in values
    )


def _forms_in(context) -> list:
    """The forms a page was rendered with (every template's context, every layer)."""
    contexts = [] if context is None else (context if isinstance(context, list) else [context])
    found = []
    for each in contexts:
        for layer in each.dicts:
            for value in layer.values() if isinstance(layer, dict) else []:
                if isinstance(value, BaseForm) and value not in found:
                    found.append(value)
                elif isinstance(value, BaseFormSet):
                    found.extend(f for f in value.forms if f not in found)
    return found


def _errors(response) -> dict | None:
    """Field name → errors of the forms a 200 page shows (prefixed names too); None if none."""
    if response.status_code != 200:
        return None
    forms = _forms_in(response.context)
    if not forms:
        return None
    errors = {}
    for form in forms:
        for name, messages in form.errors.items():
            errors[name] = list(messages)
            errors[form.add_prefix(name)] = list(messages)
    return errors


def _unusable_stored() -> list[str]:
    """Columns of any table that hold text with a NUL or a date outside 1900–2200
    (docs/decisions/007-strict-input.md)."""
    found = []
    for model in apps.get_models():
        if not model._meta.managed:
            continue
        names = [
            f.name
            for f in model._meta.get_fields()
            if f.concrete
            and isinstance(f, (models.CharField, models.TextField, models.DateField))
            and not isinstance(f, models.DateTimeField)
        ]
        if not names:
            continue
        # Read, not filtered: SQLite's LIKE ends a pattern at a NUL.
        for row in model.objects.values_list(*names):
            found += [
                f"{model._meta.label}.{n}={v!r:.40}"
                for n, v in zip(names, row, strict=True)
                if (isinstance(v, str) and "\x00" in v)
                or (isinstance(v, dt.date) and not 1900 <= v.year <= 2200)
            ]
    return found


# Every post here starts an open-link answer from one address: no flood guard in the way.
@override_settings(OPEN_LINK_RATE=(1_000_000, 60))
class FormFuzzTests(FuzzSiteTestCase):
    """The data of the parameter fuzzer (a survey with an open link, customers, contacts, a
    stored response, a CX lead who is also staff), with an interview guide and a pulse survey."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.survey.accepts_open_link = True
        cls.survey.save()
        cls.guide = Survey.objects.create(
            name_ru="Встреча", name_en="Meeting", kind="interview", languages=["ru", "en"]
        )
        Question.objects.create(
            survey=cls.guide, order=1, kind="nps", text_ru="NPS", text_en="NPS", required=True
        )
        cls.pulse = make_pulse()
        now = dt.datetime.now(dt.UTC)
        cls.invitation_token = issue_invitation(cls.survey, cls.ann, now=now)[1]

    def _form_path(self, route: str, name: str) -> str | None:
        survey = self.survey.pk
        known = {
            "survey_detail": f"/surveys/{survey}/",
            "survey_edit": f"/surveys/{survey}/edit/",
            "survey_preview": f"/surveys/{survey}/preview/",
            "question_edit": f"/surveys/{survey}/questions/3/",
            "touchpoint_detail": f"/touchpoints/{self.kickoff.pk}/",
            "pulse_answer": f"/pulse/{self.pulse.pk}/",
            "pulse_results": f"/pulse/{self.pulse.pk}/results/",
            "personal_data_export": f"/audit/personal-data/{self.ann.pk}/export/",
            "personal_data_erase": f"/audit/personal-data/{self.ann.pk}/erase/",
            "respond": f"/s/{self.invitation_token}/",
            "unsubscribe": f"/u/{self.invitation_token}/",
            "respond_open": f"/o/{survey}/{open_link_signature(survey)}/",
        }
        if name in known:
            return known[name]
        if "<" in route:
            return None  # an import's token or a thank-you page: no form of its own
        return "/" + route

    def _pages(self):
        for route, pattern in _patterns():
            if route.startswith(SKIPPED_PREFIXES) or pattern.name in ("logout", "set_language"):
                continue
            path = self._form_path(route, pattern.name or "")
            if path is not None:
                yield pattern.name, path

    def test_it_answers_every_form_field_without_a_server_error(self):
        client = Client(raise_request_exception=False)
        client.force_login(self.lead)
        self.client = client
        requests = 0
        covered = []
        for name, path in self._pages():
            # A meeting is recorded by someone of the client's team; the lead picks from none.
            user = self.owner if name == "face_to_face_new" else self.lead
            client.force_login(user)
            if name == "login":
                client.logout()
            with transaction.atomic():
                page = client.get(path)
                transaction.set_rollback(True)
            if name == "login":
                client.force_login(user)
            self.assertLess(page.status_code, 500, f"GET {path}")
            if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
                continue
            parser = FormParser()
            parser.feed(page.content.decode())
            for form in parser.forms:
                action = urljoin(path, form["action"]) if form["action"] else path
                if action.startswith(SKIPPED_ACTIONS):
                    continue
                defaults = {k: v for k, v in form["fields"].items() if k != "csrfmiddlewaretoken"}
                if "submit" in form:
                    defaults.setdefault(form["submit"][0], [form["submit"][1]])
                fields = sorted(defaults)
                if not fields:
                    continue  # a button alone (sign out, erase): nothing to fuzz
                covered.append((action, fields))
                anonymous = name == "login"
                baseline = self._post(client, action, defaults, None, None, anonymous)
                requests += 1
                for field in fields:
                    for value in HOSTILE:
                        self._post(client, action, defaults, field, value, anonymous, baseline)
                        requests += 1
                requests += self._fuzz_form(client, action, defaults, fields, anonymous, baseline)
        self.assertGreaterEqual(len(covered), 10, covered)
        print(
            f"\nform fuzz: {len(covered)} forms, "
            f"{sum(len(f) for _, f in covered)} fields, {requests} requests"
        )

    def _fuzz_form(self, client, action, defaults, fields, anonymous, baseline) -> int:
        count = [0]

        @settings(
            max_examples=4, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(st.sampled_from(fields), DRAWN)
        def check(field, value):
            count[0] += 1
            self._post(client, action, defaults, field, value, anonymous, baseline)

        check()
        return count[0]

    def _post(self, client, action, defaults, field, value, anonymous, baseline=None):
        """Post the form's defaults with ``field`` set to ``value``; the field errors the page
        shows (None where it shows no form)."""
        data = {k: list(v) for k, v in defaults.items()}
        if field is not None:
            data[field] = [value]
        where = f"POST {action} {field}={(value or '')[:40]!r}"
        if anonymous:
            client.logout()
        errors = None
        with transaction.atomic():
            response = client.post(action, _body(data), content_type=FORM_ENCODED)
            try:
                self.assertLess(response.status_code, 500, where)
                if response.status_code in (302, 303):  # stored: nothing it cannot use
                    self.assertEqual(_unusable_stored(), [], where)
                errors = _errors(response)
                new = {
                    name
                    for name, messages in (errors or {}).items()
                    if (baseline or {}).get(name) != messages
                }
                if field is not None and new:
                    # The value made the form say something new: it says it next to the field.
                    self.assertTrue(
                        field in new or "__all__" in new,
                        f"{where}: new errors on {sorted(new)} do not name it",
                    )
            finally:
                transaction.set_rollback(True)
        if anonymous:
            client.force_login(self.lead)  # the only anonymous form is the sign-in page's
        return errors
