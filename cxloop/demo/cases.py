"""The demo's closed loop: the rules, SLA policies, root causes and inquiry topics a firm starts
with, and 18 months of cases raised by its rules from the demo's own unhappy answers.

The history is written in bulk (about 1,500 cases and 15,000 events on the full demo), with the
fields and events :mod:`cxloop.cases.services` writes, deadlines on the SLA clocks' business
calendar (:mod:`cxloop.cases.clocks`) and the rules' own conditions deciding which answers raise
a case (:func:`cxloop.cases.conditions.matches`), so the live rules continue the history where
it stops (``truth.cases["rules_from"]``). A customer with an open case gets no second one: a
further matching answer joins it, as the live rules do.

Times are drawn in working hours: a first contact usually well within its deadline (about one in
six late), a resolution within days, a quarter of cases waiting on the customer for a while;
recent cases are still open in every state, some overdue and escalated. The planted truth: from
the roll-back's month, billing's cases are mostly invoice errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.db.models import Q

from cxloop.cases import clocks
from cxloop.cases.choices import (
    CaseState,
    EventKind,
    LoopChannel,
    Origin,
    OwnerKind,
    Priority,
    Reaction,
)
from cxloop.cases.conditions import ResponseFacts, matches, parse_condition
from cxloop.cases.models import (
    AlertRule,
    AlertRuleVersion,
    Case,
    CaseEvent,
    CaseTrigger,
    Inquiry,
    InquiryTopic,
    RootCause,
    SlaPolicy,
)
from cxloop.customers.models import Contact, Customer
from cxloop.demo.truth import CASE_HISTORY_MONTHS, ROLLBACK_ROOT_CAUSE, PlantedTruth, month_start
from cxloop.journeys.models import Touchpoint
from cxloop.lib.scales import NPS_DETRACTORS
from cxloop.people.models import Employee, Role, Team
from cxloop.surveys.models import Answer, QuestionKind, Response, ResponseState, SurveyKind

SEED_OFFSET = 11  # the cases' random stream, apart from the rest of the demo's

# name_ru, name_en, first contact and resolution within (working hours; a working day is 8).
SLA_POLICIES = {
    "detractor": ("Недовольный клиент: 4 ч / 3 дня", "Detractor: 4 h / 3 days", 4, 24),
    "key": ("Ключевой клиент: 2 ч / 2 дня", "Key account: 2 h / 2 days", 2, 16),
    "inquiry": ("Вопрос клиента: 8 ч / 5 дней", "Inquiry: 8 h / 5 days", 8, 40),
}
INVOICE_WORDS = [
    "счет", "счета", "счете", "счетом", "счетов", "счетах", "invoice", "invoices", "invoiced",
    "billed", "billing",
]  # fmt: skip


@dataclass(frozen=True)
class RuleSpec:
    name_ru: str
    name_en: str
    condition: dict
    owner_kind: str
    priority: str
    sla: str
    team: str | None = None  # a named team's key in organisation.TEAMS


# In the order they are tried: the first that matches an answer opens (or joins) its case.
RULES = (
    RuleSpec(
        "Недоволен ключевой клиент",
        "Unhappy key account",
        {
            "all": [
                {"field": "nps", "op": "lte", "value": 6},
                {"field": "tier", "op": "in", "value": ["strategic", "key"]},
            ]
        },
        OwnerKind.CUSTOMER_OWNER,
        Priority.HIGH,
        "key",
    ),
    RuleSpec(
        "Жалоба на счёт",
        "Complaint about an invoice",
        {
            "any": [
                {
                    "all": [
                        {"field": "csat", "op": "lte", "value": 2},
                        {"field": "comment", "op": "contains_any", "value": INVOICE_WORDS},
                    ]
                },
                {
                    "field": "touchpoint_rating",
                    "op": "lte",
                    "value": 1,
                    "touchpoint": "billing_accuracy",
                },
            ]
        },
        OwnerKind.TEAM,
        Priority.NORMAL,
        "detractor",
        team="service",
    ),
    RuleSpec(
        "Критик (NPS 0–6)",
        "Detractor (NPS 0–6)",
        {"all": [{"field": "nps", "op": "lte", "value": 6}]},
        OwnerKind.CUSTOMER_OWNER,
        Priority.NORMAL,
        "detractor",
    ),
    RuleSpec(
        "Очень недоволен после этапа (CSAT 1)",
        "Very unhappy after a step (CSAT 1)",
        {"all": [{"field": "csat", "op": "eq", "value": 1}]},
        OwnerKind.CUSTOMER_OWNER,
        Priority.NORMAL,
        "detractor",
    ),
)

GENERAL_CAUSES = (
    ("Сбой в коммуникации", "Communication breakdown"),
    ("Смена команды проекта", "Change of the project team"),
)
# Why customers were unhappy, per touchpoint: the taxonomy a firm starts with.
ROOT_CAUSES = {
    "website_inquiry": [
        ("Долгий ответ на запрос", "Slow answer to the inquiry"),
        ("Ответ не по существу", "Answer beside the point"),
    ],
    "first_call": [
        ("Звонил не партнёр", "Not called by a partner"),
        ("Навязчивая продажа", "Pushy selling"),
    ],
    "intro_meeting": [
        ("Неудобное время встречи", "Inconvenient meeting time"),
        ("На встрече не было команды проекта", "Project team absent"),
    ],
    "needs_assessment": [
        ("Не поняли задачу клиента", "Client's need misunderstood"),
        ("Слишком много вопросов", "Too many questions"),
    ],
    "proposal_document": [
        ("Шаблонное предложение", "Boilerplate proposal"),
        ("Предложение прислали поздно", "Proposal sent late"),
    ],
    "fee_negotiation": [
        ("Непрозрачная цена", "Opaque pricing"),
        ("Жёсткие переговоры", "Rigid negotiation"),
    ],
    "engagement_letter": [
        ("Долгое согласование договора", "Slow contract approval"),
        ("Ошибки в договоре", "Errors in the contract"),
    ],
    "kickoff_meeting": [
        ("Нет плана работ", "No work plan"),
        ("Не назначены ответственные", "No named contacts"),
    ],
    "document_request": [
        ("Повторные запросы документов", "Documents requested twice"),
        ("Неясный перечень документов", "Unclear list of documents"),
    ],
    "team_responsiveness": [
        ("Медленный ответ", "Slow answer"),
        ("Не перезвонили", "No call back"),
        ("Недоступен ответственный", "Owner unreachable"),
    ],
    "status_updates": [
        ("Нет статуса по проекту", "No status update"),
        ("Статус без сути", "Status without substance"),
    ],
    "expertise": [
        ("Поверхностная консультация", "Shallow advice"),
        ("Ошибка в рекомендации", "Wrong recommendation"),
        ("Не знают отрасль", "Industry not understood"),
    ],
    "deadlines": [
        ("Сорван срок", "Deadline missed"),
        ("Перенос сроков без предупреждения", "Deadline moved without notice"),
    ],
    "final_report": [
        ("Непонятный отчёт", "Unclear report"),
        ("Ошибки в отчёте", "Errors in the report"),
        ("Отчёт сдан поздно", "Report delivered late"),
    ],
    "invoice_clarity": [
        ("Непонятные позиции в счёте", "Unclear invoice lines"),
        ("Нет детализации часов", "No breakdown of hours"),
    ],
    "billing_accuracy": [
        ROLLBACK_ROOT_CAUSE,
        ("Неверная ставка или объём часов", "Wrong rate or hours"),
        ("Счёт выставлен с опозданием", "Invoice issued late"),
        ("Не учтена предоплата", "Prepayment not credited"),
    ],
    "payment_terms": [
        ("Жёсткие условия оплаты", "Strict payment terms"),
        ("Напоминания об оплате раньше срока", "Payment reminders before due"),
    ],
    "results_review": [
        ("Встреча по итогам не состоялась", "No results review held"),
        ("Итоги без выводов", "Review without conclusions"),
    ],
    "renewal_proposal": [
        ("Рост цены без объяснений", "Unexplained price rise"),
        ("Предложение без учёта опыта", "Renewal ignores past work"),
    ],
    "ongoing_contact": [
        ("Пропали после проекта", "No contact after the project"),
        ("Только рассылки", "Newsletters only"),
    ],
}
STUCK_WITHIN_DAYS = 120  # a case opened this recently may still be open now
STUCK_SHARE = 0.15  # of the newest cases, fewer the older they are
# The chance a billing case is an invoice error, before and from the roll-back's month.
INVOICE_ERROR_SHARE = (0.25, 0.8)

TOPICS = (
    # name_ru, name_en, team key, questions (ru, en)
    (
        "Налоги и отчётность",
        "Tax and reporting",
        "msk_tax",
        (
            "Как учесть новые правила по НДС в нашей отчётности за квартал?",
            "How should the new VAT rules be reflected in our quarterly reporting?",
        ),
    ),
    (
        "Счета и оплата",
        "Invoices and payment",
        "service",
        (
            "В последнем счёте часы не совпадают с актом. Можно проверить?",
            "The hours on the last invoice do not match the certificate. Could you check?",
        ),
    ),
    (
        "Аудит",
        "Audit",
        "msk_audit",
        (
            "Когда начнётся промежуточная проверка и какие документы подготовить?",
            "When does the interim audit start and what documents should we prepare?",
        ),
    ),
    (
        "Договор и документы",
        "Contract and documents",
        "msk_legal",
        (
            "Нужна копия договора с подписями обеих сторон.",
            "We need a copy of the contract signed by both parties.",
        ),
    ),
)
RESOLUTIONS = {
    "ru": (
        "Созвонились с клиентом, разобрали причину и договорились о мерах; клиент согласен.",
        "Исправили ошибку, направили клиенту исправленные документы и извинения.",
        "Провели встречу с партнёром, согласовали новый график и ответственного.",
    ),
    "en": (
        "Called the client, went through the cause and agreed what we change; the client agreed.",
        "Corrected the mistake and sent the client the corrected documents with an apology.",
        "Held a meeting with the partner and agreed a new schedule and a named contact.",
    ),
}
ANSWERS = {
    "ru": "Спасибо за вопрос! Подготовили ответ и приложили материалы.",
    "en": "Thank you for your question! Our answer and the materials are attached.",
}


def _hours(value: float) -> Decimal:
    return Decimal(f"{max(value, 0.05):.2f}")


class _Clock:
    """Working-time arithmetic on each team's business calendar (read once per team)."""

    def __init__(self):
        self.calendars: dict[int | None, object] = {}

    def calendar(self, team: Team | None):
        key = None if team is None else team.pk
        if key not in self.calendars:
            self.calendars[key] = clocks.calendar_for(Case(team=team))
        return self.calendars[key]

    def add(self, team, start: dt.datetime, hours: float) -> dt.datetime:
        return clocks.add_working_hours(self.calendar(team), start, _hours(hours))

    def between(self, team, start: dt.datetime, end: dt.datetime) -> float:
        return float(clocks.working_hours_between(self.calendar(team), start, end))


