"""Audit events: an append-only, hash-chained record per team.

Each event stores a keyed seal (HMAC-SHA256) of its own content and the previous event's hash,
so changing, deleting or reordering any row breaks the chain, and nobody without the key can
re-seal it; signed anchors outside the database pin the head (docs/audit-chain.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from workbench.models.system import System
from workbench.models.teams import Team
from workbench.querysets import ElementQuerySet


class ChainScheme(models.IntegerChoices):
    """How an event's hash was computed; verification follows the scheme stored on the row."""

    SHA256 = 1, "SHA-256 (legacy)"
    HMAC = 2, "HMAC-SHA256"


class AuditEvent(models.Model):
    """Who did what to which object, with a before/after diff; written only by services."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="audit_events")
    sequence = models.PositiveBigIntegerField()
    system = models.ForeignKey(System, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Plain copies of the ids, hashed into the chain: the foreign keys above are nulled when a
    # system or user is deleted, and that must not look like tampering.
    system_ref = models.PositiveBigIntegerField(null=True, blank=True)
    actor_ref = models.PositiveBigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    verb = models.CharField(max_length=40)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # Default 1 so rows written before migration 0008 read as legacy; services always write HMAC.
    scheme = models.PositiveSmallIntegerField(choices=ChainScheme.choices, default=ChainScheme.SHA256)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["team", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["team", "sequence"], name="%(app_label)s_%(class)s_unique_sequence"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.actor_name} {self.verb} {self.object_type} {self.object_repr}"
