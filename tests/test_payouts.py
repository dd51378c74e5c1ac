"""Reward plan arithmetic (cxloop.lib.payouts) against cases computed by hand in the comments."""

import pytest

from cxloop.lib.payouts import Figure, Line, Measured, Plan, achievement, payout, pooled

NPS = Line("own_nps", 50, threshold=20, target=40, maximum=60, survey=True)
SLA = Line("loop_in_sla", 30, threshold=0.70, target=0.85, maximum=0.95)
HOURS = Line("first_contact_hours", 20, threshold=48, target=24, maximum=8, higher_is_better=False)
PLAN = Plan(lines=(NPS, SLA, HOURS), threshold_payout=0.5, max_payout=1.5, min_n=10)


OWN_NPS, OWN_SLA, OWN_HOURS = Figure(30, 25), Figure(0.90, 40), Figure(36, 40)


def measured(nps=OWN_NPS, sla=OWN_SLA, hours=OWN_HOURS, team=None):
    return Measured(
        own={"own_nps": nps, "loop_in_sla": sla, "first_contact_hours": hours}, team=team or {}
    )


def line(result, key):
    return next(r for r in result.lines if r.key == key)


def test_it_interpolates_each_line_and_weighs_them():
    # NPS 30: halfway from threshold 20 to target 40 → 0.5 + 0.5 × 10/20 = 0.75
    # SLA 0.90: halfway from target 0.85 to maximum 0.95 → 1 + 0.5 × 0.05/0.10 = 1.25
    # hours 36 (lower is better): halfway from 48 down to 24 → 0.5 + 0.5 × 12/24 = 0.75
    # total = 0.75 × 0.5 + 1.25 × 0.3 + 0.75 × 0.2 = 0.375 + 0.375 + 0.15 = 0.90
    result = payout(PLAN, measured())
    assert line(result, "own_nps").achievement == pytest.approx(0.75)
    assert line(result, "loop_in_sla").achievement == pytest.approx(1.25)
    assert line(result, "first_contact_hours").achievement == pytest.approx(0.75)
    assert [r.share for r in result.lines] == pytest.approx([0.5, 0.3, 0.2])
    assert result.total == pytest.approx(0.90)
    assert not result.capped and not result.rescaled


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (19.99, 0.0),  # below the threshold: nothing
        (20, 0.5),  # at the threshold: the threshold payout
        (40, 1.0),  # at the target: 100 %
        (50, 1.25),  # 1 + 0.5 × 10/20
        (60, 1.5),  # at the maximum
        (95, 1.5),  # above it: flat
    ],
)
def test_it_pays_nothing_below_the_threshold_and_flat_above_the_maximum(value, expected):
    assert achievement(value, NPS, threshold_payout=0.5, max_payout=1.5) == pytest.approx(expected)


def test_it_mirrors_the_curve_where_lower_is_better():
    # 48 h is the threshold (0.5), 50 h pays nothing, 8 h and faster pay 1.5
    assert achievement(50, HOURS, threshold_payout=0.5, max_payout=1.5) == 0
    assert achievement(48, HOURS, threshold_payout=0.5, max_payout=1.5) == pytest.approx(0.5)
    assert achievement(16, HOURS, threshold_payout=0.5, max_payout=1.5) == pytest.approx(1.25)
    assert achievement(2, HOURS, threshold_payout=0.5, max_payout=1.5) == pytest.approx(1.5)


def test_it_caps_the_total():
    # every line at its maximum: 1.5 × (0.5 + 0.3 + 0.2) = 1.5, capped at 1.2
    best = measured(nps=Figure(80, 50), sla=Figure(1.0, 40), hours=Figure(4, 40))
    capped = Plan(lines=PLAN.lines, cap=1.2)
    result = payout(capped, best)
    assert result.uncapped == pytest.approx(1.5)
    assert result.total == pytest.approx(1.2)
    assert result.capped


