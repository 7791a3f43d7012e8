"""Benchmark the advisor (``advisor.plan_for``: greedy advice, choke points, weighted cut) on
generated systems of 100, 1,000 and 5,000 assets.

Run: ``.venv/bin/python bench/advisor.py`` (``BENCH_SIZES=100,1000`` to choose sizes). Prints ONE
JSON object. Each size runs in a child process of its own, so its time is a first run (nothing
cached from a smaller size) and its peak resident memory (RSS) is that size's alone.

The systems are ``bench/paths.py``'s ``make_system`` (an AI platform with six zones, eight crown
jewels and the five default attacker profiles), priced with the curated library and the
controls their properties imply, against an appetite of 5 M. The baseline measured in the same
run is one evaluation of the loss function the advisor calls for every candidate it scores
(``Evaluator.loss`` with no action: the view's graph and one run per profile): the advice's time
in baseline units says how many evaluations' worth it costs. Goals (issue 15): 1,000 assets
under 2 s, 5,000 under 10 s.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = tuple(int(s) for s in os.environ.get("BENCH_SIZES", "100,1000,5000").split(","))
APPETITE = 5e6
GOALS = {1000: 2.0, 5000: 10.0}


def _paths_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_paths", ROOT / "bench" / "paths.py")
    if spec is None or spec.loader is None:
        raise SystemExit("bench/paths.py not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _one_size(size: int) -> dict[str, Any]:
    from threats.engine.advisor import Evaluator, plan_for
    from threats.engine.controls import implied_controls

    paths = _paths_module()
    library = paths._library()  # noqa: SLF001 - the same curated library paths.py prices with
    snapshot, attackers, _ = paths.make_system(size)
    controls = implied_controls(snapshot, {c.code for c in library.controls})

    started = time.perf_counter()
    baseline = Evaluator(snapshot, library, attackers, controls).loss(())
    baseline_s = time.perf_counter() - started

    started = time.perf_counter()
    plan = plan_for(snapshot, library, attackers, controls, APPETITE)
    advice_s = time.perf_counter() - started
    advice = plan.advice
    goal = GOALS.get(size)
    return {
        "assets": len(snapshot.assets),
        "flows": len(snapshot.flows),
        "advice_seconds_first_run": round(advice_s, 3),
        "baseline_one_evaluation_seconds": round(baseline_s, 3),
        "advice_in_evaluations": round(advice_s / baseline_s, 1) if baseline_s > 0 else None,
        "candidates": advice.candidates,
        "evaluated": advice.evaluated,
        "steps": len(advice.steps),
        "loss_before": round(advice.loss_before),
        "loss_after": round(advice.loss_after),
        "baseline_loss_matches": bool(abs(baseline - advice.loss_before) <= 1e-6 * max(baseline, 1.0)),
        "choke_points": len(plan.choke_points),
        "cut_assets": len(plan.cut.assets),
        "cut_flows": len(plan.cut.flows),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "goal_seconds": goal,
        "meets_goal": None if goal is None else bool(advice_s < goal),
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--size":
        print(json.dumps(_one_size(int(sys.argv[2]))))
        return
    results = {}
    for size in SIZES:
        done = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, __file__, "--size", str(size)], capture_output=True, text=True, check=True
        )
        results[str(size)] = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        json.dumps(
            {"benchmark": "advisor", "python": platform.python_version(), "appetite": APPETITE, "sizes": results},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
