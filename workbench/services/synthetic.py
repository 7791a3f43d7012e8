"""Generated systems of a given size, shaped like real AI platforms, for benchmarks and load tests.

Shape: six trust zones (internet .. enclave); per 100 assets about 5 internet-facing endpoints or
gateways, a few stores holding weights (the crown jewels), training and serving hosts, people,
CI and notebooks; about ``flows_per_asset`` flows per asset, mostly towards the same or the next
zone inward, a few weights-carrying flows and some unauthenticated or unencrypted ones. Risk
method v2 relations: every data asset is stored on one or two stores (the first its system of
record), a third of them are also loaded on a serving host, and every endpoint serves a model;
the seeded profiles carry their actor types. Written with bulk inserts in one transaction, one
version bump and one audit event.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from django.db import transaction

from workbench.choices import CopyMode
from workbench.models import Asset, AssetCopy, AttackerProfile, DataFlow, System, Team, TrustZone
from workbench.permissions import TeamCapability, require
from workbench.services.audit import audit_instance
from workbench.services.common import Actor, bump_version
from workbench.services.systems import system_create

ZONES = (("Internet", 0), ("Edge", 1), ("Serving", 2), ("Corporate", 2), ("ML platform", 3), ("Enclave", 4))
# kind, zone index, weight (relative frequency), extra fields
KINDS: tuple[tuple[str, int, int, dict[str, Any]], ...] = (
    (
        "inference_endpoint",
        2,
        4,
        {"internet_facing": True, "authentication": "api_key", "model_class": "llm", "output_granularity": "score"},
    ),
    ("api_gateway", 1, 2, {"internet_facing": True, "authentication": "api_key"}),
    ("gpu_host", 2, 10, {"authentication": "mtls"}),
    ("object_store", 4, 6, {"authentication": "sso", "encrypted_at_rest": True}),
    ("model_registry", 4, 2, {"authentication": "sso"}),
    ("training_cluster", 4, 4, {"authentication": "sso"}),
    ("notebook", 4, 4, {"authentication": "password"}),
    ("mlops_service", 4, 3, {"authentication": "none"}),
    ("ci_pipeline", 3, 3, {"authentication": "sso"}),
    ("workstation", 3, 10, {"authentication": "sso", "mfa": True}),
    ("human_role", 3, 6, {"personnel": "employee", "authentication": "sso"}),
    ("secrets_store", 5, 1, {"authentication": "mtls", "encrypted_at_rest": True}),
    ("package_source", 0, 2, {"internet_facing": True, "authentication": "none", "third_party": True}),
    ("monitoring", 3, 3, {"authentication": "sso", "logging": True}),
    ("external_service", 0, 3, {"third_party": True, "authentication": "api_key"}),
    ("model_weights", 4, 3, {"criticality": 5}),
    ("training_data", 4, 4, {}),
    ("checkpoint", 4, 3, {"criticality": 4}),
)


def _relate(rng: random.Random, team: Team, system: System, by_kind: dict[str, list[Asset]]) -> None:
    """Copies of the data assets on stores and serving hosts, and the models endpoints serve."""
    stores = by_kind.get("object_store", []) + by_kind.get("model_registry", [])
    serving = by_kind.get("gpu_host", [])
    data = [a for k in ("model_weights", "training_data", "checkpoint") for a in by_kind.get(k, [])]
    copies = []
    for asset in data:
        held = rng.sample(stores, min(len(stores), rng.choice((1, 1, 2))))
        copies += [AssetCopy(asset=asset, holder=h, mode=CopyMode.STORED, position=i) for i, h in enumerate(held)]
        if serving and rng.random() < 0.33:
            copies.append(AssetCopy(asset=asset, holder=rng.choice(serving), mode=CopyMode.LOADED, position=0))
    for copy in copies:
        copy.team, copy.system = team, system
    AssetCopy.objects.bulk_create(copies, batch_size=2000)
    models = by_kind.get("model_weights", []) + by_kind.get("checkpoint", [])
    endpoints = by_kind.get("inference_endpoint", []) + by_kind.get("api_gateway", [])
    served = Asset.serves.through
    rows = [served(from_asset_id=e.pk, to_asset_id=rng.choice(models).pk) for e in endpoints] if models else []
    served.objects.bulk_create(rows, batch_size=2000)


@transaction.atomic
def system_generate(
    *, actor: Actor, team: Team, name: str, assets: int, flows_per_asset: float = 3.0, seed: int = 0
) -> System:
    """Create a system with ``assets`` assets and about ``assets * flows_per_asset`` flows."""
    require(actor, team, TeamCapability.EDIT_MODEL)
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    system = system_create(actor=actor, team=team, name=name, seed_defaults=True)
    internet = system.zones.get(trust_level=0)
    zones = [internet] + TrustZone.objects.bulk_create(
        TrustZone(team=team, system=system, name=zname, trust_level=level) for zname, level in ZONES[1:]
    )
    weights = [k[2] for k in KINDS]
    rows = []
    for i in range(assets):
        kind, zone_index, _, extra = rng.choices(KINDS, weights=weights)[0]
        likely = Decimal(rng.choice((1, 5, 20, 100))) * 10_000 * (50 if kind == "model_weights" else 1)
        rows.append(
            Asset(
                team=team,
                system=system,
                name=f"{kind}-{i:05d}",
                kind=kind,
                zone=zones[zone_index],
                value_min=likely / 4,
                value_likely=likely,
                value_max=likely * 4,
                **extra,
            )
        )
    created = Asset.objects.bulk_create(rows, batch_size=2000)
    by_kind: dict[str, list[Asset]] = {}
    for asset in created:
        by_kind.setdefault(asset.kind, []).append(asset)
    _relate(rng, team, system, by_kind)
    trust = {asset.pk: asset.zone.trust_level if asset.zone else 0 for asset in created}
    by_zone: dict[int, list[Asset]] = {}
    for asset in created:
        by_zone.setdefault(trust[asset.pk], []).append(asset)
    flows, seen = [], set()
    for index in range(int(assets * flows_per_asset)):
        source = rng.choice(created)
        level = min(5, trust[source.pk] + rng.choice((0, 0, 1, 1, 2)))
        pool = by_zone.get(level) or by_zone.get(trust[source.pk]) or created
        target = rng.choice(pool)
        if target.pk == source.pk or (source.pk, target.pk) in seen:
            continue
        seen.add((source.pk, target.pk))
        flows.append(
            DataFlow(
                team=team,
                system=system,
                name=f"flow-{index:06d}",
                source=source,
                target=target,
                protocol=rng.choice(("https", "grpc", "s3", "ssh")),
                authenticated=rng.random() > 0.1,
                encrypted=rng.random() > 0.08,
                bidirectional=rng.random() < 0.05,
            )
        )
    DataFlow.objects.bulk_create(flows, batch_size=2000)
    through = DataFlow.carries.through
    stored = list(DataFlow.objects.filter(system=system).values_list("pk", "target__kind"))
    weights_list = by_kind.get("model_weights", [])
    links = [
        through(dataflow_id=pk, asset_id=rng.choice(weights_list).pk)
        for pk, kind in stored
        if weights_list and kind in ("object_store", "gpu_host") and rng.random() < 0.3
    ]
    through.objects.bulk_create(links, batch_size=2000)
    insider = AttackerProfile.objects.filter(system=system, name="Malicious insider").first()
    if insider and by_kind.get("human_role"):
        insider.entry_assets.set(by_kind["human_role"][:3])
    bump_version(system)
    counts = {"assets": len(created), "flows": len(flows)}
    audit_instance(actor=actor, verb="generate", instance=system, system=system, team=team, after=counts)
    return system
