"""Job rows: the user-visible record of every background run."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from workbench.choices import JobKind, JobStatus
from workbench.models import Job, System, Team


def job_create(*, team: Team, kind: JobKind, system: System | None = None, system_version: int | None = None) -> Job:
    return Job.objects.create(team=team, system=system, kind=kind, system_version=system_version)


def job_start(*, job: Job, task_id: str = "") -> Job:
    job.status = JobStatus.RUNNING
    job.started_at = timezone.now()
    job.task_id = task_id[:64]
    job.save(update_fields=["status", "started_at", "task_id"])
    return job


def job_finish(*, job: Job, result: dict[str, Any]) -> Job:
    job.status = JobStatus.SUCCEEDED
    job.progress = 100
    job.result = result
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "progress", "result", "finished_at"])
    return job


def job_fail(*, job: Job, error: str) -> Job:
    job.status = JobStatus.FAILED
    job.error = error[:10000]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    return job
