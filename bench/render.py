"""Benchmark building and rendering the data-flow diagram.

Run: ``cd /work/main && .venv/bin/python bench/render.py``. Prints ONE JSON object.

Generated systems of 100, 300 and 1,000 assets (all drawn) and one of 5,000 assets capped at the
builder's default 2,000 drawn nodes: nested trust zones, a realistic mix of kinds, ~3 flows per
asset (mostly inside a zone, some crossing), data hosted on stores and hosts, some flows carrying
weights. Times are wall seconds, median of 3: ``build`` is ``dfd_dot``, ``render`` is
``render(dot, "svg")`` with its default limits and the layout flags it picks for that size.
Goal: a 300-node diagram under 2 s end to end.
"""

from __future__ import annotations

import json
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from threats.engine.dot import dfd_dot  # noqa: E402
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData  # noqa: E402
from threats.render import graph_size, layout_flags, render  # noqa: E402

SIZES = (100, 300, 1_000)
CAPPED = 5_000
REPEATS = 3
GOAL_NODES, GOAL_SECONDS = 300, 2.0

# kind -> (weight in the mix, tier). Tiers give flows their usual direction: people and the
# outside world (0) call gateways (1), which call services (2), which use hosts (3) and stores (4).
KIND_MIX: dict[str, tuple[int, int]] = {
    "workstation": (14, 0),
    "human_role": (10, 0),
    "external_service": (4, 0),
    "edge_device": (2, 0),
    "api_gateway": (3, 1),
    "identity_provider": (1, 1),
    "inference_endpoint": (8, 2),
    "notebook": (5, 2),
    "ci_pipeline": (3, 2),
    "monitoring": (3, 2),
    "mlops_service": (3, 2),
    "ai_agent": (2, 2),
    "gpu_host": (8, 3),
    "training_cluster": (2, 3),
    "code_repository": (3, 3),
    "vector_store": (2, 3),
    "object_store": (6, 4),
    "model_registry": (2, 4),
    "secrets_store": (2, 4),
    "training_data": (5, 4),
    "model_weights": (2, 4),
    "checkpoint": (1, 4),
    "adapter": (1, 4),
    "system_prompt": (1, 4),
    "embeddings": (1, 4),
}
DATA = {"model_weights", "checkpoint", "adapter", "training_data", "embeddings", "system_prompt"}
HOSTS = ("object_store", "model_registry", "gpu_host", "training_cluster", "vector_store")
WEIGHTS = ("model_weights", "checkpoint", "adapter")
PROTOCOLS = ("https", "grpc", "s3", "ssh", "nfs", "kafka", "http")


def make_system(n: int, seed: int = 7, *, tangled: float = 0.1) -> SystemSnapshot:
    """A plausible system of ``n`` assets.

    Five top zones (trust 0-4, one per tier) and one nested segment per 25 assets; each asset
    sits in a zone of its tier. About 3 flows per asset go to the same or the next tier, mostly
    inside its zone; a ``tangled`` share go anywhere (the long edges that make dot work hard).
    Data assets are hosted on a host or store.
    """
    rng = random.Random(seed)
    zones = [ZoneData(id=t + 1, name=f"Tier {t} zone", trust_level=t) for t in range(5)]
    for i in range(max(1, n // 25)):
        parent = rng.choice(zones[:5] if rng.random() < 0.7 else zones)
        zones.append(
            ZoneData(id=len(zones) + 1, name=f"Segment {i}", trust_level=parent.trust_level, parent_id=parent.id)
        )
    by_tier = {t: [z.id for z in zones if z.trust_level == t] for t in range(5)}
    kinds = rng.choices(list(KIND_MIX), weights=[w for w, _ in KIND_MIX.values()], k=n)
    host_ids = [i for i, k in enumerate(kinds, start=1) if k in HOSTS]
    assets = tuple(
        AssetData(
            id=i,
            name=f"{kind.replace('_', ' ')} {i}",
            kind=kind,
            zone_id=rng.choice(by_tier[KIND_MIX[kind][1]]),
            criticality=rng.randint(1, 5),
            hosted_on_id=rng.choice(host_ids) if kind in DATA and host_ids else None,
        )
        for i, kind in enumerate(kinds, start=1)
    )
    tier_of = {a.id: KIND_MIX[a.kind][1] for a in assets}
    pools: dict[tuple[int, int | None], list[int]] = {}
    for a in assets:
        pools.setdefault((tier_of[a.id], a.zone_id), []).append(a.id)
        pools.setdefault((tier_of[a.id], None), []).append(a.id)
    weights = [a.id for a in assets if a.kind in WEIGHTS]
    flows: list[FlowData] = []
    for a in assets:
        for _ in range(3):
            tier = min(tier_of[a.id] + rng.randint(0, 1), 4)
            local = pools.get((tier, a.zone_id)) if rng.random() < 0.6 else None
            pool = range(1, n + 1) if rng.random() < tangled else local or pools.get((tier, None)) or range(1, n + 1)
            target = rng.choice(pool)
            if target == a.id:
                continue
            fid = len(flows) + 1
            flows.append(
                FlowData(
                    id=fid,
                    name=f"flow {fid}",
                    source_id=a.id,
                    target_id=target,
                    protocol=rng.choice(PROTOCOLS),
                    encrypted=rng.random() < 0.8,
                    authenticated=rng.random() < 0.85,
                    bidirectional=rng.random() < 0.1,
                    carries=(rng.choice(weights),) if weights and rng.random() < 0.1 else (),
                )
            )
    return SystemSnapshot(zones=tuple(zones), assets=assets, flows=tuple(flows))


def _median(fn: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 4), result


def measure(n: int) -> dict[str, Any]:
    snapshot = make_system(n)
    build_s, text = _median(lambda: dfd_dot(snapshot, title=f"Benchmark {n}"))
    nodes, edges = graph_size(text)
    render_s, svg = _median(lambda: render(text, "svg"))
    return {
        "assets": n,
        "flows": len(snapshot.flows),
        "drawn_nodes": nodes,
        "drawn_edges": edges,
        "dot_bytes": len(text.encode()),
        "svg_bytes": len(svg),
        "layout_flags": layout_flags(nodes, edges),
        "build_s": build_s,
        "render_svg_s": render_s,
        "total_s": round(build_s + render_s, 4),
    }


def main() -> None:
    load_before = os.getloadavg()[0]
    rows = [measure(n) for n in (*SIZES, CAPPED)]
    goal = next(r for r in rows if r["assets"] == GOAL_NODES)
    version = subprocess.run(["dot", "-V"], capture_output=True, text=True, check=False).stderr.strip()
    result = {
        "benchmark": "dfd_dot build + render(svg), wall seconds, median of 3",
        "python": platform.python_version(),
        "graphviz": version,
        "cpus": os.cpu_count(),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "results": rows,
        "goal": {"nodes": GOAL_NODES, "seconds": GOAL_SECONDS, "measured_s": goal["total_s"]},
    }
    result["goal"]["met"] = goal["total_s"] < GOAL_SECONDS
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
