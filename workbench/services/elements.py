"""Services for the elements of a system: trust zones, assets, data flows, attacker profiles.

Each is a thin, typed entry point over ``save_element`` / ``delete_element``, which enforce the
role check, validation, version bump and audit event in one transaction. An asset's relations
of risk method v2 (copies, served models) are written in that same transaction by
``workbench.services.copies``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from workbench.models import Asset, AttackerProfile, DataFlow, System, TrustZone
from workbench.models.elements import ASSET_PROPERTIES
from workbench.services.common import Actor, delete_element, save_element
from workbench.services.copies import copies_held_by, relations_for
from workbench.services.limits import check_room

ZONE_FIELDS = ("name", "trust_level", "parent", "description")
ASSET_FIELDS = (
    "name",
    "kind",
    "zone",
    "hosted_on",
    "description",
    "criticality",
    "value_min",
    "value_likely",
    "value_max",
    "replication_value_min",
    "replication_value_likely",
    "replication_value_max",
    "compute_cost_min",
    "compute_cost_likely",
    "compute_cost_max",
    *ASSET_PROPERTIES,
    "size_gb",
    "tags",
    "source",
    "external_id",
)
FLOW_FIELDS = (
    "name",
    "source",
    "target",
    "protocol",
    "authenticated",
    "encrypted",
    "bidirectional",
    "initiator",
    "description",
    "origin",
    "external_id",
)
# Relations of an asset given as lists of assets (``asset_save`` keywords; ids in the API and sync).
ASSET_RELATIONS = ("stored_on", "loaded_on", "serves")
ATTACKER_FIELDS = ("name", "capability", "actor_type", "attempts_per_year", "budget", "description")


def _strip_name(fields: dict[str, Any]) -> dict[str, Any]:
    if isinstance(fields.get("name"), str):
        fields["name"] = fields["name"].strip()
    return fields


def zone_save(*, actor: Actor, system: System, zone: TrustZone | None = None, **fields: Any) -> TrustZone:
    """Create (``zone=None``) or update a trust zone."""
    return save_element(
        actor=actor, system=system, instance=zone or TrustZone(), fields=_strip_name(fields), allowed=ZONE_FIELDS
    )


@transaction.atomic
def zone_delete(*, actor: Actor, zone: TrustZone) -> None:
    """Delete a zone; its assets stay, without a zone."""
    assets = list(zone.assets.values_list("pk", flat=True))
    delete_element(actor=actor, system=zone.system, instance=zone, extra={"unzoned_assets": assets})


@transaction.atomic
def asset_save(
    *,
    actor: Actor,
    system: System,
    asset: Asset | None = None,
    stored_on: Iterable[Asset] | None = None,
    loaded_on: Iterable[Asset] | None = None,
    serves: Iterable[Asset] | None = None,
    **fields: Any,
) -> Asset:
    """Create (``asset=None``) or update an asset and, when given, replace its relations.

    ``stored_on`` (ordered, the first is the system of record) and ``loaded_on`` are where a
    data asset's copies are; ``serves`` the models an endpoint, gateway or agent answers for.
    ``hosted_on`` on a data asset stands for ``stored_on=[host]``. None leaves a relation alone.
    """
    if asset is None:
        check_room(system=system, changes={Asset: (1, 0)})  # MAX_ASSETS_PER_SYSTEM
    instance = asset or Asset()
    fields = _strip_name(fields)
    relations = relations_for(instance, fields, stored_on=stored_on, loaded_on=loaded_on, serves=serves)
    return save_element(
        actor=actor,
        system=system,
        instance=instance,
        fields=fields,
        allowed=ASSET_FIELDS,
        after_save=relations.write if relations is not None else None,
    )


@transaction.atomic
def asset_delete(*, actor: Actor, asset: Asset) -> None:
    """Delete an asset; flows from or to it and the copies it holds go with it (listed in the audit)."""
    flows = sorted(
        set(asset.outgoing_flows.values_list("pk", flat=True)) | set(asset.incoming_flows.values_list("pk", flat=True))
    )
    extra: dict[str, Any] = {"deleted_flows": flows}
    held = copies_held_by(system=asset.system, holder=asset)
    if held:
        extra["deleted_copies"] = held
    delete_element(actor=actor, system=asset.system, instance=asset, extra=extra)


@transaction.atomic
def flow_save(
    *,
    actor: Actor,
    system: System,
    flow: DataFlow | None = None,
    carries: Iterable[Asset] | None = None,
    **fields: Any,
) -> DataFlow:
    """Create (``flow=None``) or update a data flow; ``carries`` replaces the carried assets."""
    if flow is None:
        check_room(system=system, changes={DataFlow: (1, 0)})  # MAX_FLOWS_PER_SYSTEM
    m2m = {"carries": list(carries)} if carries is not None else None
    return save_element(
        actor=actor,
        system=system,
        instance=flow or DataFlow(),
        fields=_strip_name(fields),
        allowed=FLOW_FIELDS,
        m2m=m2m,
    )


def flow_delete(*, actor: Actor, flow: DataFlow) -> None:
    delete_element(actor=actor, system=flow.system, instance=flow)


def attacker_save(
    *,
    actor: Actor,
    system: System,
    attacker: AttackerProfile | None = None,
    entry_zones: Iterable[TrustZone] | None = None,
    entry_assets: Iterable[Asset] | None = None,
    **fields: Any,
) -> AttackerProfile:
    """Create (``attacker=None``) or update an attacker profile and its entry points."""
    m2m: dict[str, list[Any]] = {}
    if entry_zones is not None:
        m2m["entry_zones"] = list(entry_zones)
    if entry_assets is not None:
        m2m["entry_assets"] = list(entry_assets)
    return save_element(
        actor=actor,
        system=system,
        instance=attacker or AttackerProfile(),
        fields=_strip_name(fields),
        allowed=ATTACKER_FIELDS,
        m2m=m2m or None,
    )


def attacker_delete(*, actor: Actor, attacker: AttackerProfile) -> None:
    delete_element(actor=actor, system=attacker.system, instance=attacker)


@dataclass(frozen=True)
class ElementServices:
    """One element model's save and delete services, and the keyword each takes its row by.

    The web pages and the API both write elements through this table, so neither repeats a
    per-model call for each of the four element types.
    """

    instance_kwarg: str
    save: Callable[..., Any]
    delete: Callable[..., None]

    def save_instance(self, *, actor: Actor, system: System, instance: Any, **fields: Any) -> Any:
        """Create (``instance`` None) or change one element with ``fields``."""
        return self.save(actor=actor, system=system, **{self.instance_kwarg: instance}, **fields)

    def delete_instance(self, *, actor: Actor, instance: Any) -> None:
        self.delete(actor=actor, **{self.instance_kwarg: instance})


ELEMENT_SERVICES: dict[type[models.Model], ElementServices] = {
    TrustZone: ElementServices("zone", zone_save, zone_delete),
    Asset: ElementServices("asset", asset_save, asset_delete),
    DataFlow: ElementServices("flow", flow_save, flow_delete),
    AttackerProfile: ElementServices("attacker", attacker_save, attacker_delete),
}
