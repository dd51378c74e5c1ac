"""Initiatives' write side: proposing with a baseline, the states (allowed and refused moves,
each with its moment and who), finishing (a new version of each touchpoint's standard, all or
nothing), action items, and a history that is never rewritten."""

import datetime as dt
from decimal import Decimal
from unittest import mock

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import translation

from cxloop.audit.models import AuditEvent
from cxloop.customers.models import Segment
from cxloop.improvements import services
from cxloop.improvements.choices import EventKind, InitiativeState, Scope
from cxloop.improvements.models import ActionItem, Initiative, InitiativeEvent
from cxloop.journeys.models import Standard
from cxloop.journeys.services import new_standard_version
from tests.improvements.data import NOW, ImprovementTestCase, propose

LATER = NOW + dt.timedelta(days=1)


class BaselineTests(ImprovementTestCase):
    def setUp(self):
        super().setUp()
        # The wired source (the fact store's) is put back after each test: others need it.
        self.addCleanup(services.set_baseline_source, services.set_baseline_source(None))

    def test_it_measures_the_baseline_at_creation_from_the_source(self):
        asked = []

        def source(ids, metric, until, scope):
            asked.append((ids, metric, until, scope))
            return services.Baseline(3.62, 140, dt.date(2025, 12, 16), until)

        services.set_baseline_source(source)
        initiative = propose(self.owner.employee, [self.billing, self.kickoff])
        self.assertEqual(
            asked,
            [(sorted([self.kickoff.pk, self.billing.pk]), "rating", NOW.date(), services.EVERYONE)],
        )
        initiative.refresh_from_db()
        self.assertEqual(initiative.baseline, 3.62)
        self.assertEqual(initiative.baseline_n, 140)
        self.assertEqual(
            (initiative.baseline_since, initiative.baseline_until),
            (dt.date(2025, 12, 16), NOW.date()),
        )

    def test_it_proposes_without_a_baseline_when_no_source_is_wired(self):
        initiative = propose(self.owner.employee, [self.kickoff])
        self.assertIsNone(Initiative.objects.get(pk=initiative.pk).baseline)

    def test_a_new_metric_measures_the_baseline_again_while_proposed(self):
        services.set_baseline_source(
            lambda ids, metric, until, scope: services.Baseline(
                {"rating": 3.5, "nps": 12.0}[metric], 50, dt.date(2026, 1, 1), until
            )
        )
        initiative = propose(self.owner.employee, [self.kickoff])
        services.update_initiative(initiative, metric="nps", by=None, now=LATER)
        self.assertEqual(Initiative.objects.get(pk=initiative.pk).baseline, 12.0)

    def test_the_baseline_reads_the_answers_of_the_initiatives_scope(self):
        """A segment's initiative reads the segment; some teams' initiative reads them with
        the teams below them; a change of scope while proposed measures it again."""
        asked = []

        def source(ids, metric, until, scope):
            asked.append(scope)
            return services.Baseline(3.5, 50, dt.date(2026, 1, 1), until)

        services.set_baseline_source(source)
        segment = Segment.objects.create(name="Key clients", kind="manual", is_target=True)
        initiative = propose(
            self.owner.employee, [self.kickoff], scope=Scope.SEGMENT, segment=segment
        )
        services.update_initiative(
            initiative, scope=Scope.TEAMS, scope_teams=[self.team_a], by=None, now=LATER
        )
        self.assertEqual(
            asked,
            [
                services.BaselineScope(segment_id=segment.pk),
                services.BaselineScope(team_ids=tuple(sorted([self.team_a.pk, self.team_a1.pk]))),
            ],
        )


