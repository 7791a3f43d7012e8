"""Benchmark: inventory sync of 1,000 / 10,000 / 50,000 assets (two flows per asset) on PostgreSQL.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/workbench_bench_sync .venv/bin/python bench/sync.py``
(the database is dropped and re-created; ``--sizes 1000,10000`` runs fewer sizes). Prints one JSON
object. Per size, on fresh systems:

- ``service``: ``inventory_sync`` called with the payload parsed from its JSON text (first sync,
  the same payload again, then with 10% of the assets and 10% of the flows changed);
- ``http``: the same three phases end to end through the view with Django's test client over
  https (production settings redirect plain http) and a read-write token (JSON bytes in,
  response out; each payload is encoded once before timing, as a client holds its body). Payloads
  above 5,000 items are answered 202 and processed as a Job; the task runs in-process (eager), so
  the figure includes the Job round trip (storing the body, the task parsing it again) and the
  GET of the finished Job with its per-item answer;
- baselines measured in the same run: ``copy`` is PostgreSQL ``COPY FROM STDIN`` of the very rows
  the first sync wrote (exported beforehand) into scratch tables with the same columns,
  constraints and indexes (the physical floor of writing those rows); ``naive`` is one HTTP POST per
  asset and one per flow through the asset and flow create pages, measured on 1,000 assets and
  2,000 flows and extrapolated linearly.

The generated inventory: six trust zones referenced by name, kinds cycling through the vocabulary,
values, tags and properties on every asset, every fifth asset hosted on a store, every asset with
flows to the next two, every tenth flow carrying an asset. The recompute each sync schedules is
counted, not run."""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/workbench_bench_sync")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

SIZES = (1000, 10_000, 50_000)
NAIVE_ASSETS = 1000
ZONES = (("Internet", 0), ("Edge", 1), ("Serving", 2), ("Corporate", 2), ("ML platform", 3), ("Enclave", 4))
KINDS = ("object_store", "gpu_host", "inference_endpoint", "model_registry", "notebook", "workstation", "ci_pipeline")
HOOK_CALLS: list[int] = []  # systems whose committed changes would have queued a recompute (see __main__)


def _prepare_database() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("bench/sync.py needs PostgreSQL (the COPY baseline): set DATABASE_URL")
    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:  # noqa: SLF001 - create the scratch database
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    from workbench.celery import app

    app.conf.task_always_eager = True  # Jobs run in-process: the figure is the sync, not queue latency


def _payload(n: int) -> dict[str, Any]:
    assets = []
    for i in range(n):
        item: dict[str, Any] = {
            "external_id": f"cmdb-{i:06d}",
            "name": f"{KINDS[i % len(KINDS)].replace('_', ' ')} {i}",
            "kind": KINDS[i % len(KINDS)],
            "zone": ZONES[1 + i % 5][0],
            "criticality": 1 + i % 5,
            "value_min": 1000 * (i % 7),
            "value_likely": 2000 * (i % 7) + 500,
            "value_max": 5000 * (i % 7) + 1000,
            "internet_facing": i % 11 == 0,
            "authentication": "sso" if i % 3 else "api_key",
            "encrypted_at_rest": i % 2 == 0,
            "logging": i % 4 == 0,
            "tags": ["cmdb", f"rack-{i % 40}"],
        }
        if i % 5 == 4:
            item["hosted_on"] = f"cmdb-{i - 4:06d}"  # an object_store every seventh... close enough
        assets.append(item)
    flows = []
    for i in range(n):
        for step in (1, 2):
            j = (i + step) % n
            entry: dict[str, Any] = {
                "source": f"cmdb-{i:06d}",
                "target": f"cmdb-{j:06d}",
                "protocol": "https" if step == 1 else "grpc",
                "encrypted": (i + step) % 6 != 0,
            }
            if (2 * i + step) % 10 == 0:
                entry["carries"] = [f"cmdb-{(i + 3) % n:06d}"]
            flows.append(entry)
    return {"source": "cmdb", "mode": "upsert", "assets": assets, "flows": flows}


