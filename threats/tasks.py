"""Celery entry points of the threat app: load by id, call a service, return a small dict."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from threats.services.recompute import enqueue_recompute, stale_system_ids, system_recompute


@shared_task(
    name="threats.recompute_system",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=120,
    time_limit=150,
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
)
def recompute_system(self: Any, *, system_id: int) -> dict[str, Any]:
    """Recompute a system's findings and risk for its current version.

    Idempotency: conditional claim on (system, version) keyed by the task id, which a redelivered
    message keeps, so a run killed mid-way is finished by the redelivery and a duplicate run for
    a version that already has results writes nothing. Only database errors (transient) retry.
    """
    outcome = system_recompute(system_id=system_id, token=self.request.id or None)
    return {"status": outcome.status, "version": outcome.version, "job_id": outcome.job_id}


@shared_task(name="threats.sweep_stale_systems", soft_time_limit=60, time_limit=90)
def sweep_stale_systems() -> dict[str, Any]:
    """Re-enqueue systems whose results lag behind their version (the outbox sweep).

    Idempotency: enqueuing a fresh or claimed system is a no-op for the recompute task.
    """
    ids = stale_system_ids()
    for system_id in ids:
        enqueue_recompute(system_id)
    return {"enqueued": len(ids)}