class ProposeTests(ImprovementTestCase):
    def test_it_refuses_an_initiative_without_touchpoints_by_field_writing_nothing(self):
        with self.assertRaises(services.InitiativeError) as refused:
            propose(self.owner.employee, [])
        self.assertEqual(refused.exception.field, "touchpoints")
        self.assertFalse(Initiative.objects.exists())
        self.assertFalse(InitiativeEvent.objects.exists())

    def test_a_segment_scope_needs_its_segment(self):
        with self.assertRaises(services.InitiativeError) as refused:
            propose(self.owner.employee, [self.kickoff], scope=Scope.SEGMENT)
        self.assertEqual(refused.exception.field, "segment")

    def test_it_refuses_a_target_off_the_metrics_scale_naming_the_range(self):
        for metric, target, scale in (
            ("rating", Decimal("37"), "from 1 to 5"),
            ("rating", Decimal("0.5"), "from 1 to 5"),
            ("ces", Decimal("8"), "from 1 to 7"),
            ("csat", Decimal("101"), "from 0 to 100"),
            ("nps", Decimal("-101"), "from -100 to 100"),
        ):
            with self.subTest(metric=metric, target=target), translation.override("en"):
                with self.assertRaises(services.InitiativeError) as refused:
                    propose(self.owner.employee, [self.kickoff], metric=metric, target_value=target)
                self.assertEqual(refused.exception.field, "target_value")
                self.assertIn(scale, str(refused.exception))
        initiative = propose(
            self.owner.employee, [self.kickoff], metric="nps", target_value=Decimal("-100")
        )
        with self.assertRaises(services.InitiativeError) as refused:
            services.update_initiative(initiative, metric="rating", by=None, now=LATER)
        self.assertEqual(refused.exception.field, "target_value")
        self.assertEqual(Initiative.objects.count(), 1)

    def test_it_records_the_proposal_in_history_and_the_audit_log(self):
        initiative = propose(self.owner.employee, [self.kickoff], started_from="touchpoint")
        event = initiative.events.get()
        self.assertEqual((event.kind, event.by), (EventKind.CREATED, self.owner.employee))
        self.assertEqual(event.data["started_from"], "touchpoint")
        self.assertEqual(initiative.team, self.team_a)
        self.assertTrue(
            AuditEvent.objects.filter(
                object_kind="initiative", object_id=str(initiative.pk)
            ).exists()
        )

    def test_it_names_the_changed_fields_and_refuses_changes_once_done(self):
        initiative = propose(self.owner.employee, [self.kickoff])
        services.update_initiative(
            initiative,
            title="Повестка за два дня",
            touchpoints=[self.kickoff, self.billing],
            target_value=Decimal("4.5"),  # unchanged: not named
            by=self.lead.employee,
            now=LATER,
        )
        edited = initiative.events.get(kind=EventKind.EDITED)
        self.assertEqual(edited.data["fields"], ["title", "touchpoints"])
        self.assertEqual(initiative.touchpoints.count(), 2)
        services.change_state(initiative, "abandoned", by=self.lead.employee, now=LATER)
        with self.assertRaises(services.InitiativeError):
            services.update_initiative(initiative, title="x", by=self.lead.employee, now=LATER)
        self.assertEqual(Initiative.objects.get(pk=initiative.pk).title, "Повестка за два дня")


class StateTests(ImprovementTestCase):
    def setUp(self):
        self.initiative = propose(self.owner.employee, [self.kickoff, self.billing])
        self.by = self.lead.employee

    def move(self, to, now=LATER):
        return services.change_state(self.initiative, to, by=self.by, now=now)

    def test_it_moves_along_the_allowed_states_keeping_each_moment_and_who(self):
        self.move("approved", NOW + dt.timedelta(hours=1))
        self.move("in_progress", NOW + dt.timedelta(hours=2))
        initiative = Initiative.objects.get(pk=self.initiative.pk)
        self.assertEqual(initiative.state, InitiativeState.IN_PROGRESS)
        self.assertEqual(initiative.approved_at, NOW + dt.timedelta(hours=1))
        self.assertEqual(initiative.approved_by, self.by)
        self.assertEqual(initiative.started_at, NOW + dt.timedelta(hours=2))
        moves = [
            (e.data["before"], e.data["after"]) for e in initiative.events.filter(kind="state")
        ]
        self.assertEqual(moves, [("proposed", "approved"), ("approved", "in_progress")])

    def test_it_refuses_a_skipped_state_and_changes_nothing(self):
        for to in ("in_progress", "done", "proposed", "no-such-state"):
            with self.subTest(to=to), self.assertRaises(services.InitiativeError):
                self.move(to)
        initiative = Initiative.objects.get(pk=self.initiative.pk)
        self.assertEqual(initiative.state, InitiativeState.PROPOSED)
        self.assertEqual(initiative.events.count(), 1)

    def test_done_is_reached_only_by_finishing(self):
        self.move("approved")
        self.move("in_progress")
        with self.assertRaises(services.InitiativeError):
            self.move("done")
        self.assertEqual(Initiative.objects.get(pk=self.initiative.pk).state, "in_progress")

    def test_done_and_abandoned_are_final(self):
        self.move("abandoned")
        for to in ("approved", "in_progress", "proposed"):
            with self.subTest(to=to), self.assertRaises(services.InitiativeError):
                self.move(to)
        self.assertEqual(Initiative.objects.get(pk=self.initiative.pk).abandoned_by, self.by)

    def test_the_database_refuses_a_done_initiative_without_its_date(self):
        with self.assertRaises(IntegrityError):
            Initiative.objects.filter(pk=self.initiative.pk).update(state="done")


