"""Celery entry points of the modelling app: load by id, call a service, return a small dict."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from workbench.api.inventory_status import sync_status
from workbench.background import REDELIVERED, JobRun
from workbench.choices import JobKind
from workbench.models import Job, Team
from workbench.services.audit import team_verify_audit
from workbench.services.audit_anchor import audit_anchor_write
from workbench.services.inventory import inventory_sync_run


@shared_task(name="workbench.verify_audit_chain", bind=True, soft_time_limit=300, time_limit=330)
def verify_audit_chain(self: Any, *, team_id: int, job_id: int | None = None) -> dict[str, Any]:
    """Verify a team's audit chain and record the outcome in a Job.

    Idempotency: read-only apart from its own Job row; a redelivered run re-verifies and
    finishes the same Job (looked up by ``job_id``), so ``acks_late`` is safe.
    """
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        return {"status": "gone"}
    job = Job.objects.filter(pk=job_id, team=team).first() if job_id else None
    run = JobRun(job) if job is not None else JobRun.create(team=team, kind=JobKind.AUDIT_VERIFY)
    with run.running(task_id=self.request.id or ""):  # a crash fails the Job, never leaves it running
        report = team_verify_audit(team=team)
        result = {
            "ok": report.ok,
            "checked": report.checked,
            "broken_sequence": report.broken_sequence,
            "reason": report.reason,
        }
        if report.ok:
            run.finish(result)
        else:
            run.fail(f"Audit chain broken at event #{report.broken_sequence}: {report.reason}", result=result)
    return {"job_id": run.job.pk, **result}


@shared_task(name="workbench.anchor_audit_chains", soft_time_limit=300, time_limit=330)
def anchor_audit_chains() -> dict[str, Any]:
    """Periodic (beat, AUDIT_ANCHOR_SECONDS): append a signed anchor of every chain head that moved.

    Idempotency: content key. A team whose newest anchor already names its current head is
    skipped, so a second run (or a redelivery) appends nothing new.
    """
    run = audit_anchor_write(only_changed=True)
    return {"written": len(run.written), "unchanged": run.unchanged, "skipped": run.skipped}


@shared_task(name="workbench.inventory_sync", soft_time_limit=900, time_limit=960, **REDELIVERED)
def inventory_sync_job(self: Any, *, sync_id: int) -> dict[str, Any]:
    """Process a large inventory sync that the API accepted as a Job.

    Idempotency: the sync itself is idempotent (a second run of the same payload writes nothing)
    and the Job is finished once: a redelivered message for a terminal Job returns at once; one
    for a Job its dead worker left running re-runs the sync, whose first attempt rolled back.
    """
    # The Job's answer is the one the API would have given inline, status included: the API's mapping.
    return inventory_sync_run(sync_id=sync_id, status_for=sync_status, task_id=self.request.id or "")
