"""Alert rules over many responses: the bulk evaluation agrees with the plain one on random
data, cases open once per rule × response and customer (also with two worker processes at
once), owners are routed, and a preview counts what a run then opens."""

import datetime as dt
import os
import random
import subprocess
import sys
from decimal import Decimal
from unittest import mock

from django.db import connection
from django.test import TransactionTestCase
from django.utils import translation

from cxloop.cases import rules
from cxloop.cases.choices import CaseState, EventKind, Origin, OwnerKind, Priority, RoutingNote
from cxloop.cases.conditions import MISSING_DROP, matches, parse_condition
from cxloop.cases.evaluate import Context, evaluate, load_batch, matches_of, plan
from cxloop.cases.models import AlertRuleVersion, Case, CaseTrigger, SlaPolicy
from cxloop.comments.services import save_theme
from cxloop.customers.models import Contact, Customer, Segment, SegmentKind
from cxloop.front.case_views import timeline
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.people import queries
from cxloop.people.models import Role
from cxloop.surveys.announce import announce_pending
from cxloop.surveys.models import Answer, Question, Response, Survey
from cxloop.surveys.signals import responses_pending, responses_recorded
from cxloop.test import BaseTestCase

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
KINDS = ("nps", "csat", "ces")


class World:
    """A survey asking NPS, CSAT, CES, two touchpoint ratings and a comment; touchpoints with
    teams; customers of every tier; a target and a hand-picked segment."""

    def __init__(self, case: BaseTestCase):
        journey = Journey.objects.create(name_ru="Путь", name_en="Journey")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Этап", name_en="Stage")
        self.invoice = Touchpoint.objects.create(
            stage=stage,
            order=1,
            code="invoice",
            name_ru="Счёт",
            name_en="Invoice",
            channel="invoice",
            team=case.team_a,
        )
        self.support = Touchpoint.objects.create(
            stage=stage,
            order=2,
            code="support",
            name_ru="Поддержка",
            name_en="Support",
            channel="phone",
            team=case.team_b,
        )
        self.survey = Survey.objects.create(
            name_ru="Опрос", name_en="Survey", kind="relationship", languages=["ru", "en"]
        )
        self.questions = {}
        for order, (key, kind, touchpoint) in enumerate(
            [
                ("nps", "nps", None),
                ("csat", "csat", None),
                ("ces", "ces", None),
                ("invoice", "rating", self.invoice),
                ("support", "rating", self.support),
                ("comment", "text", None),
            ],
            start=1,
        ):
            self.questions[key] = Question.objects.create(
                survey=self.survey,
                order=order,
                kind=kind,
                text_ru=key,
                text_en=key,
                touchpoint=touchpoint,
            )
        self.policy = SlaPolicy.objects.create(
            name_ru="Стандарт", name_en="Standard", first_contact_hours=4, resolution_hours=16
        )
        self.alpha = Customer.objects.create(
            external_id="A",
            name="Альфа",
            owner=case.teammate.employee,
            tier="strategic",
            annual_value=Decimal("5000000"),
        )
        self.beta = Customer.objects.create(
            external_id="B", name="Beta", tier="small", annual_value=Decimal("1000")
        )
        self.target = Segment.objects.create(
            name="Крупные",
            kind=SegmentKind.RULE,
            is_target=True,
            rule=[{"field": "tier", "op": "in", "value": ["strategic", "key"]}],
        )
        self.picked = Segment.objects.create(name="Отобранные", kind=SegmentKind.MANUAL)
        self.picked.members.add(self.beta)
        save_theme(None, code="billing", name_ru="Счета", name_en="Billing", phrases_ru="счёт")
        save_theme(None, code="speed", name_ru="Скорость", name_en="Speed", phrases_en="late")

    def contact(self, customer: Customer, name: str = "Анна") -> Contact:
        return Contact.objects.create(customer=customer, name=name)

    def answer(
        self,
        customer=None,
        contact=None,
        *,
        at: dt.datetime = NOW - dt.timedelta(days=1),
        channel: str = "email",
        comment: str = "",
        **scores,
    ) -> Response:
        """A completed response with the given scores (nps, csat, ces, invoice, support)."""
        response = Response.objects.create(
            survey=self.survey,
            contact=contact,
            customer=customer or getattr(contact, "customer", None),
            channel=channel,
            state="completed",
            started_at=at,
            submitted_at=at,
        )
        answers = [
            Answer(
                response=response,
                question=self.questions[key],
                kind=self.questions[key].kind,
                touchpoint=self.questions[key].touchpoint,
                score=score,
            )
            for key, score in scores.items()
            if score is not None
        ]
        if comment:
            question = self.questions["comment"]
            answers.append(Answer(response=response, question=question, kind="text", text=comment))
        Answer.objects.bulk_create(answers)
        return response

    def rule(self, condition, *, owner_kind=OwnerKind.CUSTOMER_OWNER, team=None, name="Правило"):
        return rules.save_rule(
            None,
            name_ru=name,
            condition=condition,
            owner_kind=owner_kind,
            team=team,
            priority=Priority.HIGH,
            sla_policy=self.policy,
            now=NOW - dt.timedelta(days=200),
        )


