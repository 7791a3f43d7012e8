"""A verification of the audit chain that crashes fails its Job instead of leaving it "running".

The Job is what the audit page shows; one stuck at "running" would read as a check still in
progress for ever. The crash is forced where the verification reads the chain.
"""

from __future__ import annotations

import pytest

from workbench import tasks
from workbench.background import JobRun
from workbench.choices import JobKind, JobStatus
from workbench.models import Job, Team


def test_a_crash_while_verifying_fails_the_job_with_the_error(team_a: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    job = JobRun.create(team=team_a, kind=JobKind.AUDIT_VERIFY).job

    def broken(*, team: Team) -> None:
        raise RuntimeError("the chain could not be read")

    monkeypatch.setattr(tasks, "team_verify_audit", broken)
    with pytest.raises(RuntimeError):  # the task still raises: the worker's log and retries see it
        tasks.verify_audit_chain.apply(kwargs={"team_id": team_a.pk, "job_id": job.pk})

    stored = Job.objects.get(pk=job.pk)
    assert stored.status == JobStatus.FAILED
    assert stored.error == "RuntimeError: the chain could not be read"


def test_a_sound_chain_finishes_the_job(team_a: Team) -> None:
    job = JobRun.create(team=team_a, kind=JobKind.AUDIT_VERIFY).job

    tasks.verify_audit_chain.apply(kwargs={"team_id": team_a.pk, "job_id": job.pk})

    stored = Job.objects.get(pk=job.pk)
    assert stored.status == JobStatus.SUCCEEDED
    assert stored.result["ok"] is True
