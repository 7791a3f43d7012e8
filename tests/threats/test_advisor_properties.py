"""Properties of the advisor on random systems (issue 15): every step pays for itself, greedy
is never worse than doing nothing and is compared with the brute-force optimum, the weighted
cut (assets and flows) separates the attackers from the jewels, and a door on the only route is
worth the route.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.threats.cut_check import advised_cut, in_force
from tests.threats.test_risk_v2_properties import library, only_door, price, systems
from threats.engine.actions import apply_hardening
from threats.engine.advisor import Evaluator, advise, candidates, plan_for
from threats.engine.controls import ControlsInForce
from threats.engine.risk import current_paths_view
from threats.engine.snapshot import SystemSnapshot

ADVICE = hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BRUTE_FORCE_ACTIONS = 5


def _in_force(snapshot: SystemSnapshot) -> ControlsInForce:
    return in_force(snapshot, library())


@ADVICE
@given(systems())
def test_every_recommended_step_removes_at_least_its_cost(system) -> None:  # type: ignore[no-untyped-def]
    snapshot, attackers = system
    controls = _in_force(snapshot)
    advice = plan_for(snapshot, library(), attackers, controls, appetite=0.0).advice

    previous = advice.loss_before
    for step in advice.steps:
        assert step.loss_before == pytest.approx(previous, rel=1e-9, abs=1e-6)
        assert step.removed >= step.action.annual_cost
        previous = step.loss_after
    assert advice.loss_after == pytest.approx(previous, rel=1e-9, abs=1e-6)
    taken = Evaluator(snapshot, library(), attackers, controls).loss([s.action for s in advice.steps])
    assert taken == pytest.approx(advice.loss_after, rel=1e-9, abs=1e-6)
    for near in advice.not_worth_it:
        assert near.removed < near.action.annual_cost


def _best_actions(evaluator: Evaluator, count: int) -> list:  # type: ignore[type-arg]
    everything = {a.id for a in evaluator.snapshot.assets}
    actions = candidates(evaluator, everything, everything)
    base = evaluator.loss(())
    scored = sorted(actions, key=lambda a: -(base - evaluator.loss((a,))))
    return scored[:count]


@ADVICE
@given(systems())
def test_greedy_is_never_worse_than_nothing_nor_better_than_brute_force(system) -> None:  # type: ignore[no-untyped-def]
    snapshot, attackers = system
    evaluator = Evaluator(snapshot, library(), attackers, _in_force(snapshot))
    actions = _best_actions(evaluator, BRUTE_FORCE_ACTIONS)
    nothing = evaluator.loss(())

    best = min(
        evaluator.loss(subset) + sum(a.annual_cost for a in subset)
        for r in range(len(actions) + 1)
        for subset in itertools.combinations(actions, r)
    )
    advice = advise(evaluator, actions, appetite=0.0)
    greedy = advice.loss_after + advice.annual_cost

    assert greedy <= nothing + 1e-6  # every step paid for itself
    assert greedy >= best - max(1e-6, best * 1e-9)  # brute force is the optimum over these actions


@ADVICE
@given(systems())
def test_the_weighted_cut_separates_every_attacker_from_every_jewel(system) -> None:  # type: ignore[no-untyped-def]
    snapshot, attackers = system
    checked = advised_cut(snapshot, library(), attackers)
    if checked is None:
        return
    cut, gaps = checked
    graph, runs, _ = current_paths_view(snapshot, library(), attackers, _in_force(snapshot))
    cut_nodes = {graph.topo.index[asset_id] for asset_id, _ in cut.assets}
    starts = {s for run in runs for s in run.starts}
    assert not cut_nodes & starts, "an attacker's own starting point is never what the cut hardens"
    assert not gaps


@hsettings(max_examples=10, deadline=None)
@given(st.floats(1e6, 1e8), st.integers(1, 4))
def test_closing_the_only_door_is_worth_what_a_recompute_says_it_removes(value: float, attempts: int) -> None:
    snapshot, scanner = only_door(value, attempts=attempts)
    controls = _in_force(snapshot)
    assert any(
        s.action.change and s.action.asset_id == 1
        for s in plan_for(snapshot, library(), (scanner,), controls, appetite=0.0).advice.steps
    ), "hardening the open bucket must be recommended"

    evaluator = Evaluator(snapshot, library(), (scanner,), controls)
    before = price(snapshot, (scanner,)).system["current"].expected
    for door in [a for a in candidates(evaluator, {1, 2}, {1, 2}) if a.change and a.asset_id == 1]:
        advice = advise(evaluator, [door], appetite=0.0)
        after = price(apply_hardening(snapshot, [door]), (scanner,)).system["current"].expected
        assert advice.loss_before == pytest.approx(before, rel=1e-6)
        removed = advice.steps[0].removed if advice.steps else advice.loss_before - evaluator.loss((door,))
        assert removed == pytest.approx(before - after, rel=1e-6, abs=1e-3), door.key