def random_condition(rng: random.Random, world: World, depth: int = 0) -> dict:
    """A random, possible condition over every field."""
    if depth < 2 and rng.random() < 0.4:
        parts = [random_condition(rng, world, depth + 1) for _ in range(rng.randint(1, 3))]
        return {"any": parts}  # "any" is never impossible
    field = rng.choice(
        [
            "nps",
            "csat",
            "ces",
            "touchpoint_rating",
            "comment",
            "tier",
            "annual_value",
            "segment",
            "target_segment",
            "nps_drop",
            "channel",
            "theme",
            "sentiment",
        ]
    )
    if field == "theme":
        return {"field": field, "op": "in", "value": rng.sample(["billing", "speed"], 1)}
    if field == "sentiment":
        return {
            "field": field,
            "op": "in",
            "value": rng.sample(["negative", "neutral", "positive"], rng.randint(1, 2)),
        }
    if field in KINDS:
        high = {"nps": 10, "csat": 5, "ces": 7}[field]
        return {
            "field": field,
            "op": rng.choice(["lte", "gte", "eq"]),
            "value": rng.randint(1, high),
        }
    if field == "touchpoint_rating":
        leaf = {"field": field, "op": rng.choice(["lte", "gte"]), "value": rng.randint(1, 5)}
        if rng.random() < 0.5:
            leaf["touchpoint"] = rng.choice(["invoice", "support"])
        return leaf
    if field == "comment":
        return {
            "field": field,
            "op": "contains_any",
            "value": rng.sample(["счёт", "долго", "Invoice late", "ok"], 2),
        }
    if field == "tier":
        return {
            "field": field,
            "op": "in",
            "value": rng.sample(["strategic", "key", "standard", "small"], 2),
        }
    if field == "annual_value":
        return {
            "field": field,
            "op": rng.choice(["lte", "gte"]),
            "value": rng.choice([500, 2000, 10**6]),
        }
    if field == "segment":
        return {
            "field": field,
            "op": "in",
            "value": [rng.choice([world.target.pk, world.picked.pk])],
        }
    if field == "target_segment":
        return {"field": field, "op": "is", "value": True}
    if field == "nps_drop":
        return {"field": field, "op": "gte", "value": rng.randint(1, 5)}
    return {"field": field, "op": "in", "value": rng.sample(["email", "web", "api"], 2)}


class BulkEqualsPlainTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.world = world = World(cls)
        rng = random.Random(11)
        customers = [world.alpha, world.beta, None]
        contacts = [world.contact(world.alpha), world.contact(world.beta, "Bob")]
        words = [
            "Счёт пришёл поздно",
            "всё ДОЛГО",
            "invoice late again",
            "ok",
            "",
            "счетовод",
            "Ужасно, счета с ошибками",
            "Great, thank you!",
        ]
        cls.responses = []
        for day in range(120):
            contact = rng.choice([*contacts, None])
            customer = contact.customer if contact else rng.choice(customers)
            scores = {
                key: rng.choice([None, *range(low, high + 1)])
                for key, low, high in [
                    ("nps", 0, 10),
                    ("csat", 1, 5),
                    ("ces", 1, 7),
                    ("invoice", 1, 5),
                    ("support", 1, 5),
                ]
            }
            cls.responses.append(
                world.answer(
                    customer,
                    contact,
                    at=NOW - dt.timedelta(hours=day * 5),
                    comment=rng.choice(words),
                    channel=rng.choice(["email", "web", "api"]),
                    **scores,
                )
            )

    def plain_facts(self, response: Response):
        """One response's facts the straightforward way: one ORM query after another."""
        from cxloop.cases.conditions import ResponseFacts

        answers = list(response.answers.all())

        def score(kind):
            found = [a.score for a in answers if a.kind == kind and a.score is not None]
            return min(found) if found else None

        ratings = {}
        for answer in answers:
            if answer.kind == "rating" and answer.score is not None:
                ratings[answer.touchpoint_id] = min(
                    answer.score, ratings.get(answer.touchpoint_id, 9)
                )
        customer = response.customer
        segments = frozenset(
            s.pk
            for s in (self.world.target, self.world.picked)
            if customer is not None
            and (
                customer in s.members.all()
                or (s.kind == "rule" and customer.tier in ("strategic", "key"))
            )
        )
        drop = None
        nps = score("nps")
        if response.contact_id and nps is not None:
            earlier = [
                a.score
                for r in Response.objects.filter(contact_id=response.contact_id).order_by(
                    "submitted_at", "pk"
                )
                if (r.submitted_at, r.pk) < (response.submitted_at, response.pk)
                for a in r.answers.filter(kind="nps")
            ]
            drop = earlier[-1] - nps if earlier else None
        return ResponseFacts(
            nps=nps,
            csat=score("csat"),
            ces=score("ces"),
            ratings=ratings,
            comment="\n".join(a.text for a in answers if a.kind == "text" and a.text),
            tier=customer.tier if customer else "",
            annual_value=customer.annual_value if customer else None,
            segment_ids=segments,
            in_target_segment=self.world.target.pk in segments,
            nps_drop=drop,
            channel=response.channel,
        )

    def test_it_matches_the_same_responses_as_one_at_a_time(self):
        rng = random.Random(5)
        conditions = [random_condition(rng, self.world) for _ in range(60)]
        nodes = [parse_condition(c) for c in conditions]
        ids = [r.pk for r in self.responses]
        by_id = {r.pk: r for r in self.responses}
        from cxloop.cases.conditions import evaluate_table

        # The previous NPS read for the chunk's contacts, and for a backlog from one scan.
        for expected in (None, 1_000_000):
            context = Context.for_nodes(nodes, expected=expected)
            batch = load_batch(ids, context, since=None)
            self.assertEqual(context.previous is not None, expected is not None)
            plain = [self.plain_facts(by_id[pk]) for pk in batch.response_id]
            hits = 0
            for condition, node in zip(conditions, nodes, strict=True):
                bulk = evaluate_table(node, batch.table).tolist()
                one_by_one = [matches(node, facts) for facts in plain]
                self.assertEqual(bulk, one_by_one, condition)
                hits += sum(bulk)
            self.assertGreater(hits, 100)  # the conditions did select something
            self.assertEqual(len(batch), len(self.responses))

    def test_planning_over_columns_decides_as_match_by_match(self):
        rng = random.Random(7)
        conditions = [random_condition(rng, self.world) for _ in range(12)]
        nodes = {(pk, None): parse_condition(c) for pk, c in enumerate(conditions, start=1)}
        ids = [r.pk for r in self.responses]
        batch = load_batch(ids, Context.for_nodes(nodes.values()), since=None)
        found = matches_of(batch, nodes)
        self.assertEqual(list(found), sorted(found, key=lambda m: (m.row, m.rule_id)))
        self.assertEqual(found[1:3], list(found)[1:3])
        customers = sorted({m.customer_id for m in found} - {None})
        triggered = {(m.rule_id, m.response_id) for m in list(found)[::5]}
        for known in (set(), set(customers[:1])):
            columns = plan(found, open_keys=set(known), triggered=triggered)
            plain = plan(list(found), open_keys=set(known), triggered=triggered)
            self.assertEqual(list(columns.open), plain.open)
            self.assertEqual(list(columns.attach), plain.attach)
            self.assertTrue(plain.open and plain.attach)


