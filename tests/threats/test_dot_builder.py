"""What the DOT builder draws: clusters, shapes, edges, caps, attack paths and determinism.

These read the DOT text only (no ``dot`` run): the builder writes one statement per line, so a
line-oriented parse is enough to find nodes, edges, clusters and their attributes.
"""

from __future__ import annotations

import dataclasses
import random
import re
import time

import pytest

from threats.engine.dot import (
    ALLOWED_ATTRIBUTES,
    KIND_STYLE,
    MAX_ZONE_DEPTH,
    DrawnPath,
    PathHop,
    _attrs,
    attack_path_dot,
    dfd_dot,
    dot_hash,
)
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData
from threats.engine.vocab import ASSET_KINDS

STATEMENT = re.compile(r"^\s*(?P<src>[a-z_0-9]+)(?: -> (?P<dst>[a-z0-9]+))? \[(?P<attrs>.*)\]$")
ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def statements(text: str) -> tuple[dict[str, dict[str, str]], dict[tuple[str, str], list[dict[str, str]]]]:
    """Nodes by id and edges by (source, target), each with its attributes."""
    nodes: dict[str, dict[str, str]] = {}
    edges: dict[tuple[str, str], list[dict[str, str]]] = {}
    for line in text.splitlines():
        match = STATEMENT.match(line)
        if not match or match["src"] in {"graph", "node", "edge"}:
            continue
        attrs = dict(ATTR.findall(match["attrs"]))
        if match["dst"]:
            edges.setdefault((match["src"], match["dst"]), []).append(attrs)
        else:
            nodes[match["src"]] = attrs
    return nodes, edges


def cluster_parents(text: str, *, nodes: bool = False) -> dict[str, str | None]:
    """Each cluster's (or also each node's) enclosing cluster, from the brace structure."""
    stack: list[str] = []
    parents: dict[str, str | None] = {}
    for line in text.splitlines():
        if match := re.match(r"^\s*subgraph (cluster_\w+) \{$", line):
            parents[match[1]] = stack[-1] if stack else None
            stack.append(match[1])
        elif line.strip() == "}" and stack:
            stack.pop()
        elif nodes and (match := re.match(r"^\s*(a\d+) \[", line)):
            parents[match[1]] = stack[-1] if stack else None
    return parents


def small_system() -> SystemSnapshot:
    return SystemSnapshot(
        zones=(
            ZoneData(id=1, name="Internet", trust_level=0),
            ZoneData(id=2, name="Corp", trust_level=2),
            ZoneData(id=3, name="ML platform", trust_level=3, parent_id=2),
            ZoneData(id=4, name="Enclave", trust_level=4, parent_id=3),
            ZoneData(id=5, name="Empty", trust_level=1),
        ),
        assets=(
            AssetData(id=1, name="Public API", kind="inference_endpoint", zone_id=1),
            AssetData(id=2, name="Researcher", kind="human_role", zone_id=2),
            AssetData(id=3, name="GPU box", kind="gpu_host", zone_id=3),
            AssetData(id=4, name="Llama weights", kind="model_weights", zone_id=4, hosted_on_id=5),
            AssetData(id=5, name="Bucket", kind="object_store", zone_id=4),
            AssetData(id=6, name="Registry", kind="model_registry", zone_id=None),
        ),
        flows=(
            FlowData(id=1, name="Queries", protocol="https", source_id=2, target_id=1),
            FlowData(id=2, name="Load", protocol="s3", source_id=5, target_id=3, carries=(4,)),
            FlowData(id=3, name="Legacy sync", protocol="nfs", source_id=3, target_id=6, encrypted=False),
            FlowData(id=4, name="Chat", source_id=2, target_id=3, authenticated=False, bidirectional=True),
        ),
    )


def test_zones_are_nested_clusters_with_trust_in_the_label() -> None:
    text = dfd_dot(small_system(), title="Demo")
    assert cluster_parents(text) == {
        "cluster_z1": None,
        "cluster_z2": None,
        "cluster_z3": "cluster_z2",
        "cluster_z4": "cluster_z3",
    }  # the empty zone 5 is not drawn
    assert 'label="ML platform (trust 3)"' in text and 'label="Enclave (trust 4)"' in text
    assert 'color="#c0392b", fillcolor="#fdedec"' in text  # trust 0 is red
    nodes, _ = statements(text)
    assert set(nodes) == {"a1", "a2", "a3", "a4", "a5", "a6"}
    where = cluster_parents(text, nodes=True)
    assert where["a4"] == where["a5"] == "cluster_z4" and where["a1"] == "cluster_z1" and where["a6"] is None