def _changed(payload: dict[str, Any]) -> dict[str, Any]:
    changed = json.loads(json.dumps(payload))
    for item in changed["assets"][::10]:
        item["name"] += " (moved)"
        item["criticality"] = 5
    for entry in changed["flows"][::10]:
        entry["encrypted"] = not entry["encrypted"]
    return changed


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def _timed(action: Callable[[], Any]) -> tuple[float, int, Any]:
    counter = _QueryCounter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        outcome = action()
        elapsed = time.perf_counter() - start
    return elapsed, counter.count, outcome


def _new_system(user: Any, team: Any, name: str) -> Any:
    from workbench.services.elements import zone_save
    from workbench.services.systems import system_create

    system = system_create(actor=user, team=team, name=name, seed_defaults=True)
    for zone_name, level in ZONES[1:]:
        zone_save(actor=user, system=system, name=zone_name, trust_level=level)
    return system


def _phases(run: Callable[[Any, dict[str, Any]], dict[str, Any]], fresh: Callable[[int], Any], n: int) -> Any:
    """First sync on ``repeats`` fresh systems, then on the last one: the same payload again and
    10% changed (alternating with the original, so every run changes 10%). Medians reported."""
    payload = _payload(n)
    changed = _changed(payload)
    for body in (payload, changed):
        getattr(run, "prepare", lambda _: None)(body)
    repeats = 3 if n <= 10_000 else 1
    figures: dict[str, Any] = {}
    samples: dict[str, list[tuple[float, int, dict[str, Any]]]] = {"first": [], "unchanged": [], "changed_10pct": []}
    system = None
    for attempt in range(repeats):
        system = fresh(attempt)
        samples["first"].append(_timed(lambda s=system: run(s, payload)))
    for _ in range(repeats):
        samples["unchanged"].append(_timed(lambda: run(system, payload)))
    for attempt in range(repeats):
        body = changed if attempt % 2 == 0 else payload
        samples["changed_10pct"].append(_timed(lambda b=body: run(system, b)))
    for phase, runs in samples.items():
        seconds = sorted(elapsed for elapsed, _, _ in runs)
        figures[phase] = {
            "seconds": round(statistics.median(seconds), 3),
            "runs_s": [round(value, 3) for value in seconds],
            "queries": runs[-1][1],
            **runs[-1][2],
        }
    return figures, system


def _service_run(user: Any) -> Callable[[Any, dict[str, Any]], dict[str, Any]]:
    from workbench.services.inventory import inventory_sync

    encoded: dict[int, str] = {}

    def run(system: Any, body: dict[str, Any]) -> dict[str, Any]:
        data = json.loads(encoded[id(body)])  # a fresh parsed copy, as the view's parser hands it over
        hooks = len(HOOK_CALLS)
        result = inventory_sync(actor=user, system=system, payload=data)  # a refusal raises SyncError
        return {"recomputes_scheduled": len(HOOK_CALLS) - hooks, "summary": result.body["summary"]}

    def prepare(body: dict[str, Any]) -> None:
        encoded[id(body)] = json.dumps(body)

    run.prepare = prepare  # type: ignore[attr-defined]
    return run


def _http_run(token: str) -> Callable[[Any, dict[str, Any]], dict[str, Any]]:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    encoded: dict[int, bytes] = {}

    def run(system: Any, body: dict[str, Any]) -> dict[str, Any]:
        raw = encoded[id(body)]
        url = reverse("inventory-sync", kwargs={"version": "v1", "slug": system.slug})
        response = client.post(url, raw, content_type="application/json", secure=True)
        if response.status_code == 202:
            job = client.get(urlsplit(response.json()["job"]["url"]).path, secure=True).json()
            assert job["status"] == "succeeded", job.get("error")
            return {"http_status": 202, "body_mb": round(len(raw) / 1e6, 1)}
        assert response.status_code == 200, response.content[:300]
        return {"http_status": 200, "body_mb": round(len(raw) / 1e6, 1)}

    def prepare(body: dict[str, Any]) -> None:
        """Encode a payload before any timing: the client's own JSON encoding is not the server's time."""
        encoded[id(body)] = json.dumps(body).encode()

    run.prepare = prepare  # type: ignore[attr-defined]
    return run


