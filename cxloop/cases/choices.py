"""Enumerations of the closed loop, importable by pages and the API without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseState(models.TextChoices):
    NEW = "new", _("new")
    IN_PROGRESS = "in_progress", _("in progress")
    WAITING = "waiting", _("waiting on the customer")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")


# A case in one of these still needs someone: it counts as open, its clocks may run.
OPEN_STATES = (CaseState.NEW, CaseState.IN_PROGRESS, CaseState.WAITING)

# The moves a person may make; reopening is a move from resolved or closed back to in progress.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    CaseState.NEW: (CaseState.IN_PROGRESS, CaseState.WAITING, CaseState.RESOLVED),
    CaseState.IN_PROGRESS: (CaseState.WAITING, CaseState.RESOLVED),
    CaseState.WAITING: (CaseState.IN_PROGRESS, CaseState.RESOLVED),
    CaseState.RESOLVED: (CaseState.CLOSED, CaseState.IN_PROGRESS),
    CaseState.CLOSED: (CaseState.IN_PROGRESS,),
}


class Priority(models.TextChoices):
    URGENT = "urgent", _("urgent")
    HIGH = "high", _("high")
    NORMAL = "normal", _("normal")
    LOW = "low", _("low")


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class Origin(models.TextChoices):
    RULE = "rule", _("alert rule")
    MANUAL = "manual", _("opened by hand")
    INQUIRY = "inquiry", _("customer's inquiry")
    ROLLBACK = "rollback", _("roll-back alert")


class OwnerKind(models.TextChoices):
    CUSTOMER_OWNER = "customer_owner", _("the customer's relationship owner")
    TOUCHPOINT_TEAM = "touchpoint_team", _("the team of the touchpoint rated lowest")
    TEAM = "team", _("a named team, in turn")


class LoopChannel(models.TextChoices):
    """How the loop was closed with the customer."""

    CALL = "call", _("call")
    MEETING = "meeting", _("meeting")
    EMAIL = "email", _("e-mail")


class Reaction(models.TextChoices):
    """The customer's reaction when the loop was closed."""

    SATISFIED = "satisfied", _("satisfied")
    NEUTRAL = "neutral", _("neutral")
    DISSATISFIED = "dissatisfied", _("still dissatisfied")
    NO_ANSWER = "no_answer", _("could not be reached")


class EventKind(models.TextChoices):
    OPENED = "opened", _("opened")
    TRIGGER = "trigger", _("another trigger attached")
    ASSIGNED = "assigned", _("assigned")
    STATE = "state", _("state changed")
    PRIORITY = "priority", _("priority changed")
    NOTE = "note", _("note")
    CONTACTED = "contacted", _("customer contacted")
    ROOT_CAUSES = "root_causes", _("root causes set")
    TOUCHPOINTS = "touchpoints", _("touchpoints set")
    RESOLUTION = "resolution", _("resolution")
    LOOP_CLOSED = "loop_closed", _("loop closed with the customer")
    MESSAGE_OUT = "message_out", _("answer sent to the customer")
    MESSAGE_IN = "message_in", _("customer replied")
    WARNED = "warned", _("deadline near")
    BREACHED = "breached", _("deadline missed")
    ESCALATED = "escalated", _("escalated")


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("a case is assigned to me")
    DUE_SOON = "due_soon", _("a deadline of my case is near")
    BREACHED = "breached", _("a deadline of my case is missed")
    ESCALATED = "escalated", _("a case is escalated to me")
    CUSTOMER_REPLIED = "customer_replied", _("a customer replied on my case")


class Delivery(models.TextChoices):
    INSTANT = "instant", _("at once")
    DIGEST = "digest", _("in the daily summary")


class RoutingNote(models.TextChoices):
    """Why a rule's case did not go where the rule said: kept as a code on the opening event
    and shown in the reader's language."""

    NO_OWNER_TOUCHPOINT_TEAM = (
        "no_owner_touchpoint",
        _("The customer has no relationship owner: the case went to the touchpoint's team."),
    )
    NO_OWNER_RULE_TEAM = (
        "no_owner_rule",
        _("The customer has no relationship owner: the case went to the rule's team."),
    )
    NO_CUSTOMER_TOUCHPOINT_TEAM = (
        "no_customer_touchpoint",
        _("The answer has no customer: the case went to the touchpoint's team."),
    )
    NO_CUSTOMER_RULE_TEAM = (
        "no_customer_rule",
        _("The answer has no customer: the case went to the rule's team."),
    )
    NO_TOUCHPOINT_TEAM = (
        "no_touchpoint_team",
        _("No touchpoint team: the case went to the rule's team."),
    )
    NO_TEAM = "no_team", _("No team to route the case to: it waits for someone to take it.")
    NO_MEMBER = "no_member", _("The team has no active member: the case waits for someone.")