class FinishTests(ImprovementTestCase):
    def setUp(self):
        self.initiative = propose(self.owner.employee, [self.kickoff, self.billing])
        by = self.lead.employee
        services.change_state(self.initiative, "approved", by=by, now=NOW)
        services.change_state(self.initiative, "in_progress", by=by, now=NOW)
        new_standard_version(
            self.kickoff,
            text_ru="Встреча в течение недели",
            text_en="Meeting within a week",
            effective_from=dt.date(2025, 1, 1),
        )

    def finish(self, **fields):
        values = {
            "change_ru": "Повестка уходит клиенту за два дня до встречи",
            "change_en": "The agenda reaches the client two days ahead",
            "effective_from": dt.date(2026, 4, 1),
            "training": "kickoff-agenda",
            **fields,
        }
        return services.finish(self.initiative, by=self.owner.employee, now=LATER, **values)

    def test_finishing_writes_the_next_version_of_each_touchpoints_standard(self):
        self.finish()
        kickoff = Standard.objects.filter(touchpoint=self.kickoff).order_by("version")
        self.assertEqual([s.version for s in kickoff], [1, 2])
        latest = kickoff.last()
        self.assertEqual(latest.text_ru, "Повестка уходит клиенту за два дня до встречи")
        self.assertEqual(latest.text_en, "The agenda reaches the client two days ahead")
        self.assertEqual(latest.effective_from, dt.date(2026, 4, 1))
        billing = Standard.objects.get(touchpoint=self.billing)
        self.assertEqual(billing.version, 1)
        initiative = Initiative.objects.get(pk=self.initiative.pk)
        self.assertEqual(initiative.state, InitiativeState.DONE)
        self.assertEqual(
            (initiative.finished_at, initiative.finished_by), (LATER, self.owner.employee)
        )
        self.assertEqual(initiative.training, "kickoff-agenda")
        self.assertEqual(set(initiative.standards.all()), {latest, billing})
        event = initiative.events.get(kind=EventKind.STANDARD)
        self.assertEqual(
            sorted((s["touchpoint"], s["version"]) for s in event.data["standards"]),
            [("billing", 1), ("kickoff", 2)],
        )

    def test_finishing_needs_what_changed(self):
        with self.assertRaises(services.InitiativeError) as refused:
            self.finish(change_ru="  ")
        self.assertEqual(refused.exception.field, "change_ru")
        self.assertEqual(Standard.objects.count(), 1)

    def test_finishing_is_all_or_nothing(self):
        real = services.new_standard_version
        calls = []

        def fail_on_the_second(*args, **kwargs):
            calls.append(args)
            if len(calls) == 2:
                raise IntegrityError("injected: the second standard cannot be written")
            return real(*args, **kwargs)

        events = InitiativeEvent.objects.count()
        with (
            mock.patch.object(services, "new_standard_version", fail_on_the_second),
            self.assertRaises(IntegrityError),
        ):
            self.finish()
        self.assertEqual(len(calls), 2)
        self.assertEqual(Standard.objects.count(), 1)  # the one of setUp
        initiative = Initiative.objects.get(pk=self.initiative.pk)
        self.assertEqual((initiative.state, initiative.finished_at), ("in_progress", None))
        self.assertEqual(initiative.change_ru, "")
        self.assertEqual(InitiativeEvent.objects.count(), events)

    def test_an_initiative_not_in_progress_cannot_be_finished(self):
        other = propose(self.owner.employee, [self.kickoff])
        with self.assertRaises(services.InitiativeError):
            services.finish(
                other, change_ru="x", effective_from=dt.date(2026, 4, 1), by=None, now=LATER
            )
        self.assertEqual(Standard.objects.count(), 1)


class ActionItemTests(ImprovementTestCase):
    def setUp(self):
        self.initiative = propose(self.owner.employee, [self.kickoff])

    def test_it_adds_ticks_and_unticks_once_each(self):
        item = services.add_action_item(
            self.initiative,
            text="Шаблон повестки",
            owner=self.teammate.employee,
            due_on=dt.date(2026, 3, 20),
            by=self.owner.employee,
            now=NOW,
        )
        done = services.set_action_item_done
        self.assertTrue(done(item, True, by=self.teammate.employee, now=LATER))
        self.assertFalse(done(item, True, by=self.teammate.employee, now=LATER))
        item.refresh_from_db()
        self.assertEqual((item.done_at, item.done_by), (LATER, self.teammate.employee))
        self.assertTrue(done(item, False, by=self.owner.employee, now=LATER))
        item.refresh_from_db()
        self.assertIsNone(item.done_by)
        kinds = list(self.initiative.events.values_list("kind", flat=True))
        self.assertEqual(kinds, ["created", "action_added", "action_done", "action_reopened"])

    def test_it_refuses_an_item_without_text_by_field(self):
        with self.assertRaises(services.InitiativeError) as refused:
            services.add_action_item(
                self.initiative,
                text=" ",
                owner=self.teammate.employee,
                due_on=dt.date(2026, 3, 20),
                by=None,
                now=NOW,
            )
        self.assertEqual(refused.exception.field, "text")
        self.assertFalse(ActionItem.objects.exists())


class HistoryTests(ImprovementTestCase):
    def test_history_is_never_rewritten_nor_deleted(self):
        initiative = propose(self.owner.employee, [self.kickoff])
        event = initiative.events.get()
        event.text = "rewritten"
        with self.assertRaises(ValidationError):
            event.save()
        with self.assertRaises(ValidationError):
            event.delete()
        self.assertEqual(InitiativeEvent.objects.get(pk=event.pk).text, "")
