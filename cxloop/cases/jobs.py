"""The closed loop's scheduled work, run by the worker (:func:`run_due`): a warning
before a deadline, the breach when it passes, escalation to the owner's manager at the breach and
one level higher after one more period, then the e-mails of the news that fell due.

Each step finds its cases in bulk, then moves each one with a conditional UPDATE (``WHERE`` the
step has not happened yet) and writes its event and news in the same transaction only when the
UPDATE changed the row: two workers, or a job run twice, do each step once. A case waiting on the
customer has its clocks stopped and is left alone.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q, QuerySet

from cxloop.cases import mail
from cxloop.cases.choices import CaseState, EventKind, NotificationKind
from cxloop.cases.clocks import add_working_hours
from cxloop.cases.models import Case, SlaPolicy
from cxloop.cases.notify import notify
from cxloop.cases.services import record
from cxloop.lib import workhours
from cxloop.people.queries import Calendars, manager_chain


@dataclass(frozen=True)
class Stage:
    """One of a case's two deadlines: first contact until the customer is reached, then
    resolution. A warning or breach stamped before the first contact was the first one's."""

    name: str
    due_field: str
    period_field: str  # of the SLA policy: the length of the period
    current: Q  # the cases for which this deadline is the one running

    def not_yet(self, stamp: str) -> Q:
        """Cases whose ``stamp`` (warned_at, breached_at) is not yet set for this deadline."""
        if self.name == "first_contact":
            return Q(**{f"{stamp}__isnull": True})
        return Q(**{f"{stamp}__isnull": True}) | Q(**{f"{stamp}__lt": F("first_contacted_at")})


STAGES = (
    Stage(
        "first_contact",
        "first_contact_due",
        "first_contact_hours",
        Q(first_contacted_at__isnull=True, first_contact_due__isnull=False),
    ),
    Stage(
        "resolution",
        "resolution_due",
        "resolution_hours",
        Q(first_contacted_at__isnull=False, resolution_due__isnull=False),
    ),
)


def running() -> QuerySet[Case]:
    """Open cases whose clocks run: not waiting on the customer, with an SLA policy."""
    return Case.objects.filter(
        state__in=[CaseState.NEW, CaseState.IN_PROGRESS],
        paused_at__isnull=True,
        sla_policy__isnull=False,
    )


def run_due(now: dt.datetime) -> None:
    """Every step whose time has come, then every e-mail of news due (instant and summaries)."""
    calendars = Calendars()
    warn(now, calendars)
    breach(now, calendars)
    escalate(now, calendars)
    mail.send_due(now, calendars)


def send_instant_news(now: dt.datetime) -> None:
    """Only the e-mails of instant news due (a case assigned, a customer's reply): what the
    worker does in its rounds between two of :func:`run_due`."""
    mail.send_instant(now)


def _groups(
    calendars: Calendars, cases: QuerySet[Case]
) -> Iterator[tuple[workhours.Calendar, SlaPolicy, Q]]:
    """(calendar, policy, the cases' filter) for each calendar × policy of ``cases``."""
    pairs = set(cases.values_list("team_id", "sla_policy_id").distinct())
    teams: dict[tuple[int | None, int], list[int | None]] = {}
    for team_id, policy_id in pairs:
        teams.setdefault((calendars.id_for_team(team_id), policy_id), []).append(team_id)
    policies = SlaPolicy.objects.in_bulk({policy_id for _team, policy_id in pairs})
    for (calendar_id, policy_id), team_ids in teams.items():
        of_teams = Q(team_id__in=[t for t in team_ids if t is not None])
        if None in team_ids:
            of_teams |= Q(team__isnull=True)
        yield calendars.by_id[calendar_id], policies[policy_id], of_teams & Q(sla_policy=policy_id)


def _move(case: Case, condition: Q, **changes) -> bool:
    """Apply ``changes`` to ``case`` if it still meets ``condition`` (True: this call did)."""
    return Case.objects.filter(condition, pk=case.pk).update(**changes) == 1


