"""Concurrent syncs on PostgreSQL: threads with their own connections, committed data.

Skipped on SQLite (whose single writer serialises everything anyway) and a failure in CI, where
PostgreSQL is required (tests/service_plugin.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Count, F
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, UserFactory
from tests.service_plugin import require_service
from tests.workbench.inventory_sync_support import asset, flow, post_sync
from workbench.choices import Role
from workbench.models import Asset, AuditEvent, DataFlow, System
from workbench.services.audit import team_verify_audit
from workbench.services.systems import system_create
from workbench.services.teams import team_create

pytestmark = pytest.mark.postgres
CLIENTS = 20


@pytest.fixture
def world(transactional_db: Any, held_changes: list[int]) -> Any:
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    hooks = held_changes  # the systems whose changes committed, each once per transaction
    owner = UserFactory(username="sync-owner")
    team = team_create(name="Sync team", creator=owner)
    editor = UserFactory(username="sync-editor")
    MembershipFactory(team=team, user=editor, role=Role.EDITOR)
    system = system_create(actor=owner, team=team, name="Concurrent system")
    session = APIClient()
    session.force_login(editor)
    return {"system": system, "team": team, "cookies": session.cookies, "hooks": hooks}


def _client(cookies: Any) -> APIClient:
    client = APIClient()
    client.cookies = cookies
    return client


def _payload(n: int) -> dict[str, Any]:
    """Client n: assets k{3n}..k{3n+14} (each shared with about four other clients) in a chain,
    names that differ per client for the shared ones, and one flow from every asset to the next."""
    keys = [f"k{i}" for i in range(3 * n, 3 * n + 15)]
    assets = [asset(key, name=f"{key} seen by client {n}", criticality=1 + n % 5) for key in keys]
    flows = [flow(a, b, encrypted=n % 2 == 0) for a, b in zip(keys, keys[1:], strict=False)]
    return {"source": "cmdb", "assets": assets, "flows": flows}


def test_twenty_concurrent_syncs_with_overlapping_payloads_end_without_duplicates(world):
    system: System = world["system"]
    start = threading.Barrier(CLIENTS)
    results: dict[int, tuple[int, Any]] = {}

    def run(n: int) -> None:
        try:
            client = _client(world["cookies"])
            start.wait()
            response = post_sync(client, system, _payload(n))
            results[n] = (response.status_code, response.json())
        except Exception as exc:  # noqa: BLE001 - a thread's failure must reach the assertion
            results[n] = (0, repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(results) == list(range(CLIENTS))
    assert Counter(code for code, _ in results.values()) == {200: CLIENTS}, results
    duplicates = (
        Asset.objects.filter(system=system).values("source", "external_id").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert list(duplicates) == []
    expected_keys = {f"k{i}" for i in range(3 * (CLIENTS - 1) + 15)}
    assert set(Asset.objects.filter(system=system, source="cmdb").values_list("external_id", flat=True)) == (
        expected_keys
    )
    assert DataFlow.objects.filter(system=system, origin="cmdb").count() == len(expected_keys) - 1
    assert (
        not DataFlow.objects.filter(system=system)
        .values("origin", "external_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    # Every sync changed something (its names differ from its predecessor's): one bump, one event,
    # one recompute each, and the audit chain is intact.
    changed = sum(1 for _, body in results.values() if body["changed"])
    assert changed == CLIENTS
    assert AuditEvent.objects.filter(team=world["team"], verb="inventory_sync").count() == CLIENTS
    assert System.objects.get(pk=system.pk).version == 1 + CLIENTS
    assert world["hooks"] == [system.pk] * CLIENTS
    assert team_verify_audit(team=world["team"]).ok
    # Syncs ran one after the other: versions reported are all different.
    assert len({body["version"] for _, body in results.values()}) == CLIENTS


def test_concurrent_retries_with_one_idempotency_key_sync_once(world):
    system: System = world["system"]
    payload = _payload(0)
    start = threading.Barrier(CLIENTS)
    results: list[tuple[int, bool]] = []

    def run() -> None:
        try:
            client = _client(world["cookies"])
            start.wait()
            response = post_sync(client, system, payload, HTTP_IDEMPOTENCY_KEY="retry-storm")
            results.append((response.status_code, response.has_header("Idempotent-Replayed")))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert Counter(results) == {(200, False): 1, (200, True): CLIENTS - 1}
    assert AuditEvent.objects.filter(team=world["team"], verb="inventory_sync").count() == 1
    assert world["hooks"] == [system.pk]


def _deadlocks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def _deadlocks_rose_above(before: int, timeout: float = 5.0) -> bool:
    """Statistics reach pg_stat_database within about a second of the transaction's end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _deadlocks() > before:
            return True
        time.sleep(0.1)
    return False


def test_a_deadlock_with_a_browser_edit_is_retried_not_surfaced(world, caplog):
    """A browser edit locks an asset, then waits for the system row the sync holds while the sync
    waits for that asset: PostgreSQL aborts the sync (it waited first), which retries and wins."""
    system: System = world["system"]
    assert post_sync(_client(world["cookies"]), system, {"source": "cmdb", "assets": [asset("x")]}).status_code == 200
    target = Asset.objects.get(system=system, external_id="x")
    edit_holds_asset = threading.Event()
    sync_sent = threading.Event()
    outcome: dict[str, Any] = {}

    def browser_edit() -> None:
        try:
            with transaction.atomic():
                Asset.objects.filter(pk=target.pk).update(description="edited in the browser")
                edit_holds_asset.set()
                # Give the sync time to take the system row and queue for this asset; measured from
                # when it is sent, so a slow thread start on a loaded machine does not eat it.
                sync_sent.wait(5)
                time.sleep(0.7)  # under deadlock_timeout (1 s): the sync, waiting first, is the victim
                System.objects.filter(pk=system.pk).update(version=F("version") + 1)
            outcome["edit"] = "committed"
        except Exception as exc:  # noqa: BLE001
            outcome["edit"] = repr(exc)
        finally:
            connection.close()

    def sync() -> None:
        try:
            edit_holds_asset.wait(5)
            sync_sent.set()
            response = post_sync(
                _client(world["cookies"]), system, {"source": "cmdb", "assets": [asset("x", name="Y")]}
            )
            outcome["sync"] = (response.status_code, response.json())
        finally:
            connection.close()

    # Attach the capture to the service's logger itself: an in-process Celery worker started by an
    # earlier test may have reconfigured the root logger, and then propagation alone loses it.
    deadlocks_before = _deadlocks()
    service_logger = logging.getLogger("workbench.services.inventory")
    service_logger.addHandler(caplog.handler)
    threads = [threading.Thread(target=browser_edit), threading.Thread(target=sync)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        service_logger.removeHandler(caplog.handler)

    assert outcome["edit"] == "committed"
    status, body = outcome["sync"]
    assert status == 200, body
    assert body["assets"][0]["status"] == "updated"
    target.refresh_from_db()
    assert (target.name, target.description) == ("Y", "edited in the browser")
    # PostgreSQL counted the deadlock; the edit committed and the sync answered 200, so the sync was
    # the victim and its retry won (read from the server's statistics, not from log capture, which
    # an in-process worker started by an earlier test may have rewired).
    assert _deadlocks_rose_above(deadlocks_before)
