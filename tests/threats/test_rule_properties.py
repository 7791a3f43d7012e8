"""Property tests of the rule engine over random systems and random conditions.

The unit tests pin behaviour on hand-made examples; these check the invariants a finding list
must keep on any system: determinism, independence from the order rows come out of the database,
targets of the right type and kind, and agreement with naive reference implementations (a
recursive interpreter for conditions, networkx for reachability).
"""

from __future__ import annotations

import random
from typing import Any

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threats.engine.facts import ASSET_ATTRIBUTES, FLOW_ATTRIBUTES, AttrSpec, derive_facts
from threats.engine.jewels import placement
from threats.engine.library import Library, find_threats, load_library
from threats.engine.rules import OPERATORS, compile_condition, evaluate
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData
from threats.engine.vocab import (
    ASSET_KINDS,
    AUTHENTICATIONS,
    MODEL_CLASSES,
    OUTPUT_GRANULARITIES,
    PERSONNEL,
)

KINDS = sorted(ASSET_KINDS)
TAGS = ["prod", "eu", "pii", "legacy"]
PROFILE = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def snapshots(draw: st.DrawFn) -> SystemSnapshot:
    """Random systems: hypothesis draws the sizes and a seed, a seeded Random fills the rows.

    Drawing every field through hypothesis costs ~1,000 draws per system; a seed keeps the suite
    fast while sizes still shrink to a minimal failing system.
    """
    n_zones, n = draw(st.integers(0, 4)), draw(st.integers(1, 20))
    n_flows = draw(st.integers(0, 3 * n)) if n > 1 else 0
    rng = random.Random(draw(st.integers(0, 2**32)))
    zones = tuple(ZoneData(id=i, name=f"z{i}", trust_level=rng.randint(0, 4)) for i in range(1, n_zones + 1))
    zone_ids = [None, *(z.id for z in zones)]
    ids = rng.sample(range(1, 10_000), n)

    def maybe(value: Any) -> Any:
        return value if rng.random() < 0.5 else None

    assets = tuple(
        AssetData(
            id=asset_id,
            name=f"a{asset_id}",
            kind=rng.choice(KINDS),
            zone_id=rng.choice(zone_ids),
            hosted_on_id=maybe(rng.choice([i for i in ids if i != asset_id] or [None])),
            internet_facing=rng.random() < 0.2,
            authentication=rng.choice(sorted(AUTHENTICATIONS)),
            mfa=rng.random() < 0.5,
            encrypted_at_rest=rng.random() < 0.5,
            rate_limited=rng.random() < 0.5,
            rate_limit_per_minute=maybe(rng.randint(1, 10_000)),
            output_granularity=rng.choice(sorted(OUTPUT_GRANULARITIES)),
            model_class=rng.choice(sorted(MODEL_CLASSES)),
            logging=rng.random() < 0.5,
            monitored=rng.random() < 0.5,
            third_party=rng.random() < 0.2,
            personnel=rng.choice(sorted(PERSONNEL)),
            criticality=rng.randint(1, 5),
            size_gb=maybe(round(rng.uniform(0, 2000), 3)),
            tags=tuple(rng.sample(TAGS, rng.randint(0, 3))),
        )
        for asset_id in ids
    )
    flows = tuple(
        FlowData(
            id=flow_id,
            name=f"f{flow_id}",
            source_id=(ends := rng.sample(ids, 2))[0],
            target_id=ends[1],
            protocol=rng.choice(["https", "GRPC", "ssh", "s3", ""]),
            authenticated=rng.random() < 0.5,
            encrypted=rng.random() < 0.5,
            bidirectional=rng.random() < 0.3,
            carries=tuple(rng.sample(ids, rng.randint(0, min(3, n)))),
        )
        for flow_id in range(1, n_flows + 1)
    )
    return SystemSnapshot(zones=zones, assets=assets, flows=flows)


def _values(spec: AttrSpec) -> st.SearchStrategy[Any]:
    if spec.type == "bool":
        return st.booleans()
    if spec.type in ("int", "number"):
        return st.integers(0, 6)
    if spec.members is not None:
        return st.sampled_from(sorted(spec.members))
    return st.sampled_from(TAGS + ["https", "grpc", "ssh"])


