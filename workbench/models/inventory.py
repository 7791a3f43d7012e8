"""Inventory sync requests: stored answers for ``Idempotency-Key`` replays and queued payloads.

A row exists only when a client sent an ``Idempotency-Key`` or when a large payload was queued
for a worker; an ordinary sync writes none, so re-sending an unchanged inventory writes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from workbench.models.jobs import Job
from workbench.models.system import System
from workbench.models.teams import Team
from workbench.querysets import ElementQuerySet


class InventorySync(models.Model):
    """One accepted sync request: its body digest, the answer given and, while queued, its body.

    ``(system, actor, idempotency_key)`` is unique, so a retried request with the same key finds
    the stored answer instead of syncing again; the digest tells a retry from a different body
    reusing the key. For a queued sync, ``payload`` holds the request body (compressed,
    ``workbench.services.packed``) until the worker has processed it, and ``answer`` then holds
    the full per-item answer the Job's status returns (its ``result`` keeps the summary).
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="inventory_syncs")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=200, blank=True)
    body_sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    payload = models.BinaryField(blank=True, default=b"")
    answer = models.BinaryField(blank=True, default=b"")
    job = models.OneToOneField(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="inventory_sync")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "actor", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="%(app_label)s_%(class)s_unique_key",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="workbench_invsync_created")]

    def __str__(self) -> str:
        return f"sync {self.source} -> {self.status_code}"
