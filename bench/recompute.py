"""Benchmark: recompute (rules + risk + writes) of generated systems, process memory, and the time
from a committed edit to fresh results with a real Celery worker.

Each size runs in its own process, so the first recompute (every finding created and priced)
is a true first run and the process's peak resident memory (RSS) belongs to that size alone.

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
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Scripts of this folder are not packages of the project: keep them off the import path.
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

from workbench.background import hold_system_changes  # noqa: E402 - edits without their after-commit recompute

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


def _force_stale(system_id: int) -> None:
    """Make the stored results stale, so the next recompute does the whole work again."""
    from threats.models import SystemRisk

    SystemRisk.objects.filter(system_id=system_id).update(computed_version=0, claimed_version=0, claimed_at=None)


def _recompute(system_id: int, *, stale: bool = True) -> float:
    """Seconds for one recompute of the system's current version."""
    from threats.services.recompute import system_recompute

    if stale:
        _force_stale(system_id)
    start = time.perf_counter()
    outcome = system_recompute(system_id=system_id)
    assert outcome.status == "computed", outcome
    return time.perf_counter() - start


def _after_one_edit(system_id: int, user: object) -> float:
    """A recompute after a real edit that changes findings (authentication on an endpoint)."""
    from workbench.models import Asset, System
    from workbench.services.elements import asset_save

    system = System.objects.get(pk=system_id)
    asset = Asset.objects.filter(system=system, kind="inference_endpoint").order_by("pk").first()
    assert asset is not None
    with hold_system_changes():
        asset_save(
            actor=user, system=system, asset=asset, authentication="sso" if asset.authentication != "sso" else "none"
        )
    return _recompute(system_id, stale=False)


def _read_floor(system_id: int) -> float:
    from workbench.models import Asset, DataFlow

    start = time.perf_counter()
    list(Asset.objects.filter(system_id=system_id))
    list(DataFlow.objects.filter(system_id=system_id).prefetch_related("carries"))
    return time.perf_counter() - start


def _rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def _one_size(size: int) -> dict[str, object]:
    """Child process: generate, then time the first recompute, re-runs and edits at ``size``."""
    from threats.models import Finding
    from workbench.services.synthetic import system_generate
    from workbench.services.teams import team_create

    _prepare_database()
    user = get_user_model().objects.create_user("bench", password="bench-password-123")  # noqa: S106
    team = team_create(name="Bench", creator=user)
    with hold_system_changes():
        system = system_generate(actor=user, team=team, name=f"Generated {size}", assets=size, seed=size)
    rss_before = _rss_mb()
    first = _recompute(system.pk, stale=False)
    rss_first = _rss_mb()
    reruns = [_recompute(system.pk) for _ in range(3)]
    edited = [_after_one_edit(system.pk, user) for _ in range(3)]
    floor = statistics.median(_read_floor(system.pk) for _ in range(3))
    rerun = statistics.median(reruns)
    return {
        "assets": size,
        "flows": system.flows.count(),
        "findings": Finding.objects.filter(system=system).count(),
        "first_recompute_s": round(first, 3),
        "rerun_recompute_s": round(rerun, 3),
        "after_edit_recompute_s": round(statistics.median(edited), 3),
        "baseline_orm_read_s": round(floor, 4),
        "ratio_first_over_read": round(first / floor, 1),
        "ratio_rerun_over_read": round(rerun / floor, 1),
        "rss_mb_before_recompute": round(rss_before, 1),
        "rss_mb_peak_after_first": round(rss_first, 1),
        "rss_mb_peak": round(_rss_mb(), 1),
        "system_id": system.pk,
    }


def main() -> None:
    from django.db import connection

    if len(sys.argv) == 3 and sys.argv[1] == "--size":
        print(json.dumps(_one_size(int(sys.argv[2]))))
        return
    results = []
    for size in SIZES:
        env = {**os.environ}
        if not os.environ.get("DATABASE_URL"):
            env["SQLITE_NAME"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
        child = subprocess.run(
            [sys.executable, __file__, "--size", str(size)], env=env, capture_output=True, text=True, check=True
        )
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    by = {r["assets"]: r for r in results}
    goals: dict[str, bool] = {}
    for size, limit in ((1000, 1.0), (5000, 5.0)):
        if size in by:
            goals[f"first_recompute_{size}_under_{limit:g}s"] = float(by[size]["first_recompute_s"]) < limit
    if 1000 in by:
        goals["rerun_after_edit_1000_under_0.3s"] = float(by[1000]["after_edit_recompute_s"]) < 0.3
    if 5000 in by:
        goals["rss_5000_under_300mb"] = float(by[5000]["rss_mb_peak"]) < 300
    edit: dict[str, object] = {"skipped": "no 1,000-asset system"}
    if 1000 in by:  # again in this process, on a database of its own, with a real worker
        _prepare_database()
        from workbench.services.synthetic import system_generate
        from workbench.services.teams import team_create

        user = get_user_model().objects.create_user("bench", password="bench-password-123")  # noqa: S106
        team = team_create(name="Bench", creator=user)
        with hold_system_changes():
            system = system_generate(actor=user, team=team, name="Generated 1000", assets=1000, seed=1000)
        _recompute(system.pk, stale=False)
        edit = _edit_to_fresh(system.pk, user)
    if "median_s" in edit:
        goals["edit_to_fresh_under_1s_at_1000"] = float(edit["median_s"]) < 1.0  # type: ignore[arg-type]
    print(
        json.dumps(
            {
                "benchmark": "recompute and edit-to-fresh",
                "database": connection.vendor,
                "broker": settings.REDIS_URL or None,
                "draws": settings.RISK_DRAWS,
                "attacker_profiles": 5,
                "recompute": results,
                "edit_to_fresh_at_1000_assets": edit,
                "goals": goals,
                "notes": [
                    "recompute = snapshot + rules + risk (three views, Monte Carlo) + bulk writes",
                    "each size runs in a fresh process: first_recompute_s is a true first run, creating every"
                    " finding with its figures and explanation",
                    "rerun_recompute_s: median of 3 on the unchanged system, results made stale",
                    "after_edit_recompute_s: median of 3 edits toggling an endpoint's authentication",
                    "baseline_orm_read_s: reading the same system's assets and flows through the ORM, same run",
                    "rss_mb_*: the process's peak resident memory (ru_maxrss), numpy and Django included",
                    "edit_to_fresh: a service write commits, the worker recomputes, until results carry the version",
                ],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