def test_assets_are_shaped_by_kind_and_every_kind_has_a_shape() -> None:
    assert set(KIND_STYLE) == ASSET_KINDS
    nodes, _ = statements(dfd_dot(small_system(), title="Demo"))
    shapes = {node: attrs["shape"] for node, attrs in nodes.items()}
    assert shapes == {
        "a1": "component",
        "a2": "ellipse",
        "a3": "box3d",
        "a4": "cylinder",
        "a5": "cylinder",
        "a6": "folder",
    }
    assert nodes["a4"]["label"] == "Llama weights\\nmodel_weights \u00b7 crit 3"
    assert "bold" in nodes["a4"]["style"]  # a crown jewel


def test_flows_hosting_and_weak_flows_are_marked() -> None:
    _, edges = statements(dfd_dot(small_system(), title="Demo"))
    assert edges[("a4", "a5")] == [
        {"xlabel": "hosted on", "arrowhead": "empty", "color": "#7f8c8d", "fontcolor": "#7f8c8d", "style": "dashed"}
    ]
    assert edges[("a2", "a1")][0] == {"xlabel": "Queries\\n[https]"}
    load = edges[("a5", "a3")][0]
    assert load["xlabel"] == "Load\\n[s3]\\n\u25c6 carries weights: Llama weights" and load["penwidth"] == "2"
    legacy = edges[("a3", "a6")][0]
    assert legacy["style"] == "dashed" and legacy["color"] == "#c0392b" and legacy["xlabel"].endswith("unencrypted")
    chat = edges[("a2", "a3")][0]
    assert chat["dir"] == "both" and chat["style"] == "dashed" and chat["xlabel"] == "Chat\\nunauthenticated"


def test_same_system_gives_the_same_bytes_whatever_the_row_order() -> None:
    snapshot = small_system()
    first = dfd_dot(snapshot, title="Demo")
    assert dfd_dot(snapshot, title="Demo") == first
    rng = random.Random(3)
    for _ in range(5):
        shuffled = SystemSnapshot(
            zones=tuple(rng.sample(snapshot.zones, len(snapshot.zones))),
            assets=tuple(rng.sample(snapshot.assets, len(snapshot.assets))),
            flows=tuple(rng.sample(snapshot.flows, len(snapshot.flows))),
        )
        assert dfd_dot(shuffled, title="Demo") == first
    assert dot_hash(first) == dot_hash(dfd_dot(snapshot, title="Demo"))
    assert re.fullmatch(r"[0-9a-f]{64}", dot_hash(first))
    renamed = dataclasses.replace(
        snapshot, assets=(dataclasses.replace(snapshot.assets[0], name="x"), *snapshot.assets[1:])
    )
    assert dot_hash(dfd_dot(renamed, title="Demo")) != dot_hash(first)


