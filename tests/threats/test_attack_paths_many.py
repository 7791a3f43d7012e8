"""All pairs at once: the shared-heuristic, lazily evaluated Yen gives exactly the brute-force paths
for every profile (whatever its capability), keeps its order, and honours a deadline."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.threats.test_attack_paths import INSIDE, INTERNET_ZONE, _all_simple_costs, platform
from threats.engine.attackers import AttackerData
from threats.engine.paths import MAX_K, k_best_paths, k_best_paths_many
from threats.engine.reach import build_graph, entry_sources
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot

PROFILES = (
    AttackerData(id=1, name="amateur", capability="OC1", entry_zone_ids=(1,)),
    AttackerData(id=2, name="state", capability="OC5", entry_zone_ids=(1,)),
    AttackerData(id=3, name="insider", capability="OC3", entry_asset_ids=(1,)),
)


@st.composite
def systems(draw: st.DrawFn) -> SystemSnapshot:
    """Up to 8 assets with parallel flows, both directions and hosting: many equal-cost ties."""
    n = draw(st.integers(min_value=2, max_value=8))
    assets = tuple(
        AssetData(
            id=i,
            zone_id=draw(st.sampled_from((1, 2))),
            internet_facing=draw(st.booleans()),
            authentication=draw(st.sampled_from(("none", "password", "sso", "mtls"))),
            hosted_on_id=draw(st.one_of(st.none(), st.integers(1, n))),
            encrypted_at_rest=draw(st.booleans()),
        )
        for i in range(1, n + 1)
    )
    pairs = draw(st.lists(st.tuples(st.integers(1, n), st.integers(1, n)).filter(lambda p: p[0] != p[1]), max_size=14))
    flows = tuple(
        FlowData(
            id=100 + j,
            source_id=s,
            target_id=t,
            authenticated=draw(st.booleans()),
            encrypted=draw(st.booleans()),
            bidirectional=draw(st.booleans()),
        )
        for j, (s, t) in enumerate(pairs)
    )
    return SystemSnapshot(zones=(INTERNET_ZONE, INSIDE), assets=assets, flows=flows)


@settings(max_examples=80, deadline=None)
@given(systems(), st.integers(min_value=1, max_value=7))
def test_every_pair_matches_brute_force_enumeration(snapshot: SystemSnapshot, k: int) -> None:
    graph = build_graph(snapshot)
    targets = [a.id for a in snapshot.assets]
    found = k_best_paths_many(graph, PROFILES, targets, k=k)
    assert set(found) == {(p.id, t) for p in PROFILES for t in targets}
    for profile in PROFILES:
        for target in targets:
            got = [p.probability for p in found[(profile.id, target)]]
            if graph.index[target] in entry_sources(graph, profile):
                assert got == [1.0]
                continue
            expected = _all_simple_costs(graph, profile, target)
            assert len(got) == min(k, len(expected))
            for mine, theirs in zip(got, expected, strict=False):
                assert math.isclose(mine, theirs, rel_tol=1e-9)


@settings(max_examples=40, deadline=None)
@given(systems())
def test_all_pairs_at_once_equal_one_pair_at_a_time(snapshot: SystemSnapshot) -> None:
    """The heuristic shared by the profiles (smallest capability step) changes no result."""
    graph = build_graph(snapshot)
    targets = [a.id for a in snapshot.assets]
    together = k_best_paths_many(graph, PROFILES, targets, k=4)
    for profile in PROFILES:
        for target in targets:
            alone = k_best_paths(graph, profile, target, k=4)
            expected = pytest.approx([p.probability for p in alone], rel=1e-12)
            assert [p.probability for p in together[(profile.id, target)]] == expected


def test_paths_are_simple_and_each_step_multiplies_to_the_total() -> None:
    graph = build_graph(platform())
    found = k_best_paths_many(graph, PROFILES, [5, 4], k=MAX_K + 5)
    for paths in found.values():
        assert len(paths) <= MAX_K
        for path in paths:
            nodes = [path.steps[0].from_node] + [s.to_node for s in path.steps] if path.steps else []
            assert len(nodes) == len(set(nodes))
            assert math.isclose(math.prod(s.probability for s in path.steps), path.probability, rel_tol=1e-9)


def test_a_passed_deadline_starts_no_pair_and_targets_keep_their_order() -> None:
    graph = build_graph(platform())
    assert k_best_paths_many(graph, PROFILES, [5, 4], deadline=time.monotonic() - 1) == {}
    found = k_best_paths_many(graph, PROFILES, [5, 4, 5, 999])
    assert list(found) == [(p.id, t) for t in (5, 4, 999) for p in PROFILES]
    assert all(found[(p.id, 999)] == [] for p in PROFILES), "an unknown target has no path"
    assert k_best_paths_many(graph, (), [5]) == {}
    assert all(v == [] for v in k_best_paths_many(graph, PROFILES, [5], k=0).values())
