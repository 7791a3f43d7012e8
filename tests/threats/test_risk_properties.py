"""Property tests of the risk engine over random systems, attackers and controls.

The unit tests pin values on one hand-made system; these check what must hold on any system:
reach agrees with a networkx reference and never rises when an access control is strengthened,
every explanation adds up exactly, and no control put in force ever raises a finding's
frequency, expected loss, simulated mean or 90th percentile (the views share random numbers,
so the simulated figures are compared year by year, not only on average).
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threats.engine.attackers import AttackerData
from threats.engine.controls import ControlsInForce, merge
from threats.engine.facts import derive_facts
from threats.engine.library import Library, find_threats, load_library
from threats.engine.reach import INTERNET, OC_STEP, build_graph, compute_reach
from threats.engine.risk import RiskResult, compute_risk
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData

PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = ["inference_endpoint", "api_gateway", "gpu_host", "object_store", "model_weights", "workstation"]
AUTHS = ["none", "password", "api_key", "sso", "mtls"]
CODES = ["M-A", "M-B", "M-C", "M-D"]
OCS = ["OC1", "OC2", "OC3", "OC4", "OC5"]

CONTROLS = "version: p\ncontrols:\n" + "".join(
    f"  - {{code: {c}, name: {c}, type: preventive, cost: {{one_off: [0, 1], yearly: [0, 1]}}, rand_sl: 1}}\n"
    for c in CODES
)
THREATS = """
version: p
threats:
  - code: T-ASSET
    name: Any asset
    stride: [I]
    rand: {category: ai_specific, vector: model_extraction}
    target: asset
    asset_kinds: [inference_endpoint, api_gateway, gpu_host, object_store, model_weights, workstation]
    rule: {attr: criticality, gte: 1}
    base_probability: {OC1: 0.2, OC2: 0.3, OC3: 0.5, OC4: 0.7, OC5: 0.9}
    controls:
      - {control: M-A, effectiveness: 0.4}
      - {control: M-B, effectiveness: 0.9}
      - {control: M-C, effectiveness: 0.0}
  - code: T-WEIGHTS
    name: Weights
    stride: [I]
    rand: {category: bypassing_primary_security, vector: less_secure_copies}
    target: asset
    asset_kinds: [model_weights]
    rule: {attr: is_crown_jewel, eq: true}
    base_probability: {OC1: 0.1, OC2: 0.1, OC3: 0.4, OC4: 0.4, OC5: 1.0}
    controls: [{control: M-B, effectiveness: 0.5}, {control: M-D, effectiveness: 1.0}]
  - code: T-FLOW
    name: Any flow
    stride: [T]
    rand: {category: nontrivial_access, vector: eavesdropping}
    target: flow
    rule: {attr: encrypted, in: [true, false]}
    base_probability: {OC1: 0.05, OC2: 0.1, OC3: 0.2, OC4: 0.3, OC5: 0.5}
    controls: [{control: M-C, effectiveness: 0.7}, {control: M-A, effectiveness: 0.2}]
