"""A small, realistic dataset behind every staff page, for the browser test that opens them all:
the journey, survey, customers and answers of :func:`make_insight_data` with its fact store, plus
a contact who answered, an invitation, a survey with an open link, a face-to-face meeting, a
pulse survey with its answer, an idea, one import waiting at its mapping step and one that has
run. ``make_every_page_data`` returns the records, the URL kwargs of every page that takes an id
(:data:`URL_KWARGS`) and the session of the CX lead who did the imports (it holds them)."""

import datetime as dt
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cxloop.cases import inquiries
from cxloop.cases.models import Case, InquiryTopic, RootCause, SlaPolicy
from cxloop.comments.services import save_theme
from cxloop.customers.models import Contact
from cxloop.facts.sync import rebuild
from cxloop.feedback.models import FaceToFaceRecord, FollowUp
from cxloop.feedback.services import ingest
from cxloop.improvements import training_services
from cxloop.insights import rewards
from cxloop.journeys.queries import touchpoints_with_stage
from cxloop.people.models import BusinessCalendar, Employee, Idea, Role, Team
from cxloop.people.reward_services import approve_period, open_period
from cxloop.surveys.models import Question, Response, Survey
from cxloop.surveys.services import issue_invitation, open_link_signature
from cxloop.test import BaseTestCase
from tests.front.insight_data import make_insight_data
from tests.front.test_pulse import make_pulse
from tests.imports.files import csv_bytes
from tests.reward_data import make_plan

# How to fill the converters of each page that takes one; a page missing here fails the test
# (naming its URL pattern), so a new page cannot be skipped silently.
URL_KWARGS = {
    "calendar_edit": lambda d: {"pk": d.calendar.pk},
    "survey_detail": lambda d: {"pk": d.survey.pk},
    "survey_edit": lambda d: {"pk": d.survey.pk},
    "survey_preview": lambda d: {"pk": d.survey.pk},
    "survey_qr": lambda d: {"pk": d.survey.pk},
    "question_edit": lambda d: {"pk": d.survey.pk, "number": 1},
    "touchpoint_detail": lambda d: {"pk": d.billing.pk},
    "pulse_answer": lambda d: {"pk": d.pulse.pk},
    "pulse_results": lambda d: {"pk": d.pulse.pk},
    "import_mapping": lambda d: {"token": d.pending_import},
    "import_preview": lambda d: {"token": d.mapped_import},
    "import_run": lambda d: {"token": d.mapped_import},
    "import_result": lambda d: {"token": d.finished_import},
    "personal_data_export": lambda d: {"pk": d.contact.pk},
    "personal_data_erase": lambda d: {"pk": d.contact.pk},
    "response_detail": lambda d: {"pk": d.response.pk},
    "customer_detail": lambda d: {"pk": d.ours.pk},
    "contact_detail": lambda d: {"pk": d.contact.pk},
    "respond": lambda d: {"token": d.invitation_token},
    "respond_open": lambda d: {"pk": d.survey.pk, "signature": d.open_signature},
    "case_detail": lambda d: {"pk": d.case.pk},
    "case_action": lambda d: {"pk": d.case.pk, "action": "note"},
    "follow_up_done": lambda d: {"pk": d.follow_up.pk},
    "root_cause_edit": lambda d: {"pk": d.root_cause.pk},
    "case_answer": lambda d: {"pk": d.inquiry_case.pk},
    "inquiry_thread": lambda d: {"token": d.inquiry_token},
    "topic_edit": lambda d: {"pk": d.inquiry_case.inquiry.topic_id},
    "rule_edit": lambda d: {"pk": _alert_rule(d).rule_id},
    "rule_toggle": lambda d: {"pk": _alert_rule(d).rule_id},
    "rule_run": lambda d: {"pk": _alert_rule(d).rule_id},
    "sla_edit": lambda d: {"pk": _alert_rule(d).sla_policy_id},
    "initiative_detail": lambda d: {"pk": _initiative(d).pk},
    "initiative_edit": lambda d: {"pk": _initiative(d).pk},
    "initiative_state": lambda d: {"pk": _initiative(d).pk},
    "initiative_finish": lambda d: {"pk": _initiative(d).pk},
    "action_item_add": lambda d: {"pk": _initiative(d).pk},
    "action_item_done": lambda d: {"pk": _initiative(d).pk, "item": d.action_item.pk},
    "decision_detail": lambda d: {"pk": _decision(d).pk},
    "decision_edit": lambda d: {"pk": _decision(d).pk},
    "person_scorecard": lambda d: {"pk": d.lead.employee.pk},
    "team_scorecard": lambda d: {"pk": d.lead.employee.team_id},
    "reward_plan_detail": lambda d: {"pk": d.reward_period.plan_id},
    "reward_plan_edit": lambda d: {"pk": d.reward_period.plan_id},
    "reward_simulate": lambda d: {"pk": d.reward_period.plan_id},
    "reward_period_open": lambda d: {"pk": d.reward_period.plan_id},
    "reward_period_detail": lambda d: {"pk": d.reward_period.pk},
    "reward_period_state": lambda d: {"pk": d.reward_period.pk},
    "reward_period_csv": lambda d: {"pk": d.reward_period.pk},
    "reward_period_xlsx": lambda d: {"pk": d.reward_period.pk},
    "reward_period_parquet": lambda d: {"pk": d.reward_period.pk},
    "course_detail": lambda d: {"pk": d.course.pk},
    "course_assign": lambda d: {"pk": d.course.pk},
    "assignment_done": lambda d: {"pk": d.assignment.pk},
    "assignment_confirm": lambda d: {"pk": d.assignment.pk},
    "idea_answer": lambda d: {"pk": d.idea.pk},
    "theme_edit": lambda d: {"pk": _theme(d).pk},
    "theme_check": lambda d: {"pk": _theme(d).pk},
    "export_detail": lambda d: {"pk": _export(d).pk},
    "export_download": lambda d: {"pk": _export(d).pk},
    "report_schedule_edit": lambda d: {"pk": _schedule(d).pk},
    "report_schedule_toggle": lambda d: {"pk": _schedule(d).pk},
    "report_schedule_send": lambda d: {"pk": _schedule(d).pk},
    "webhook_detail": lambda d: {"pk": _webhook(d).pk},
    "webhook_secret": lambda d: {"pk": _webhook(d).pk},
    "webhook_toggle": lambda d: {"pk": _webhook(d).pk},
    "webhook_replay": lambda d: {"pk": _webhook(d).pk, "delivery": d.webhook_delivery.pk},
}
# More than the plain page where a query shows another state of it.
EXTRA_QUERIES = {
    "journey_map": ["?segment=all"],
    "compare": ["?by=period&metric=rating&touchpoint={kickoff.pk}", "?by=team&metric=nps"],
    "touchpoint_detail": ["?segment=all"],
    "weigh_in": ["?by=person", "?by=person&until=2026-03-31", "?until=1999-01-01"],
    "person_scorecard": ["?until=2026-03-31", "?until=1999-01-01"],
    "personal_data": ["?contact={contact.pk}"],
    "survey_preview": ["?page=2"],
    "case_new": ["?response={response.pk}", "?customer={ours.pk}"],
    "case_list": ["?state=&since=2026-02-30&until=2026-03-31"],  # a day named as refused
    "initiative_new": ["?touchpoint={billing.pk}&from=touchpoint&metric=rating"],
    "initiative_list": ["?state=&overdue=1"],
    "decision_list": ["?kind=system&verdict=worse&touchpoint={billing.pk}"],
    "theme_impact": ["?segment=all&order=frequency", "?touchpoint={billing.pk}", "?order=loudness"],
    "comment_list": ["?q=счёт&sentiment=negative", "?sentiment=angry"],
    "face_to_face_list": ["?employee=x&since=2026-02-30"],
}
USERNAME = "lead"


