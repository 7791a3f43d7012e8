"""Celery entry points of the threat app: load by id, call a service, return a small dict."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from threats.services.diagrams import enqueue_render, stale_render_targets, system_render_diagrams
from threats.services.recompute import enqueue_recompute, stale_system_ids, system_recompute
from workbench.background import REDELIVERED, RETRY_DATABASE_ERRORS


@shared_task(
    name="threats.recompute_system", soft_time_limit=120, time_limit=150, **REDELIVERED, **RETRY_DATABASE_ERRORS
)
def recompute_system(self: Any, *, system_id: int) -> dict[str, Any]:
    """Recompute a system's findings and risk for its current version.

    Idempotency: conditional claim on (system, version) keyed by the task id, which a redelivered
    message keeps, so a run killed mid-way is finished by the redelivery and a duplicate run for
    a version that already has results writes nothing. Only database errors (transient) retry.
    """
    outcome = system_recompute(system_id=system_id, token=self.request.id or None)
    if outcome.status == "computed" and outcome.version is not None:
        enqueue_render(system_id, outcome.version)  # logs, never raises: the results are already stored
    return {"status": outcome.status, "version": outcome.version, "job_id": outcome.job_id}


@shared_task(
    name="threats.render_diagrams", soft_time_limit=110, time_limit=140, **REDELIVERED, **RETRY_DATABASE_ERRORS
)
def render_diagrams(self: Any, *, system_id: int, version: int) -> dict[str, Any]:
    """Draw the data-flow and attack-path diagrams and store the attack paths for ``version``.

    Idempotency: content key plus version guard. Renders are cached by the hash of the DOT text
    (the same picture is never laid out twice), results are stored only over older ones, and a
    run for a version that is already shown, or no longer current, writes nothing. The service's
    own 90 s budget bounds every ``dot`` run well inside the soft limit. Only database errors
    (transient) retry; a diagram dot cannot draw is a permanent outcome recorded on the Job.
    """
    outcome = system_render_diagrams(system_id=system_id, version=version, token=self.request.id or None)
    return {"status": outcome.status, "version": outcome.version, "job_id": outcome.job_id}


@shared_task(name="threats.sweep_stale_systems", soft_time_limit=60, time_limit=90)
def sweep_stale_systems() -> dict[str, Any]:
    """Re-enqueue systems whose results lag behind their version (the outbox sweep), and renders
    of systems whose risk is current but whose diagrams are not (a lost render message).

    Idempotency: enqueuing a fresh or claimed system is a no-op for the recompute task, and a
    render of a version already shown is a no-op for the render task.
    """
    ids = stale_system_ids()
    for system_id in ids:
        enqueue_recompute(system_id)
    renders = stale_render_targets()
    for system_id, version in renders:
        enqueue_render(system_id, version)
    return {"enqueued": len(ids), "renders": len(renders)}