@dataclass
class _Answer:
    """One completed response with what the rules read of it."""

    pk: int
    at: dt.datetime
    customer_id: int
    contact_id: int | None
    touchpoint_id: int | None
    language: str
    facts: ResponseFacts
    nps: int | None
    csat: int | None
    ratings: dict[int, int]


@dataclass
class _Draft:
    """A case being drawn: its timeline, then its row and events."""

    rule: int
    answer: _Answer
    owner: Employee
    team: Team
    opened_at: dt.datetime
    touchpoints: list[int]


def _candidates(since: dt.datetime, before: dt.datetime, tiers: dict[int, str]) -> list[_Answer]:
    """The completed customer answers in [since, before) that any rule could match (an NPS of 0–6
    or a CSAT of 1–2, or billing rated 1), with their scores, ratings and comment, oldest first."""
    completed = Response.objects.filter(
        state=ResponseState.COMPLETED, submitted_at__gte=since, submitted_at__lt=before
    ).exclude(survey__kind=SurveyKind.PULSE)
    unhappy = Answer.objects.filter(response__in=completed).filter(
        Q(kind=QuestionKind.NPS, score__lte=NPS_DETRACTORS[1])
        | Q(kind=QuestionKind.CSAT, score__lte=2)
        | Q(kind=QuestionKind.RATING, score__lte=1, touchpoint__code="billing_accuracy")
    )
    ids = set(unhappy.values_list("response_id", flat=True))
    scores: dict[int, dict] = defaultdict(lambda: {"ratings": {}, "comment": ""})
    for response_id, kind, touchpoint_id, score, text in Answer.objects.filter(
        response_id__in=ids
    ).values_list("response_id", "kind", "touchpoint_id", "score", "text"):
        row = scores[response_id]
        if kind == QuestionKind.RATING and score is not None:
            row["ratings"][touchpoint_id] = score
        elif kind == QuestionKind.TEXT:
            row["comment"] = text or ""
        elif score is not None:
            row[kind] = score
    answers = []
    for pk, at, customer_id, contact_id, touchpoint_id, language, channel in (
        Response.objects.filter(pk__in=ids)
        .exclude(customer=None)
        .order_by("submitted_at", "pk")
        .values_list(
            "pk",
            "submitted_at",
            "customer_id",
            "contact_id",
            "touchpoint_id",
            "language",
            "channel",
        )
    ):
        row = scores[pk]
        facts = ResponseFacts(
            nps=row.get(QuestionKind.NPS),
            csat=row.get(QuestionKind.CSAT),
            ces=row.get(QuestionKind.CES),
            ratings=row["ratings"],
            comment=row["comment"],
            tier=tiers[customer_id],
            channel=channel,
        )
        answers.append(
            _Answer(
                pk=pk,
                at=at,
                customer_id=customer_id,
                contact_id=contact_id,
                touchpoint_id=touchpoint_id,
                language=language,
                facts=facts,
                nps=facts.nps,
                csat=facts.csat,
                ratings=row["ratings"],
            )
        )
    return answers