class PreviousNpsTests(BaseTestCase):
    """The drop against the contact's previous NPS, read per chunk and for a backlog."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.world = World(cls)

    def drops(self, responses: list[Response], context: Context) -> dict[int, int | None]:
        batch = load_batch([r.pk for r in responses], context, since=None)
        drops = batch.table.nps_drop.tolist()
        return {
            pk: None if drop == MISSING_DROP else drop
            for pk, drop in zip(batch.response_id, drops, strict=True)
        }

    def context(self, *, backlog: bool) -> Context:
        node = parse_condition({"field": "nps_drop", "op": "gte", "value": 1})
        return Context.for_nodes([node], expected=1_000_000 if backlog else None)

    def test_the_previous_answer_is_the_contacts_last_completed_one_before(self):
        w = self.world
        anna, boris, vera = w.contact(w.alpha), w.contact(w.alpha, "Борис"), w.contact(w.beta)
        at = NOW - dt.timedelta(days=3)
        hour = dt.timedelta(hours=1)
        w.answer(contact=anna, at=at - dt.timedelta(days=30), nps=9)  # before the chunk
        first = w.answer(contact=anna, at=at, nps=7)
        same_time = w.answer(contact=anna, at=at, nps=2)  # a tie: the larger id is later
        no_nps = w.answer(contact=anna, at=at + hour, csat=1)
        abandoned = w.answer(contact=anna, at=at + 2 * hour, nps=10)
        Response.objects.filter(pk=abandoned.pk).update(state="started")
        last = w.answer(contact=anna, at=at + 3 * hour, nps=0)
        late = w.answer(contact=boris, at=at, nps=10)
        imported = w.answer(contact=boris, at=at - dt.timedelta(days=1), nps=4)  # recorded later
        alone = w.answer(contact=vera, nps=1)
        nobody = w.answer(customer=w.beta, nps=0)
        chunk = [first, same_time, no_nps, last, late, imported, alone, nobody]
        expected = {
            first.pk: 9 - 7,
            same_time.pk: 7 - 2,
            no_nps.pk: None,
            last.pk: 2 - 0,  # not the abandoned 10, nor the CSAT-only answer
            late.pk: 4 - 10,
            imported.pk: None,
            alone.pk: None,
            nobody.pk: None,
        }
        for backlog in (False, True):
            with self.subTest(backlog=backlog):
                context = self.context(backlog=backlog)
                self.assertEqual(self.drops(chunk, context), expected)
                self.assertEqual(context.previous is not None, backlog)

    def test_reading_per_chunk_turns_into_one_scan_once_it_costs_as_much(self):
        w = self.world
        anna = w.contact(w.alpha)
        earlier = w.answer(contact=anna, at=NOW - dt.timedelta(days=2), nps=8)
        later = w.answer(contact=anna, nps=3)
        context = self.context(backlog=False)
        self.assertEqual(self.drops([later], context), {later.pk: 5})
        self.assertIsNone(context.previous)
        self.assertEqual(context.history_read, 2)
        context.history_read = 10  # more than the NPS answers there are: a scan is cheaper
        self.assertEqual(self.drops([earlier, later], context), {earlier.pk: None, later.pk: 5})
        self.assertIsNotNone(context.previous)


class OpeningTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.world = World(cls)
        cls.member2 = cls._user("member2", cls.team_b, Role.EMPLOYEE)
        cls.viewer_b = cls._user("viewer_b", cls.team_b, Role.VIEWER)

    def test_it_opens_one_case_per_customer_and_attaches_the_rest(self):
        w = self.world
        rule = w.rule({"field": "nps", "op": "lte", "value": 6})
        other = w.rule({"field": "csat", "op": "lte", "value": 2}, name="CSAT")
        contact = w.contact(w.alpha)
        first = w.answer(contact=contact, nps=3, invoice=2, at=NOW - dt.timedelta(days=2))
        second = w.answer(contact=contact, nps=5, csat=1, at=NOW - dt.timedelta(days=1))
        happy = w.answer(contact=contact, nps=10)
        ids = [first.pk, second.pk, happy.pk]
        outcome = evaluate(ids, now=NOW)
        case = Case.objects.get()
        self.assertEqual((outcome.opened, outcome.attached), (1, 1))
        self.assertEqual(case.title, "NPS 3 · Счёт · Альфа")
        self.assertEqual(case.owner, self.teammate.employee)
        self.assertEqual((case.contact, case.priority, case.origin), (contact, "high", Origin.RULE))
        self.assertEqual(case.rule_version, rule)
        self.assertEqual(list(case.touchpoints.all()), [w.invoice])
        # second: NPS rule attached; CSAT rule could not add the same response to the same case
        self.assertEqual(
            sorted(CaseTrigger.objects.values_list("rule_id", "response_id")),
            [(rule.rule_id, first.pk), (rule.rule_id, second.pk)],
        )
        self.assertEqual(other.rule.triggers.count(), 0)
        self.assertEqual(case.events.filter(kind=EventKind.TRIGGER).count(), 1)
        # The attachment's rows, written by prepared statements, as the ORM would have written them.
        joined = CaseTrigger.objects.get(response=second)
        self.assertEqual((joined.case, joined.rule_version, joined.created_at), (case, rule, NOW))
        event = case.events.get(kind=EventKind.TRIGGER)
        self.assertEqual((event.at, event.by), (NOW, None))
        self.assertEqual(event.data, {"response": second.pk, "rule_version": rule.pk})
        self.assertEqual(Case.objects.get().updated_at, NOW)
        again = evaluate(ids, now=NOW)  # idempotent
        self.assertEqual((again.opened, again.attached), (0, 0))
        self.assertEqual(CaseTrigger.objects.count(), 2)

    def test_an_evaluation_reads_the_calendars_once_for_all_the_cases_it_opens(self):
        w = self.world
        w.rule({"field": "nps", "op": "lte", "value": 6})
        gamma = Customer.objects.create(external_id="G", name="Гамма", tier="key")
        ids = [
            w.answer(contact=w.contact(customer), nps=2).pk for customer in (w.alpha, w.beta, gamma)
        ]
        with mock.patch.object(queries, "Calendars", wraps=queries.Calendars) as calendars:
            outcome = evaluate(ids, now=NOW)
        self.assertEqual(outcome.opened, 3)
        self.assertEqual(calendars.call_count, 1)
        self.assertTrue(all(c.first_contact_due for c in Case.objects.all()))
        self.assertIsNone(queries._kept.get())  # only for the evaluation

    def test_cases_open_in_bulk_and_one_by_one_when_another_worker_won_one(self):
        w = self.world
        w.rule({"field": "nps", "op": "lte", "value": 6})
        gamma = Customer.objects.create(external_id="G", name="Гамма", tier="key")
        ids = [
            w.answer(contact=w.contact(customer), nps=2).pk for customer in (w.alpha, w.beta, gamma)
        ]
        # Another worker opened Beta's case after this one looked for open cases: the bulk
        # insert is refused as a whole, the others open one by one and Beta's answer joins it.
        theirs = evaluate([ids[1]], now=NOW)
        self.assertEqual(theirs.opened, 1)
        Case.objects.get().triggers.all().delete()
        with mock.patch("cxloop.cases.evaluate.open_rule_cases_of", return_value={}):
            outcome = evaluate(ids, now=NOW)
        self.assertEqual((outcome.opened, outcome.attached), (2, 1))
        self.assertEqual(
            sorted(Case.objects.values_list("customer__name", flat=True)),
            sorted(["Альфа", w.beta.name, "Гамма"]),
        )
        beta = Case.objects.get(customer=w.beta)
        self.assertEqual(list(beta.triggers.values_list("response_id", flat=True)), [ids[1]])
        for case in Case.objects.all():  # each with its whole opening, none half-written
            self.assertEqual(case.events.filter(kind=EventKind.OPENED).count(), 1)
            told = list(case.notifications.values_list("recipient_id", flat=True))
            self.assertEqual(told, [case.owner_id] if case.owner_id else [])
        self.assertTrue(Case.objects.exclude(owner=None).exists())

    def test_a_resolved_case_lets_the_next_trigger_open_a_new_one(self):
        w = self.world
        w.rule({"field": "nps", "op": "lte", "value": 6})
        evaluate([w.answer(w.alpha, nps=1).pk], now=NOW)
        Case.objects.update(state=CaseState.RESOLVED)
        evaluate([w.answer(w.alpha, nps=2).pk], now=NOW)
        self.assertEqual(Case.objects.count(), 2)

    def test_live_rules_leave_history_alone_and_a_run_over_past_days_reaches_it(self):
        w = self.world
        version = w.rule({"field": "nps", "op": "lte", "value": 6})
        old = w.answer(w.alpha, nps=2, at=NOW - dt.timedelta(days=20))
        self.assertEqual(evaluate([old.pk], now=NOW).opened, 0)
        forecast = rules.preview(version.condition, now=NOW, days=30, rule=version.rule)
        self.assertEqual((forecast.cases, forecast.examples), (1, (old.pk,)))
        self.assertEqual(rules.run_rule(version, 30, now=NOW).opened, 1)
        with self.assertRaisesMessage(rules.RuleError, "366"):
            rules.run_rule(version, 366, now=NOW)

    def test_a_preview_counts_what_running_the_rule_opens(self):
        w = self.world
        gamma = Customer.objects.create(external_id="G", name="Gamma")
        for day, (customer, nps) in enumerate(
            [(w.alpha, 2), (w.alpha, 3), (w.beta, 1), (None, 0), (None, 4), (gamma, 9), (w.beta, 6)]
        ):
            w.answer(customer, nps=nps, at=NOW - dt.timedelta(days=day * 10 + 1))
        # Beta already has an open rule case: its triggers attach instead of opening one.
        earlier = w.rule({"field": "nps", "op": "eq", "value": 10}, name="Раньше")
        evaluate([w.answer(w.beta, nps=10).pk], now=NOW)
        version = w.rule({"field": "nps", "op": "lte", "value": 6})
        forecast = rules.preview(version.condition, now=NOW, rule=version.rule)
        self.assertEqual((forecast.cases, forecast.attached), (3, 3))
        self.assertEqual(len(forecast.examples), 3)
        outcome = rules.run_rule(version, rules.PREVIEW_DAYS, now=NOW)
        self.assertEqual((outcome.opened, outcome.attached), (forecast.cases, forecast.attached))
        self.assertEqual(Case.objects.filter(rule_version=version).count(), forecast.cases)
        self.assertEqual(Case.objects.filter(rule_version=earlier).count(), 1)

    def test_a_named_team_takes_cases_in_turn(self):
        w = self.world
        w.rule(
            {"field": "nps", "op": "lte", "value": 6}, owner_kind=OwnerKind.TEAM, team=self.team_b
        )
        customers = [Customer.objects.create(external_id=f"R{i}", name=f"R{i}") for i in range(5)]
        ids = [
            w.answer(c, nps=1, at=NOW - dt.timedelta(hours=9 - i)).pk
            for i, c in enumerate(customers)
        ]
        evaluate(ids[:3], now=NOW)
        evaluate(ids[3:], now=NOW + dt.timedelta(minutes=1))
        owners = [
            Case.objects.get(customer=c).owner.user.username for c in customers
        ]  # the viewer of team B never takes a case
        self.assertEqual(owners, ["outsider", "member2", "outsider", "member2", "outsider"])

    def test_without_an_owner_the_case_goes_to_the_touchpoint_team_and_says_so(self):
        w = self.world
        w.rule({"field": "nps", "op": "lte", "value": 6}, team=self.team_a)
        evaluate([w.answer(w.beta, nps=2, invoice=4, support=1).pk], now=NOW)
        case = Case.objects.get()
        self.assertEqual(case.team, self.team_b)  # support, rated lowest, belongs to team B
        self.assertIn(case.owner.user.username, {"outsider", "member2"})
        opened = case.events.get(kind=EventKind.OPENED)
        # A code, not a sentence: each reader sees it in their own language.
        self.assertEqual(opened.data["routing"], [RoutingNote.NO_OWNER_TOUCHPOINT_TEAM])
        self.assertEqual(opened.text, "")

    def test_the_routing_note_reads_in_the_readers_language(self):
        w = self.world
        w.rule({"field": "nps", "op": "lte", "value": 6}, team=self.team_a)
        with translation.override("ru"):  # the worker's language must not stick to the note
            evaluate([w.answer(w.beta, nps=2, invoice=4, support=1).pk], now=NOW)
        case = Case.objects.get()
        # Its summary names the lowest-rated touchpoint in each language.
        self.assertEqual(
            (case.title, case.title_en), ("NPS 2 · Поддержка · Beta", "NPS 2 · Support · Beta")
        )
        for language, expected in (
            ("en", "relationship owner: the case went to the touchpoint's team"),
            ("ru", "нет ответственного за отношения"),
        ):
            with self.subTest(language), translation.override(language):
                opened = [line for line in timeline(case) if line.kind == EventKind.OPENED]
                self.assertIn(expected, opened[0].detail)

    def test_two_rules_matching_one_anonymous_answer_make_one_case(self):
        w = self.world
        w.rule({"field": "nps", "op": "lte", "value": 6}, team=self.team_a, name="Детрактор")
        w.rule({"field": "csat", "op": "lte", "value": 2}, team=self.team_a, name="CSAT")
        first = w.answer(nps=2, csat=1)  # no customer, no contact
        second = w.answer(nps=1)
        outcome = evaluate([first.pk, second.pk], now=NOW)
        # One case each; the CSAT rule's match of the first is already on its case.
        self.assertEqual((outcome.opened, outcome.attached), (2, 0))
        opened = CaseTrigger.objects.get(response=first).case.events.get(kind=EventKind.OPENED)
        self.assertEqual(opened.data["routing"], [RoutingNote.NO_CUSTOMER_RULE_TEAM])
        self.assertEqual(Case.objects.count(), 2)
        self.assertEqual(CaseTrigger.objects.filter(response=first).count(), 1)
        # A rule saved later and run over the same answer finds it on its open case.
        w.rule({"field": "nps", "op": "lte", "value": 3}, team=self.team_a, name="Поздний")
        evaluate([first.pk], now=NOW)
        self.assertEqual(Case.objects.count(), 2)

    def test_touchpoint_team_routing_falls_back_to_the_rules_team(self):
        w = self.world
        w.rule(
            {"field": "nps", "op": "lte", "value": 6},
            owner_kind=OwnerKind.TOUCHPOINT_TEAM,
            team=self.team_a,
        )
        evaluate([w.answer(w.beta, nps=2).pk], now=NOW)
        case = Case.objects.get()
        self.assertEqual(case.team, self.team_a)
        opened = case.events.get(kind=EventKind.OPENED)
        self.assertEqual(opened.data["routing"], [RoutingNote.NO_TOUCHPOINT_TEAM])

    def test_the_signal_evaluates_recorded_responses(self):
        w = self.world
        w.rule({"field": "comment", "op": "contains_any", "value": ["счёт"]})
        response = w.answer(w.alpha, nps=9, comment="Где СЧЕТ?", at=dt.datetime.now(dt.UTC))
        responses_pending.send(sender=None, response_ids=[response.pk])
        self.assertEqual(Case.objects.get().triggers.get().response, response)

    def test_a_batch_announced_again_opens_its_case_once(self):
        """The rules act before the mark (outside its transaction on SQLite): when the mark
        fails, the next announcement evaluates the same response again and opens nothing
        more."""
        w = self.world
        w.rule({"field": "nps", "op": "lte", "value": 6})
        response = w.answer(w.alpha, nps=2, at=dt.datetime.now(dt.UTC))
        failures = []

        def failing_once(sender, **kwargs):
            if not failures:
                failures.append(True)
                raise RuntimeError("a consumer of the mark failed")

        responses_recorded.connect(failing_once, dispatch_uid="test-failing-once")
        self.addCleanup(responses_recorded.disconnect, dispatch_uid="test-failing-once")
        with self.assertRaises(RuntimeError):
            announce_pending()
        self.assertEqual(announce_pending(), 1)
        self.assertEqual(announce_pending(), 0)
        case = Case.objects.get()
        self.assertEqual([t.response for t in case.triggers.all()], [response])
        self.assertEqual(case.events.filter(kind=EventKind.OPENED).count(), 1)


# Two workers at once --------------------------------------------------------------------------

WORKER = """
import datetime as dt, os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
django.setup()
from cxloop.cases.evaluate import evaluate
ids = [int(x) for x in sys.argv[1].split(",")]
now = dt.datetime.fromisoformat(sys.argv[2])
print(evaluate(ids, now=now))
"""


def database_url() -> str:
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    return (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or ''}"
        f":{database['PORT'] or 5432}/{database['NAME']}"
    )


class TwoWorkersTests(TransactionTestCase):
    """Committed data: two real processes evaluate the same ids at once."""

    def setUp(self):
        from django.contrib.auth.models import User

        from cxloop.people.models import Employee, Team

        self.team_a = Team.objects.create(name="A")
        self.team_b = self.team_a
        user = User.objects.create_user("teammate")
        self.teammate = user
        Employee.objects.create(user=user, team=self.team_a)
        self.world = World(self)

    def test_two_workers_open_one_case_per_rule_response_and_customer(self):
        w = self.world
        w.rule({"field": "nps", "op": "lte", "value": 6})
        w.rule({"field": "csat", "op": "lte", "value": 2}, name="CSAT")
        customers = [Customer.objects.create(external_id=f"W{i}", name=f"W{i}") for i in range(40)]
        ids = []
        for i in range(200):
            customer = customers[i % 40] if i % 7 else None
            ids.append(
                w.answer(customer, nps=i % 7, csat=1 + i % 5, at=NOW - dt.timedelta(minutes=i)).pk
            )
        arguments = [",".join(map(str, ids)), NOW.isoformat()]
        environment = {**os.environ, "CXLOOP_DATABASE_URL": database_url()}
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER,
                    *arguments,
                ],
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [worker.communicate(timeout=300) for worker in workers]
        for worker, (_out, err) in zip(workers, outputs, strict=True):
            self.assertEqual(worker.returncode, 0, err[-3000:])
        nps_rule, csat_rule = (v.rule_id for v in AlertRuleVersion.objects.order_by("pk"))
        # Every response matched the NPS rule: one trigger each, on its customer's one case
        # or (no customer) a case of its own; the CSAT rule adds nothing (each response it
        # matches is already on its case, through the NPS rule that came first).
        anonymous = [i for i in range(200) if i % 7 == 0]
        self.assertEqual(CaseTrigger.objects.filter(rule_id=nps_rule).count(), 200)
        self.assertEqual(CaseTrigger.objects.filter(rule_id=csat_rule).count(), 0)
        with_customer = list(
            Case.objects.exclude(customer=None).values_list("customer_id", flat=True)
        )
        self.assertEqual(sorted(with_customer), sorted(c.pk for c in customers))
        self.assertEqual(Case.objects.filter(customer=None).count(), len(anonymous))
