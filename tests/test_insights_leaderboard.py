"""The weekly weigh-in's ranking (cxloop.insights.dashboards.leaderboard) on a store written
here with exact counts: its figures are cxloop.analytics' shrinkage, rank intervals and funnel
applied to the counts a hand tally gives, a lucky two-answer team is not ranked first, and a
person's answers are those of the customers they own."""

import datetime as dt

import pandas as pd
import pytest

from cxloop.analytics import nps_from_counts, nps_funnel, shrink_nps, shrink_nps_in_teams
from cxloop.facts.schema import ANSWERS, RESPONSES
from cxloop.insights.dashboards import LeaderboardQuery
from cxloop.insights.store import FactStore, Scope
from tests.test_insights_dashboards import write_store

UTC = dt.UTC
# team → (promoters, passives, detractors): a lucky pair, a large good team, a large weak one,
# a middling one, and one of four answers (under the minimum of ten).
TEAMS = {1: (2, 0, 0), 2: (120, 50, 30), 3: (60, 40, 50), 4: (30, 20, 10), 5: (3, 0, 1)}
# customer → (team, owner): team 2's customers are owned by employees 21 and 22.
OWNERS = {1: (1, 11), 2: (2, 21), 3: (2, 22), 4: (3, 31), 5: (4, 41), 6: (5, 51)}
CUSTOMER_OF = {1: [1], 2: [2, 3], 3: [4], 4: [5], 5: [6]}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    directory = tmp_path_factory.mktemp("weigh-in")
    rows = []
    for team, (promoters, passives, detractors) in TEAMS.items():
        scores = [10] * promoters + [8] * passives + [3] * detractors
        customers = CUSTOMER_OF[team]
        for i, score in enumerate(scores):
            rows.append(
                {
                    "team_id": team,
                    # Team 2: the first 100 answers from customer 2 (owner 21), the rest from 3.
                    "customer_id": customers[0] if len(customers) == 1 or i < 100 else 3,
                    "nps": score,
                }
            )
    frame = pd.DataFrame(rows)
    frame["response_id"] = range(1, len(frame) + 1)
    frame["submitted_at"] = dt.datetime(2026, 10, 5, 12, tzinfo=UTC)
    frame["month"] = "2026-10"
    common = {"survey_id": 1, "channel": "email", "touchpoint_id": None}
    responses = frame.assign(**common, survey_kind="relationship", language="ru")
    answers = frame.assign(**common, kind="nps", score=frame.nps)
    customers = pd.DataFrame(
        {
            "customer_id": list(OWNERS),
            "team_id": [team for team, _ in OWNERS.values()],
            "owner_id": [owner for _, owner in OWNERS.values()],
            "annual_value": 1000.0,
            "currency": "RUB",
            "tier": "key",
            "lifecycle_stage": "active",
        }
    )
    write_store(
        directory,
        responses[[*RESPONSES.names, "month"]],
        answers[[*ANSWERS.names, "month"]],
        customers,
    )
    return FactStore(directory, threads=1)


def test_teams_are_ranked_by_their_shrunk_score_not_by_luck(store):
    result = LeaderboardQuery(Scope(), "team").run(store=store)
    counts = [(p, d, p + s + d) for p, s, d in TEAMS.values()]
    shrunk = shrink_nps(*zip(*counts, strict=True))
    by_key = {s.key: s for s in result.standings}
    for (team, _), expected, (p, d, n) in zip(TEAMS.items(), shrunk, counts, strict=True):
        standing = by_key[team]
        assert (standing.promoters, standing.detractors, standing.n) == (p, d, n)
        assert standing.score.value == pytest.approx(expected.value)
        assert standing.raw.value == pytest.approx(nps_from_counts(p, d, n).value)
    # The pair's raw NPS is 100, the best; shrunk, it is not first, and its rank could be any.
    lucky = by_key[1]
    assert lucky.raw.value == 100 and lucky.low_n and lucky.rank is None
    first = result.ranked[0]
    assert first.key == 2 and first.rank.rank == 1
    assert [s.key for s in result.ranked] == [2, 4, 3]
    # Team 5 (four answers) is listed after the ranked ones, not ranked either.
    assert {s.key for s in result.standings[3:]} == {1, 5}
    assert result.overall.n == sum(n for _, _, n in counts)