def _lowest_rated(ratings: dict[int, int], order: dict[int, int]) -> list[int]:
    """The touchpoints rated lowest (at most two, in journey order)."""
    if not ratings:
        return []
    low = min(ratings.values())
    return sorted((tp for tp, r in ratings.items() if r == low), key=order.get)[:2]


def _team_members(employees: list[Employee]) -> dict[int, list[Employee]]:
    members: dict[int, list[Employee]] = defaultdict(list)
    for e in employees:
        if e.role in (Role.EMPLOYEE, Role.MANAGER):
            members[e.team_id].append(e)
    return members


@dataclass
class _Loop:
    """Everything written, gathered for bulk inserts."""

    cases: list[Case] = field(default_factory=list)
    events: list[list[tuple]] = field(default_factory=list)  # per case: (at, kind, by, text, data)
    triggers: list[list[tuple]] = field(default_factory=list)  # per case: (response, rule, at)
    touchpoints: list[list[int]] = field(default_factory=list)
    causes: list[list[RootCause]] = field(default_factory=list)


def _employee_ref(e: Employee) -> dict:
    return {"id": e.pk, "name": str(e)}


class _History:
    def __init__(self, truth, rng, now, touchpoints, employees, teams, customers, causes):
        self.truth, self.rng, self.now = truth, rng, now
        self.recent = 0  # cases opened within STUCK_WITHIN_DAYS of now so far
        self.clock = _Clock()
        self.code = {tp.pk: tp.code for tp in touchpoints}
        self.order = {tp.pk: i for i, tp in enumerate(touchpoints)}
        self.owner_of = {c.pk: c.owner for c in customers}
        self.members = _team_members(employees)
        self.teams = teams
        self.causes = causes  # touchpoint id → [RootCause]; None → general ones
        self.turn: dict[int, int] = defaultdict(int)
        self.loop = _Loop()
        rollback = truth.rollback["from_month"] + "-01"
        self.rollback_from = dt.datetime.combine(
            dt.date.fromisoformat(rollback), dt.time(), tzinfo=dt.UTC
        )

    def owner(self, spec: RuleSpec, answer: _Answer) -> Employee:
        if spec.owner_kind == OwnerKind.TEAM:
            team = self.teams[spec.team]
            people = self.members[team.pk]
            self.turn[team.pk] += 1
            return people[self.turn[team.pk] % len(people)]
        return self.owner_of[answer.customer_id]

    def pick_causes(self, touchpoints: list[int], at: dt.datetime) -> list[RootCause]:
        chosen = []
        for tp in touchpoints[:1]:
            options = self.causes.get(tp, [])
            if not options:
                continue
            if self.code[tp] == "billing_accuracy":
                share = INVOICE_ERROR_SHARE[at >= self.rollback_from]
                rest = (1 - share) / (len(options) - 1)
                weights = [share] + [rest] * (len(options) - 1)
            else:
                weights = [1 / len(options)] * len(options)
            chosen.append(options[self.rng.choice(len(options), p=weights)])
        if not chosen or self.rng.random() < 0.1:
            general = self.causes[None]
            chosen.append(general[self.rng.integers(len(general))])
        return chosen

    def fate(self, opened_at: dt.datetime) -> str | None:
        """The state a case of the last months is stuck in now (None: drawn as any other): the
        first three such cases are one of each open state (long overdue, escalated twice), then
        the newer a case, the likelier it is still open (a share falling from STUCK_SHARE to
        none at STUCK_WITHIN_DAYS), as in a loop that works, with a few stragglers."""
        age = (self.now - opened_at) / dt.timedelta(days=STUCK_WITHIN_DAYS)
        if age >= 1:
            return None
        forced = (CaseState.NEW, CaseState.IN_PROGRESS, CaseState.WAITING)
        self.recent += 1
        if self.recent <= len(forced):
            return forced[self.recent - 1]
        if self.rng.random() >= STUCK_SHARE * (1 - age):
            return None
        return forced[self.rng.integers(len(forced))]

    def write(self, draft: _Draft, spec: RuleSpec, policy: SlaPolicy, versions) -> dt.datetime:
        """Draw the case's timeline and keep its row, events, triggers and causes; returns
        when it was resolved (None: open now)."""
        rng, now, clock, team = self.rng, self.now, self.clock, draft.team
        owner, t0 = draft.owner, draft.opened_at
        F, R = float(policy.first_contact_hours), float(policy.resolution_hours)
        fate = self.fate(t0)
        never = now + dt.timedelta(days=3650)  # what has not happened by now
        first_due = clock.add(team, t0, F)
        resolution_due = clock.add(team, t0, R)
        contact_at = clock.add(team, t0, rng.lognormal(np.log(0.45 * F), 0.8))
        if fate == CaseState.NEW:
            contact_at = never
        waits = fate == CaseState.WAITING or (fate is None and rng.random() < 0.25)
        pause = resume = None
        if waits:
            pause = clock.add(team, contact_at, rng.uniform(0.2, 2.0))
            resume = pause + dt.timedelta(hours=float(rng.lognormal(np.log(30), 0.8)))
            if fate == CaseState.WAITING:
                resume = never
            if resume <= now:  # the clocks moved the deadline on by the wait when it ended
                resolution_due = clock.add(team, resolution_due, clock.between(team, pause, resume))
        resolve_from = resume or contact_at
        resolved_at = clock.add(team, resolve_from, rng.lognormal(np.log(0.3 * R), 0.7))
        if fate is not None:
            resolved_at = never
        closed_at = resolved_at + dt.timedelta(days=float(rng.uniform(2, 21)))
        language = draft.answer.language if draft.answer.language in RESOLUTIONS else "ru"
        events: list[tuple] = []
        rule_version = versions[draft.rule]
        events.append(
            (
                t0,
                EventKind.OPENED,
                None,
                "",
                {
                    "origin": Origin.RULE,
                    "rule_version": rule_version.pk,
                    "responses": [draft.answer.pk],
                },
            )
        )
        events.append((t0, EventKind.ASSIGNED, None, "", {"owner": _employee_ref(owner)}))
        triggers = [(draft.answer.pk, rule_version, t0)]
        state = CaseState.NEW
        title, title_en = self.titles(draft.answer)
        case = Case(
            origin=Origin.RULE,
            priority=spec.priority,
            title=title,
            title_en=title_en,
            customer_id=draft.answer.customer_id,
            contact_id=draft.answer.contact_id,
            owner=owner,
            team=team,
            rule_version=rule_version,
            sla_policy=policy,
            opened_at=t0,
            first_contact_due=first_due,
            resolution_due=resolution_due,
        )
        causes: list[RootCause] = []
        if contact_at <= now:
            channel = rng.choice(list(LoopChannel.values), p=[0.6, 0.15, 0.25])
            case.first_contacted_at, state = contact_at, CaseState.IN_PROGRESS
            events.append((contact_at, EventKind.CONTACTED, owner, "", {"channel": str(channel)}))
            causes = self.pick_causes(draft.touchpoints, t0)
            events.append(
                (
                    contact_at + dt.timedelta(minutes=20),
                    EventKind.ROOT_CAUSES,
                    owner,
                    "",
                    {
                        "causes": [
                            {"id": c.pk, "name": c.name_ru, "name_en": c.name_en} for c in causes
                        ]
                    },
                )
            )
        if pause is not None and pause <= now:
            state = CaseState.WAITING
            case.paused_at = pause
            events.append(
                (pause, EventKind.STATE, owner, "", {"before": "in_progress", "after": "waiting"})
            )
            if resume <= now:
                state, case.paused_at = CaseState.IN_PROGRESS, None
                events.append((resume, EventKind.MESSAGE_IN, None, "", {}))
                events.append(
                    (
                        resume,
                        EventKind.STATE,
                        None,
                        "",
                        {"before": "waiting", "after": "in_progress"},
                    )
                )
        if resolved_at <= now:
            text = RESOLUTIONS[language][rng.integers(len(RESOLUTIONS[language]))]
            reaction = rng.choice(list(Reaction.values), p=[0.55, 0.25, 0.12, 0.08])
            channel = rng.choice(list(LoopChannel.values), p=[0.6, 0.25, 0.15])
            case.resolved_at, case.resolution, state = resolved_at, text, CaseState.RESOLVED
            case.loop_channel, case.customer_reaction = str(channel), str(reaction)
            events.append(
                (
                    resolved_at,
                    EventKind.LOOP_CLOSED,
                    owner,
                    "",
                    {"channel": str(channel), "reaction": str(reaction)},
                )
            )
            events.append(
                (
                    resolved_at,
                    EventKind.STATE,
                    owner,
                    text,
                    {"before": "in_progress", "after": "resolved"},
                )
            )
            if closed_at <= now:
                case.closed_at, state = closed_at, CaseState.CLOSED
                events.append(
                    (
                        closed_at,
                        EventKind.STATE,
                        owner,
                        "",
                        {"before": "resolved", "after": "closed"},
                    )
                )
        self.breaches(case, events, team, F, R)
        case.state = state
        self.loop.cases.append(case)
        self.loop.events.append(events)
        self.loop.triggers.append(triggers)
        self.loop.touchpoints.append(draft.touchpoints)
        self.loop.causes.append(causes)
        return case.resolved_at

    def join(self, index: int, answer: _Answer, version: AlertRuleVersion) -> None:
        """A further matching answer of the customer joins their open case ``index``."""
        self.loop.triggers[index].append((answer.pk, version, answer.at))
        self.loop.events[index].append(
            (
                answer.at,
                EventKind.TRIGGER,
                None,
                "",
                {"response": answer.pk, "rule_version": version.pk},
            )
        )

    def breaches(self, case: Case, events: list, team, F: float, R: float) -> None:
        """A missed deadline (first contact, else resolution) is breached at its time and
        escalated to the owner's manager then, one level higher a period later if still
        missed. A case waiting on the customer misses nothing."""
        now = self.now
        missed = None
        if (case.first_contacted_at or now) > case.first_contact_due:
            missed = ("first_contact", case.first_contact_due, case.first_contacted_at, F)
        elif (case.resolved_at or now) > case.resolution_due and case.paused_at is None:
            missed = ("resolution", case.resolution_due, case.resolved_at, R)
        if missed is None:
            return
        deadline, due, done, period = missed
        case.breached_at = due
        events.append((due, EventKind.BREACHED, None, "", {"deadline": deadline}))
        case.escalation_level, case.escalated_at = 1, due
        events.append((due, EventKind.ESCALATED, None, "", {"level": 1}))
        second = self.clock.add(team, due, period)
        if (done or now) > second:
            case.escalation_level, case.escalated_at = 2, second
            events.append((second, EventKind.ESCALATED, None, "", {"level": 2}))

    @staticmethod
    def titles(answer: _Answer) -> tuple[str, str]:
        """The case's summary in Russian and in English."""
        if answer.nps is not None:
            return f"NPS {answer.nps}", f"NPS {answer.nps}"
        if answer.csat is not None:
            return f"CSAT {answer.csat}", f"CSAT {answer.csat}"
        low = min(answer.ratings.values()) if answer.ratings else None
        if low is None:
            return "Недовольный клиент", "Unhappy customer"
        return f"Оценка {low}", f"Rating {low}"


