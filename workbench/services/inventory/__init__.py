"""Inventory sync (DESIGN.md §7): one entry point, ``inventory_sync``, returning domain results.

Modules, in the order a sync runs through them:

* ``envelope``: the request read once (size, envelope, full-sync guard);
* ``checks`` and ``items``: every item's values, without the database;
* ``stored``, ``plan`` and ``relations``: the plan of writes against the stored rows;
* ``write``: the plan written with set-based statements;
* ``answers``: the result, the invalid-items refusal and the audit summary;
* ``sync``: the entry point (lock, then plan and write), with ``outcome`` (results, retries)
  and ``idempotency`` (stored answers); ``queued`` and ``worker``: large payloads as Jobs;
* ``errors``: the refusals, each a ``SyncError`` with a code that the API maps to HTTP.
"""

from __future__ import annotations

from workbench.services.inventory.errors import SyncError
from workbench.services.inventory.idempotency import check_idempotency_key
from workbench.services.inventory.outcome import SyncResult, collector_paused
from workbench.services.inventory.sync import inline_limit, inventory_sync
from workbench.services.inventory.worker import inventory_sync_run, sync_job_answer

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