def test_the_funnel_flags_the_groups_beyond_chance(store):
    result = LeaderboardQuery(Scope(), "team").run(store=store)
    counts = [(p, d, p + s + d) for p, s, d in TEAMS.values()]
    funnel = nps_funnel(*zip(*counts, strict=True))
    assert result.funnel.center == pytest.approx(funnel.center)
    positions = {s.key: s.funnel for s in result.standings}
    assert [positions[t] for t in TEAMS] == funnel.position.tolist()
    # Around 29.8 with one answer's sd of 80: team 2 (NPS 45 on 200, z = 2.7) above the inner
    # limit, team 3 (NPS 6.7 on 150, z = −3.5) below the outer one, the lucky pair within.
    assert positions[2] == 1 and positions[3] == -2 and positions[1] == 0


@pytest.mark.django_db
def test_a_person_s_answers_are_those_of_the_customers_they_own(store):
    result = LeaderboardQuery(Scope(), "person").run(store=store)
    by_key = {s.key: s for s in result.standings}
    assert set(by_key) == {11, 21, 22, 31, 41, 51}
    # Team 2's 200 answers: the first 100 (all promoters) from customer 2, the rest from 3.
    assert (by_key[21].n, by_key[21].promoters, by_key[21].detractors) == (100, 100, 0)
    assert (by_key[22].n, by_key[22].promoters, by_key[22].detractors) == (100, 20, 30)
    # Scoped to team 2, only its two people are ranked.
    team_two = LeaderboardQuery(Scope(team_ids=(2,)), "person").run(store=store)
    assert [s.key for s in team_two.ranked] == [21, 22]


def test_it_names_a_wrong_parameter():
    with pytest.raises(ValueError, match="by must be one of team, person"):
        LeaderboardQuery(Scope(), "segment")
    with pytest.raises(ValueError, match="min_n"):
        LeaderboardQuery(Scope(), "team", min_n=0)


@pytest.mark.django_db
def test_people_are_shrunk_toward_their_own_team_s_level(store):
    """Employees 21 and 22 work in one team, the other owners each in a team of their own: the
    people's scores are cxloop.analytics' two-level shrinkage of the hand tally with those
    teams."""
    from django.contrib.auth.models import User

    from cxloop.people.models import Employee, Team

    for key, team_name in {11: "t1", 21: "t2", 22: "t2", 31: "t3", 41: "t4", 51: "t5"}.items():
        team, _ = Team.objects.get_or_create(name=team_name)
        Employee.objects.create(pk=key, user=User.objects.create(username=f"u{key}"), team=team)
    result = LeaderboardQuery(Scope(), "person").run(store=store)
    keys = sorted(s.key for s in result.standings)
    # Hand tally (TEAMS, OWNERS above): 21 has 100 promoters of 100, 22 has 20 and 30 of 100.
    tally = {11: (2, 0, 2), 21: (100, 0, 100), 22: (20, 30, 100), 31: (60, 50, 150)}
    tally |= {41: (30, 10, 60), 51: (3, 1, 4)}
    promoters, detractors, n = (list(c) for c in zip(*(tally[k] for k in keys), strict=True))
    teams = ["t1", "t2", "t2", "t3", "t4", "t5"]
    expected = shrink_nps_in_teams(promoters, detractors, n, teams)
    found = {s.key: s.score.value for s in result.standings}
    assert [found[k] for k in keys] == pytest.approx([e.value for e in expected], abs=1e-9)
    # Moving 22 to a team of their own is a new result, not a stale cached one.
    Employee.objects.filter(pk=22).update(team=Team.objects.get(name="t4"))
    moved = LeaderboardQuery(Scope(), "person").run(store=store).standing(22).score.value
    teams[2] = "t4"
    assert moved == pytest.approx(shrink_nps_in_teams(promoters, detractors, n, teams)[2].value)
    assert moved != pytest.approx(found[22])