def _policies() -> dict[str, SlaPolicy]:
    return {
        key: SlaPolicy.objects.create(
            name_ru=ru, name_en=en, first_contact_hours=first, resolution_hours=resolve
        )
        for key, (ru, en, first, resolve) in SLA_POLICIES.items()
    }


def _rules(policies, teams, created_at, author) -> list[AlertRuleVersion]:
    versions = []
    for spec in RULES:
        parse_condition(spec.condition)  # the demo's rules are rules the rule page would save
        rule = AlertRule.objects.create(
            name_ru=spec.name_ru, name_en=spec.name_en, created_at=created_at, created_by=author
        )
        versions.append(
            AlertRuleVersion.objects.create(
                rule=rule,
                version=1,
                condition=spec.condition,
                owner_kind=spec.owner_kind,
                team=teams[spec.team] if spec.team else None,
                priority=spec.priority,
                sla_policy=policies[spec.sla],
                created_at=created_at,
                created_by=author,
            )
        )
    return versions


def _taxonomy(touchpoints: list[Touchpoint]) -> dict[int | None, list[RootCause]]:
    by_code = {tp.code: tp for tp in touchpoints}
    made = RootCause.objects.bulk_create(
        [RootCause(touchpoint=None, name_ru=ru, name_en=en) for ru, en in GENERAL_CAUSES]
        + [
            RootCause(touchpoint=by_code[code], name_ru=ru, name_en=en)
            for code, causes in ROOT_CAUSES.items()
            for ru, en in causes
        ]
    )
    out: dict[int | None, list[RootCause]] = defaultdict(list)
    for cause in made:
        out[cause.touchpoint_id].append(cause)
    return out