@st.composite
def leaves(draw: st.DrawFn, specs: dict[str, AttrSpec]) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(specs)))
    spec = specs[name]
    ops = {"bool": ["eq", "ne", "in", "not_in"], "set": ["contains", "intersects"]}.get(spec.type)
    if ops is None:
        ops = ["eq", "ne", "in", "not_in"] + (["gt", "gte", "lt", "lte"] if spec.type in ("int", "number") else [])
    if spec.nullable:
        ops.append("is_null")
    op = draw(st.sampled_from(ops))
    element = AttrSpec("enum" if spec.members else "str", members=spec.members) if spec.type == "set" else spec
    if op == "is_null":
        value: Any = draw(st.booleans())
    elif op in ("in", "not_in", "intersects"):
        value = draw(st.lists(_values(element), min_size=1, max_size=3))
    else:
        value = draw(_values(element))
    return {"attr": name, op: value}


def conditions(specs: dict[str, AttrSpec]) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        leaves(specs),
        lambda inner: st.one_of(
            st.builds(lambda cs: {"all": cs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda cs: {"any": cs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda c: {"not": c}, inner),
        ),
        max_leaves=6,
    )


def reference_eval(cond: dict[str, Any], attrs: dict[str, Any]) -> bool:
    """The spec read literally, with no compilation: the oracle for the compiled closures."""
    if "all" in cond:
        return all(reference_eval(c, attrs) for c in cond["all"])
    if "any" in cond:
        return any(reference_eval(c, attrs) for c in cond["any"])
    if "not" in cond:
        return not reference_eval(cond["not"], attrs)
    (op,) = [k for k in cond if k in OPERATORS]
    actual, value = attrs[cond["attr"]], cond[op]
    if isinstance(value, str) and cond["attr"] == "protocol":
        value = value.lower()
    if op == "is_null":
        return (actual is None) == value
    if op == "ne":
        return actual != value
    if actual is None:
        return False
    return {
        "eq": lambda: actual == value,
        "in": lambda: actual in value,
        "not_in": lambda: actual not in value,
        "gt": lambda: actual > value,
        "gte": lambda: actual >= value,
        "lt": lambda: actual < value,
        "lte": lambda: actual <= value,
        "contains": lambda: value in actual,
        "intersects": lambda: bool(set(value) & actual),
    }[op]()


LIBRARY_YAML = """
version: "1"
threats:
  - code: T-EXTRACT
    name: Extraction
    stride: [I]
    rand: [{category: ai_specific, vector: model_extraction}]
    role: access
    actors: [external]
    position: network
    target: asset
    asset_kinds: [inference_endpoint, api_gateway, ai_agent]
    rule: {all: [{attr: reachable_from_internet, eq: true}, {attr: output_granularity, ne: label}]}
    base_probability: {OC1: 0.1, OC2: 0.2, OC3: 0.3, OC4: 0.4, OC5: 0.5}
  - code: T-INSIDER
    name: Insider copies weights
    stride: [I]
    rand: [{category: human_intelligence, vector: approved_access_insider}]
    role: access
    actors: [external]
    position: network
    target: asset
    asset_kinds: [model_weights, checkpoint, adapter, model_registry]
    rule: {any: [{attr: reachable_from_personnel, intersects: [contractor, vendor]}, {attr: is_crown_jewel, eq: true}]}
    base_probability: {OC1: 0.1, OC2: 0.2, OC3: 0.3, OC4: 0.4, OC5: 0.5}
  - code: T-HOST
    name: Host compromise
    stride: [E]
    rand: [{category: running_unauthorized_code, vector: patched_vulnerabilities}]
    role: access
    actors: [external]
    position: network
    target: asset
    asset_kinds: [gpu_host, object_store, training_cluster]
    rule: {all: [{attr: hosts_weights, eq: true}, {not: {attr: zone_trust, gte: 3}}]}
    base_probability: {OC1: 0.1, OC2: 0.2, OC3: 0.3, OC4: 0.4, OC5: 0.5}
  - code: T-SNIFF
    name: Sniffing
    stride: [I]
    rand: [{category: nontrivial_access, vector: eavesdropping}]
    role: access
    actors: [external]
    position: network
    target: flow
    rule: {any: [{attr: encrypted, eq: false}, {attr: crosses_into_lower_trust, eq: true}]}
    base_probability: {OC1: 0.1, OC2: 0.2, OC3: 0.3, OC4: 0.4, OC5: 0.5}
  - code: T-EGRESS
    name: Weights leave
    stride: [I]
    rand: [{category: bypassing_primary_security, vector: less_secure_copies}]
    role: access
    actors: [external]
    position: network
    target: flow
    rule: {all: [{attr: carries_kinds, intersects: [model_weights, checkpoint]}, {attr: protocol, ne: HTTPS}]}
    base_probability: {OC1: 0.1, OC2: 0.2, OC3: 0.3, OC4: 0.4, OC5: 0.5}
"""
LIBRARY: Library = load_library(LIBRARY_YAML, 'version: "1"\ncontrols: []\n')


def shuffled(snapshot: SystemSnapshot, seed: int) -> SystemSnapshot:
    rng = random.Random(seed)
    parts = [list(snapshot.zones), list(snapshot.assets), list(snapshot.flows)]
    for part in parts:
        rng.shuffle(part)
    return SystemSnapshot(zones=tuple(parts[0]), assets=tuple(parts[1]), flows=tuple(parts[2]))


@PROFILE
@given(snapshots(), st.integers(0, 2**32))
def test_findings_are_deterministic_and_independent_of_row_order(snapshot: SystemSnapshot, seed: int) -> None:
    first = find_threats(LIBRARY, snapshot)
    assert find_threats(LIBRARY, snapshot) == first
    assert find_threats(LIBRARY, shuffled(snapshot, seed)) == first


@PROFILE
@given(snapshots())
def test_findings_are_threats_on_targets_of_the_right_type_and_kind(snapshot: SystemSnapshot) -> None:
    threats = {t.code: t for t in LIBRARY.threats}
    kinds = {a.id: a.kind for a in snapshot.assets}
    flow_ids = {f.id for f in snapshot.flows}
    found = find_threats(LIBRARY, snapshot)
    keys = [(m.threat_code, m.target_type, m.target_id) for m in found]
    assert keys == sorted(set(keys))
    for match in found:
        threat = threats[match.threat_code]
        assert match.target_type == threat.target
        assert match.explanation
        if threat.target == "asset":
            assert kinds[match.target_id] in threat.asset_kinds
        else:
            assert match.target_id in flow_ids


@settings(PROFILE, max_examples=50)  # drawing nested conditions is the slow part of this suite
@given(snapshots(), st.data())
def test_compiled_conditions_agree_with_the_reference_interpreter(
    snapshot: SystemSnapshot, data: st.DataObject
) -> None:
    facts = derive_facts(snapshot)
    for target, specs, rows in (
        ("asset", dict(ASSET_ATTRIBUTES), facts.assets),
        ("flow", dict(FLOW_ATTRIBUTES), facts.flows),
    ):
        cond = data.draw(conditions(specs))
        rule = compile_condition(cond, target)  # type: ignore[arg-type]
        for attrs in rows.values():
            holds, why = evaluate(rule, attrs)
            assert holds == reference_eval(cond, dict(attrs))
            assert bool(why) == holds


@PROFILE
@given(snapshots())
def test_reachability_agrees_with_networkx(snapshot: SystemSnapshot) -> None:
    graph = nx.DiGraph()
    graph.add_nodes_from(a.id for a in snapshot.assets)
    for flow in snapshot.flows:
        graph.add_edge(flow.source_id, flow.target_id)  # the payload's way
        if flow.bidirectional or flow.initiator == "target":  # and from the side that opens it
            graph.add_edge(flow.target_id, flow.source_id)
    for asset in snapshot.assets:
        if asset.hosted_on_id is not None:
            graph.add_edge(asset.hosted_on_id, asset.id)
    where = placement(snapshot)  # a holder reaches the copies it keeps
    for held in (where.stored, where.loaded):
        for holder, jewels in held.items():
            graph.add_edges_from((holder, j) for j in jewels)
    trust = {z.id: z.trust_level for z in snapshot.zones}
    seeds = {a.id for a in snapshot.assets if a.internet_facing or trust.get(a.zone_id) == 0}  # type: ignore[arg-type]
    expected = set(seeds).union(*(nx.descendants(graph, s) for s in seeds))
    facts = derive_facts(snapshot)
    assert {i for i, attrs in facts.assets.items() if attrs["reachable_from_internet"]} == expected
