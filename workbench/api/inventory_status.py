"""HTTP statuses of inventory-sync outcomes: the one place where the sync's codes become HTTP.

The sync (``workbench.services.inventory``) returns a result or raises a ``SyncError`` with a
code; the API view answers with the status below, and passes ``sync_status`` to the sync
for the answers it stores (Idempotency-Key replays, a queued sync's Job result), which must
carry the status the client would have got inline. Kept apart from the view so that the worker
task can hand it over without importing the views.
"""

from __future__ import annotations

STATUS_BY_CODE = {
    "synced": 200,
    "accepted": 202,
    "invalid_key": 400,
    "invalid_request": 400,
    "permission_denied": 403,
    "idempotency_key_reused": 409,
    "too_many_items": 413,
    "prune_all_required": 422,
    "invalid_items": 422,
    "system_too_large": 422,
}


def sync_status(code: str) -> int:
    """The HTTP status of a sync outcome code (a ``SyncResult.code`` or a ``SyncError.code``)."""
    return STATUS_BY_CODE[code]