def _copy_baseline(system: Any) -> dict[str, Any]:
    """COPY the rows the first sync wrote into scratch tables shaped like the real ones."""
    from workbench.models import Asset, DataFlow

    tables = {
        "asset": (Asset._meta.db_table, "system_id"),
        "flow": (DataFlow._meta.db_table, "system_id"),
        "carries": (DataFlow.carries.through._meta.db_table, None),
    }
    figures: dict[str, Any] = {}
    total = 0.0
    with connection.cursor() as cursor:
        raw = cursor.connection.cursor()
        for label, (table, system_column) in tables.items():
            buffer = io.StringIO()
            if system_column:
                query = f'SELECT * FROM "{table}" WHERE "{system_column}" = {int(system.pk)}'  # noqa: S608
            else:
                flows = DataFlow._meta.db_table
                query = (
                    f'SELECT c.* FROM "{table}" c JOIN "{flows}" f ON f.id = c.dataflow_id '  # noqa: S608
                    f"WHERE f.system_id = {int(system.pk)}"
                )
            raw.copy_expert(f"COPY ({query}) TO STDOUT", buffer)
            rows = buffer.getvalue().count("\n")
            raw.execute(f'DROP TABLE IF EXISTS "scratch_{label}"')
            raw.execute(f'CREATE TABLE "scratch_{label}" (LIKE "{table}" INCLUDING ALL)')
            buffer.seek(0)
            start = time.perf_counter()
            raw.copy_expert(f'COPY "scratch_{label}" FROM STDIN', buffer)
            connection.connection.commit()
            elapsed = time.perf_counter() - start
            total += elapsed
            figures[label] = {"rows": rows, "seconds": round(elapsed, 4)}
            raw.execute(f'DROP TABLE "scratch_{label}"')
        connection.connection.commit()
    figures["total_seconds"] = round(total, 4)
    return figures


