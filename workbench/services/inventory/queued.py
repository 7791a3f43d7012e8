"""Large inventory syncs: accepted as a Job, then processed by a worker (``inventory.worker``).

The body is stored (compressed) on an ``InventorySync`` row until the worker has processed it;
with an Idempotency-Key a retry replays the same acceptance (same Job) instead of queueing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.db import transaction

from workbench.background import JobRun, enqueue_on_commit
from workbench.choices import JobKind
from workbench.models import InventorySync, Job, System
from workbench.permissions import TeamCapability, require
from workbench.services.common import Actor
from workbench.services.inventory.envelope import Envelope
from workbench.services.inventory.errors import SyncError
from workbench.services.inventory.idempotency import remember, replay
from workbench.services.inventory.outcome import StatusFor, SyncResult, with_retries
from workbench.services.packed import pack_bytes


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

    def attempt() -> SyncResult | SyncError:
        with transaction.atomic():
            System.objects.select_for_update(no_key=True).only("id").get(pk=system.pk)
            require(actor, system.team, TeamCapability.EDIT_MODEL)
            if idempotency_key:
                replayed = replay(system=system, actor=actor, key=idempotency_key, body_sha256=body_sha256)
                if replayed is not None:
                    return replayed
            job = JobRun.create(team=system.team, kind=JobKind.SYNC, system=system, system_version=system.version).job
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
            enqueue_on_commit(
                "workbench.inventory_sync",
                {"sync_id": row.pk},
                about=f"inventory sync {row.pk}",
                on_failure=partial(_not_queued, row.pk, job),
            )
            return accepted

    outcome = with_retries(attempt)
    if isinstance(outcome, SyncError):
        raise outcome
    return outcome


def _not_queued(sync_id: int, job: Job, exc: Exception) -> None:
    """A broker outage ends in a failed Job the client can see and send again, not a lost one."""
    JobRun(job).fail(f"Could not queue the sync ({type(exc).__name__}); send it again.")
    InventorySync.objects.filter(pk=sync_id).update(payload=b"")
