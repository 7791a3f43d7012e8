"""Inventory sync (DESIGN.md §7): one entry point, ``inventory_sync``, returning domain results.

Modules, in the order a sync runs through them:

* ``envelope``: the request read once (size, envelope, full-sync guard);
* ``checks`` and ``items``: every item's values, without the database;
* ``stored``, ``plan`` and ``relations``: the plan of writes against the stored rows;
* ``write``: the plan written with set-based statements;
* ``answers``: the result, the invalid-items refusal and the audit summary;
* ``sync``: the entry point (lock, idempotency, retries); ``queued``: large payloads as Jobs;
* ``errors``: the refusals, each a ``SyncError`` with a code that the API maps to HTTP.
"""

from __future__ import annotations

from workbench.services.inventory.errors import SyncError
from workbench.services.inventory.queued import inventory_sync_run, sync_job_answer
from workbench.services.inventory.sync import (
    SyncResult,
    check_idempotency_key,
    collector_paused,
    inline_limit,
    inventory_sync,
)

__all__ = [
    "SyncError",
    "SyncResult",
    "check_idempotency_key",
    "collector_paused",
    "inline_limit",
    "inventory_sync",
    "inventory_sync_run",
    "sync_job_answer",
]