def make_every_page_data() -> SimpleNamespace:
    firm = Team.objects.create(name="Firm")
    lead = BaseTestCase._user(USERNAME, firm, Role.ADMIN)
    lead.is_staff = True  # as the demo's CX lead: the navigation shows the administration
    lead.save()
    other = BaseTestCase._user("other", Team.objects.create(name="B", parent=firm), "employee")
    data = make_insight_data(ours=Employee.objects.get(user=lead), theirs=other.employee)
    data.lead = lead
    data.survey = Survey.objects.get(kind="relationship")
    data.survey.accepts_open_link = True
    data.survey.save()
    data.open_signature = open_link_signature(data.survey.pk)
    data.contact = Contact.objects.create(
        customer=data.ours, name="Анна Петрова", email="anna@ours.example", consent=True
    )
    data.response = ingest(
        survey=data.survey,
        answers={1: 9, 2: 4, 3: 5, 4: "Всё вовремя"},
        channel="email",
        submitted_at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC),
        contact=data.contact,
    ).response
    now = dt.datetime.now(dt.UTC)
    data.invitation_token = issue_invitation(data.survey, data.contact, now=now)[1]
    data.pulse = make_pulse()
    # A flushed database (a live-server test) has lost the migration's default calendar.
    data.calendar = BusinessCalendar.objects.get_or_create(
        is_default=True, defaults={"name": "Россия, Москва"}
    )[0]
    client = Client()
    client.force_login(lead)
    _meeting(client, data)
    assert client.post(reverse("ideas"), {"text": "Счета раз в месяц"}).status_code == 302
    data.idea = Idea.objects.latest("pk")
    data.pending_import = _upload(client)
    data.mapped_import = _upload(client)
    _map(client, data.mapped_import)
    data.finished_import = _upload(client)
    _map(client, data.finished_import)
    response = client.post(reverse("import_run", args=[data.finished_import]), {"valid_only": "on"})
    assert response.status_code == 302, response.content[:2000]
    _case(client, data)
    _inquiry(data)
    client.get(reverse("home"))  # the messages of the forms above are shown and gone
    rebuild()
    data.reward_period = _reward_period(data.lead.employee)
    data.course, data.assignment = _course(data.lead.employee, other.employee)
    data.session = client.cookies["sessionid"].value
    return data


