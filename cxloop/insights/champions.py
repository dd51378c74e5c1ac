"""CX champions (issue #13, point 5): who carries the culture in each team, what each did in a
period — meetings with customers led, ideas sent under their name, initiatives led, cases
resolved — and which teams have no champion."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cxloop.cases.queries import cases_resolved
from cxloop.feedback.queries import meetings_led
from cxloop.improvements.queries import initiatives_led
from cxloop.people.queries import champions, ideas_signed, team_paths, teams_with_people


@dataclass(frozen=True)
class ChampionRow:
    """One champion and what they did in the period."""

    employee: object
    meetings: int
    ideas: int
    initiatives: int
    cases: int

    @property
    def total(self) -> int:
        return self.meetings + self.ideas + self.initiatives + self.cases


@dataclass(frozen=True)
class ChampionsReport:
    """``teams``: (team's path, its champions) for each team with a champion, by path;
    ``without``: the paths of the teams with people but no champion."""

    since: dt.date
    until: dt.date
    teams: tuple[tuple[str, tuple[ChampionRow, ...]], ...]
    without: tuple[str, ...]


def champions_report(since: dt.date, until: dt.date) -> ChampionsReport:
    people = list(champions())
    ids = [p.pk for p in people]
    counts = [
        finder(ids, since, until)
        for finder in (meetings_led, ideas_signed, initiatives_led, cases_resolved)
    ]
    staffed = {team.pk for team in teams_with_people()}
    paths = team_paths(sorted(staffed | {p.team_id for p in people}))
    by_team: dict[int, list[ChampionRow]] = {}
    for person in people:
        row = ChampionRow(person, *(found.get(person.pk, 0) for found in counts))
        by_team.setdefault(person.team_id, []).append(row)
    return ChampionsReport(
        since=since,
        until=until,
        teams=tuple(
            sorted(
                (
                    (paths[team_id], tuple(sorted(rows, key=lambda r: (-r.total, str(r.employee)))))
                    for team_id, rows in by_team.items()
                ),
                key=lambda pair: pair[0],
            )
        ),
        without=tuple(sorted(paths[t] for t in staffed - set(by_team))),
    )
