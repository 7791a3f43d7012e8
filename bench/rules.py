"""Benchmark the rule engine against OWASP pytm's threat resolution, measured in the same run.

Run: ``cd /work/main && .venv/bin/python bench/rules.py``. Prints ONE JSON object.

Our side: generated systems of 100, 1,000 and 10,000 assets (trust zones, ~3 flows per asset, a
few weight stores, internet-facing endpoints), evaluated with the repository's library when both
files are present, else with a built-in sample library. Time = derive_facts + find_threats,
median of 3, as CPU time of this process (wall time alongside). pytm's side: ``TM.resolve()``
over N Server/Datastore elements in boundaries and N-1 dataflows. The tools have different rule
and element counts, so the fair figure is time per (rule x element) pair: pytm evaluates each of
its threats on each element; our headline pairs are each threat x every element of its target
type (assets or flows), and the pytm-style count (every threat x every element) is shown too.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from threats.engine.facts import derive_facts  # noqa: E402
from threats.engine.library import Library, find_threats, load_library  # noqa: E402
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rules_sample import SAMPLE_CONTROLS, SAMPLE_THREATS  # noqa: E402

SIZES = (100, 1_000, 10_000)
PYTM_SIZES = (100, 1_000)
REPEATS = 3
THREATS_FILE = ROOT / "threats/library/threats.yaml"
CONTROLS_FILE = ROOT / "threats/library/controls.yaml"

# kind -> (weight in the mix, trust level of its usual zone)
KIND_MIX: dict[str, tuple[int, int]] = {
    "workstation": (14, 2),
    "human_role": (10, 2),
    "inference_endpoint": (8, 3),
    "gpu_host": (8, 3),
    "object_store": (6, 3),
    "training_data": (5, 3),
    "notebook": (5, 2),
    "external_service": (4, 0),
    "api_gateway": (3, 1),
    "ci_pipeline": (3, 2),
    "code_repository": (3, 2),
    "monitoring": (3, 3),
    "mlops_service": (3, 3),
    "model_registry": (2, 4),
    "training_cluster": (2, 4),
    "model_weights": (2, 4),
    "checkpoint": (1, 4),
    "adapter": (1, 3),
    "system_prompt": (1, 3),
    "embeddings": (1, 3),
    "eval_data": (1, 3),
    "vector_store": (2, 3),
    "container_registry": (2, 3),
    "secrets_store": (2, 4),
    "identity_provider": (1, 3),
    "package_source": (1, 0),
    "model_hub": (1, 0),
    "ai_agent": (2, 3),
    "edge_device": (2, 1),
}
WEIGHTS = ("model_weights", "checkpoint", "adapter")
DATA = (*WEIGHTS, "training_data", "eval_data", "embeddings", "system_prompt")
STORES = ("object_store", "model_registry", "gpu_host", "training_cluster")


def load() -> tuple[Library, str]:
    """The repository's library if both files exist (they are written separately), else the sample."""
    if THREATS_FILE.exists() and CONTROLS_FILE.exists():
        return load_library(THREATS_FILE.read_bytes(), CONTROLS_FILE.read_bytes()), "repository"
    return load_library(SAMPLE_THREATS, SAMPLE_CONTROLS), "built-in sample (repository files missing)"


