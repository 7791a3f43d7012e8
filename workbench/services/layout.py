"""Saving diagram positions: checked and scoped like any write, but outside the domain model.

Positions are presentation (see ``workbench.models.layout``): saving them neither bumps
``System.version`` nor writes an audit event, so dragging a box never tells collaborators the
model changed and never queues a recompute. The role check still applies: viewers cannot
rearrange a team's diagram.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from workbench.bounds import fits_int64
from workbench.models import Asset, AssetPosition, System
from workbench.models.layout import COORDINATE_LIMIT
from workbench.permissions import TeamCapability, require
from workbench.services.common import Actor


def _coordinate(value: float, where: str) -> float:
    number = float(value)
    if not math.isfinite(number) or abs(number) > COORDINATE_LIMIT:
        raise ValidationError({where: f"Coordinates must be finite numbers within ±{COORDINATE_LIMIT:.0f}."})
    return number


@transaction.atomic
def positions_save(*, actor: Actor, system: System, positions: Mapping[int, tuple[float, float]]) -> int:
    """Upsert the positions of some of the system's assets; returns how many were saved."""
    require(actor, system.team, TeamCapability.EDIT_MODEL)
    if not positions:
        return 0
    ids = set(positions)
    # An id beyond 64 bits names no asset, and must not reach the query (a driver error).
    queryable = {pk for pk in ids if fits_int64(pk)}
    known = set(Asset.objects.filter(system=system, pk__in=queryable).values_list("pk", flat=True))
    missing = sorted(ids - known)
    if missing:
        raise ValidationError({"positions": f"Not assets of this system: {', '.join(map(str, missing[:10]))}."})
    checked = {
        pk: (_coordinate(x, f"positions.{pk}.x"), _coordinate(y, f"positions.{pk}.y"))
        for pk, (x, y) in positions.items()
    }
    existing = {p.asset_id: p for p in AssetPosition.objects.select_for_update().filter(asset_id__in=ids)}
    now = timezone.now()
    updated = []
    for pk, (x, y) in checked.items():
        row = existing.get(pk)
        if row is not None:
            row.x, row.y, row.updated_at = x, y, now
            updated.append(row)
    if updated:
        AssetPosition.objects.bulk_update(updated, ["x", "y", "updated_at"])
    created = [
        AssetPosition(team_id=system.team_id, system=system, asset_id=pk, x=x, y=y)
        for pk, (x, y) in checked.items()
        if pk not in existing
    ]
    AssetPosition.objects.bulk_create(created)
    return len(checked)
