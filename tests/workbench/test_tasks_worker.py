"""Task tests against a real Celery worker on Redis (CI runs them; locally they need REDIS_URL)."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model

from workbench.background import JobRun
from workbench.choices import JobKind, JobStatus
from workbench.models import AuditEvent, Job
from workbench.services.systems import system_create
from workbench.services.teams import team_create
from workbench.tasks import verify_audit_chain


def _wait_for(job: Job, timeout: float = 20.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_terminal:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout}s")


@pytest.fixture
def team_with_history(transactional_db: object):
    user = get_user_model().objects.create_user("worker-owner", password="x" * 16)
    team = team_create(name="Worker team", creator=user)
    system_create(actor=user, team=team, name="Worker system")
    return team


def test_worker_verifies_an_intact_chain(celery_worker: object, team_with_history) -> None:
    job = JobRun.create(team=team_with_history, kind=JobKind.AUDIT_VERIFY).job
    verify_audit_chain.delay(team_id=team_with_history.pk, job_id=job.pk)
    job = _wait_for(job)
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["ok"] is True
    assert job.result["checked"] == AuditEvent.objects.filter(team=team_with_history).count()
    assert job.task_id  # ran in the worker, which stamps its task id


def test_worker_reports_a_tampered_chain(celery_worker: object, team_with_history) -> None:
    AuditEvent.objects.filter(team=team_with_history, sequence=2).update(object_repr="forged")
    job = JobRun.create(team=team_with_history, kind=JobKind.AUDIT_VERIFY).job
    verify_audit_chain.delay(team_id=team_with_history.pk, job_id=job.pk)
    job = _wait_for(job)
    assert job.status == JobStatus.FAILED
    assert job.result["broken_sequence"] == 2
    assert "#2" in job.error