def build_system(n_assets: int, seed: int = 7) -> SystemSnapshot:
    """A plausible AI platform: zones by trust, data hosted on stores, ~3 flows per asset."""
    rng = random.Random(seed)
    zones = [ZoneData(id=i, name=f"base-{i}", trust_level=i) for i in range(5)]
    zones += [ZoneData(id=5 + i, name=f"seg-{i}", trust_level=rng.randint(1, 4)) for i in range(n_assets // 200)]
    by_trust: dict[int, list[int]] = {}
    for zone in zones:
        by_trust.setdefault(zone.trust_level, []).append(zone.id)
    kinds = rng.choices(list(KIND_MIX), weights=[w for w, _ in KIND_MIX.values()], k=n_assets)
    ids = list(range(1, n_assets + 1))
    stores = [i for i, k in zip(ids, kinds, strict=True) if k in STORES] or [ids[0]]
    assets = []
    for asset_id, kind in zip(ids, kinds, strict=True):
        trust = KIND_MIX[kind][1]
        facing = kind in ("api_gateway", "external_service") or (kind == "inference_endpoint" and rng.random() < 0.3)
        assets.append(
            AssetData(
                id=asset_id,
                name=f"{kind}-{asset_id}",
                kind=kind,
                zone_id=rng.choice(by_trust[trust]),
                hosted_on_id=rng.choice(stores) if kind in DATA else None,
                internet_facing=facing,
                authentication=rng.choice(["none", "api_key", "sso", "sso", "mtls"]),
                mfa=rng.random() < 0.5,
                encrypted_at_rest=rng.random() < 0.6,
                rate_limited=kind == "api_gateway" or rng.random() < 0.3,
                output_granularity=rng.choice(["label", "score", "logits"]) if kind == "inference_endpoint" else "",
                model_class=rng.choice(["llm", "classifier", "embedding"]) if kind == "inference_endpoint" else "",
                logging=rng.random() < 0.7,
                monitored=rng.random() < 0.4,
                third_party=kind in ("external_service", "model_hub", "package_source"),
                personnel=rng.choice(["employee", "employee", "contractor", "vendor"]) if kind == "human_role" else "",
                criticality=5 if kind in WEIGHTS else rng.randint(1, 4),
                size_gb=round(rng.uniform(1, 800), 1) if kind in WEIGHTS else None,
                tags=("prod",) if rng.random() < 0.5 else (),
                value_max=1e6 if kind in WEIGHTS else 0.0,
            )
        )
    weights = [a.id for a in assets if a.kind in WEIGHTS]
    flows = []
    for flow_id in range(1, 3 * n_assets + 1):
        source = rng.choice(ids)
        target = rng.choice(ids)
        while target == source:
            target = rng.choice(ids)
        flows.append(
            FlowData(
                id=flow_id,
                name=f"flow-{flow_id}",
                source_id=source,
                target_id=target,
                protocol=rng.choice(["https", "https", "grpc", "ssh", "s3", "nfs", "http"]),
                authenticated=rng.random() < 0.8,
                encrypted=rng.random() < 0.85,
                bidirectional=rng.random() < 0.2,
                carries=(rng.choice(weights),) if weights and rng.random() < 0.05 else (),
            )
        )
    return SystemSnapshot(zones=tuple(zones), assets=tuple(assets), flows=tuple(flows))


def median_time(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of REPEATS runs, and the last result.

    CPU time (this process only) is what the ratios use: the machine is shared, and wall time
    also counts the time other processes hold the CPU.
    """
    walls, cpus, result = [], [], None
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus), result


def bench_ours(library: Library, n_assets: int) -> dict[str, Any]:
    snapshot = build_system(n_assets)
    facts_wall, facts_s, facts = median_time(lambda: derive_facts(snapshot))
    match_wall, match_s, found = median_time(lambda: find_threats(library, snapshot, facts))
    total_s = facts_s + match_s
    asset_threats = [t for t in library.threats if t.target == "asset"]
    flow_threats = len(library.threats) - len(asset_threats)
    pairs = len(asset_threats) * len(snapshot.assets) + flow_threats * len(snapshot.flows)
    kinds = [a.kind for a in snapshot.assets]
    evaluated = sum(k in t.asset_kinds for t in asset_threats for k in kinds) + flow_threats * len(snapshot.flows)
    return {
        "assets": n_assets,
        "flows": len(snapshot.flows),
        "zones": len(snapshot.zones),
        "facts_cpu_s": round(facts_s, 5),
        "match_cpu_s": round(match_s, 5),
        "total_cpu_s": round(total_s, 5),
        "total_wall_s": round(facts_wall + match_wall, 5),
        "findings": len(found),
        "rule_x_element_pairs": pairs,
        "rule_evaluations_run": evaluated,
        "ns_per_pair": round(total_s / pairs * 1e9, 1),
        "ns_per_pair_matching_only": round(match_s / pairs * 1e9, 1),
        # pytm's own count: every threat x every element, wrong-type pairs included
        "rule_x_all_elements": len(library.threats) * (len(snapshot.assets) + len(snapshot.flows)),
        "ns_per_rule_x_all_elements": round(
            total_s / (len(library.threats) * (n_assets + len(snapshot.flows))) * 1e9, 1
        ),
    }


def bench_pytm(n: int) -> dict[str, Any]:
    """pytm keeps its model in class-level state, hence TM.reset() before each model."""
    from pytm import TM, Boundary, Dataflow, Datastore, Server

    TM.reset()
    tm = TM(f"bench-{n}", description="generated for bench/rules.py")
    boundaries = [Boundary(f"zone-{i}") for i in range(5)]
    elements: list[Any] = []
    for i in range(n):
        element = (Server if i % 2 == 0 else Datastore)(f"element-{i}")
        element.inBoundary = boundaries[i % len(boundaries)]
        elements.append(element)
    for i in range(n - 1):
        Dataflow(elements[i], elements[i + 1], f"flow-{i}")
    tm.check()  # applies flow defaults as `tm.process()` would, outside the timing
    threats, evaluated = len(TM._threats), len(TM._elements)
    resolve_wall, resolve_s, _ = median_time(tm.resolve)
    result = {
        "elements_declared": n,
        "dataflows": n - 1,
        "elements_resolved": evaluated,
        "threats": threats,
        "resolve_cpu_s": round(resolve_s, 5),
        "resolve_wall_s": round(resolve_wall, 5),
        "findings": len(tm.findings),
        "rule_x_element_pairs": threats * evaluated,
        "ns_per_pair": round(resolve_s / (threats * evaluated) * 1e9, 1),
    }
    TM.reset()
    return result


def main() -> None:
    library, source = load()
    ours = {row["assets"]: row for row in (bench_ours(library, n) for n in SIZES)}
    theirs = {row["elements_declared"]: row for row in (bench_pytm(n) for n in PYTM_SIZES)}
    ratios = {
        str(n): {
            "total_time_pytm_over_ours": round(theirs[n]["resolve_cpu_s"] / ours[n]["total_cpu_s"], 2),
            "total_wall_time_pytm_over_ours": round(theirs[n]["resolve_wall_s"] / ours[n]["total_wall_s"], 2),
            "per_pair_pytm_over_ours": round(theirs[n]["ns_per_pair"] / ours[n]["ns_per_pair"], 2),
            "per_pair_pytm_over_ours_matching_only": round(
                theirs[n]["ns_per_pair"] / ours[n]["ns_per_pair_matching_only"], 2
            ),
            "per_pair_counted_like_pytm_pytm_over_ours": round(
                theirs[n]["ns_per_pair"] / ours[n]["ns_per_rule_x_all_elements"], 2
            ),
        }
        for n in PYTM_SIZES
    }
    import pytm

    # Same denominator on both sides (every threat x every element, as pytm evaluates them).
    speedup = ratios["1000"]["per_pair_counted_like_pytm_pytm_over_ours"]
    strict = ratios["1000"]["per_pair_pytm_over_ours"]
    print(
        json.dumps(
            {
                "benchmark": "rule engine vs pytm threat resolution",
                "python": platform.python_version(),
                "load_average_1m": round(os.getloadavg()[0], 2),
                "cpus": os.cpu_count(),
                "pytm_version": getattr(pytm, "__version__", None) or _dist_version("pytm"),
                "repeats": REPEATS,
                "library": {
                    "source": source,
                    "version": library.version,
                    "threats": len(library.threats),
                    "asset_threats": sum(t.target == "asset" for t in library.threats),
                    "flow_threats": sum(t.target == "flow" for t in library.threats),
                    "controls": len(library.controls),
                },
                "ours": list(ours.values()),
                "pytm": list(theirs.values()),
                "ratios": ratios,
                "goal": {
                    "per_rule_x_element_speedup_at_1000": speedup,
                    "target": 10,
                    "met": speedup >= 10,
                    "strict_speedup_at_1000_own_pairs_only": strict,
                },
                "notes": [
                    "times are medians of 3 runs; ns_per_pair and ratios use CPU time of this process, "
                    "wall times are shown alongside",
                    "ours = derive_facts + find_threats (the engine pauses the cyclic GC while it builds); "
                    "pytm = TM.resolve() after TM.check()",
                    "ours has ~3 flows per asset, pytm N-1 dataflows, so total times compare unequal systems",
                    "goal uses one definition for both tools: time / (threats x all elements), the pairs pytm "
                    "evaluates; the stricter ns_per_pair counts each threat only against elements of its own "
                    "target type (fewer pairs, so a higher cost per pair for ours) and is reported as "
                    "strict_speedup; rule_evaluations_run is fewer still because asset threats only test assets "
                    "of their kinds",
                    "ns_per_pair includes deriving the facts (5 graph searches), which pytm does not do",
                ],
            },
            indent=2,
        )
    )


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