"""
LIBRARY: Library = load_library(THREATS, CONTROLS)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[SystemSnapshot, tuple[AttackerData, ...], dict[str, frozenset[int] | None]]:
    """A random system, 1-3 attackers and a random set of controls in force.

    Sizes and a seed come from hypothesis (so failures shrink), the rows from a seeded Random.
    """
    n, n_zones = draw(st.integers(1, 12)), draw(st.integers(1, 4))
    rng = random.Random(draw(st.integers(0, 2**32)))
    zones = tuple(ZoneData(id=z, trust_level=0 if z == 1 else rng.randint(0, 4)) for z in range(1, n_zones + 1))
    ids = list(range(1, n + 1))
    assets = tuple(
        AssetData(
            id=i,
            kind=rng.choice(KINDS),
            zone_id=rng.choice([None, *range(1, n_zones + 1)]),
            hosted_on_id=rng.choice([None, None, *ids]) if i > 1 else None,
            internet_facing=rng.random() < 0.3,
            authentication=rng.choice(AUTHS),
            mfa=rng.random() < 0.3,
            encrypted_at_rest=rng.random() < 0.5,
            value_min=(low := rng.choice([0.0, 1e3, 5e4])),
            value_likely=(likely := low + rng.choice([0.0, 1e4, 1e6])),
            value_max=likely + rng.choice([0.0, 1e5, 1e7]),
        )
        for i in ids
    )
    flows = tuple(
        FlowData(
            id=f,
            source_id=rng.choice(ids),
            target_id=rng.choice(ids),
            authenticated=rng.random() < 0.5,
            encrypted=rng.random() < 0.5,
            bidirectional=rng.random() < 0.3,
            carries=tuple(rng.sample(ids, rng.randint(0, min(2, n)))),
        )
        for f in range(1, draw(st.integers(0, 2 * n)) + 1)
    )
    attackers = tuple(
        AttackerData(
            id=k,
            capability=rng.choice(OCS),
            entry_zone_ids=tuple(rng.sample(range(1, n_zones + 1), rng.randint(0, 1))),
            entry_asset_ids=tuple(rng.sample(ids, rng.randint(0, 1))),
            attempts_per_year=rng.choice([0.1, 1.0, 4.0, 50.0]),
        )
        for k in range(1, draw(st.integers(1, 3)) + 1)
    )
    controls = {
        code: None if rng.random() < 0.3 else frozenset(rng.sample(ids, rng.randint(0, n)))
        for code in rng.sample(CODES, rng.randint(0, len(CODES)))
    }
    return SystemSnapshot(zones=zones, assets=assets, flows=flows), attackers, controls


def risk(
    snapshot: SystemSnapshot, attackers: tuple[AttackerData, ...], views: dict[str, ControlsInForce]
) -> RiskResult:
    facts = derive_facts(snapshot)
    matches = find_threats(LIBRARY, snapshot, facts)
    return compute_risk(snapshot, facts, LIBRARY, matches, attackers, views, seed=11, draws=2_000)


@PROFILE
@given(scenarios())
def test_reach_agrees_with_networkx_dijkstra(scenario: tuple) -> None:  # type: ignore[type-arg]
    snapshot, attackers, _ = scenario
    graph = build_graph(snapshot)
    reference = nx.MultiDiGraph()
    reference.add_nodes_from([*graph.asset_ids, INTERNET])
    for result in (compute_reach(graph, a) for a in attackers):
        reference.clear_edges()
        for e, (src, dst) in enumerate(zip(graph.edge_src, graph.edge_dst, strict=True)):
            p = math.prod(v for _, v in graph.edge_factors[e])
            if graph.edge_uses_capability[e]:
                p *= OC_STEP[result.capability]
            reference.add_edge(graph.node(src), graph.node(dst), weight=-math.log(p))
        attacker = next(a for a in attackers if a.id == result.attacker_id)
        sources = {graph.node(s) for s in _starts(snapshot, attacker)}
        lengths = nx.multi_source_dijkstra_path_length(reference, sources) if sources else {}
        for asset_id, p in result.probability.items():
            expected = math.exp(-lengths[asset_id]) if asset_id in lengths else 0.0
            assert math.isclose(p, expected, rel_tol=1e-9, abs_tol=1e-12)
            assert 0.0 <= p <= 1.0


def _starts(snapshot: SystemSnapshot, attacker: AttackerData) -> set[int]:
    """The documented entry rule, written independently of ``reach.entry_sources``."""
    graph = build_graph(snapshot)
    trust = {z.id: z.trust_level for z in snapshot.zones}
    starts = {graph.index[a] for a in attacker.entry_asset_ids}
    for zone in attacker.entry_zone_ids:
        if trust[zone] == 0:
            starts.add(graph.internet)
        else:
            starts |= {graph.index[a.id] for a in snapshot.assets if a.zone_id == zone}
    return starts


@PROFILE
@given(scenarios(), st.data())
def test_strengthening_an_access_control_never_raises_any_reach(scenario: tuple, data: st.DataObject) -> None:  # type: ignore[type-arg]
    snapshot, attackers, _ = scenario
    target = data.draw(st.sampled_from(snapshot.assets))
    stronger = AUTHS[data.draw(st.integers(AUTHS.index(target.authentication), len(AUTHS) - 1))]
    changed = replace(target, authentication=stronger, mfa=target.mfa or data.draw(st.booleans()))
    harder = replace(snapshot, assets=tuple(changed if a.id == target.id else a for a in snapshot.assets))
    for attacker in attackers:
        before = compute_reach(build_graph(snapshot), attacker).probability
        after = compute_reach(build_graph(harder), attacker).probability
        assert all(after[a] <= before[a] * (1 + 1e-12) for a in before)


@PROFILE
@given(scenarios())
def test_every_explanation_adds_up_exactly(scenario: tuple) -> None:  # type: ignore[type-arg]
    snapshot, attackers, controls = scenario
    result = risk(snapshot, attackers, {"inherent": {}, "current": controls})
    for finding in result.findings.values():
        for view in result.views:
            shown = finding.views[view]
            profiles = shown.explanation.profiles
            assert shown.frequency == sum(p.frequency for p in profiles)
            for p in profiles:
                assert p.success == math.prod((p.base_probability, *(1 - e for _, e in p.control_reductions)))
                assert p.frequency == p.attempts_per_year * p.reach * p.success


@PROFILE
@given(scenarios(), st.data())
def test_adding_a_control_never_raises_any_risk(scenario: tuple, data: st.DataObject) -> None:  # type: ignore[type-arg]
    snapshot, attackers, controls = scenario
    baseline = risk(snapshot, attackers, {"before": controls})
    if not baseline.findings:
        return
    key = data.draw(st.sampled_from(sorted(baseline.findings)))
    threat = next(t for t in LIBRARY.threats if t.code == key[0])
    code = data.draw(st.sampled_from([c.control for c in threat.controls]))
    if key[1] == "asset":
        on: frozenset[int] = frozenset({key[2]})
    else:
        flow = next(f for f in snapshot.flows if f.id == key[2])
        on = frozenset({data.draw(st.sampled_from([flow.source_id, flow.target_id]))})
    added = {code: None if data.draw(st.booleans()) else on}
    result = risk(snapshot, attackers, {"before": controls, "after": merge(controls, added)})
    for finding in result.findings.values():
        before, after = finding.views["before"], finding.views["after"]
        assert after.frequency <= before.frequency
        assert after.expected_loss <= before.expected_loss
        assert after.mean_loss <= before.mean_loss
        assert after.p90_loss <= before.p90_loss
    assert result.system["after"].mean_loss <= result.system["before"].mean_loss
    assert result.system["after"].p90_loss <= result.system["before"].p90_loss
    # the view simulated beside another equals the view simulated alone (same seed, same draws)
    alone = baseline.findings[key].views["before"]
    assert result.findings[key].views["before"].frequency == alone.frequency


@PROFILE
@given(scenarios())
def test_nested_views_are_ordered(scenario: tuple) -> None:  # type: ignore[type-arg]
    snapshot, attackers, controls = scenario
    current = {code: covered for i, (code, covered) in enumerate(sorted(controls.items())) if i % 2 == 0}
    views = {"inherent": {}, "current": current, "projected": merge(current, controls)}
    result = risk(snapshot, attackers, views)
    for finding in result.findings.values():
        inherent, now, projected = (finding.views[v] for v in ("inherent", "current", "projected"))
        assert projected.frequency <= now.frequency <= inherent.frequency
        assert projected.mean_loss <= now.mean_loss <= inherent.mean_loss
        assert projected.p90_loss <= now.p90_loss <= inherent.p90_loss
    totals = [result.system[v] for v in ("inherent", "current", "projected")]
    assert totals[2].p90_loss <= totals[1].p90_loss <= totals[0].p90_loss