def _theme(data: SimpleNamespace):
    """A theme for the theme editor, made on first use."""
    if not hasattr(data, "theme"):
        data.theme = save_theme(
            None,
            code="billing-editor",
            name_ru="Счета",
            name_en="Billing",
            phrases_ru="счёт",
            phrases_en="invoice",
        )
    return data.theme


def _course(lead: Employee, other: Employee):
    """A course on a touchpoint, assigned to another employee who marked it done."""
    now = dt.datetime.now(dt.UTC)
    touchpoint = next(iter(touchpoints_with_stage()))
    course = training_services.create_course(
        title="Счёт без ошибок", touchpoints=[touchpoint], by=lead, now=now
    )
    (assignment,) = training_services.assign_course(course, [other], by=lead, now=now)
    training_services.mark_completed(assignment, by=other, now=now)
    return course, assignment


def _reward_period(lead: Employee):
    """A reward plan for employees with its first quarter approved (frozen payouts)."""
    plan = make_plan(lead, role=Role.EMPLOYEE)
    period = open_period(plan, plan.starts_on, by=lead)
    return approve_period(period, rewards.to_freeze(period), by=lead)


def _case(client: Client, data: SimpleNamespace) -> None:
    """A case opened by hand from the contact's response, with a root cause of the taxonomy,
    and a follow-up agreed at a meeting."""
    root_causes = reverse("root_cause_list")
    cause = {"touchpoint": "", "name_ru": "Сроки поставки", "name_en": "Delivery dates"}
    assert client.post(root_causes, cause).status_code == 302
    data.root_cause = RootCause.objects.get(name_en="Delivery dates")
    lead = Employee.objects.get(user=data.lead)
    opened = client.post(
        f"{reverse('case_new')}?response={data.response.pk}",
        {"title": "Счёт с ошибкой", "owner": lead.pk, "priority": "high"},
    )
    assert opened.status_code == 302, opened.content[:2000]
    data.case = Case.objects.get(title="Счёт с ошибкой")
    record = FaceToFaceRecord.objects.filter(customer=data.ours).first()
    data.follow_up = FollowUp.objects.create(
        record=record, description="Прислать новый график", owner=lead, due_on=dt.date(2026, 3, 10)
    )


def _inquiry(data: SimpleNamespace) -> None:
    """A question asked through the public form by the contact, routed to the lead's team."""
    policy = SlaPolicy.objects.create(
        name_ru="Ответ за день",
        name_en="Answer in a day",
        first_contact_hours=8,
        resolution_hours=40,
    )
    topic = InquiryTopic.objects.create(
        name_ru="Счета", name_en="Invoices", team=data.lead.employee.team, sla_policy=policy
    )
    submitted = inquiries.submit(
        topic=topic,
        name="Анна Петрова",
        email=data.contact.email,
        text="Почему в счёте две строки за март?",
        language="ru",
        now=dt.datetime.now(dt.UTC),
    )
    data.inquiry_case = Case.objects.get(pk=submitted.case_id)
    data.inquiry_token = inquiries.link_token(data.inquiry_case.inquiry)


def _meeting(client: Client, data: SimpleNamespace) -> None:
    guide = Survey.objects.create(
        name_ru="Встреча", name_en="Meeting", kind="interview", languages=["ru", "en"]
    )
    Question.objects.create(
        survey=guide,
        order=1,
        kind="nps",
        text_ru="Порекомендуете ли вы нас?",
        text_en="Would you recommend us?",
        required=True,
    )
    form = {
        "kind": "visit",
        "customer": data.ours.pk,
        "participants": data.contact.email,
        "met_on": "2026-03-03",
        "language": "ru",
        "notes": "Обсудили график поставок",
        "q1": "9",
    }
    response = client.post(reverse("face_to_face_new"), form)
    assert response.status_code == 302, response.content[:2000]
    assert Response.objects.filter(survey=guide).exists()


def _upload(client: Client) -> str:
    rows = [["external id", "name", "tier"], ["I-1", "Север", "key"], ["I-2", "Юг", "bad"]]
    upload = {"kind": "customers", "file": SimpleUploadedFile("clients.csv", csv_bytes(rows))}
    response = client.post(reverse("import_upload"), upload)
    assert response.status_code == 302, response.content[:2000]
    return response.url.split("/")[-3]


