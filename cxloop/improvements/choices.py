"""Enumerations of the improvement cycle, importable by pages and the API without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from cxloop.lib.scales import SCORE_RANGES


class InitiativeState(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    APPROVED = "approved", _("approved")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")
    ABANDONED = "abandoned", _("abandoned")


# Days from a training assignment to its due date when the course says nothing else.
DEFAULT_DUE_DAYS = 30

# An initiative in one of these is still being worked on.
ACTIVE_STATES = (InitiativeState.PROPOSED, InitiativeState.APPROVED, InitiativeState.IN_PROGRESS)

# The moves a person may make. Done and abandoned are final: a new attempt is a new initiative,
# so that each one's measured effect belongs to one change.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    InitiativeState.PROPOSED: (InitiativeState.APPROVED, InitiativeState.ABANDONED),
    InitiativeState.APPROVED: (InitiativeState.IN_PROGRESS, InitiativeState.ABANDONED),
    InitiativeState.IN_PROGRESS: (InitiativeState.DONE, InitiativeState.ABANDONED),
    InitiativeState.DONE: (),
    InitiativeState.ABANDONED: (),
}


class TargetMetric(models.TextChoices):
    """What an initiative means to move: the scored kinds the fact store keeps
    (:data:`cxloop.facts.schema.SCORED_KINDS`)."""

    NPS = "nps", _("NPS")
    RATING = "rating", _("mean rating of the touchpoint")
    CSAT = "csat", _("CSAT")
    CES = "ces", _("CES")


# The scale each target metric is measured on, as its baseline and effect read the answers
# (cxloop.insights.initiatives.code_scores): the mean of the rating and effort scores, the per
# cent of satisfied answers, and the NPS. A target off it is a typo (37 typed for 3,7).
TARGET_SCALES: dict[str, tuple[int, int]] = {
    TargetMetric.NPS: (-100, 100),
    TargetMetric.RATING: SCORE_RANGES["rating"],
    TargetMetric.CSAT: (0, 100),
    TargetMetric.CES: SCORE_RANGES["ces"],
}


class Scope(models.TextChoices):
    """Whom the change reaches; everyone else is the comparison group."""

    ALL = "all", _("all customers")
    SEGMENT = "segment", _("a customer segment")
    TEAMS = "teams", _("some teams")


class StartedFrom(models.TextChoices):
    """Where the initiative was started: the page whose button proposed it."""

    JOURNEY_MAP = "journey_map", _("journey map")
    OPPORTUNITIES = "opportunities", _("opportunity list")
    TOUCHPOINT = "touchpoint", _("touchpoint page")
    ROOT_CAUSE = "root_cause", _("root cause of the closed loop")
    CYCLE_REVIEW = "cycle_review", _("cycle review")
    MANUAL = "manual", _("started by hand")


class EventKind(models.TextChoices):
    CREATED = "created", _("proposed")
    EDITED = "edited", _("changed")
    STATE = "state", _("state changed")
    ACTION_ADDED = "action_added", _("action item added")
    ACTION_DONE = "action_done", _("action item done")
    ACTION_REOPENED = "action_reopened", _("action item reopened")
    ACTION_OVERDUE = "action_overdue", _("action item overdue: owner told")
    STANDARD = "standard", _("standard updated")
