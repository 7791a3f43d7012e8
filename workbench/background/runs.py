"""Job rows: the user-visible record of every background run, and the only code that writes one.

A Job goes queued -> running -> succeeded or failed. ``JobRun`` wraps one row and makes every
step one call, so no caller sets a status, a timestamp or a result by hand:

    run = JobRun.resumed_or_new(system=system, kind=JobKind.RENDER, version=version, token=token)
    with run.running(task_id=token):  # running now; an exception fails the Job and propagates
        details = draw()
    run.finish(details)  # or run.fail("why", result=details)

``running()`` only answers for a crash: the outcome of a run that returned is the run's own
decision (a stale render finishes, a refused sync fails with its reason), recorded inside or
after the block. A run that finished inside a transaction which then failed to commit is failed
by the block, since the finish rolled back with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils import timezone

from workbench.choices import JobKind, JobStatus
from workbench.models import Job, System, Team

ERROR_CHARS = 10000


class JobRun:
    """One Job row on its way from queued to an outcome."""

    def __init__(self, job: Job) -> None:
        self.job = job

    @classmethod
    def create(
        cls, *, team: Team, kind: JobKind, system: System | None = None, system_version: int | None = None
    ) -> JobRun:
        """A new queued Job (created where the work is accepted, before it is queued)."""
        return cls(Job.objects.create(team=team, system=system, kind=kind, system_version=system_version))

    @classmethod
    def resumed_or_new(cls, *, system: System, kind: JobKind, version: int, token: str) -> JobRun:
        """The Job a run with this task id left running, else a new one for ``version``.

        A redelivered message (its worker died mid-way) keeps its task id, so it finishes the
        Job the first delivery started instead of leaving that one running for ever.
        """
        job = Job.objects.filter(system=system, kind=kind, task_id=token[:64], status=JobStatus.RUNNING).first()
        if job is not None:
            return cls(job)
        return cls.create(team=system.team, kind=kind, system=system, system_version=version)

    @property
    def queued(self) -> bool:
        return self.job.status == JobStatus.QUEUED

    def start(self, *, task_id: str = "") -> None:
        """Running from now, under the Celery task id (a redelivery finds the Job by it)."""
        job = self.job
        job.status = JobStatus.RUNNING
        job.started_at = timezone.now()
        job.task_id = task_id[:64]
        job.save(update_fields=["status", "started_at", "task_id"])

    def progress(self, percent: int) -> None:
        """How far a long run has got (0-100), for the Job's status page."""
        self.job.progress = max(0, min(100, int(percent)))
        self.job.save(update_fields=["progress"])

    def finish(self, result: dict[str, Any]) -> None:
        """Succeeded with ``result`` (what the Job's page and API show)."""
        job = self.job
        job.status = JobStatus.SUCCEEDED
        job.progress = 100
        job.result = result
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "progress", "result", "finished_at"])

    def fail(self, error: str, *, result: dict[str, Any] | None = None) -> None:
        """Failed with ``error``; ``result`` keeps what the run found too (a broken audit chain's
        report, a refused sync's answer), written in the same statement."""
        job = self.job
        job.status = JobStatus.FAILED
        job.error = error[:ERROR_CHARS]
        job.finished_at = timezone.now()
        fields = ["status", "error", "finished_at"]
        if result is not None:
            job.result = result
            fields.append("result")
        job.save(update_fields=fields)

    def crashed(self, exc: BaseException) -> None:
        """Failed by an exception: the error says "Type: message" (the caller re-raises it)."""
        self.fail(f"{type(exc).__name__}: {exc}")

    @contextmanager
    def running(self, *, task_id: str = "") -> Iterator[JobRun]:
        """Start the Job; an exception leaving the block fails it (``crashed``) and propagates.

        Propagates so the task's retry policy and the worker's log still see it.
        """
        self.start(task_id=task_id)
        try:
            yield self
        except Exception as exc:
            self.crashed(exc)
            raise