def warn(now: dt.datetime, calendars: Calendars) -> None:
    """Tell the owner once when the running deadline is within the policy's warning time."""
    for stage in STAGES:
        cases = running().filter(stage.current, stage.not_yet("warned_at"))
        for calendar, policy, group in _groups(calendars, cases):
            horizon = add_working_hours(calendar, now, policy.warn_before_hours)
            due = {f"{stage.due_field}__gt": now, f"{stage.due_field}__lte": horizon}
            for case in cases.filter(group, **due).select_related("owner"):
                condition = stage.current & stage.not_yet("warned_at")
                _mark(case, condition, "warned_at", stage, now, calendars)


def breach(now: dt.datetime, calendars: Calendars) -> None:
    """Record once that the running deadline passed and tell the owner."""
    for stage in STAGES:
        condition = (
            stage.current & stage.not_yet("breached_at") & Q(**{f"{stage.due_field}__lte": now})
        )
        for case in running().filter(condition).select_related("owner"):
            _mark(case, condition, "breached_at", stage, now, calendars)


# What each mark records and tells the owner.
MARKS = {
    "warned_at": (EventKind.WARNED, NotificationKind.DUE_SOON, "due_soon"),
    "breached_at": (EventKind.BREACHED, NotificationKind.BREACHED, "breached"),
}


def _mark(case, condition: Q, field: str, stage, now: dt.datetime, calendars) -> None:
    """Set the case's ``field`` (once: only while ``condition`` still holds), record it and
    tell the owner, in one transaction."""
    event, notification, key = MARKS[field]
    with transaction.atomic():
        if not _move(case, condition, **{field: now}):
            return
        deadline = getattr(case, stage.due_field)
        record(case, event, by=None, now=now, deadline=stage.name, due=deadline.isoformat())
        notify(
            case,
            notification,
            case.owner,
            now=now,
            key=f"{key}:{case.pk}:{stage.name}:{deadline:%Y%m%d%H%M}",
            calendars=calendars,
        )


def escalate(now: dt.datetime, calendars: Calendars) -> None:
    """A breached case goes to the owner's manager (level 1); if it still runs one more period
    of its deadline after that, to the manager above (level 2)."""
    breached = running().filter(breached_at__isnull=False, escalation_level=0)
    for case in breached.select_related("owner"):
        _escalate(case, 1, Q(escalation_level=0), now, calendars)
    for stage in STAGES:
        cases = running().filter(stage.current, escalation_level=1, escalated_at__isnull=False)
        for calendar, policy, group in _groups(calendars, cases):
            since = add_working_hours(calendar, now, -Decimal(getattr(policy, stage.period_field)))
            for case in cases.filter(group, escalated_at__lte=since).select_related("owner"):
                _escalate(case, 2, Q(escalation_level=1), now, calendars)


def _escalate(case: Case, level: int, condition: Q, now: dt.datetime, calendars: Calendars) -> None:
    with transaction.atomic():
        if not _move(case, condition, escalation_level=level, escalated_at=now):
            return
        recipient = escalation_recipient(case, level)
        to = {"id": recipient.pk, "name": str(recipient)} if recipient is not None else {}
        record(case, EventKind.ESCALATED, by=None, now=now, level=level, to=to)
        notify(
            case,
            NotificationKind.ESCALATED,
            recipient,
            now=now,
            key=f"escalated:{case.pk}:{level}:{now:%Y%m%d%H%M%S}",
            calendars=calendars,
        )


def escalation_recipient(case: Case, level: int):
    """The manager of the owner's team (or of the nearest team above with one) at level 1, the
    next manager above at level 2; None when the hierarchy has nobody there."""
    team_id = case.owner.team_id if case.owner is not None else case.team_id
    if team_id is None:
        return None
    skip = [case.owner_id] if case.owner_id is not None else []
    chain = manager_chain(team_id, skip=skip)
    return chain[level - 1] if len(chain) >= level else None
