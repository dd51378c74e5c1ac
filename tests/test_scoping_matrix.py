"""Every endpoint × every role: no one reads or writes another team's customers' feedback.

The endpoints come from the URL resolver, so a new page or API operation is in the matrix the
day it is added: the test fails until it is given a row below (how to call it, what it may
change) or an exemption that says why it needs none.

The roles: anonymous, a viewer, an employee and a manager of team B (the other team), an
executive and an administrator; an employee of team A, who owns the customer, is the control
that shows each write can succeed. The data of team A carries a marker that no response to an
identity of another team (nor to an anonymous visitor) may contain. A refused write changes no
table: the row counts of every model are compared before and after.
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.models import User
from django.test import TestCase
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from cxloop.api.services import issue_token
from cxloop.cases.models import AlertRule, AlertRuleVersion, InquiryTopic, RootCause, SlaPolicy
from cxloop.cases.services import open_case
from cxloop.comments.services import rebuild as rebuild_comments
from cxloop.comments.services import save_theme
from cxloop.customers.models import Contact, Customer
from cxloop.exports.models import ExportJob, ReportSchedule
from cxloop.feedback.models import FaceToFaceRecord, FollowUp
from cxloop.feedback.services import ingest, log_face_to_face
from cxloop.improvements import services as improvements
from cxloop.improvements import training_services
from cxloop.improvements.models import ActionItem, Decision, Initiative
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.people.models import BusinessCalendar, Employee, Idea, Role, Team
from cxloop.people.reward_services import open_period
from cxloop.people.services import submit_idea
from cxloop.surveys.models import Question, Response, Survey
from cxloop.surveys.services import open_link_signature
from cxloop.test import PASSWORD
from cxloop.webhooks.services import create_subscription, emit
from tests.front.test_pulse import make_pulse
from tests.reward_data import make_plan
from tests.surveys.test_respond import make_survey

MARKER = "SECRETA"  # in team A's customer, contact, comments, notes and ideas
WHEN = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)

ROLES = ("anonymous", "viewer", "employee", "manager", "executive", "admin")
OTHER_TEAM = ("anonymous", "employee", "manager")  # must read nothing of team A
WRITERS_FOR_A = ("executive", "admin", "own")  # may record feedback about team A's customer

# Routes that need no row, and why.
EXEMPT = {
    "login": "signs a user in; shows no data",
    "logout": "signs a user out; shows no data",
    "set_language": "stores the chosen language in the session only",
    "api:openapi-json": "the API's description; no data",
    "api:openapi-view": "the API's documentation page; no data",
    "api:api-root": "the API's root; no data",
    "respond": "a respondent's own invitation: the token is the authority, and it shows "
    "only the respondent's own survey (tests/surveys/test_respond.py)",
    "respond_thanks": "a thank-you page behind an invitation token",
    "unsubscribe": "a contact's own opt-out behind an invitation token",
    "respond_open": "a survey's public link: anonymous answers, no team's data "
    "(tests/surveys/test_respond_open.py)",
    "respond_open_thanks": "a thank-you page of a public link",
    "ask": "the public inquiry form: a customer asks, nobody's data is shown "
    "(tests/cases/test_inquiries.py)",
    "ask_thanks": "the inquiry form's thank-you page",
    "inquiry_thread": "a customer's own inquiry behind its private token "
    "(tests/cases/test_inquiries.py)",
    "healthz": "the service's health: counts and ages, no one's data (tests/ops/test_health.py)",
    "metrics": "counts for Prometheus, by address or token only, no one's data "
    "(tests/ops/test_metrics.py)",
}
EXEMPT_PREFIXES = {
    "admin/": "Django's admin: staff only, with model permissions; no matrix role is staff",
}

# Pages only the CX lead (the administrator role) may use at all, GET and POST alike.
CX_LEAD_ONLY = {
    "survey_new",
    "survey_edit",
    "survey_preview",
    "question_edit",
    "import_upload",
    "import_mapping",
    "import_preview",
    "import_run",
    "import_result",
    "audit_log",
    "personal_data",
    "personal_data_export",
    "personal_data_erase",
    "root_cause_list",
    "root_cause_edit",
    "rule_list",
    "rule_new",
    "rule_edit",
    "rule_toggle",
    "rule_run",
    "sla_list",
    "sla_edit",
    "topic_list",
    "topic_new",
    "topic_edit",
    "calendar_list",
    "calendar_edit",
    "theme_list",
    "theme_new",
    "theme_edit",
    "theme_check",
    "theme_suggestions",
    "webhook_list",
    "webhook_new",
    "webhook_detail",
    "webhook_secret",
    "webhook_toggle",
    "webhook_replay",
    "report_schedule_list",
    "report_schedule_new",
    "report_schedule_edit",
    "report_schedule_toggle",
    "report_schedule_send",
}
# Tables a refused request may still touch: sessions, the audit trail of the attempt itself,
# sign-in attempts, queued background work.
UNCOUNTED_APPS = {"sessions", "audit", "axes", "django_tasks_database", "contenttypes"}


def _routes(patterns=None, prefix="", namespace=""):
    """(route, name) of every URL pattern, namespaced as reverse() takes it."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            ns = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or "")
            yield prefix + str(pattern.pattern), name


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label not in UNCOUNTED_APPS and model._meta.managed
    }