def test_it_uses_the_team_figure_below_the_minimum_n():
    # own NPS from 5 answers (< 10): the team's 50 from 80 answers → 1 + 0.5 × 10/20 = 1.25
    # total = 1.25 × 0.5 + 1.25 × 0.3 + 0.75 × 0.2 = 0.625 + 0.375 + 0.15 = 1.15
    result = payout(PLAN, measured(nps=Figure(90, 5), team={"own_nps": Figure(50, 80)}))
    nps = line(result, "own_nps")
    assert (nps.source, nps.value, nps.n) == ("team", 50, 80)
    assert result.total == pytest.approx(1.15)


def test_it_drops_the_line_and_rescales_the_weights():
    # fallback "drop": NPS from 5 answers is dropped; SLA 30/50 = 0.6 and hours 20/50 = 0.4
    # total = 1.25 × 0.6 + 0.75 × 0.4 = 0.75 + 0.30 = 1.05
    plan = Plan(lines=PLAN.lines, fallback="drop")
    result = payout(plan, measured(nps=Figure(90, 5), team={"own_nps": Figure(50, 80)}))
    assert line(result, "own_nps").source == "dropped"
    assert [r.share for r in result.lines] == pytest.approx([0, 0.6, 0.4])
    assert result.total == pytest.approx(1.05)
    assert result.rescaled


def test_it_drops_a_line_the_team_cannot_fill_either():
    # team NPS from 8 answers is under min_n too: dropped, the same 1.05 as above
    result = payout(PLAN, measured(nps=Figure(None, 0), team={"own_nps": Figure(50, 8)}))
    assert line(result, "own_nps").source == "dropped"
    assert result.total == pytest.approx(1.05)


def test_it_pays_on_the_basis_the_plan_names():
    # lower bound 22 → 0.5 + 0.5 × 2/20 = 0.55; shrunk 36 → 0.5 + 0.5 × 16/20 = 0.9
    figure = Figure(30, 25, shrunk=36, low=22, high=38)
    for basis, expected in (("raw", 0.75), ("shrunk", 0.9), ("lower_bound", 0.55)):
        plan = Plan(lines=PLAN.lines, basis=basis)
        assert line(payout(plan, measured(nps=figure)), "own_nps").achievement == pytest.approx(
            expected
        )


def test_it_pays_nothing_when_nothing_was_measured():
    nothing = Measured(own={}, team={})
    result = payout(PLAN, nothing)
    assert result.total == 0 and all(r.source == "dropped" for r in result.lines)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Line("x", 0, 1, 2, 3), "weight must be above 0"),
        (lambda: Line("x", 1, 3, 2, 4), "threshold ≤ target ≤ maximum"),
        (lambda: Line("x", 1, 1, 2, 3, higher_is_better=False), "threshold ≥ target ≥ maximum"),
        (lambda: Plan(lines=(NPS, NPS)), "appears twice"),
        (lambda: Plan(lines=(NPS,), fallback="guess"), "fallback must be one of"),
        (lambda: Plan(lines=(NPS,), max_payout=0.9), "max_payout must be at least 1"),
    ],
)
def test_it_refuses_a_plan_that_does_not_add_up(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_it_round_trips_a_line_through_a_dict():
    result = payout(PLAN, measured()).lines[0]
    assert type(result).from_dict(result.to_dict()) == result


def test_it_pools_the_teams_figures_for_the_organisation():
    # NPS 20 from 30 answers and 50 from 10: (20 × 30 + 50 × 10) / 40 = 27.5; a team without
    # a value is left out; counts add up: 2 + 3 = 5
    teams = [Figure(20, 30, shrunk=22), Figure(50, 10), Figure(None, 0)]
    nps = pooled(teams, additive=False)
    assert (nps.value, nps.n, nps.shrunk, nps.low) == (pytest.approx(27.5), 40, nps.value, None)
    assert pooled([Figure(2, 2), Figure(3, 3)], additive=True).value == 5
    assert pooled([Figure(None, 0)], additive=False).value is None
