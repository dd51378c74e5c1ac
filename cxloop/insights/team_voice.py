"""A leader's teams heard from both sides (issue #13, point 6): each team's customers' NPS next
to its eNPS over the weigh-in's window, as :mod:`cxloop.insights.accountability` defines both
("own_nps": the answers of the customers the team's people owned, as the weigh-in counts them;
"team_enps": the pulse surveys, withheld under five answers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from cxloop.insights.accountability import WINDOW_DAYS, Figure, team_figures
from cxloop.people.queries import team_paths

__all__ = ["TeamVoice", "team_voices"]


@dataclass(frozen=True)
class TeamVoice:
    team_id: int
    name: str  # the team's path from the top
    nps: Figure  # customers' NPS ("own_nps")
    enps: Figure  # employees' eNPS ("team_enps"); value None under five answers


def team_voices(team_ids: Collection[int], *, until: dt.date) -> list[TeamVoice]:
    """Each team of ``team_ids`` over the WINDOW_DAYS ending on ``until``, by name."""
    ids = sorted(set(team_ids))
    since = until - dt.timedelta(days=WINDOW_DAYS - 1)
    figures = team_figures(ids, since=since, until=until)
    names = team_paths(ids)
    voices = [
        TeamVoice(pk, names.get(pk, "—"), figures[pk]["own_nps"], figures[pk]["team_enps"])
        for pk in ids
        if pk in figures
    ]
    return sorted(voices, key=lambda voice: voice.name)
