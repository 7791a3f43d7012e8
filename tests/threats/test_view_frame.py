"""One view frame priced for many control sets gives the graphs a fresh build gives.

The frame (positions, moves, theft places) is built once per system and findings and priced for
each set of controls, with a success memo shared across pricings (current and projected, plan
effects, the advisor's what-ifs). Reuse must not leak one pricing into the next: on random
systems, every graph priced from a shared frame, in any order, equals a graph built from
scratch, and the advisor's loss (kept frames, rematched findings and reused moves) equals the
loss computed from scratch on the hardened system.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.threats.loss_check import loss_from_scratch
from tests.threats.test_chokepoint_flows import carrying
from tests.threats.test_risk_v2_properties import library, systems
from threats.engine.actions import control_actions, hardening_actions
from threats.engine.advisor import Evaluator
from threats.engine.attack_graph import ViewGraph, view_frame
from threats.engine.controls import Coverage, coverage, implied_controls, merge
from threats.engine.facts import derive_facts
from threats.engine.jewels import placement
from threats.engine.library import find_threats
from threats.engine.pricing import SuccessMemo, price_view

EXAMPLES = hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(a: ViewGraph, b: ViewGraph) -> None:
    assert np.array_equal(a.success, b.success)
    assert [s.reductions for s in a.findings] == [s.reductions for s in b.findings]
    assert [s.boost.tolist() for s in a.findings] == [s.boost.tolist() for s in b.findings]
    for name in ("success", "c_success", "endpoint_days"):
        assert np.array_equal(getattr(a.thefts, name), getattr(b.thefts, name)), name
    assert a.thefts.jewel_reductions == b.thefts.jewel_reductions
    assert a.thefts.budgets == b.thefts.budgets
    assert np.array_equal(a.pair_src, b.pair_src) and np.array_equal(a.move_finding, b.move_finding)


@EXAMPLES
@given(systems(), st.data())
def test_a_shared_frame_prices_like_a_fresh_build(system, data) -> None:  # type: ignore[no-untyped-def]
    snapshot, _ = system
    lib = library()
    facts = derive_facts(snapshot)
    matches = find_threats(lib, snapshot, facts)
    where = placement(snapshot)
    codes = sorted(c.code for c in lib.controls)
    asset_ids = [a.id for a in snapshot.assets]
    implied = {code: v for code, v in implied_controls(snapshot, set(codes)).items()}
    control_sets = []
    for _ in range(data.draw(st.integers(2, 4))):
        extra: dict[str, Coverage | None] = {}
        for code in data.draw(st.lists(st.sampled_from(codes), max_size=6, unique=True)):
            scoped = data.draw(st.booleans())
            on = frozenset(data.draw(st.sets(st.sampled_from(asset_ids))))
            extra[code] = Coverage(on, frozenset()) if scoped else None
        control_sets.append({**implied, **extra})
    frame = view_frame(snapshot=snapshot, facts=facts, where=where, library=lib, active=matches)
    memo: SuccessMemo = {}
    for controls in control_sets:
        shared = price_view(frame, controls, memo)
        fresh = price_view(
            view_frame(snapshot=snapshot, facts=facts, where=where, library=lib, active=matches), controls
        )
        _same(shared, fresh)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(systems(), carrying()), st.data())
def test_pricing_from_a_base_graph_equals_pricing_anew(system, data) -> None:  # type: ignore[no-untyped-def]
    """Scoped placements added to a priced graph re-price only their targets' findings (see
    ``pricing``); the result must be the fresh graph. Other changes fall back to a full pricing."""
    snapshot, _ = system
    lib = library()
    facts = derive_facts(snapshot)
    matches = find_threats(lib, snapshot, facts)
    where = placement(snapshot)
    threats = {t.code: t for t in lib.threats}
    # The controls of the matched techniques: placements that change some finding's odds.
    codes = sorted({tc.control for m in matches for tc in threats[m.threat_code].controls}) or ["M-EGRESS-DLP"]
    on_flows = sorted(
        {tc.control for m in matches if m.target_type == "flow" for tc in threats[m.threat_code].controls}
    )
    if on_flows and data.draw(st.booleans()):  # a control on a flow's end acts on the flow's findings too
        codes = on_flows
    asset_ids = [a.id for a in snapshot.assets]
    flow_ids = [f.id for f in snapshot.flows] or [0]
    implied = dict(implied_controls(snapshot, set(codes)))

    def scoped(code_list: list[str]) -> dict[str, Coverage | None]:
        result: dict[str, Coverage | None] = {}
        for code in code_list:
            on = frozenset(data.draw(st.sets(st.sampled_from(asset_ids), max_size=3)))
            along = frozenset(data.draw(st.sets(st.sampled_from(flow_ids), max_size=2)))
            result[code] = Coverage(on, along) if data.draw(st.integers(0, 4)) else None
        return result

    first = merge(implied, scoped(data.draw(st.lists(st.sampled_from(codes), max_size=4, unique=True))))
    first = {code: coverage(v) for code, v in first.items()}
    frame = view_frame(snapshot=snapshot, facts=facts, where=where, library=lib, active=matches)
    memo: SuccessMemo = {}
    base = (first, price_view(frame, first, memo))
    for _ in range(3):
        more = merge(first, scoped(data.draw(st.lists(st.sampled_from(codes), min_size=1, max_size=3, unique=True))))
        more = {code: coverage(v) for code, v in more.items()}
        if data.draw(st.booleans()) and more:  # sometimes not a growth: a code taken away
            more.pop(data.draw(st.sampled_from(sorted(more))))
        fresh = price_view(view_frame(snapshot=snapshot, facts=facts, where=where, library=lib, active=matches), more)
        _same(price_view(frame, more, memo, base), fresh)


@EXAMPLES
@given(systems(), st.data())
def test_the_advisors_loss_equals_a_loss_computed_from_scratch(system, data) -> None:  # type: ignore[no-untyped-def]
    snapshot, attackers = system
    lib = library()
    controls = implied_controls(snapshot, {c.code for c in lib.controls})
    kept = Evaluator(snapshot, lib, attackers, controls)
    placements = control_actions(lib, snapshot, kept.matches, kept.controls)
    changes = hardening_actions(lib, snapshot)
    if not changes:
        return
    for _ in range(data.draw(st.integers(2, 6))):  # states alternate, so kept frames are hit and evicted
        chosen = data.draw(st.lists(st.sampled_from(changes), min_size=1, max_size=3, unique_by=lambda a: a.key))
        if placements:
            chosen += data.draw(st.lists(st.sampled_from(placements), max_size=2))
        in_force = merge(controls, *({a.control: a.coverage} for a in chosen if a.control))
        assert kept.loss(chosen) == loss_from_scratch(
            snapshot, lib, attackers, in_force, [a for a in chosen if a.change]
        )
