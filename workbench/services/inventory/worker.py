"""The worker's side of a queued sync: run it, record its answer, serve that answer.

The full answer with one entry per item is stored compressed on the ``InventorySync`` row and
served by the Job's status endpoint (``sync_job_answer``), which never has to parse it. It is the
answer the sync would have given inline, HTTP status included: the worker task is told that
status by the API's mapping (``status_for``), as the inline path is.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied

from workbench.background import JobRun
from workbench.models import InventorySync, Job
from workbench.services.inventory.errors import SyncError
from workbench.services.inventory.outcome import SYNCED, StatusFor, collector_paused
from workbench.services.inventory.sync import inventory_sync
from workbench.services.packed import pack, unpack_bytes

# The per-item lists of an answer: kept compressed on the InventorySync row, not in Job.result.
ITEM_LISTS = ("assets", "flows", "deleted")
PERMISSION_DENIED = "permission_denied"


def inventory_sync_run(*, sync_id: int, status_for: StatusFor, task_id: str = "") -> dict[str, Any]:
    """Process a queued sync and record its answer (the worker's service).

    The Job's ``result`` gets the summary (status, counts, version, item errors); the full
    answer goes compressed on the sync row (see the module docstring).
    """
    row = InventorySync.objects.select_related("system__team", "actor", "job").filter(pk=sync_id).first()
    if row is None or row.job is None:
        return {"status": "gone"}
    job = row.job
    if job.is_terminal:
        return {"status": "done", "job_id": job.pk}
    run = JobRun(job)
    if not row.payload:
        run.fail("The queued body is no longer stored; send the sync again.")
        return {"status": "gone", "job_id": job.pk}
    code: str
    body: dict[str, Any]
    with run.running(task_id=task_id):  # a refusal is an answer; anything else fails the Job
        try:
            with collector_paused():
                payload = json.loads(unpack_bytes(row.payload).decode("utf-8"))
            result = inventory_sync(actor=row.actor, system=row.system, payload=payload)
            code, body = result.code, result.body
        except SyncError as exc:
            code, body = exc.code, exc.body()
        except PermissionDenied as exc:
            code, body = PERMISSION_DENIED, {"detail": str(exc), "code": PERMISSION_DENIED}
    status_code = status_for(code)
    full = {"status_code": status_code, **body}
    with collector_paused():
        packed = pack(full)
    InventorySync.objects.filter(pk=row.pk).update(payload=b"", answer=packed)
    summary = {key: value for key, value in full.items() if key not in ITEM_LISTS}
    if code == SYNCED:
        run.finish(summary)
    else:
        run.fail(str(body.get("detail", "The sync was refused.")), result=summary)
    return {"status": "finished", "job_id": job.pk, "status_code": status_code}


def sync_job_answer(job: Job) -> bytes | None:
    """The full answer of a processed sync Job as JSON bytes, or None (not processed yet)."""
    stored = InventorySync.objects.filter(job=job).values_list("answer", flat=True).first()
    return unpack_bytes(stored) if stored else None
