"""Where the diagram editor draws each asset: presentation, kept apart from the domain model.

A drag in the editor only moves a picture, so it must not bump ``System.version`` (which would
make everyone's open editor report a change and queue a recompute) nor append an audit event
(which would flood the hash-chained log with noise). Positions therefore live in their own rows,
written by ``workbench.services.layout`` without either side effect, and go with their asset.
"""

from __future__ import annotations

from django.db import models

from workbench.models.elements import Asset
from workbench.models.system import System
from workbench.models.teams import Team
from workbench.querysets import ElementQuerySet

COORDINATE_LIMIT = 1_000_000.0


class AssetPosition(models.Model):
    """One asset's position on the system's diagram (canvas units, origin at the top left)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="asset_positions")
    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="position")
    x = models.FloatField()
    y = models.FloatField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = ElementQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["system"])]

    def __str__(self) -> str:
        return f"asset {self.asset_id} at ({self.x:.0f}, {self.y:.0f})"