def big_system(n: int, seed: int = 1) -> SystemSnapshot:
    rng = random.Random(seed)
    zones = tuple(ZoneData(id=i, name=f"z{i}", trust_level=i % 5, parent_id=i // 4 or None) for i in range(1, 40))
    kinds = sorted(ASSET_KINDS)
    assets = tuple(
        AssetData(
            id=i, name=f"asset {i}", kind=rng.choice(kinds), zone_id=rng.randint(1, 39), criticality=rng.randint(1, 5)
        )
        for i in range(1, n + 1)
    )
    flows = tuple(FlowData(id=i, source_id=rng.randint(1, n), target_id=rng.randint(1, n)) for i in range(1, 3 * n + 1))
    return SystemSnapshot(zones=zones, assets=assets, flows=flows)


def test_a_5000_asset_system_is_capped_with_one_summary_node() -> None:
    snapshot = big_system(5000)
    start = time.perf_counter()
    text = dfd_dot(snapshot, title="Big")
    assert time.perf_counter() - start < 5
    nodes, edges = statements(text)
    assert len(nodes) == 2001 and "more" in nodes
    assert nodes["more"]["label"].startswith("3000 more assets not drawn\\n")
    drawn = {int(n[1:]) for n in nodes if n != "more"}
    kept = sorted(snapshot.assets, key=lambda a: (-a.criticality, a.id))[:2000]
    assert drawn == {a.id for a in kept}
    assert all(int(s[1:]) in drawn and int(t[1:]) in drawn for s, t in edges)
    assert sum(len(e) for e in edges.values()) <= 3 * 2000


def test_caps_are_configurable_and_count_the_flows_left_out() -> None:
    text = dfd_dot(big_system(50), title="t", max_nodes=10, max_edges=3)
    nodes, edges = statements(text)
    assert len(nodes) == 11 and sum(len(e) for e in edges.values()) <= 3
    assert (
        nodes["more"]["label"].startswith("40 more assets not drawn\\n") and "flows not drawn" in nodes["more"]["label"]
    )
    nodes, _ = statements(dfd_dot(small_system(), title="t"))
    assert "more" not in nodes  # nothing left out, no summary


def test_zone_cycles_and_deep_nesting_are_bounded() -> None:
    cycle = (ZoneData(id=1, name="a", parent_id=2), ZoneData(id=2, name="b", parent_id=1), ZoneData(id=3, parent_id=3))
    chain = tuple(ZoneData(id=i, name=f"d{i}", parent_id=i - 1 if i > 10 else None) for i in range(10, 40))
    assets = tuple(AssetData(id=z.id, zone_id=z.id) for z in (*cycle, *chain))
    parents = cluster_parents(dfd_dot(SystemSnapshot(zones=(*cycle, *chain), assets=assets), title="t"))
    assert parents["cluster_z1"] is None and parents["cluster_z2"] == "cluster_z1" and parents["cluster_z3"] is None

    def depth(cluster: str) -> int:
        parent = parents[cluster]
        return 0 if parent is None else 1 + depth(parent)

    assert max(depth(c) for c in parents) == MAX_ZONE_DEPTH
    assert len(parents) == 33  # every zone is still drawn


def test_only_allowed_attributes_can_be_emitted() -> None:
    with pytest.raises(ValueError, match="not allowed"):
        _attrs(URL="https://example.org")
    assert {"tooltip", "URL", "href", "image", "shapefile", "fontpath", "imagepath", "target"}.isdisjoint(
        ALLOWED_ATTRIBUTES
    )


# ---------------------------------------------------------------- attack paths


def paths() -> list[DrawnPath]:
    """Cybercrime from the Internet to the weights; an insider (the best path) to weights and bucket."""
    internet = (PathHop(None, 1, None, 0.9, ()), PathHop(1, 3, 3, 0.4, ("M-MFA",)), PathHop(3, 4, 2, 0.33, ()))
    insider = (PathHop(2, 3, 4, 0.8, ("M-DLP", "M-LOG")), PathHop(3, 4, 2, 0.625, ()))
    bucket = (PathHop(2, 3, 4, 0.8, ("M-LOG",)), PathHop(3, 5, None, 0.25, ()))
    return [
        DrawnPath("Cybercrime", 4, 0.12, internet),
        DrawnPath("Insider", 4, 0.5, insider),
        DrawnPath("Insider", 5, 0.2, bucket),
    ]


def test_attack_paths_emphasise_the_most_probable_path() -> None:
    text = attack_path_dot(small_system(), paths(), title="Paths")
    nodes, edges = statements(text)
    assert set(nodes) == {"p0", "p1", "inet", "a1", "a2", "a3", "a4", "a5"}  # a6 is on no path
    assert nodes["p0"]["label"] == "attacker\\nCybercrime" and nodes["p1"]["label"] == "attacker\\nInsider"
    best = [edges[("p1", "a2")][0], edges[("a2", "a3")][0], edges[("a3", "a4")][0]]
    assert all(e["penwidth"] == "3" for e in best)
    assert all(
        e.get("penwidth", "1") != "3"
        for key in [("inet", "a1"), ("a1", "a3"), ("a3", "a5"), ("p0", "inet")]
        for e in edges[key]
    )
    assert edges[("a2", "a3")][0]["label"] == "p=0.80\\nvia Chat\\ncontrols: M-DLP, M-LOG"
    assert edges[("a3", "a4")][0]["label"] == "p=0.33\u20130.62\\nvia Load"  # two paths, two probabilities
    assert nodes["a4"]["label"].endswith("target, best P=0.50") and nodes["a4"]["fillcolor"] == "#f7dc6f"
    assert nodes["a5"]["label"].endswith("target, best P=0.20")
    assert "more" not in nodes


def test_attack_paths_are_order_independent_and_capped() -> None:
    snapshot = small_system()
    first = attack_path_dot(snapshot, paths(), title="Paths")
    assert attack_path_dot(snapshot, list(reversed(paths())), title="Paths") == first
    capped = attack_path_dot(snapshot, paths(), title="Paths", max_nodes=4)
    nodes, _ = statements(capped)
    assert set(nodes) == {"p0", "a2", "a3", "a4", "more"}  # only the best path fits
    assert nodes["more"]["label"] == "2 more paths not drawn"
    nodes, _ = statements(attack_path_dot(snapshot, [], title="None"))
    assert nodes == {}


def test_many_paths_never_exceed_the_node_cap() -> None:
    rng = random.Random(5)

    def hop() -> PathHop:
        return PathHop(rng.choice([None, rng.randint(1, 999)]), rng.randint(1, 999), None, rng.random(), ())

    many = [DrawnPath(f"profile {i % 7}", rng.randint(1, 999), rng.random(), (hop(), hop(), hop())) for i in range(400)]
    nodes, _ = statements(attack_path_dot(big_system(1000), many, title="t", max_nodes=300))
    assert len(nodes) - 1 <= 300 and "more" in nodes
