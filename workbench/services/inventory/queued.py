"""Large inventory syncs: accepted as a Job, then processed by a worker (``inventory.worker``).

The body is stored (compressed) on an ``InventorySync`` row until the worker has processed it;
with an Idempotency-Key a retry replays the same acceptance (same Job) instead of queueing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

from workbench.choices import JobKind
from workbench.models import InventorySync, Job, System
from workbench.permissions import TeamCapability, require
from workbench.services.common import Actor
from workbench.services.inventory.envelope import Envelope
from workbench.services.inventory.errors import SyncError
from workbench.services.inventory.idempotency import remember, replay
from workbench.services.inventory.outcome import StatusFor, SyncResult, with_retries
from workbench.services.jobs import job_create, job_fail
from workbench.services.packed import pack_bytes

logger = logging.getLogger(__name__)


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
            require(actor, system.team, TeamCapability.EDIT_MODEL)
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
