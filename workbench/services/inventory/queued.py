"""Large inventory syncs: accepted as a Job, processed by a worker (``workbench.inventory_sync``).

The body is stored (compressed) on an ``InventorySync`` row until the worker has processed it;
the full answer with one entry per item is then stored compressed on that row and served by the
Job's status endpoint (``sync_job_answer``), which never has to parse it. The answer is the one
the sync would have given inline, HTTP status included: the worker is told that status by its
caller (``status_for``), as the inline path is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from workbench.choices import JobKind
from workbench.models import InventorySync, Job, System
from workbench.services.common import Actor, require_role
from workbench.services.inventory.envelope import Envelope
from workbench.services.inventory.errors import SyncError
from workbench.services.inventory.sync import (
    SYNCED,
    StatusFor,
    SyncResult,
    collector_paused,
    inventory_sync,
    remember,
    replay,
    with_retries,
)
from workbench.services.jobs import job_create, job_fail, job_finish, job_start
from workbench.services.packed import pack, pack_bytes, unpack_bytes

logger = logging.getLogger(__name__)

# The per-item lists of an answer: kept compressed on the InventorySync row, not in Job.result.
ITEM_LISTS = ("assets", "flows", "deleted")
PERMISSION_DENIED = "permission_denied"


def inventory_sync_enqueue(
    *,
    actor: Actor,
    system: System,
    envelope: Envelope,
    raw_body: bytes,
    body_sha256: str,
    idempotency_key: str,
    job_url: Callable[[Job], str],
    status_for: StatusFor | None,
) -> SyncResult:
    """Accept a large payload as a Job and queue ``workbench.inventory_sync`` after commit.

    With an Idempotency-Key a retry replays the same acceptance (same Job) instead of queueing twice.
    """
    from workbench.tasks import inventory_sync_job

    def attempt() -> SyncResult | SyncError:
        with transaction.atomic():
            System.objects.select_for_update(no_key=True).only("id").get(pk=system.pk)
            require_role(actor=actor, team=system.team)
            if idempotency_key:
                replayed = replay(system=system, actor=actor, key=idempotency_key, body_sha256=body_sha256)
                if replayed is not None:
                    return replayed
            job = job_create(team=system.team, kind=JobKind.SYNC, system=system, system_version=system.version)
            accepted = SyncResult(
                {
                    "source": envelope.source,
                    "mode": envelope.mode,
                    "dry_run": envelope.dry_run,
                    "items": envelope.item_count,
                    "job": {"id": job.pk, "status": job.status, "url": job_url(job)},
                },
                queued=True,
            )
            row = remember(
                system=system,
                actor=actor,
                key=idempotency_key,
                body_sha256=body_sha256,
                source=envelope.source,
                code=accepted.code,
                body=accepted.body,
                status_for=status_for,
                payload=pack_bytes(raw_body),
                job=job,
            )
            transaction.on_commit(lambda: _queue(inventory_sync_job, row.pk, job))
            return accepted

    outcome = with_retries(attempt)
    if isinstance(outcome, SyncError):
        raise outcome
    return outcome


def _queue(task: Any, sync_id: int, job: Job) -> None:
    try:
        task.delay(sync_id=sync_id)
    except Exception as exc:  # noqa: BLE001 - a broker outage must end in a failed Job, not a lost one
        logger.exception("could not queue inventory sync %s", sync_id)
        job_fail(job=job, error=f"Could not queue the sync ({type(exc).__name__}); send it again.")
        InventorySync.objects.filter(pk=sync_id).update(payload=b"")


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
    if not row.payload:
        job_fail(job=job, error="The queued body is no longer stored; send the sync again.")
        return {"status": "gone", "job_id": job.pk}
    job_start(job=job, task_id=task_id)
    code: str
    body: dict[str, Any]
    try:
        with collector_paused():
            payload = json.loads(unpack_bytes(row.payload).decode("utf-8"))
        result = inventory_sync(actor=row.actor, system=row.system, payload=payload)
        code, body = result.code, result.body
    except SyncError as exc:
        code, body = exc.code, exc.body()
    except PermissionDenied as exc:
        code, body = PERMISSION_DENIED, {"detail": str(exc), "code": PERMISSION_DENIED}
    except Exception as exc:
        job_fail(job=job, error=f"{type(exc).__name__}: {exc}")
        raise
    status_code = status_for(code)
    full = {"status_code": status_code, **body}
    with collector_paused():
        packed = pack(full)
    InventorySync.objects.filter(pk=row.pk).update(payload=b"", answer=packed)
    summary = {key: value for key, value in full.items() if key not in ITEM_LISTS}
    if code == SYNCED:
        job_finish(job=job, result=summary)
    else:
        job_fail(job=job, error=str(body.get("detail", "The sync was refused.")))
        Job.objects.filter(pk=job.pk).update(result=summary)
    return {"status": "finished", "job_id": job.pk, "status_code": status_code}


def sync_job_answer(job: Job) -> bytes | None:
    """The full answer of a processed sync Job as JSON bytes, or None (not processed yet)."""
    stored = InventorySync.objects.filter(job=job).values_list("answer", flat=True).first()
    return unpack_bytes(stored) if stored else None
