"""A large sync end to end through a real Celery worker on Redis (CI runs it; locally it needs
REDIS_URL and DATABASE_URL)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, UserFactory
from tests.workbench.inventory_sync_support import inventory, post_sync
from workbench.choices import Role
from workbench.models import DataFlow, InventorySync
from workbench.services.systems import system_create
from workbench.services.teams import team_create

pytestmark = pytest.mark.celery_worker


def test_a_large_sync_is_processed_by_the_worker(celery_worker: Any, settings: Any, held_changes: list[int]) -> None:
    # held_changes: the recompute has its own worker tests
    settings.INVENTORY_SYNC_INLINE_ITEMS = 10
    owner = UserFactory(username="worker-sync-owner")
    team = team_create(name="Worker sync team", creator=owner)
    editor = UserFactory(username="worker-sync-editor")
    MembershipFactory(team=team, user=editor, role=Role.EDITOR)
    system = system_create(actor=owner, team=team, name="Worker sync system")
    client = APIClient()
    client.force_login(editor)

    accepted = post_sync(client, system, inventory(8))

    assert accepted.status_code == 202
    url = accepted.json()["job"]["url"]
    deadline = time.monotonic() + 30
    while (status := client.get(url).json())["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    assert status["status"] == "succeeded", status
    assert status["result"]["summary"]["assets"]["created"] == 8
    assert DataFlow.objects.filter(system=system, origin="cmdb").count() == 16
    assert bytes(InventorySync.objects.get(job_id=status["id"]).payload) == b""
