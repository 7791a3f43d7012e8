"""Jobs: every background run a user can see (recompute, render, sync, import, audit check)."""

from __future__ import annotations

from django.db import models

from workbench.choices import JobKind, JobStatus
from workbench.models.system import System
from workbench.models.teams import Team
from workbench.querysets import ElementQuerySet


class Job(models.Model):
    """Status, progress and outcome of one background run."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="jobs")
    system = models.ForeignKey(System, on_delete=models.CASCADE, null=True, blank=True, related_name="jobs")
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    system_version = models.PositiveBigIntegerField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["system", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"

    @property
    def is_terminal(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