def _map(client: Client, token: str) -> None:
    mapped = {"target_0": "external_id", "target_1": "name", "target_2": "tier"}
    response = client.post(reverse("import_mapping", args=[token]), mapped)
    assert response.status_code == 302, response.content[:2000]


def _export(data: SimpleNamespace):
    """The lead's export of the feedback list, built, made on first use."""
    if not hasattr(data, "export"):
        from cxloop.exports import services
        from cxloop.exports.models import ExportJob

        job = ExportJob.objects.create(
            user=data.lead, kind="responses", format="csv", language="ru",
            query="kind=nps", created_at=dt.datetime.now(dt.UTC),
        )  # fmt: skip
        services.run_job(job.pk)
        data.export = job
    return data.export


def _schedule(data: SimpleNamespace):
    """A weekly journey-map report to the lead, made on first use."""
    if not hasattr(data, "schedule"):
        from cxloop.exports.models import ReportSchedule

        data.schedule = ReportSchedule.objects.create(
            name="Путь клиента по понедельникам", report="journey", frequency="weekly",
            created_at=dt.datetime.now(dt.UTC),
        )  # fmt: skip
        data.schedule.recipients.add(data.lead.employee)
    return data.schedule


def _webhook(data: SimpleNamespace):
    """A webhook subscription with one failed delivery in its log, made on first use."""
    if not hasattr(data, "webhook"):
        from cxloop.webhooks.models import Delivery
        from cxloop.webhooks.services import create_subscription, emit

        now = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
        data.webhook = create_subscription(
            name="Helpdesk", url="https://hooks.example/cx", events=["case.opened"], now=now
        )
        emit("case.opened", subject="case:1", data={"case": 1}, now=now)
        Delivery.objects.update(status_code=503, error="HTTP 503", last_attempt_at=now)
        data.webhook_delivery = Delivery.objects.get()
    return data.webhook


def _alert_rule(data: SimpleNamespace):
    """An alert rule for the rules pages, made on first use."""
    if not hasattr(data, "alert_rule"):
        from cxloop.cases.rules import save_rule

        policy = SlaPolicy.objects.first() or SlaPolicy.objects.create(
            name_ru="Стандарт", name_en="Standard", first_contact_hours=4, resolution_hours=16
        )
        data.alert_rule = save_rule(
            None,
            name_ru="Критики",
            name_en="Detractors",
            condition={"all": [{"field": "nps", "op": "lte", "value": 6}]},
            owner_kind="customer_owner",
            priority="high",
            sla_policy=policy,
            now=dt.datetime.now(dt.UTC),
        )
    return data.alert_rule


def _decision(data: SimpleNamespace):
    """A new billing system in the decision log, tied to the initiative, made on first use."""
    if not hasattr(data, "decision"):
        from cxloop.improvements import services as improvements

        data.decision = improvements.create_decision(
            title="Новая система счетов",
            title_en="New billing system",
            description="Переход на новую систему выставления счетов",
            kind="system",
            decided_on=dt.date(2026, 1, 10),
            in_force_from=dt.date(2026, 2, 1),
            touchpoints=[data.billing],
            metric="rating",
            expected_direction="up",
            expected_size="0.3",
            initiative=_initiative(data),
            by=Employee.objects.get(user=data.lead),
            now=dt.datetime.now(dt.UTC),
        )
    return data.decision


def _initiative(data: SimpleNamespace):
    """An initiative on the billing touchpoint answering the taxonomy's root cause and linked
    to the case, with an overdue action item and a done one, made on first use."""
    if not hasattr(data, "initiative"):
        from cxloop.improvements import services as improvements

        lead = Employee.objects.get(user=data.lead)
        now = dt.datetime.now(dt.UTC)
        data.initiative = improvements.create_initiative(
            title="Счета без ошибок",
            title_en="Invoices without errors",
            touchpoints=[data.billing],
            problem="Клиенты находят ошибки в счетах",
            hypothesis="Сверка счёта перед отправкой уберёт ошибки",
            metric="rating",
            target_value=4,
            target_date=dt.date(2026, 9, 30),
            owner=lead,
            root_causes=[data.root_cause],
            cases=[data.case],
            started_from="touchpoint",
            by=lead,
            now=now,
        )
        data.action_item = improvements.add_action_item(
            data.initiative,
            text="Сверять счета с договором",
            owner=lead,
            due_on=dt.date(2026, 3, 1),
            by=lead,
            now=now,
        )
        done = improvements.add_action_item(
            data.initiative,
            text="Обновить шаблон счёта",
            owner=lead,
            due_on=dt.date(2026, 3, 5),
            by=lead,
            now=now,
        )
        improvements.set_action_item_done(done, True, by=lead, now=now)
    return data.initiative
