"""k most probable attack paths (Yen) on the reach graph: ordered, simple, consistent with reach."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from threats.engine.attackers import AttackerData
from threats.engine.paths import k_best_paths
from threats.engine.reach import OC_STEP, build_graph, compute_reach, entry_sources
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData

INTERNET_ZONE = ZoneData(id=1, trust_level=0)
INSIDE = ZoneData(id=2, trust_level=3)
ANON = AttackerData(id=1, name="anon", capability="OC2", entry_zone_ids=(1,))


def platform() -> SystemSnapshot:
    assets = (
        AssetData(id=1, kind="api_gateway", zone_id=1, internet_facing=True, authentication="none"),
        AssetData(id=2, kind="inference_endpoint", zone_id=2, authentication="api_key"),
        AssetData(id=3, kind="notebook", zone_id=1, internet_facing=True, authentication="password"),
        AssetData(id=4, kind="object_store", zone_id=2, authentication="sso"),
        AssetData(id=5, kind="model_weights", zone_id=2, hosted_on_id=4),
    )
    flows = (
        FlowData(id=10, source_id=1, target_id=2),
        FlowData(id=11, source_id=2, target_id=4),
        FlowData(id=12, source_id=3, target_id=4, authenticated=False),
        FlowData(id=13, source_id=3, target_id=2),
    )
    return SystemSnapshot(zones=(INTERNET_ZONE, INSIDE), assets=assets, flows=flows)


def test_paths_are_ordered_simple_and_the_best_equals_reach() -> None:
    graph = build_graph(platform())
    paths = k_best_paths(graph, ANON, 5, k=5)
    assert len(paths) >= 3
    probabilities = [p.probability for p in paths]
    assert probabilities == sorted(probabilities, reverse=True)
    assert math.isclose(paths[0].probability, compute_reach(graph, ANON).probability[5], rel_tol=1e-9)
    for path in paths:
        nodes = [path.steps[0].from_node] + [s.to_node for s in path.steps]
        assert len(nodes) == len(set(nodes)), "a path never revisits a node"
        assert nodes[-1] == 5 and nodes[0] == "internet"
        assert math.isclose(math.prod(s.probability for s in path.steps), path.probability, rel_tol=1e-9)
    assert len({tuple(s.flow_id for s in p.steps) for p in paths}) == len(paths)


def test_an_insider_starts_at_its_entry_asset() -> None:
    insider = AttackerData(id=2, name="insider", capability="OC3", entry_asset_ids=(3,))
    paths = k_best_paths(build_graph(platform()), insider, 5, k=3)
    assert paths and all(p.steps[0].from_node == 3 for p in paths)
    assert k_best_paths(build_graph(platform()), insider, 3) == [k_best_paths(build_graph(platform()), insider, 3)[0]]
    assert k_best_paths(build_graph(platform()), insider, 3)[0].probability == 1.0


def test_no_entry_or_no_route_gives_no_path() -> None:
    graph = build_graph(platform())
    nowhere = AttackerData(id=3, name="nobody", capability="OC5")
    assert k_best_paths(graph, nowhere, 5) == []
    isolated = SystemSnapshot(
        zones=(INTERNET_ZONE, INSIDE),
        assets=(AssetData(id=1, zone_id=1, internet_facing=True), AssetData(id=2, zone_id=2)),
    )
    assert k_best_paths(build_graph(isolated), ANON, 2) == []


@st.composite
def small_systems(draw: st.DrawFn) -> SystemSnapshot:
    n = draw(st.integers(min_value=2, max_value=6))
    assets = tuple(
        AssetData(
            id=i,
            zone_id=draw(st.sampled_from((1, 2))),
            internet_facing=draw(st.booleans()),
            authentication=draw(st.sampled_from(("none", "password", "sso", "mtls"))),
        )
        for i in range(1, n + 1)
    )
    pairs = draw(st.lists(st.tuples(st.integers(1, n), st.integers(1, n)).filter(lambda p: p[0] != p[1]), max_size=10))
    flows = tuple(
        FlowData(
            id=100 + j, source_id=s, target_id=t, authenticated=draw(st.booleans()), bidirectional=draw(st.booleans())
        )
        for j, (s, t) in enumerate(pairs)
    )
    return SystemSnapshot(zones=(INTERNET_ZONE, INSIDE), assets=assets, flows=flows)


def _all_simple_costs(graph, attacker, target) -> list[float]:
    """Brute force: the probability of every simple path (as edge sequences) to the target."""
    out: list[float] = []
    goal = graph.index[target]

    def walk(node: int, visited: set[int], probability: float) -> None:
        if node == goal:
            out.append(probability)
            return
        for nxt, edge in graph.adjacency[node]:
            if nxt in visited:
                continue
            walk(nxt, visited | {nxt}, probability * math.exp(-_weight(graph, attacker, edge)))

    for source in entry_sources(graph, attacker):
        walk(source, {source}, 1.0)
    return sorted(out, reverse=True)


def _weight(graph, attacker, edge: int) -> float:
    extra = -math.log(OC_STEP[attacker.capability]) if graph.edge_uses_capability[edge] else 0.0
    return graph.edge_cost[edge] + extra


@settings(max_examples=60, deadline=None)
@given(small_systems(), st.integers(min_value=1, max_value=6))
def test_yen_matches_brute_force_enumeration(snapshot: SystemSnapshot, k: int) -> None:
    graph = build_graph(snapshot)
    target = snapshot.assets[-1].id
    expected = _all_simple_costs(graph, ANON, target)
    got = [p.probability for p in k_best_paths(graph, ANON, target, k=k)]
    if graph.index[target] in entry_sources(graph, ANON):
        assert got == [1.0]
        return
    assert len(got) == min(k, len(expected))
    for mine, theirs in zip(got, expected, strict=False):
        assert math.isclose(mine, theirs, rel_tol=1e-9)
