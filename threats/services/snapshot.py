"""Build the engines' plain snapshot of a system from the database in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict

from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData
from workbench.models import Asset, DataFlow, System, TrustZone

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