def _flush(loop: _Loop) -> None:
    for case, events in zip(loop.cases, loop.events, strict=True):
        case.updated_at = max(at for at, *_ in events)
    cases = Case.objects.bulk_create(loop.cases)
    CaseEvent.objects.bulk_create(
        CaseEvent(case=case, at=at, kind=kind, by=by, text=text, data=data)
        for case, events in zip(cases, loop.events, strict=True)
        for at, kind, by, text, data in sorted(events, key=lambda e: e[0])
    )
    CaseTrigger.objects.bulk_create(
        CaseTrigger(
            case=case,
            response_id=response,
            rule_id=version.rule_id,
            rule_version=version,
            created_at=at,
        )
        for case, triggers in zip(cases, loop.triggers, strict=True)
        for response, version, at in triggers
    )
    Case.touchpoints.through.objects.bulk_create(
        Case.touchpoints.through(case_id=case.pk, touchpoint_id=tp)
        for case, tps in zip(cases, loop.touchpoints, strict=True)
        for tp in tps
    )
    Case.root_causes.through.objects.bulk_create(
        Case.root_causes.through(case_id=case.pk, rootcause_id=cause.pk)
        for case, causes in zip(cases, loop.causes, strict=True)
        for cause in causes
    )


def _history(
    truth: PlantedTruth,
    rng,
    now: dt.datetime,
    versions: list[AlertRuleVersion],
    touchpoints: list[Touchpoint],
    employees: list[Employee],
    teams: dict[str, Team],
    causes,
) -> _History:
    customers = list(Customer.objects.select_related("owner__team"))
    tiers = {c.pk: c.tier for c in customers}
    since = dt.datetime.combine(dt.date.fromisoformat(truth.cases["since"]), dt.time(), dt.UTC)
    rules_from = dt.datetime.combine(
        dt.date.fromisoformat(truth.cases["rules_from"]), dt.time(), dt.UTC
    )
    history = _History(truth, rng, now, touchpoints, employees, teams, customers, causes)
    conditions = [parse_condition(spec.condition) for spec in RULES]
    open_until: dict[int, tuple[int, dt.datetime | None]] = {}  # customer → (case, resolved)
    for answer in _candidates(since, rules_from, tiers):
        rule = next((i for i, c in enumerate(conditions) if matches(c, answer.facts)), None)
        if rule is None:
            continue
        current = open_until.get(answer.customer_id)
        if current is not None and (current[1] is None or answer.at < current[1]):
            history.join(current[0], answer, versions[rule])
            continue
        spec = RULES[rule]
        owner = history.owner(spec, answer)
        draft = _Draft(
            rule=rule,
            answer=answer,
            owner=owner,
            team=owner.team,
            opened_at=answer.at + dt.timedelta(minutes=int(rng.integers(1, 10))),
            touchpoints=[answer.touchpoint_id]
            if answer.touchpoint_id is not None
            else _lowest_rated(answer.ratings, history.order),
        )
        resolved = history.write(draft, spec, versions[rule].sla_policy, versions)
        open_until[answer.customer_id] = (len(history.loop.cases) - 1, resolved)
    return history


