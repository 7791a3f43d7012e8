"""Planning an inventory sync: compare checked items with the stored rows, decide every write.

The plan is computed from a fixed number of reads (zones, the source's assets, flows and carried
assets: ``inventory.stored``; when the payload needs them the relations of ``inventory.relations``)
however large the payload, and it holds everything the writer needs, so a dry run is the plan
without the writes. Assets outside the source are referred to by primary key (``("id", pk)``),
assets of the source by external id (``("ext", key)``); new assets get their key only at write
time, which is why references stay symbolic here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from workbench.models import Asset, DataFlow, System
from workbench.models.rules import DATA_KIND_VALUES, DATA_NOT_HOSTED, asset_field_problems
from workbench.services.inventory.envelope import Envelope
from workbench.services.inventory.items import Item, ItemErrors, parse_assets, parse_flows
from workbench.services.inventory.relations import (
    RELATIONS,
    StoredRelations,
    check_kinds,
    needs_relations,
    plan_relations,
)
from workbench.services.inventory.stored import (
    ASSET_ATTNAMES,
    ASSET_DEFAULTS,
    FLOW_COLUMNS,
    StoredState,
    Token,
)

NAME_MAX = Asset._meta.get_field("name").max_length or 120


@dataclass(slots=True)
class AssetOp:
    """One asset to create (``pk`` None), update or leave alone; ``values`` are the columns to write."""

    item: Item
    pk: int | None
    values: dict[str, Any]
    host: Token | None = None  # hosted_on to resolve at write time, when the item sets one
    changed: list[str] = field(default_factory=list)
    created: bool = False
    kind: str | None = None  # after this sync
    stored_kind: str | None = None
    relations: dict[str, list[Token]] = field(default_factory=dict)  # the relations the item sets

    @property
    def status(self) -> str:
        if self.created:
            return "created"
        return "updated" if self.changed else "unchanged"


@dataclass(slots=True)
class FlowOp:
    """One flow; endpoints and carried assets stay tokens until the assets have keys."""

    item: Item
    pk: int | None
    values: dict[str, Any]
    source: Token | None = None
    target: Token | None = None
    carries: list[Token] | None = None  # None: the item leaves the carried set alone
    changed: list[str] = field(default_factory=list)
    created: bool = False

    @property
    def status(self) -> str:
        if self.created:
            return "created"
        return "updated" if self.changed else "unchanged"


@dataclass
class SyncPlan:
    envelope: Envelope
    errors: ItemErrors
    assets: list[AssetOp] = field(default_factory=list)
    flows: list[FlowOp] = field(default_factory=list)
    stored_asset_ids: dict[str, int] = field(default_factory=dict)
    stored_assets: dict[int, dict[str, Any]] = field(default_factory=dict)
    stored_flows: dict[int, dict[str, Any]] = field(default_factory=dict)
    stored_carries: dict[int, dict[int, int]] = field(default_factory=dict)  # flow -> {asset: through row}
    stored_relations: StoredRelations | None = None  # read only when the payload needs them
    prune_assets: list[dict[str, Any]] = field(default_factory=list)
    prune_flows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changes_anything(self) -> bool:
        return bool(
            self.prune_assets
            or self.prune_flows
            or any(op.created or op.changed for op in self.assets)
            or any(op.created or op.changed for op in self.flows)
        )


def _token(asset_id: int | None, ext_of: dict[int, str]) -> Token | None:
    if asset_id is None:
        return None
    key = ext_of.get(asset_id)
    return ("ext", key) if key is not None else ("id", asset_id)


def _shown(token: Token | None) -> Any:
    return None if token is None else token[1]


# The same rule as DATA_NOT_HOSTED, worded for a sync, where hosted_on on a data asset names its stored copy.
DATA_HOSTED = "A data asset is not hosted: send hosted_on (it becomes its stored copy) or hosted_on: null."


def _plan_asset(
    item: Item, ctx: StoredState, known: set[str], errors: ItemErrors, stored: StoredRelations
) -> AssetOp | None:
    row = ctx.assets.get(item.external_id)
    kind = item.fields.get("kind", row["kind"] if row is not None else None)
    desired: dict[str, Any] = {}
    host: Token | None = None
    synonym: str | None = None  # hosted_on of a data asset: its one stored copy
    ok = True

    def fail(name: str, message: str) -> None:
        nonlocal ok
        ok = False
        errors.add("assets", item.index, item.external_id, name, message)

    for name, value in item.fields.items():
        if name == "zone":
            if value is None:
                desired["zone_id"] = None
            elif type(value) is int and value in ctx.zone_ids:
                desired["zone_id"] = value
            elif type(value) is str and value in ctx.zone_by_name:
                desired["zone_id"] = ctx.zone_by_name[value]
            else:
                fail("zone", f"No trust zone {value!r} in this system (give its name or id).")
        elif name == "hosted_on":
            if value is None:
                desired["hosted_on_id"] = None
            elif value == item.external_id:
                fail("hosted_on", "An asset cannot be hosted on itself.")
            elif value not in known:
                fail("hosted_on", f"No asset with external_id {value!r} in this sync's source.")
            elif kind in DATA_KIND_VALUES:
                desired["hosted_on_id"] = None
                synonym = value
            else:
                host = ("ext", value)
        elif name not in RELATIONS:
            desired[ASSET_ATTNAMES[name]] = value
    relations, changed_relations = plan_relations(item, row, stored, ctx.token, known, fail, synonym)
    if row is None:
        for required in ("name", "kind"):
            if required not in item.fields:
                fail(required, "This field is required when creating an asset.")
    elif "hosted_on" not in item.fields:
        stored_host = _token(row["hosted_on_id"], ctx.ext_of)
        if stored_host is not None and stored_host[0] == "ext" and stored_host[1] not in known:
            fail("hosted_on", f"Its stored host {stored_host[1]!r} is not in this full sync and would be deleted.")
    # The model's cross-field rules on the row as this sync leaves it (one function for all writers).
    for name, message in asset_field_problems({**(ASSET_DEFAULTS if row is None else row), **desired}).items():
        if message == DATA_NOT_HOSTED:  # caused by the kind when the item changes it
            fail("kind" if "kind" in item.fields else "hosted_on", DATA_HOSTED)
        else:
            fail(name, message)
    if not ok:
        return None
    if row is None:
        return AssetOp(item, None, desired, host, [], created=True, kind=kind, relations=relations)
    changed = {attname: value for attname, value in desired.items() if row[attname] != value}
    names = [name for name in item.fields if name not in RELATIONS and ASSET_ATTNAMES[name] in changed]
    if host is not None and _token(row["hosted_on_id"], ctx.ext_of) != host:
        names.append("hosted_on")
    else:
        host = None
    names.extend(name for name in changed_relations if name not in names)
    return AssetOp(item, row["id"], changed, host, names, kind=kind, stored_kind=row["kind"], relations=relations)


def _endpoint(
    name: str, value: str | None, stored: int | None, ctx: StoredState, known: set[str], fail: Any
) -> Token | None:
    """The flow end the item names (or keeps), checked against the assets this sync will leave."""
    token = ("ext", value) if value is not None else _token(stored, ctx.ext_of)
    if token is not None and token[0] == "ext" and token[1] not in known:
        if value is not None:
            fail(name, f"No asset with external_id {value!r} in this sync's source.")
        else:
            fail(name, f"Its stored {name} asset {token[1]!r} is not in this full sync and would be deleted.")
        return None
    return token


def _plan_flow(item: Item, ctx: StoredState, known: set[str], errors: ItemErrors) -> FlowOp | None:
    row = ctx.flows.get(item.external_id)
    ok = True

    def fail(name: str, message: str) -> None:
        nonlocal ok
        ok = False
        errors.add("flows", item.index, item.external_id, name, message)

    fields = item.fields
    if row is None:
        for required in ("source", "target"):
            if required not in fields:
                fail(required, "This field is required when creating a flow.")
        if not ok:
            return None
    source = _endpoint("source", fields.get("source"), row["source_id"] if row else None, ctx, known, fail)
    target = _endpoint("target", fields.get("target"), row["target_id"] if row else None, ctx, known, fail)
    if source is not None and source == target:
        fail("target", "A flow cannot go from an asset to itself.")
    carries: list[Token] | None = None
    if "carries" in fields:
        carries = []
        for key in fields["carries"]:
            if key not in known:
                fail("carries", f"No asset with external_id {key!r} in this sync's source.")
            carries.append(("ext", key))
    if not ok:
        return None
    desired = {name: value for name, value in fields.items() if name in FLOW_COLUMNS}
    if row is None:
        desired.setdefault("name", f"{_shown(source)} → {_shown(target)}"[:NAME_MAX])
        return FlowOp(item, None, desired, source, target, carries, [], created=True)
    changed_values = {name: value for name, value in desired.items() if row[name] != value}
    names = [name for name in fields if name in changed_values]
    if "source" in fields and source != _token(row["source_id"], ctx.ext_of):
        names.append("source")
    if "target" in fields and target != _token(row["target_id"], ctx.ext_of):
        names.append("target")
    if carries is not None:
        stored = {_token(asset_id, ctx.ext_of) for asset_id in ctx.carries.get(row["id"], {})}
        if stored != set(carries):
            names.append("carries")
        else:
            carries = None
    return FlowOp(item, row["id"], changed_values, source, target, carries, names)


def plan_sync(*, system: System, envelope: Envelope) -> SyncPlan:
    """Check every item against the stored state and decide the writes; errors go into the plan."""
    errors = ItemErrors()
    assets, payload_keys = parse_assets(envelope.assets, errors)
    flows = parse_flows(envelope.flows, errors)
    ctx = StoredState(system, envelope, {name for item in assets for name in item.fields})
    # In full mode the payload is the whole inventory of the source: stored assets that it
    # leaves out are deleted, so nothing may refer to them.
    known = payload_keys if envelope.mode == "full" else payload_keys | set(ctx.assets)
    plan = SyncPlan(envelope=envelope, errors=errors)
    plan.stored_asset_ids = {key: row["id"] for key, row in ctx.assets.items()}
    plan.stored_assets = {row["id"]: row for row in ctx.assets.values()}
    plan.stored_flows = {row["id"]: row for row in ctx.flows.values()}
    plan.stored_carries = ctx.carries
    pruning = envelope.mode == "full" and bool(set(ctx.assets) - payload_keys)
    needed, to_data = needs_relations(assets, ctx.assets, pruning=pruning)
    stored = StoredRelations.read(system, envelope.source, hosted=to_data) if needed else StoredRelations()
    plan.stored_relations = stored if needed else None
    for item in assets:
        asset_op = _plan_asset(item, ctx, known, errors, stored)
        if asset_op is not None:
            plan.assets.append(asset_op)
    check_kinds(plan.assets, ctx.assets, stored, ctx.token, errors)
    for item in flows:
        flow_op = _plan_flow(item, ctx, known, errors)
        if flow_op is not None:
            plan.flows.append(flow_op)
    if envelope.mode == "full" and not errors:
        _plan_prune(plan, system, ctx, payload_keys, {item.external_id for item in flows})
    return plan


def _plan_prune(plan: SyncPlan, system: System, ctx: StoredState, asset_keys: set[str], flow_keys: set[str]) -> None:
    """Assets of the source missing from a full sync, their flows, and the source's missing flows."""
    plan.prune_assets = [
        {"id": row["id"], "external_id": key, "name": row["name"]}
        for key, row in sorted(ctx.assets.items())
        if key not in asset_keys
    ]
    pruned_flows = {
        row["id"]: {"id": row["id"], "origin": plan.envelope.source, "external_id": key, "name": row["name"]}
        for key, row in ctx.flows.items()
        if key not in flow_keys
    }
    if plan.prune_assets:
        # Flows of any origin that touch a deleted asset go with it (the foreign keys cascade);
        # flows in the payload were checked above not to end at a deleted asset.
        kept = {op.pk for op in plan.flows if op.pk is not None}
        ids = [entry["id"] for entry in plan.prune_assets]
        touching = DataFlow.objects.filter(system=system).filter(Q(source_id__in=ids) | Q(target_id__in=ids))
        for row in touching.values("id", "origin", "external_id", "name"):
            if row["id"] not in kept:
                pruned_flows.setdefault(row["id"], row)
    plan.prune_flows = sorted(pruned_flows.values(), key=lambda entry: entry["id"])
