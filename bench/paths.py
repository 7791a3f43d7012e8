"""Benchmark the k most probable attack paths against networkx's Yen, and the attack-path render.

Run: ``cd /work/main && .venv/bin/python bench/paths.py``. Prints ONE JSON object.

Generated systems (``make_system``) of 1,000 and 10,000 assets look like an AI platform:

* zones: Internet (trust 0), Edge (1), Serving (2), Corporate (2), ML platform (3) and an
  Enclave (4), plus one nested segment per 200 assets inside Serving, Corporate or ML platform
  (same trust as its parent);
* kinds: a realistic mix (workstations, people, gateways, endpoints, GPU hosts, stores, registries,
  notebooks, CI, package sources, ...), each in the zone of its tier; gateways, a share of the
  endpoints, package sources and external services face the internet;
* fan-out: every asset that runs something opens 1-4 flows (2.5 on average): 65% inside its own
  zone, 30% one tier inward, 5% anywhere (the long edges that make path search hard); 10% are
  bidirectional, 15% unauthenticated, 20% unencrypted; no two flows join the same pair of assets;
* data (training data, embeddings) is stored on stores and hosts; a few crown jewels with values:
  four model weights, two checkpoints and one adapter on ML-platform stores and registries, and
  one criticality-5 secrets store in the enclave (8 targets);
* the five default attacker profiles: anonymous API user (OC1), cybercrime group (OC3) and
  nation-state (OC4) from the internet, a malicious insider (OC3) holding three corporate people,
  and a compromised supplier (OC3) holding the package sources.

Paths: ``path_report.attack_path_report`` with k=5 for every profile x crown-jewel pair (40
pairs), as the render task runs it, on the current view of the curated library: networkx's
``shortest_simple_paths`` (Yen) per pair on the view's graph. Timed apart, as the baseline of the
same run: the search every recompute makes anyway (``risk.current_paths_view``: rules, the view's
graph and one Dijkstra per profile). The report must agree with the search: each pair's best
path has the probability of the profile's best route (checked and reported).

Render: ``dot`` to SVG, with the flags the render task uses, of the attack-path diagram
(``attack_path_dot`` with ``max_nodes`` of 100, 300 and 1,000, filled with the top paths of a
generated system large enough) and of the data-flow diagram of generated systems of 100, 300
and 1,000 assets. Goals: all paths of the 10,000-asset system under 1 s; a diagram of up to 300
nodes under 2 s.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from threats.engine.attackers import AttackerData  # noqa: E402
from threats.engine.controls import implied_controls  # noqa: E402
from threats.engine.dot import attack_path_dot, dfd_dot  # noqa: E402
from threats.engine.library import Library, load_library  # noqa: E402
from threats.engine.path_report import attack_path_report  # noqa: E402
from threats.engine.risk import current_paths_view  # noqa: E402
from threats.engine.routes import pair_moves, route_of  # noqa: E402
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData  # noqa: E402
from threats.render import graph_size, labelled_layout_flags, layout_flags, render  # noqa: E402

SIZES = (1_000, 10_000)
K = 5
REPEATS = 3
RENDER_NODES = (100, 300, 1_000)
GOAL_PATH_SECONDS, GOAL_RENDER_NODES, GOAL_RENDER_SECONDS = 1.0, 300, 2.0

ZONES = (("Internet", 0), ("Edge", 1), ("Serving", 2), ("Corporate", 2), ("ML platform", 3), ("Enclave", 4))
ZONE_TIER = {0: 0, 1: 1, 2: 2, 3: 2, 4: 3, 5: 4}  # zone index -> tier (how far inward)
# kind -> (weight in the mix, zone index, share internet-facing, authentication)
KIND_MIX: dict[str, tuple[int, int, float, str]] = {
    "workstation": (14, 3, 0.0, "sso"),
    "human_role": (8, 3, 0.0, "sso"),
    "external_service": (3, 0, 1.0, "api_key"),
    "package_source": (1, 0, 1.0, "none"),
    "api_gateway": (3, 1, 1.0, "api_key"),
    "inference_endpoint": (7, 2, 0.3, "api_key"),
    "ai_agent": (2, 2, 0.0, "mtls"),
    "gpu_host": (10, 2, 0.0, "mtls"),
    "monitoring": (3, 3, 0.0, "sso"),
    "ci_pipeline": (3, 3, 0.0, "sso"),
    "code_repository": (3, 3, 0.0, "sso"),
    "notebook": (4, 4, 0.0, "password"),
    "mlops_service": (3, 4, 0.0, "none"),
    "training_cluster": (3, 4, 0.0, "sso"),
    "object_store": (7, 4, 0.0, "sso"),
    "model_registry": (2, 4, 0.0, "password"),
    "vector_store": (2, 2, 0.0, "api_key"),
    "training_data": (5, 4, 0.0, "sso"),
    "embeddings": (2, 2, 0.0, "sso"),
    "identity_provider": (1, 5, 0.0, "mtls"),
}
DATA = ("training_data", "embeddings")
HOSTS = ("object_store", "model_registry", "vector_store", "gpu_host", "training_cluster")
CROWN = (("model_weights", 4), ("checkpoint", 2), ("adapter", 1))


def make_system(n: int, seed: int = 11) -> tuple[SystemSnapshot, tuple[AttackerData, ...], list[int]]:
    """A system of ``n`` assets, its five attacker profiles and its crown-jewel ids (module doc)."""
    rng = random.Random(seed)
    zones = [ZoneData(id=i + 1, name=name, trust_level=level) for i, (name, level) in enumerate(ZONES)]
    zone_ids = {i: [i + 1] for i in range(len(ZONES))}
    for s in range(max(1, n // 200)):
        parent = rng.choice((2, 3, 4))
        zones.append(
            ZoneData(id=len(zones) + 1, name=f"Segment {s}", trust_level=ZONES[parent][1], parent_id=parent + 1)
        )
        zone_ids[parent].append(len(zones))
    trust = {z.id: z.trust_level for z in zones}
    crown_total = sum(count for _, count in CROWN) + 1
    kinds = rng.choices(list(KIND_MIX), weights=[spec[0] for spec in KIND_MIX.values()], k=n - crown_total)
    assets: list[AssetData] = []
    for kind in kinds:
        _, zone_index, exposed, auth = KIND_MIX[kind]
        assets.append(
            AssetData(
                id=len(assets) + 1,
                name=f"{kind} {len(assets) + 1}",
                kind=kind,
                zone_id=rng.choice(zone_ids[zone_index]),
                internet_facing=rng.random() < exposed,
                authentication=auth if rng.random() > 0.1 else "none",
                mfa=kind in ("workstation", "human_role") and rng.random() < 0.7,
                encrypted_at_rest=kind in HOSTS and rng.random() < 0.5,
                criticality=rng.randint(1, 4),
            )
        )
    ml_hosts = [a.id for a in assets if a.kind in ("object_store", "model_registry") and a.zone_id in zone_ids[4]]
    hosts = [a.id for a in assets if a.kind in HOSTS]
    assets = [
        dataclasses.replace(a, stored_on=(rng.choice(hosts),), value_min=1e5, value_likely=5e5, value_max=2e6)
        if a.kind in DATA and hosts
        else a
        for a in assets
    ]
    crown: list[int] = []
    for kind, count in CROWN:
        for _ in range(count):
            crown.append(len(assets) + 1)
            assets.append(
                AssetData(
                    id=len(assets) + 1,
                    name=f"{kind} {len(assets) + 1}",
                    kind=kind,
                    zone_id=5,
                    stored_on=(rng.choice(ml_hosts or hosts),),
                    criticality=5 if kind == "model_weights" else 4,
                    value_min=1e7,
                    value_likely=5e7,
                    value_max=2e8,
                )
            )
    crown.append(len(assets) + 1)
    assets.append(AssetData(id=len(assets) + 1, name="Secrets", kind="secrets_store", zone_id=6, criticality=5))
    runs_code = [a for a in assets if a.kind not in DATA and a.kind not in dict(CROWN)]
    by_zone: dict[int, list[int]] = {}
    by_tier: dict[int, list[int]] = {}
    for a in runs_code:
        by_zone.setdefault(a.zone_id or 0, []).append(a.id)
        by_tier.setdefault(_tier(a.zone_id, zone_ids), []).append(a.id)
    flows: list[FlowData] = []
    pairs: set[frozenset[int]] = set()
    for a in runs_code:
        tier = _tier(a.zone_id, zone_ids)
        for _ in range(rng.choice((1, 2, 2, 3, 3, 4))):
            roll = rng.random()
            if roll < 0.65:
                pool = by_zone.get(a.zone_id or 0, [])
            elif roll < 0.95:
                pool = by_tier.get(min(tier + 1, 4), [])
            else:
                pool = [b.id for b in runs_code]
            target = rng.choice(pool) if pool else a.id
            if target == a.id or frozenset((a.id, target)) in pairs:
                continue
            pairs.add(frozenset((a.id, target)))
            flows.append(
                FlowData(
                    id=len(flows) + 1,
                    name=f"flow {len(flows) + 1}",
                    source_id=a.id,
                    target_id=target,
                    authenticated=rng.random() > 0.15,
                    encrypted=rng.random() > 0.2,
                    bidirectional=rng.random() < 0.1,
                )
            )
    people = [a.id for a in assets if a.kind == "human_role"][:3]
    suppliers = tuple(a.id for a in assets if a.kind == "package_source")
    profiles = (
        AttackerData(id=1, name="Anonymous API user", capability="OC1", entry_zone_ids=(1,)),
        AttackerData(id=2, name="Cybercrime group", capability="OC3", entry_zone_ids=(1,)),
        AttackerData(
            id=3, name="Malicious insider", capability="OC3", actor_type="insider", entry_asset_ids=tuple(people)
        ),
        AttackerData(id=4, name="Nation-state operation", capability="OC4", entry_zone_ids=(1,)),
        AttackerData(
            id=5, name="Compromised supplier", capability="OC3", actor_type="supplier", entry_asset_ids=suppliers
        ),
    )
    assert all(trust[a.zone_id] >= 0 for a in assets if a.zone_id)
    return SystemSnapshot(zones=tuple(zones), assets=tuple(assets), flows=tuple(flows)), profiles, crown


def _tier(zone_id: int | None, zone_ids: dict[int, list[int]]) -> int:
    for index, ids in zone_ids.items():
        if zone_id in ids:
            return ZONE_TIER[index]
    return 0


def _median(fn: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _library() -> Library:
    return load_library(
        (ROOT / "threats" / "library" / "threats.yaml").read_bytes(),
        (ROOT / "threats" / "library" / "controls.yaml").read_bytes(),
    )


def measure_paths(n: int, library: Library) -> dict[str, Any]:
    snapshot, profiles, crown = make_system(n)
    controls = implied_controls(snapshot)
    search_s, (graph, runs, _) = _median(lambda: current_paths_view(snapshot, library, profiles, controls))
    report_s, report = _median(
        lambda: attack_path_report(
            snapshot, graph, runs, crown, current=controls, projected=controls, k=K, max_targets=len(crown)
        )
    )
    moves = pair_moves(graph)
    agree = True
    for pair in report.pairs:
        run = next(r for r in runs if r.attacker.id == pair["profile"]["id"])
        route = route_of(graph, run, graph.thefts.jewels.index[pair["target"]["id"]], moves)
        best = pair["paths"][0]
        if route is None or not math.isclose(
            best["probability"] * best["share"], route.probability * route.share, rel_tol=1e-3
        ):
            agree = False
    lengths = [len(path["hops"]) for pair in report.pairs for path in pair["paths"]]
    return {
        "assets": n,
        "flows": len(snapshot.flows),
        "graph_nodes": graph.nodes,
        "graph_pairs": len(graph.pair_src),
        "profiles": len(profiles),
        "crown_jewels": len(crown),
        "pairs_with_paths": len(report.pairs),
        "paths_found": sum(len(p["paths"]) for p in report.pairs),
        "hops_mean": round(statistics.fmean(lengths), 2) if lengths else 0,
        "hops_max": max(lengths, default=0),
        "baseline_search_s": round(search_s, 4),
        "path_report_s": round(report_s, 4),
        "search_and_report_s": round(search_s + report_s, 4),
        "ratio_report_over_search": round(report_s / search_s, 2) if search_s else None,
        "best_path_equals_best_route": agree,
    }


def _render_row(kind: str, size: int, text: str, labelled: bool) -> dict[str, Any]:
    nodes, edges = graph_size(text)
    flags = (labelled_layout_flags if labelled else layout_flags)(nodes, edges)
    render_s, svg = _median(lambda: render(text, "svg", timeout=60, flags=flags))
    return {
        "diagram": kind,
        "size": size,
        "drawn_nodes": nodes,
        "drawn_edges": edges,
        "dot_bytes": len(text.encode()),
        "svg_bytes": len(svg),
        "flags": flags,
        "render_svg_s": round(render_s, 4),
    }


def measure_render(nodes: int, library: Library) -> list[dict[str, Any]]:
    """The attack-path diagram filled to ``nodes`` nodes, and the DFD of a ``nodes``-asset system."""
    snapshot, profiles, _ = make_system(max(nodes * 4, 1_000), seed=nodes)
    controls = implied_controls(snapshot)
    graph, runs, order = current_paths_view(snapshot, library, profiles, controls)
    # Many targets and k=20 give enough distinct paths to fill the cap.
    report = attack_path_report(
        snapshot, graph, runs, order, current=controls, projected=controls, k=20, max_targets=nodes // 2
    )
    drawn = list(report.drawn)
    build_s, text = _median(lambda: attack_path_dot(snapshot, drawn, title="Bench", max_nodes=nodes))
    attack = {
        **_render_row("attack-paths", nodes, text, True),
        "paths_offered": len(drawn),
        "build_s": round(build_s, 4),
    }
    attack["total_s"] = round(attack["build_s"] + attack["render_svg_s"], 4)
    small, _, _ = make_system(nodes, seed=nodes)
    build_s, text = _median(lambda: dfd_dot(small, title="Bench", max_nodes=nodes))
    dfd = {**_render_row("dfd", nodes, text, False), "build_s": round(build_s, 4)}
    dfd["total_s"] = round(dfd["build_s"] + dfd["render_svg_s"], 4)
    return [attack, dfd]


def main() -> None:
    load_before = os.getloadavg()[0]
    library = _library()
    path_rows = [measure_paths(n, library) for n in SIZES]
    render_rows = [row for n in RENDER_NODES for row in measure_render(n, library)]
    version = subprocess.run(["dot", "-V"], capture_output=True, text=True, check=False).stderr.strip()
    big = next(r for r in path_rows if r["assets"] == max(SIZES))
    mid = max(r["total_s"] for r in render_rows if r["size"] == GOAL_RENDER_NODES)
    result = {
        "benchmark": f"k={K} most probable paths (v2 graph), all profile x crown-jewel pairs; diagram render",
        "python": platform.python_version(),
        "networkx": nx.__version__,
        "graphviz": version,
        "cpus": os.cpu_count(),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "paths": path_rows,
        "render": render_rows,
        "goals": {
            "paths_10k_s": {"goal": GOAL_PATH_SECONDS, "measured": big["path_report_s"]},
            "render_300_s": {"goal": GOAL_RENDER_SECONDS, "measured": mid},
        },
    }
    for goal in result["goals"].values():
        goal["met"] = goal["measured"] < goal["goal"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