@dataclass
class Call:
    method: str
    path: str
    data: dict | list = field(default_factory=dict)
    api: bool = False


class ScopingMatrixTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        firm = Team.objects.create(name="Firm")
        cls.team_a = Team.objects.create(name="Team A", parent=firm)
        cls.team_b = Team.objects.create(name="Team B", parent=firm)
        team_of = {"viewer": firm, "executive": firm, "admin": firm, "own": cls.team_a}
        role_of = {"employee": Role.EMPLOYEE, "manager": Role.MANAGER, "own": Role.EMPLOYEE}
        cls.users = {}
        for name in (*ROLES[1:], "own"):
            user = User.objects.create_user(name, f"{name}@example.org", PASSWORD)
            Employee.objects.create(
                user=user,
                team=team_of.get(name, cls.team_b),
                role=role_of.get(name, name),
            )
            cls.users[name] = user
        own = cls.users["own"].employee
        cls.acme = Customer.objects.create(external_id="C-A", name=f"Acme {MARKER}", owner=own)
        cls.ann = Contact.objects.create(
            customer=cls.acme, name=f"Ann {MARKER}", email="ann@acme.example"
        )
        cls.beta = Customer.objects.create(
            external_id="C-B", name="Beta", owner=cls.users["employee"].employee
        )
        journey = Journey.objects.create(name_ru="Путь", name_en="Journey")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Старт", name_en="Start")
        cls.touchpoint = Touchpoint.objects.create(
            stage=stage,
            order=1,
            code="kickoff",
            channel="meeting",
            name_ru="Встреча",
            name_en="Kick-off",
        )
        cls.survey = make_survey(accepts_open_link=True)
        cls.survey.touchpoints.set([cls.touchpoint])
        cls.acme_response = ingest(
            survey=cls.survey,
            answers={1: 3, 4: f"{MARKER} comment"},
            channel="email",
            submitted_at=WHEN,
            customer=cls.acme,
            contact=cls.ann,
            touchpoint=cls.touchpoint,
        )
        cls.guide = Survey.objects.create(
            name_ru="Встреча", name_en="Meeting", kind="interview", languages=["ru", "en"]
        )
        cls.guide_nps = Question.objects.create(
            survey=cls.guide, order=1, kind="nps", text_ru="NPS", text_en="NPS", required=True
        )
        log_face_to_face(
            guide=cls.guide,
            kind="visit",
            customer=cls.acme,
            employee=own,
            met_on=WHEN.date(),
            language="ru",
            values={cls.guide_nps.pk: 8},
            contacts=[cls.ann],
            notes=f"{MARKER} notes",
            by=own,
        )
        cls.idea = submit_idea(f"{MARKER} idea", author=own, anonymous=False, today=WHEN.date())
        cls.theme = save_theme(
            None, code="marked", name_ru="Метка", name_en="Marker", phrases_en="comment"
        )
        rebuild_comments()  # team A's comment carries the theme
        cls.case = open_case(
            origin="manual",
            title=f"{MARKER} case",
            now=WHEN,
            customer=cls.acme,
            owner=own,
            responses=[cls.acme_response.response],
        )
        cls.follow_up = FollowUp.objects.create(
            record=FaceToFaceRecord.objects.get(customer=cls.acme),
            description=f"{MARKER} follow-up",
            owner=own,
            due_on=WHEN.date(),
        )
        cls.root_cause = RootCause.objects.create(name_ru="Сроки", name_en="Delays")
        cls.policy = SlaPolicy.objects.create(
            name_ru="Стандарт", name_en="Standard", first_contact_hours=4, resolution_hours=16
        )
        cls.rule = AlertRule.objects.create(name_ru="Критики", created_at=WHEN)
        AlertRuleVersion.objects.create(
            rule=cls.rule,
            version=1,
            condition={"all": [{"field": "nps", "op": "lte", "value": 6}]},
            owner_kind="customer_owner",
            sla_policy=cls.policy,
            created_at=WHEN,
        )
        cls.topic = InquiryTopic.objects.create(
            name_ru="Счета", name_en="Invoices", team=cls.team_a, sla_policy=cls.policy
        )
        cls.calendar = BusinessCalendar.objects.order_by("pk").first()
        cls.initiative = improvements.create_initiative(
            title=f"{MARKER} initiative",
            touchpoints=[cls.touchpoint],
            problem=f"{MARKER} problem",
            hypothesis="Faster answers",
            metric="nps",
            target_value=40,
            target_date=WHEN.date(),
            owner=own,
            by=own,
            now=WHEN,
        )
        cls.action_item = improvements.add_action_item(
            cls.initiative, text=f"{MARKER} step", owner=own, due_on=WHEN.date(), by=own, now=WHEN
        )
        # Organisation-wide: everyone signed in reads it, so it carries no marker; the linked
        # initiative (team A's, with the marker) must not show through it.
        cls.decision = improvements.create_decision(
            title="New billing system",
            kind="system",
            decided_on=WHEN.date(),
            in_force_from=WHEN.date(),
            touchpoints=[cls.touchpoint],
            metric="rating",
            expected_direction="up",
            expected_size=Decimal("0.3"),
            initiative=cls.initiative,
            team=cls.team_a,
            by=own,
            now=WHEN,
        )
        cls.pulse = make_pulse()
        # An export of team A's feedback by its employee: only they see its page and file.
        cls.export_job = ExportJob.objects.create(
            user=cls.users["own"], kind="responses", format="csv", language="en", created_at=WHEN
        )
        cls.course = training_services.create_course(
            title="Course", touchpoints=[cls.touchpoint], by=own, now=WHEN
        )
        (cls.assignment,) = training_services.assign_course(cls.course, [own], by=own, now=WHEN)
        cls.reward_plan = make_plan(cls.users["executive"].employee)
        cls.reward_period = open_period(
            cls.reward_plan, dt.date(2026, 1, 1), by=cls.users["executive"].employee
        )
        cls.webhook = create_subscription(
            name="Helpdesk", url="https://hooks.example/cx", events=["case.opened"], now=WHEN
        )
        emit("case.opened", subject=f"case:{cls.case.pk}", data={"case": cls.case.pk}, now=WHEN)
        cls.webhook_delivery = cls.webhook.deliveries.get()
        cls.report_schedule = ReportSchedule.objects.create(
            name="Weekly journey", report="journey", created_at=WHEN
        )
        cls.tokens = {
            name: issue_token(user.employee, "matrix")[1] for name, user in cls.users.items()
        }

    # -- how each route is called --------------------------------------------------------

    def _reads(self) -> dict[str, Call]:
        """A GET for every route that is not exempt."""
        survey, pulse = self.survey.pk, self.pulse.pk
        paths = {
            "survey_detail": f"/surveys/{survey}/",
            "survey_edit": f"/surveys/{survey}/edit/",
            "survey_preview": f"/surveys/{survey}/preview/",
            "question_edit": f"/surveys/{survey}/questions/1/",
            "survey_qr": f"/surveys/{survey}/qr.svg",
            "touchpoint_detail": f"/touchpoints/{self.touchpoint.pk}/",
            "pulse_answer": f"/pulse/{pulse}/",
            "pulse_results": f"/pulse/{pulse}/results/",
            "personal_data_export": f"/audit/personal-data/{self.ann.pk}/export/",
            "personal_data_erase": f"/audit/personal-data/{self.ann.pk}/erase/",
            "api:get_survey": f"/api/surveys/{survey}",
            # Team A's scorecards through the API: 404 for the other team's people, as the pages.
            "api:team_scorecard": f"/api/scorecards/teams/{self.team_a.pk}",
            "api:person_scorecard": (f"/api/scorecards/people/{self.users['own'].employee.pk}"),
            "response_detail": f"/responses/{self.acme_response.response.pk}/",
            "customer_detail": f"/customers/{self.acme.pk}/",
            "contact_detail": f"/contacts/{self.ann.pk}/",
            "case_detail": f"/cases/{self.case.pk}/",
            "case_action": f"/cases/{self.case.pk}/note/",
            "follow_up_done": f"/cases/follow-ups/{self.follow_up.pk}/done/",
            "root_cause_edit": f"/cases/root-causes/{self.root_cause.pk}/",
            "case_answer": f"/cases/{self.case.pk}/answer/",
            "rule_edit": f"/rules/{self.rule.pk}/",
            "rule_toggle": f"/rules/{self.rule.pk}/active/",
            "rule_run": f"/rules/{self.rule.pk}/run/",
            "sla_edit": f"/rules/sla/{self.policy.pk}/",
            "topic_edit": f"/cases/topics/{self.topic.pk}/",
            "calendar_edit": f"/settings/notifications/calendars/{self.calendar.pk}/",
            "initiative_detail": f"/initiatives/{self.initiative.pk}/",
            "initiative_edit": f"/initiatives/{self.initiative.pk}/edit/",
            "initiative_state": f"/initiatives/{self.initiative.pk}/state/",
            "initiative_finish": f"/initiatives/{self.initiative.pk}/finish/",
            "action_item_add": f"/initiatives/{self.initiative.pk}/actions/",
            "action_item_done": (
                f"/initiatives/{self.initiative.pk}/actions/{self.action_item.pk}/done/"
            ),
            "decision_detail": f"/decisions/{self.decision.pk}/",
            "decision_edit": f"/decisions/{self.decision.pk}/edit/",
            # Team A's employee's and team's scorecards: 404 for the other team's people.
            "person_scorecard": f"/people/scorecards/people/{self.users['own'].employee.pk}/",
            "team_scorecard": f"/people/scorecards/teams/{self.team_a.pk}/",
            "reward_plan_detail": f"/people/rewards/{self.reward_plan.pk}/",
            "reward_plan_edit": f"/people/rewards/{self.reward_plan.pk}/edit/",
            "reward_simulate": f"/people/rewards/{self.reward_plan.pk}/simulate/",
            "reward_period_open": f"/people/rewards/{self.reward_plan.pk}/periods/",
            "reward_period_detail": f"/people/rewards/periods/{self.reward_period.pk}/",
            "reward_period_state": f"/people/rewards/periods/{self.reward_period.pk}/state/",
            "reward_period_csv": f"/people/rewards/periods/{self.reward_period.pk}/payroll.csv",
            "reward_period_xlsx": f"/people/rewards/periods/{self.reward_period.pk}/payroll.xlsx",
            "reward_period_parquet": (
                f"/people/rewards/periods/{self.reward_period.pk}/payroll.parquet"
            ),
            "export_detail": f"/exports/{self.export_job.pk}/",
            "export_download": f"/exports/{self.export_job.pk}/file/",
            "course_detail": f"/training/{self.course.pk}/",
            "course_assign": f"/training/{self.course.pk}/assign/",
            "assignment_done": f"/training/assignments/{self.assignment.pk}/done/",
            "assignment_confirm": f"/training/assignments/{self.assignment.pk}/confirm/",
            "idea_answer": f"/ideas/{self.idea.pk}/answer/",
            "theme_edit": f"/comments/themes/{self.theme.pk}/",
            "theme_check": f"/comments/themes/{self.theme.pk}/check/",
            "webhook_detail": f"/settings/webhooks/{self.webhook.pk}/",
            "webhook_secret": f"/settings/webhooks/{self.webhook.pk}/secret/",
            "webhook_toggle": f"/settings/webhooks/{self.webhook.pk}/active/",
            "webhook_replay": (
                f"/settings/webhooks/{self.webhook.pk}/deliveries/{self.webhook_delivery.pk}/replay/"
            ),
            "report_schedule_edit": f"/exports/schedules/{self.report_schedule.pk}/",
            "report_schedule_toggle": f"/exports/schedules/{self.report_schedule.pk}/active/",
            "report_schedule_send": f"/exports/schedules/{self.report_schedule.pk}/send/",
        }
        calls = {}
        for route, name in _routes():
            if name in EXEMPT or any(route.startswith(p) for p in EXEMPT_PREFIXES):
                continue
            path = paths.get(name, "/" + route.replace("<str:token>", "no-such-import"))
            self.assertNotIn("<", path, f"{name} ({route}): give it a path in _reads()")
            calls[name] = Call("get", path, api=name.startswith("api:"))
        return calls

    def _request(self, role: str, call: Call):
        self.client.logout()
        headers = {}
        if role != "anonymous":
            self.client.force_login(self.users[role])
            if call.api:
                headers["Authorization"] = f"Bearer {self.tokens[role]}"
        if call.method == "get":
            return self.client.get(call.path, headers=headers)
        if call.api:
            key = headers["Idempotency-Key"] = f"{role}-{call.path}-{len(json.dumps(call.data))}"
            body = call.data
            if isinstance(body, list):  # a batch: each item carries its own key
                body = [item | {"idempotency_key": f"{key}-{n}"} for n, item in enumerate(body)]
            return self.client.post(
                call.path, json.dumps(body), content_type="application/json", headers=headers
            )
        return self.client.post(call.path, call.data, headers=headers)

    # -- the matrix ----------------------------------------------------------------------

    def test_it_knows_every_route(self):
        known = set(self._reads()) | set(EXEMPT)
        for route, name in _routes():
            if any(route.startswith(p) for p in EXEMPT_PREFIXES):
                continue
            self.assertTrue(name, f"{route} has no name: name it to put it in the matrix")
            self.assertIn(name, known, f"{route}: add {name} to the matrix or to EXEMPT")

    def test_it_shows_no_one_of_another_team_any_of_team_as_data(self):
        reads = self._reads()
        seen_by_readers = set()
        for name, call in reads.items():
            for role in (*ROLES, "own"):
                with self.subTest(route=name, role=role):
                    response = self._request(role, call)
                    self.assertLess(response.status_code, 500)
                    body = (
                        b"".join(response.streaming_content)
                        if response.streaming
                        else response.content
                    )
                    shown = MARKER in body.decode("utf-8", "replace")
                    if role in OTHER_TEAM:
                        self.assertFalse(shown, f"{role} read team A's data on {call.path}")
                    elif shown:
                        seen_by_readers.add(name)
        # The marker is findable at all: the pages below show team A's data to those who may
        # read it, so its absence above means something.
        expected = {
            "response_list",
            "face_to_face_list",
            "ideas",
            "api:list_responses",
            "response_detail",
            "customer_list",
            "customer_detail",
            "contact_detail",
            "case_list",
            "case_detail",
            "follow_up_list",
            "initiative_list",
            "initiative_detail",
        }
        self.assertLessEqual(expected, seen_by_readers)

    def test_it_lets_no_one_but_the_cx_lead_use_the_cx_leads_pages(self):
        present = set(self._reads()) & CX_LEAD_ONLY
        self.assertTrue(present)
        active = Survey.objects.get(pk=self.survey.pk).is_active
        for name in sorted(present):
            call = self._reads()[name]
            post = Call("post", call.path, {"action": "publish", "name_ru": "x"})
            for role in ROLES[:-1]:
                before = _row_counts()
                with self.subTest(route=name, role=role):
                    for attempt in (call, post):
                        status = self._request(role, attempt).status_code
                        self.assertIn(status, (302, 403, 404, 405), attempt.method)
                        if status == 302:
                            self.assertIsNone(self.client.session.get("_auth_user_id"))
                    self.assertEqual(_row_counts(), before)
        self.assertEqual(Survey.objects.get(pk=self.survey.pk).is_active, active)

    def test_it_lets_only_the_cx_lead_send_a_survey(self):
        """Everyone signed in sees a survey's page; only the CX lead's POST invites anyone."""
        send = {"emails": "ann@acme.example", "fatigue_days": 30, "action": "send"}
        call = Call("post", f"/surveys/{self.survey.pk}/", send)
        for role in (*ROLES[:-1], "own"):
            with self.subTest(role=role):
                before = _row_counts()
                self.assertIn(self._request(role, call).status_code, (302, 403))
                self.assertEqual(_row_counts(), before)
        self.assertTrue(self._request("admin", call).context["sent"])

    def _writes(self) -> dict[str, tuple[Call, object]]:
        """Each write of feedback about team A's customer, with the rows it adds when allowed."""
        today = timezone.localdate().isoformat()
        return {
            "face_to_face_new": (
                Call(
                    "post",
                    "/feedback/new/",
                    {
                        "kind": "visit",
                        "customer": self.acme.pk,
                        "participants": "ann@acme.example",
                        "met_on": today,
                        "language": "ru",
                        "q1": "9",
                    },
                ),
                FaceToFaceRecord.objects,
            ),
            "api:submit_response": (
                Call(
                    "post",
                    "/api/responses",
                    {
                        "survey_id": self.survey.pk,
                        "answers": {"1": 9},
                        "customer_external_id": "C-A",
                    },
                    api=True,
                ),
                Response.objects.filter(channel="api"),
            ),
            "api:submit_response_batch": (
                Call(
                    "post",
                    "/api/responses/batch",
                    [
                        {
                            "survey_id": self.survey.pk,
                            "answers": {"1": 8},
                            "customer_external_id": "C-A",
                        }
                    ],
                    api=True,
                ),
                Response.objects.filter(channel="api"),
            ),
            "api:submit_response by contact": (
                Call(
                    "post",
                    "/api/responses",
                    {
                        "survey_id": self.survey.pk,
                        "answers": {"1": 7},
                        "contact_email": "ann@acme.example",
                    },
                    api=True,
                ),
                Response.objects.filter(channel="api"),
            ),
        }

    def test_it_lets_no_one_record_feedback_about_another_teams_customer(self):
        for name, (call, rows) in self._writes().items():
            for role in (*ROLES, "own"):
                with self.subTest(route=name, role=role):
                    before, counts = rows.count(), _row_counts()
                    response = self._request(role, call)
                    self.assertLess(response.status_code, 500)
                    if role in WRITERS_FOR_A:
                        self.assertEqual(rows.count(), before + 1, response.content[:300])
                    else:
                        self.assertEqual(_row_counts(), counts, f"{role} wrote for team A")
                        self.assertNotIn(MARKER, response.content.decode())

    def test_it_lets_each_role_write_only_its_own_ideas_and_pulse_answers(self):
        """Ideas and pulse answers are about the writer's own team; viewers send no ideas.
        Every employee, viewers included, answers the pulse about their own work."""
        idea = Call("post", "/ideas/", {"text": "Меньше совещаний"})
        pulse = Call("post", f"/pulse/{self.pulse.pk}/", {"q1": "8"})
        for role in (*ROLES, "own"):
            with self.subTest(role=role):
                ideas, answers = Idea.objects.count(), self.pulse.responses.count()
                self._request(role, idea)
                self._request(role, pulse)
                if role in ("anonymous", "viewer"):
                    self.assertEqual(Idea.objects.count(), ideas)
                else:
                    stored = Idea.objects.latest("pk")
                    self.assertEqual(stored.team, self.users[role].employee.team)
                if role == "anonymous":
                    self.assertEqual(self.pulse.responses.count(), answers)
                else:
                    stored = self.pulse.responses.latest("pk")
                    self.assertEqual(stored.team, self.users[role].employee.team)

    def test_it_offers_the_meeting_form_only_the_customers_in_scope(self):
        expected = {
            "employee": ["Beta"],
            "manager": ["Beta"],
            "own": [self.acme.name],
            "executive": [self.acme.name, "Beta"],
            "admin": [self.acme.name, "Beta"],
        }
        for role, names in expected.items():
            with self.subTest(role=role):
                page = self._request(role, Call("get", "/feedback/new/"))
                offered = page.context["form"].fields["customer"].queryset
                self.assertEqual([c.name for c in offered], names)
        self.assertEqual(self._request("viewer", Call("get", "/feedback/new/")).status_code, 403)

    def test_it_keeps_the_open_links_signature_apart(self):
        # The public link is exempt above because its signature is its authority.
        forged = f"/o/{self.survey.pk}/{'x' * 16}/"
        self.assertEqual(self.client.get(forged).status_code, 404)
        signed = f"/o/{self.survey.pk}/{open_link_signature(self.survey.pk)}/"
        self.assertNotContains(self.client.get(signed), MARKER)

    def test_it_lets_only_those_in_scope_change_a_decision(self):
        """Team A's decision: another team's manager, employees and viewers change nothing;
        the CX lead does."""
        edit = f"/decisions/{self.decision.pk}/edit/"
        data = {
            "title": "Changed",
            "kind": "policy",
            "decided_on": WHEN.date().isoformat(),
            "in_force_from": WHEN.date().isoformat(),
            "touchpoints": [self.touchpoint.pk],
            "metric": "rating",
            "expected_direction": "down",
            "expected_size": "1",
            "team": self.team_a.pk,
        }
        for role in ("anonymous", "viewer", "employee", "manager"):
            with self.subTest(role=role):
                before = _row_counts()
                status = self._request(role, Call("post", edit, data)).status_code
                self.assertIn(status, (302, 403, 404))
                self.assertEqual(_row_counts(), before)
                self.assertEqual(
                    Decision.objects.get(pk=self.decision.pk).title, "New billing system"
                )
        self.assertEqual(self._request("admin", Call("post", edit, data)).status_code, 302)
        self.assertEqual(Decision.objects.get(pk=self.decision.pk).title, "Changed")

    def test_it_lets_only_those_in_scope_change_an_initiative(self):
        """Another team's people and viewers change nothing of team A's initiative; its owner
        (an employee) ticks their own action item only; the CX lead and executives change it."""
        base = f"/initiatives/{self.initiative.pk}"
        step = {"text": "Call back", "owner": self.users["own"].employee.pk, "due_on": "2026-04-01"}
        writes = {
            "state": (
                Call("post", f"{base}/state/", {"state": "approved"}),
                ("executive", "admin"),
            ),
            "item": (Call("post", f"{base}/actions/", step), ("executive", "admin")),
            "tick": (
                Call("post", f"{base}/actions/{self.action_item.pk}/done/", {"done": "1"}),
                ("executive", "admin", "own"),
            ),
        }
        for name, (call, allowed) in writes.items():
            for role in (*ROLES, "own"):
                with self.subTest(write=name, role=role):
                    Initiative.objects.filter(pk=self.initiative.pk).update(
                        state="proposed", approved_at=None, approved_by=None
                    )
                    ActionItem.objects.filter(pk=self.action_item.pk).update(
                        done_at=None, done_by=None
                    )
                    before = _row_counts()
                    response = self._request(role, call)
                    self.assertLess(response.status_code, 500)
                    initiative = Initiative.objects.get(pk=self.initiative.pk)
                    item = ActionItem.objects.get(pk=self.action_item.pk)
                    changed = (
                        initiative.state != "proposed"
                        or item.done_at is not None
                        or _row_counts()["improvements.ActionItem"]
                        != before["improvements.ActionItem"]
                    )
                    self.assertEqual(changed, role in allowed, response.status_code)
                    if role not in allowed:
                        self.assertIn(response.status_code, (302, 403, 404))
                        self.assertNotIn(MARKER, response.content.decode())