def _topics(policy: SlaPolicy, teams: dict[str, Team]) -> list[InquiryTopic]:
    return InquiryTopic.objects.bulk_create(
        InquiryTopic(name_ru=ru, name_en=en, team=teams[team], sla_policy=policy, order=i)
        for i, (ru, en, team, _questions) in enumerate(TOPICS, start=1)
    )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _inquiries(rng, now: dt.datetime, topics, members, clock: _Clock, count: int = 12) -> None:
    """Questions asked through the public form over the last two months: most answered (the
    answer e-mailed, the case resolved or closed), the latest still waiting for an answer or on
    the customer's reply."""
    contacts = list(
        Contact.objects.filter(consent=True).exclude(email="").order_by("pk")[: 40 * count]
    )
    picked = rng.choice(len(contacts), size=min(count, len(contacts)), replace=False)
    for n, index in enumerate(sorted(picked)):
        contact = contacts[index]
        language = "en" if contact.language == "en" else "ru"
        topic_index = n % len(TOPICS)
        topic, question = topics[topic_index], TOPICS[topic_index][3][language == "en"]
        asked = now - dt.timedelta(days=float(60 * (count - n) / count), hours=3)
        team = topic.team
        people = members[team.pk]
        owner = people[n % len(people)]
        policy = topic.sla_policy
        answered = n < count - 3  # the last three are still open
        case = Case(
            origin=Origin.INQUIRY,
            title=question[:120],
            customer_id=contact.customer_id,
            contact=contact,
            owner=owner,
            team=team,
            sla_policy=policy,
            opened_at=asked,
            first_contact_due=clock.add(team, asked, float(policy.first_contact_hours)),
            resolution_due=clock.add(team, asked, float(policy.resolution_hours)),
            state=CaseState.NEW,
            updated_at=asked,
        )
        events = [
            (asked, EventKind.OPENED, None, question, {"origin": Origin.INQUIRY}),
            (asked, EventKind.ASSIGNED, None, "", {"owner": _employee_ref(owner)}),
        ]
        if answered:
            at = clock.add(team, asked, rng.uniform(1, float(policy.first_contact_hours)))
            case.first_contacted_at = at
            events.append((at, EventKind.MESSAGE_OUT, owner, ANSWERS[language], {}))
            case.state, case.resolved_at, case.resolution = (
                CaseState.RESOLVED,
                at,
                ANSWERS[language],
            )
            events.append((at, EventKind.STATE, owner, "", {"before": "new", "after": "resolved"}))
            if n % 2 == 0:
                case.state, case.closed_at = CaseState.CLOSED, at + dt.timedelta(days=3)
                events.append(
                    (
                        case.closed_at,
                        EventKind.STATE,
                        owner,
                        "",
                        {"before": "resolved", "after": "closed"},
                    )
                )
        elif n == count - 2:  # asked back for details: waiting on the customer
            at = clock.add(team, asked, 1.0)
            case.first_contacted_at, case.paused_at, case.state = at, at, CaseState.WAITING
            events.append((at, EventKind.MESSAGE_OUT, owner, ANSWERS[language], {}))
            events.append((at, EventKind.STATE, owner, "", {"before": "new", "after": "waiting"}))
        case.updated_at = max(e[0] for e in events)
        case.save()
        CaseEvent.objects.bulk_create(
            CaseEvent(case=case, at=at, kind=kind, by=by, text=text, data=data)
            for at, kind, by, text, data in events
        )
        Inquiry.objects.create(
            case=case,
            topic=topic,
            name=contact.name,
            email=contact.email,
            phone=contact.phone,
            company=contact.customer.name,
            language=language,
            text=question,
            token_hash=_digest("demo-inquiry-token", str(n), contact.email),
            fingerprint=_digest(contact.email.lower(), str(topic.pk), question.lower()),
            created_at=asked,
        )


