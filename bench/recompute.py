"""Benchmark: full recompute (rules + risk + writes) of generated systems, peak memory, and the time
from a committed edit to fresh results with a real Celery worker.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/workbench_bench REDIS_URL=redis://127.0.0.1:6379/7
.venv/bin/python bench/recompute.py`` (without DATABASE_URL a scratch SQLite file is used; without
REDIS_URL the edit-to-fresh part is skipped). Prints one JSON object. The baseline measured in the
same run is reading the same system's rows through the ORM (the floor any recompute pays).

Generated systems (``workbench.services.synthetic``): six trust zones, endpoints and gateways at
the edge, stores hosting weights, training and serving hosts, people, CI and notebooks, about
three flows per asset and the five default attacker profiles.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/rules.py would shadow the `rules` package if this folder stayed on the path.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if not os.environ.get("DATABASE_URL"):
    os.environ["SQLITE_NAME"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

SIZES = tuple(int(s) for s in os.environ.get("BENCH_SIZES", "100,1000,5000").split(","))
EDITS = 20


def _prepare_database() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        name = connection.settings_dict["NAME"]
        with connection._nodb_cursor() as cursor:  # noqa: SLF001 - create the scratch database
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    from threats.services.library import library_seed

    library_seed()


def _force_stale(system_id: int, *, cold: bool) -> None:
    """Make the stored results stale; ``cold`` also drops the Monte Carlo state, so every
    finding is simulated again (a full recompute, as after a library or engine change)."""
    from threats.models import SystemRisk

    values: dict[str, object] = {"computed_version": 0, "claimed_version": 0, "claimed_at": None}
    if cold:
        values["loss_state"] = None
    SystemRisk.objects.filter(system_id=system_id).update(**values)


def _recompute(system_id: int, *, cold: bool = True) -> tuple[float, int]:
    """Seconds for one recompute and how many findings the Monte Carlo simulated."""
    from threats.services.recompute import system_recompute

    _force_stale(system_id, cold=cold)
    start = time.perf_counter()
    outcome = system_recompute(system_id=system_id)
    assert outcome.status == "computed", outcome
    return time.perf_counter() - start, int((outcome.details or {}).get("findings_simulated", -1))


def _after_one_edit(system_id: int, user: object) -> tuple[float, int]:
    """A recompute after a real edit that changes findings (authentication on an endpoint)."""
    from workbench.models import Asset, System
    from workbench.services.elements import asset_save

    system = System.objects.get(pk=system_id)
    asset = Asset.objects.filter(system=system, kind="inference_endpoint").order_by("pk").first()
    assert asset is not None
    with _no_hooks():
        asset_save(
            actor=user, system=system, asset=asset, authentication="sso" if asset.authentication != "sso" else "none"
        )
    return _recompute(system_id, cold=False)


@contextmanager
def _no_hooks() -> Iterator[None]:
    """Edits without their after-commit recompute, so the timed run is the one that sees them."""
    from workbench.services.common import system_changed_hooks

    saved = list(system_changed_hooks)
    system_changed_hooks.clear()
    try:
        yield
    finally:
        system_changed_hooks.extend(saved)


def _read_floor(system_id: int) -> float:
    from workbench.models import Asset, DataFlow

    start = time.perf_counter()
    list(Asset.objects.filter(system_id=system_id))
    list(DataFlow.objects.filter(system_id=system_id).prefetch_related("carries"))
    return time.perf_counter() - start


def _peak_memory_mb(system_id: int) -> float:
    from threats.services.risk import compute_system_risk
    from workbench.models import System

    system = System.objects.get(pk=system_id)
    _force_stale(system_id, cold=True)  # the peak of a full run: every finding simulated
    tracemalloc.start()
    compute_system_risk(system=system)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def _edit_to_fresh(system_id: int, user: object) -> dict[str, object]:
    if not settings.REDIS_URL:
        return {"skipped": "needs REDIS_URL (a real worker on Redis)"}
    from threats.models import SystemRisk
    from workbench.celery import app
    from workbench.models import Asset, System
    from workbench.services.elements import asset_save

    app.control.purge()
    env = {**os.environ, "RISK_DRAWS": str(settings.RISK_DRAWS)}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workbench",
            "worker",
            "--pool=solo",
            "-Q",
            "celery",  # a recompute worker: diagram renders have their own queue and worker
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            "bench@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        system = System.objects.get(pk=system_id)
        asset = Asset.objects.filter(system=system, kind="inference_endpoint").first()
        times = []
        for n in range(EDITS + 1):
            start = time.perf_counter()
            # Authentication on an internet-facing endpoint changes reach, so findings change too.
            asset_save(actor=user, system=system, asset=asset, authentication="sso" if n % 2 else "none")
            system.refresh_from_db()
            deadline = start + 120
            while not SystemRisk.objects.filter(system=system, computed_version__gte=system.version).exists():
                if time.perf_counter() > deadline:
                    raise RuntimeError("worker did not catch up")
                time.sleep(0.005)
            if n:  # the first edit also pays worker start-up
                times.append(time.perf_counter() - start)
        return {
            "edits": EDITS,
            "median_s": round(statistics.median(times), 3),
            "max_s": round(max(times), 3),
            "min_s": round(min(times), 3),
        }
    finally:
        worker.kill()
        worker.wait()


def main() -> None:
    from django.db import connection

    from workbench.services.synthetic import system_generate
    from workbench.services.teams import team_create

    _prepare_database()
    user = get_user_model().objects.create_user("bench", password="bench-password-123")  # noqa: S106
    team = team_create(name="Bench", creator=user)
    results = []
    by_size: dict[int, int] = {}
    for size in SIZES:
        system = system_generate(actor=user, team=team, name=f"Generated {size}", assets=size, seed=size)
        by_size[size] = system.pk
        first, _ = _recompute(system.pk)
        cold = [_recompute(system.pk) for _ in range(3)]
        edited = [_after_one_edit(system.pk, user) for _ in range(3)]
        floor = statistics.median(_read_floor(system.pk) for _ in range(3))
        from threats.models import Finding

        full = statistics.median(t for t, _ in cold)
        results.append(
            {
                "assets": size,
                "flows": system.flows.count(),
                "findings": Finding.objects.filter(system=system).count(),
                "first_recompute_s": round(first, 3),
                "full_recompute_s": round(full, 3),
                "after_edit_recompute_s": round(statistics.median(t for t, _ in edited), 3),
                "after_edit_findings_simulated": statistics.median(n for _, n in edited),
                "baseline_orm_read_s": round(floor, 4),
                "ratio_full_recompute_over_read": round(full / floor, 1),
                "peak_memory_mb": round(_peak_memory_mb(system.pk), 1),
            }
        )
    full = {r["assets"]: r["full_recompute_s"] for r in results}
    goals: dict[str, bool] = {"peak_memory_under_500mb": max(r["peak_memory_mb"] for r in results) < 500}
    for size, limit in ((1000, 1.0), (5000, 5.0)):
        if size in full:
            goals[f"{size}_assets_under_{limit:g}s"] = full[size] < limit
    edit = _edit_to_fresh(by_size[1000], user) if 1000 in by_size else {"skipped": "no 1,000-asset system"}
    if "median_s" in edit:
        goals["edit_to_fresh_under_1s_at_1000"] = float(edit["median_s"]) < 1.0  # type: ignore[arg-type]
    print(
        json.dumps(
            {
                "benchmark": "full recompute and edit-to-fresh",
                "database": connection.vendor,
                "broker": settings.REDIS_URL or None,
                "draws": settings.RISK_DRAWS,
                "attacker_profiles": 5,
                "recompute": results,
                "edit_to_fresh_at_1000_assets": edit,
                "goals": goals,
                "notes": [
                    "recompute = snapshot + rules + risk (Monte Carlo) + bulk writes, in this process",
                    "first_recompute_s creates every finding and its risk row",
                    "full_recompute_s: median of 3, every finding simulated again (Monte Carlo state dropped)",
                    "after_edit_recompute_s: median of 3 edits toggling an endpoint's authentication; the Monte"
                    " Carlo re-simulates only findings whose inputs changed (after_edit_findings_simulated)",
                    "peak_memory_mb is tracemalloc's peak during compute_system_risk (numpy included)",
                    "edit_to_fresh: a service write commits, the worker recomputes, until results carry the version",
                ],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
