"""Build the engines' plain snapshot of a system from the database in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from threats.engine.attackers import AttackerData
from threats.engine.snapshot import AssetData, FlowData, Money, SystemSnapshot, ZoneData
from workbench.choices import CopyMode
from workbench.models import Asset, AssetCopy, AttackerProfile, DataFlow, System, TrustZone
from workbench.models.elements import ASSET_PROPERTIES

_ASSET_COLUMNS = (
    "id",
    "name",
    "kind",
    "zone_id",
    "hosted_on_id",
    *ASSET_PROPERTIES,
    "criticality",
    "size_gb",
    "tags",
    "value_min",
    "value_likely",
    "value_max",
)
_MONEY_COLUMNS = {
    "replication_value": ("replication_value_min", "replication_value_likely", "replication_value_max"),
    "compute_cost_per_day": ("compute_cost_min", "compute_cost_likely", "compute_cost_max"),
}


def _money(row: dict[str, Decimal | None], columns: tuple[str, str, str]) -> Money | None:
    low, likely, high = (row.pop(column) for column in columns)
    if low is None or likely is None or high is None:  # all three or none (a database check)
        return None
    return (float(low), float(likely), float(high))


def system_snapshot(*, system: System) -> SystemSnapshot:
    """Six queries whatever the system's size: zones, assets, copies, served models, flows, carried
    assets. A data asset's ``stored_on`` lists its stored copies in order (the system of record
    first), ``loaded_on`` its loaded ones; ``serves`` is sorted, like ``carries``."""
    zones = tuple(
        ZoneData(id=z["id"], name=z["name"], trust_level=z["trust_level"], parent_id=z["parent_id"])
        for z in TrustZone.objects.filter(system=system).order_by("id").values("id", "name", "trust_level", "parent_id")
    )
    copies: dict[str, dict[int, list[int]]] = {CopyMode.STORED: defaultdict(list), CopyMode.LOADED: defaultdict(list)}
    for asset_id, holder_id, mode in (
        AssetCopy.objects.filter(system=system)
        .order_by("asset_id", "mode", "position")
        .values_list("asset_id", "holder_id", "mode")
    ):
        copies[mode][asset_id].append(holder_id)
    served: dict[int, list[int]] = defaultdict(list)
    for endpoint_id, model_id in Asset.serves.through.objects.filter(from_asset__system=system).values_list(
        "from_asset_id", "to_asset_id"
    ):
        served[endpoint_id].append(model_id)
    columns = (*_ASSET_COLUMNS, *(column for triple in _MONEY_COLUMNS.values() for column in triple))
    assets = []
    for row in Asset.objects.filter(system=system).order_by("id").values(*columns):
        row["size_gb"] = float(row["size_gb"]) if row["size_gb"] is not None else None
        row["tags"] = tuple(row["tags"] or ())
        for key in ("value_min", "value_likely", "value_max"):
            row[key] = float(row[key])
        for field, triple in _MONEY_COLUMNS.items():
            row[field] = _money(row, triple)
        asset_id = row["id"]
        row["stored_on"] = tuple(copies[CopyMode.STORED].get(asset_id, ()))
        row["loaded_on"] = tuple(copies[CopyMode.LOADED].get(asset_id, ()))
        row["serves"] = tuple(sorted(served.get(asset_id, ())))
        assets.append(AssetData(**row))
    carried: dict[int, list[int]] = defaultdict(list)
    for flow_id, asset_id in DataFlow.carries.through.objects.filter(dataflow__system=system).values_list(
        "dataflow_id", "asset_id"
    ):
        carried[flow_id].append(asset_id)
    flows = tuple(
        FlowData(
            id=f["id"],
            name=f["name"],
            source_id=f["source_id"],
            target_id=f["target_id"],
            protocol=f["protocol"],
            authenticated=f["authenticated"],
            encrypted=f["encrypted"],
            bidirectional=f["bidirectional"],
            carries=tuple(sorted(carried.get(f["id"], ()))),
            initiator=f["initiator"],
        )
        for f in DataFlow.objects.filter(system=system)
        .order_by("id")
        .values(
            "id",
            "name",
            "source_id",
            "target_id",
            "protocol",
            "authenticated",
            "encrypted",
            "bidirectional",
            "initiator",
        )
    )
    return SystemSnapshot(zones=zones, assets=tuple(assets), flows=flows)


def attackers_snapshot(*, system: System) -> tuple[AttackerData, ...]:
    """The system's attacker profiles with their entry points: three queries."""
    zones: dict[int, list[int]] = defaultdict(list)
    for profile_id, zone_id in AttackerProfile.entry_zones.through.objects.filter(
        attackerprofile__system=system
    ).values_list("attackerprofile_id", "trustzone_id"):
        zones[profile_id].append(zone_id)
    assets: dict[int, list[int]] = defaultdict(list)
    for profile_id, asset_id in AttackerProfile.entry_assets.through.objects.filter(
        attackerprofile__system=system
    ).values_list("attackerprofile_id", "asset_id"):
        assets[profile_id].append(asset_id)
    return tuple(
        AttackerData(
            id=row["id"],
            name=row["name"],
            capability=row["capability"],
            actor_type=row["actor_type"],
            entry_zone_ids=tuple(sorted(zones.get(row["id"], ()))),
            entry_asset_ids=tuple(sorted(assets.get(row["id"], ()))),
            attempts_per_year=float(row["attempts_per_year"]),
        )
        for row in AttackerProfile.objects.filter(system=system)
        .order_by("id")
        .values("id", "name", "capability", "actor_type", "attempts_per_year")
    )
