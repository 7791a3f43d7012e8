"""Copies of data assets: where a jewel's content is stored and where it is loaded in memory.

Risk method v2 (DESIGN.md §4.2): a model, dataset or prompt is one jewel however many copies it
has, and every copy is a target (the weakest sets the odds). A *stored* copy is a persistent one
on a store, host, device or person (the first in order is the system of record); a *loaded*
copy is the decrypted content in a host's memory while it serves, trains or evaluates.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from workbench.choices import CopyMode
from workbench.models.elements import Asset
from workbench.models.rules import copy_error
from workbench.models.system import System
from workbench.models.teams import Team
from workbench.querysets import ElementQuerySet


class AssetCopy(models.Model):
    """One copy of the data asset ``asset`` held by ``holder``, another asset of its system.

    ``position`` orders the asset's copies of one mode; for stored copies 0 is the system of
    record. Written by ``workbench.services.copies`` (and inventory sync), never by hand.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="asset_copies")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="copies")
    holder = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="held_copies")
    mode = models.CharField(max_length=6, choices=CopyMode.choices)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["asset", "mode", "position"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "holder", "mode"], name="%(app_label)s_%(class)s_unique_holder"),
            models.UniqueConstraint(
                fields=["asset", "mode", "position"], name="%(app_label)s_%(class)s_unique_position"
            ),
            models.CheckConstraint(condition=~Q(asset=models.F("holder")), name="%(app_label)s_%(class)s_not_itself"),
        ]
        indexes = [models.Index(fields=["system"])]

    def __str__(self) -> str:
        return f"asset {self.asset_id} {self.mode} on {self.holder_id}"

    def clean(self) -> None:
        if self.asset_id is None or self.holder_id is None:
            return
        if self.asset_id == self.holder_id:
            raise ValidationError({"holder": "An asset cannot hold a copy of itself."})
        if self.asset.system_id != self.system_id or self.holder.system_id != self.system_id:
            raise ValidationError({"holder": "A copy and its holder belong to the copy's system."})
        problem = copy_error(self.asset.kind, self.holder.kind)
        if problem:
            raise ValidationError({"holder": problem})
