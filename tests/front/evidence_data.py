"""Feedback for the evidence pages' tests: customers of team A (owned by the teammate), of its
sub-team A1 and of team B (the outsider's), a segment, a touchpoint, one survey that asks every
scale, responses across months, channels and bands, and a meeting with a follow-up."""

import datetime as dt

from cxloop.customers.models import Contact, Customer, Segment
from cxloop.feedback.services import AgreedFollowUp, ingest, log_face_to_face
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.people.models import Employee
from cxloop.surveys.models import Question, Survey
from cxloop.test import BaseTestCase

MAY = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)
JUNE = dt.datetime(2026, 6, 10, 9, tzinfo=dt.UTC)
JULY = dt.datetime(2026, 7, 10, 9, tzinfo=dt.UTC)


def make_every_scale_survey() -> Survey:
    """1 NPS, 2 CSAT, 3 a rating of billing, 4 effort, 5 a comment, 6 a choice."""
    survey = Survey.objects.create(
        name_ru="Все шкалы", name_en="Every scale", kind="relationship", languages=["ru", "en"]
    )
    billing = Touchpoint.objects.get(code="billing")
    rows = [
        (1, "nps", "Порекомендуете?", "Would you recommend us?", None, []),
        (2, "csat", "Довольны?", "Are you satisfied?", None, []),
        (3, "rating", "Оцените счета", "Rate our invoices", billing, []),
        (4, "ces", "Легко ли было?", "How easy was it?", None, []),
        (5, "text", "Комментарий", "Anything else?", None, []),
        (
            6,
            "single",
            "Канал",
            "Preferred channel",
            None,
            [
                {"value": "a", "ru": "Почта", "en": "Mail"},
                {"value": "b", "ru": "Звонок", "en": "Call"},
            ],
        ),
    ]
    for order, kind, text_ru, text_en, touchpoint, choices in rows:
        Question.objects.create(
            survey=survey,
            order=order,
            kind=kind,
            text_ru=text_ru,
            text_en=text_en,
            touchpoint=touchpoint,
            choices=choices,
        )
    return survey


class EvidenceTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        journey = Journey.objects.create(name_ru="Путь", name_en="Journey")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Счета", name_en="Billing")
        cls.billing = Touchpoint.objects.create(
            stage=stage,
            order=1,
            code="billing",
            channel="email",
            name_ru="Счета",
            name_en="Billing accuracy",
        )
        cls.kickoff = Touchpoint.objects.create(
            stage=stage,
            order=2,
            code="kickoff",
            channel="meeting",
            name_ru="Старт",
            name_en="Kick-off",
        )
        cls.survey = make_every_scale_survey()
        teammate = Employee.objects.get(user=cls.teammate)
        sub = cls._user("subowner", cls.team_a1, "employee").employee
        outsider = Employee.objects.get(user=cls.outsider)
        cls.acme = Customer.objects.create(
            external_id="A", name="Acme", owner=teammate, tier="strategic", annual_value=1234567
        )
        cls.bolt = Customer.objects.create(
            external_id="B", name="Bolt", owner=sub, tier="small", annual_value=1000
        )
        cls.zeta = Customer.objects.create(
            external_id="Z", name="Zeta Hidden", owner=outsider, tier="key"
        )
        cls.ann = Contact.objects.create(
            customer=cls.acme, name="Ann Reader", email="ann@acme.example", job_title="CFO"
        )
        cls.bob = Contact.objects.create(customer=cls.bolt, name="Bob", email="bob@bolt.example")
        cls.zed = Contact.objects.create(customer=cls.zeta, name="Zed", email="zed@zeta.example")
        cls.strategic = Segment.objects.create(
            name="Strategic", rule=[{"field": "tier", "op": "in", "value": ["strategic"]}]
        )

        def add(customer, contact, when, channel, answers, touchpoint=None):
            return ingest(
                survey=cls.survey,
                answers=answers,
                channel=channel,
                submitted_at=when,
                customer=customer,
                contact=contact,
                touchpoint=touchpoint,
            ).response

        # Acme (team A): a detractor in May with a comment on invoices, a promoter in June.
        cls.r_detractor = add(
            cls.acme,
            cls.ann,
            MAY,
            "email",
            {1: 3, 2: 2, 3: 1, 4: 2, 5: "Invoices were wrong again", 6: "b"},
        )
        cls.r_promoter = add(
            cls.acme,
            cls.ann,
            JUNE,
            "web",
            {1: 10, 2: 5, 4: 7, 5: "Great kick-off"},
            touchpoint=cls.kickoff,
        )
        # Bolt (team A1): a passive in July, no comment.
        cls.r_passive = add(cls.bolt, cls.bob, JULY, "email", {1: 8, 2: 3, 3: 3, 4: 4})
        # Zeta (team B): the outsider's.
        cls.r_hidden = add(cls.zeta, cls.zed, JUNE, "email", {1: 0, 5: "Zeta secret comment"})
        guide = Survey.objects.create(
            name_ru="Встреча", name_en="Meeting", kind="interview", languages=["ru", "en"]
        )
        nps = Question.objects.create(
            survey=guide, order=1, kind="nps", text_ru="NPS", text_en="NPS", required=True
        )
        cls.meeting = log_face_to_face(
            guide=guide,
            kind="visit",
            customer=cls.acme,
            employee=teammate,
            met_on=JUNE.date(),
            language="ru",
            values={nps.pk: 6},
            contacts=[cls.ann],
            notes="Talked about invoices",
            follow_ups=[
                AgreedFollowUp("Fix the invoice template", teammate, JULY.date()),
            ],
        )