def _naive_baseline(user: Any, team: Any, token: str) -> dict[str, Any]:
    """One POST per asset and per flow: through the API's create endpoints when they exist
    (``system-asset-list``), else through the create pages (session login)."""
    from django.urls import NoReverseMatch

    from workbench.models import Asset

    system = _new_system(user, team, "Naive")
    zones = dict(system.zones.values_list("name", "pk"))
    payload = _payload(NAIVE_ASSETS)
    try:
        asset_url = reverse("system-asset-list", kwargs={"version": "v1", "slug": system.slug})
        flow_url = reverse("system-flow-list", kwargs={"version": "v1", "slug": system.slug})
        client, path, created = Client(HTTP_AUTHORIZATION=f"Bearer {token}"), "api", 201
    except NoReverseMatch:
        asset_url = reverse("workbench:element_new", kwargs={"slug": system.slug, "kind": "assets"})
        flow_url = reverse("workbench:element_new", kwargs={"slug": system.slug, "kind": "flows"})
        client, path, created = Client(), "pages", 302
        client.force_login(user)

    def post(url: str, fields: dict[str, Any]) -> None:
        if path == "api":
            response = client.post(url, json.dumps(fields), content_type="application/json", secure=True)
        else:
            form = {key: value for key, value in fields.items() if not isinstance(value, bool)}
            form |= {key: "on" for key, value in fields.items() if value is True}
            if isinstance(form.get("tags"), list):
                form["tags"] = ", ".join(form["tags"])
            response = client.post(url, form, secure=True)
        assert response.status_code == created, (response.status_code, response.content[:500])

    hooks = len(HOOK_CALLS)
    start = time.perf_counter()
    for item in payload["assets"]:
        fields = {k: v for k, v in item.items() if k != "hosted_on"} | {"zone": zones[item["zone"]]}
        post(asset_url, fields | ({"source": "cmdb"} if path == "api" else {}))
    asset_seconds = time.perf_counter() - start
    pks = dict(Asset.objects.filter(system=system).values_list("name", "pk"))
    by_key = {item["external_id"]: pks[item["name"]] for item in payload["assets"]}
    start = time.perf_counter()
    for entry in payload["flows"]:
        fields = {"name": f"{entry['source']}->{entry['target']}", "protocol": entry["protocol"]}
        fields |= {
            "source": by_key[entry["source"]],
            "target": by_key[entry["target"]],
            "encrypted": entry["encrypted"],
        }
        post(flow_url, fields)
    flow_seconds = time.perf_counter() - start
    per_asset, per_flow = asset_seconds / NAIVE_ASSETS, flow_seconds / len(payload["flows"])
    return {
        "measured": {
            "path": f"one POST per item to the {'API create endpoints' if path == 'api' else 'create pages'}",
            "assets": NAIVE_ASSETS,
            "flows": len(payload["flows"]),
            "seconds": round(asset_seconds + flow_seconds, 2),
            "ms_per_asset_post": round(per_asset * 1000, 2),
            "ms_per_flow_post": round(per_flow * 1000, 2),
            "recomputes_scheduled": len(HOOK_CALLS) - hooks,
        },
        "extrapolate": lambda n: round(n * per_asset + 2 * n * per_flow, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    from workbench.services.teams import team_create
    from workbench.services.tokens import token_issue

    load_at_start = os.getloadavg()
    _prepare_database()
    user = get_user_model().objects.create_user("bench", password="bench-password-123")  # noqa: S106
    team = team_create(name="Bench", creator=user)
    _, token = token_issue(user=user, team=team, name="bench", read_only=False)
    naive = _naive_baseline(user, team, token)
    results = []
    for n in sizes:
        service, system = _phases(_service_run(user), lambda k, n=n: _new_system(user, team, f"Service {n} {k}"), n)
        http, _ = _phases(_http_run(token), lambda k, n=n: _new_system(user, team, f"HTTP {n} {k}"), n)
        copies = [_copy_baseline(system) for _ in range(3)]
        copy = statistics.median(entry["total_seconds"] for entry in copies)
        naive_s = naive["extrapolate"](n)
        results.append(
            {
                "assets": n,
                "flows": 2 * n,
                "service": service,
                "http": http,
                "copy_baseline": {**copies[-1], "median_total_seconds": round(copy, 4)},
                "naive_baseline_extrapolated_s": naive_s,
                "ratios": {
                    "service_first_over_copy": round(service["first"]["seconds"] / copy, 1),
                    "http_first_over_copy": round(http["first"]["seconds"] / copy, 1),
                    "naive_over_http_first": round(naive_s / http["first"]["seconds"], 1),
                },
            }
        )
    by_size = {r["assets"]: r for r in results}
    goals: dict[str, Any] = {}
    if 10_000 in by_size:
        goals["first_sync_10000_under_2s_end_to_end"] = by_size[10_000]["http"]["first"]["seconds"] < 2.0
        goals["unchanged_resync_10000_under_1s_end_to_end"] = by_size[10_000]["http"]["unchanged"]["seconds"] < 1.0
    goals["first_sync_within_10x_of_copy"] = {
        str(r["assets"]): r["ratios"]["http_first_over_copy"] <= 10 for r in results
    }
    print(
        json.dumps(
            {
                "benchmark": "inventory sync (bulk upsert) against COPY and one POST per item",
                "database": connection.vendor,
                "machine": {"cpus": os.cpu_count(), "load_average_at_start": load_at_start, "at_end": os.getloadavg()},
                "server_version": connection.pg_version,
                "inline_limit_items": getattr(settings, "INVENTORY_SYNC_INLINE_ITEMS", 5000),
                "naive_baseline": naive["measured"],
                "sync": results,
                "goals": goals,
                "notes": [
                    "service = inventory_sync() on parsed data, committed; http = JSON bytes through the view",
                    "payloads above the inline limit are a 202 Job run in-process (eager), then one GET of the Job",
                    "copy = COPY FROM STDIN of the first sync's rows (assets, flows, carried assets), median of 3",
                    "naive = one form POST per asset and per flow, measured at 1,000 assets, extrapolated",
                    "recomputes are counted (one per changing sync), not run",
                ],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    from workbench.background import hold_system_changes

    # The recompute each changing sync schedules is counted here, not run: bench/recompute.py's subject.
    with hold_system_changes() as HOOK_CALLS:
        main()
