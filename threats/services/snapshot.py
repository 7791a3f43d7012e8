"""Build the engines' plain snapshot of a system from the database in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict

from threats.engine.attackers import AttackerData
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData
from workbench.models import Asset, AttackerProfile, DataFlow, System, TrustZone

_ASSET_COLUMNS = (
    "id",
    "name",
    "kind",
    "zone_id",
    "hosted_on_id",
    "internet_facing",
    "authentication",
    "mfa",
    "encrypted_at_rest",
    "rate_limited",
    "rate_limit_per_minute",
    "output_granularity",
    "model_class",
    "logging",
    "monitored",
    "third_party",
    "personnel",
    "criticality",
    "size_gb",
    "tags",
    "value_min",
    "value_likely",
    "value_max",
)


def system_snapshot(*, system: System) -> SystemSnapshot:
    """Four queries whatever the system's size: zones, assets, flows, carried assets."""
    zones = tuple(
        ZoneData(id=z["id"], name=z["name"], trust_level=z["trust_level"], parent_id=z["parent_id"])
        for z in TrustZone.objects.filter(system=system).order_by("id").values("id", "name", "trust_level", "parent_id")
    )
    assets = []
    for row in Asset.objects.filter(system=system).order_by("id").values(*_ASSET_COLUMNS):
        row["size_gb"] = float(row["size_gb"]) if row["size_gb"] is not None else None
        row["tags"] = tuple(row["tags"] or ())
        for key in ("value_min", "value_likely", "value_max"):
            row[key] = float(row[key])
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
        )
        for f in DataFlow.objects.filter(system=system)
        .order_by("id")
        .values("id", "name", "source_id", "target_id", "protocol", "authenticated", "encrypted", "bidirectional")
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
            entry_zone_ids=tuple(sorted(zones.get(row["id"], ()))),
            entry_asset_ids=tuple(sorted(assets.get(row["id"], ()))),
            attempts_per_year=float(row["attempts_per_year"]),
        )
        for row in AttackerProfile.objects.filter(system=system)
        .order_by("id")
        .values("id", "name", "capability", "attempts_per_year")
    )