def demo_now(truth: PlantedTruth) -> dt.datetime:
    """The moment the demo's cases stand at: the end of its last day, or now if that is
    earlier (a demo built during its last day)."""
    end = dt.datetime.combine(truth.end, dt.time(18), tzinfo=dt.UTC)
    return min(end, dt.datetime.now(dt.UTC))


def build_cases(
    truth: PlantedTruth,
    *,
    teams: dict[str, Team],
    employees: list[Employee],
    touchpoints: list[Touchpoint],
) -> int:
    """Write the demo's loop (see the module's docstring); returns the number of rule cases."""
    rng = np.random.default_rng(truth.seed + SEED_OFFSET)
    now = demo_now(truth)
    since = dt.datetime.combine(
        month_start(truth.end, CASE_HISTORY_MONTHS), dt.time(9), tzinfo=dt.UTC
    )
    author = next((e for e in employees if e.role == Role.ADMIN), None)
    policies = _policies()
    versions = _rules(policies, teams, since, author)
    causes = _taxonomy(touchpoints)
    history = _history(truth, rng, now, versions, touchpoints, employees, teams, causes)
    _flush(history.loop)
    topics = _topics(policies["inquiry"], teams)
    _inquiries(rng, now, topics, history.members, history.clock)
    return len(history.loop.cases)
