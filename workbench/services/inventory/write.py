"""Writing a sync plan with set-based statements only: one per table and change, never one per row.

Order: (1) create assets, (2) update changed assets and replace the relations that changed
(copies, served models), (3) create and update flows, (4) carried assets, (5) delete what a full
sync prunes. Deleting last means a flow the payload moves away from
a pruned asset is moved before the cascade could take it.

Updates touch only changed rows and, per row, only its changed columns: rows are grouped by the
set of columns that changed, one statement per group; beyond ``MAX_UPDATE_GROUPS`` column sets
the rarest are merged (their unchanged columns are rewritten with the value they hold), which
keeps the statement count bounded whatever the payload.

The writers (``workbench.services.bulk``) make each of those one statement on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import models

from workbench.models import Asset, DataFlow, System
from workbench.services.bulk import Row, Writer, writer_for_connection
from workbench.services.inventory.plan import SyncPlan
from workbench.services.inventory.relations import write_relations
from workbench.services.inventory.stored import ASSET_DEFAULTS, FLOW_DEFAULTS, Token

MAX_UPDATE_GROUPS = 6


def update_changed(
    writer: Writer,
    model: type[models.Model],
    updates: Iterable[tuple[int, Row]],
    *,
    stored: dict[int, Row],
    now: datetime,
) -> int:
    """Write ``{column: value}`` per primary key, grouped by changed column set; returns rows written."""
    groups: dict[tuple[str, ...], list[tuple[int, Row]]] = {}
    for pk, values in updates:
        if values:
            groups.setdefault(tuple(sorted(values)), []).append((pk, values))
    ordered = sorted(groups.items(), key=lambda entry: (-len(entry[1]), entry[0]))
    if len(ordered) > MAX_UPDATE_GROUPS:
        head, tail = ordered[: MAX_UPDATE_GROUPS - 1], ordered[MAX_UPDATE_GROUPS - 1 :]
        columns = tuple(sorted({column for key, _ in tail for column in key}))
        merged = [(pk, {c: stored[pk][c] for c in columns} | values) for _, rows in tail for pk, values in rows]
        ordered = [*head, (columns, merged)]
    written = 0
    for columns, rows in ordered:
        writer.update(
            model, [(pk, {column: values[column] for column in columns}) for pk, values in rows], {"updated_at": now}
        )
        written += len(rows)
    return written


def _resolve(token: Token | None, ids: dict[str, int]) -> int | None:
    if token is None:
        return None
    return ids[token[1]] if token[0] == "ext" else int(token[1])


def _varying(ops: list[Any], always: tuple[str, ...]) -> list[str]:
    """Columns some new row sets; the others take the model default, sent once as a constant."""
    names: dict[str, None] = dict.fromkeys(always)
    for op in ops:
        names.update(dict.fromkeys(op.values))
    return list(names)


def _new_row_constants(
    defaults: dict[str, Any], names: list[str], system: System, origin: dict[str, str], now: datetime
) -> dict[str, Any]:
    """What every new row of one insert shares: the defaults no row sets, its system, origin and times."""
    constants = {key: value for key, value in defaults.items() if key not in names}
    return constants | {
        "team_id": system.team_id,
        "system_id": system.pk,
        **origin,
        "created_at": now,
        "updated_at": now,
    }


def _number(creates: list[Any], pks: Iterable[int], ids: dict[str, int] | None) -> None:
    """Give each new row its key and, when ``ids`` is given, file it under the row's external id."""
    for op, pk in zip(creates, pks, strict=True):
        op.pk = pk
        if ids is not None:
            ids[op.item.external_id] = pk


def _preallocate(
    writer: Writer, model: type[models.Model], creates: list[Any], names: list[str], ids: dict[str, int] | None
) -> bool:
    """Number the new rows before the insert where the writer can (then ``id`` is a column sent)."""
    allocated = writer.allocate(model, len(creates))
    if allocated is None:
        return False
    names.insert(0, "id")
    _number(creates, allocated, ids)
    return True


def _create_assets(writer: Writer, plan: SyncPlan, system: System, ids: dict[str, int], now: datetime) -> None:
    """Insert new assets; a host that is a stored asset is set at once, a new one right after."""
    creates = [op for op in plan.assets if op.created]
    names = _varying(creates, ("external_id", "hosted_on_id"))
    constants = _new_row_constants(ASSET_DEFAULTS, names, system, {"source": plan.envelope.source}, now)
    numbered = _preallocate(writer, Asset, creates, names, ids)
    rows = []
    for op in creates:
        host = ids.get(op.host[1]) if op.host is not None else None
        values = {**op.values, "id": op.pk, "external_id": op.item.external_id, "hosted_on_id": host}
        rows.append({name: values[name] if name in values else ASSET_DEFAULTS[name] for name in names})
        if host is not None:
            op.host = None
    inserted = writer.insert(Asset, rows, constants)
    if not numbered:
        _number(creates, inserted, ids)
    late = [(op.pk, {"hosted_on_id": _resolve(op.host, ids)}) for op in creates if op.host]
    if late:
        writer.update(Asset, late, {"updated_at": now})  # type: ignore[arg-type]


def _create_flows(writer: Writer, plan: SyncPlan, system: System, ids: dict[str, int], now: datetime) -> None:
    creates = [op for op in plan.flows if op.created]
    names = _varying(creates, ("external_id", "source_id", "target_id"))
    constants = _new_row_constants(FLOW_DEFAULTS, names, system, {"origin": plan.envelope.source}, now)
    numbered = _preallocate(writer, DataFlow, creates, names, None)
    rows = []
    for op in creates:
        values = {**op.values, "id": op.pk, "external_id": op.item.external_id}
        values |= {"source_id": _resolve(op.source, ids), "target_id": _resolve(op.target, ids)}
        rows.append({name: values[name] if name in values else FLOW_DEFAULTS[name] for name in names})
    inserted = writer.insert(DataFlow, rows, constants)
    if not numbered:
        _number(creates, inserted, None)


def write_plan(*, plan: SyncPlan, system: System, now: datetime) -> dict[str, int]:
    """Apply ``plan`` in the caller's transaction; returns the external id -> pk of every asset."""
    writer = writer_for_connection()
    ids = dict(plan.stored_asset_ids)
    # 1-2. Assets.
    _create_assets(writer, plan, system, ids, now)
    updates = []
    for asset_op in plan.assets:
        if asset_op.created or not asset_op.changed:
            continue
        values = dict(asset_op.values)
        if asset_op.host is not None:
            values["hosted_on_id"] = _resolve(asset_op.host, ids)
        updates.append((ids[asset_op.item.external_id], values))
    update_changed(writer, Asset, updates, stored=plan.stored_assets, now=now)
    touched = write_relations(writer, plan.assets, plan.stored_relations, system, lambda token: _resolve(token, ids))
    touched -= {pk for pk, values in updates if values}  # those get updated_at with their columns
    if touched:
        Asset.objects.filter(pk__in=sorted(touched)).update(updated_at=now)
    # 3. Flows.
    _create_flows(writer, plan, system, ids, now)
    flow_updates = []
    for flow_op in plan.flows:
        if flow_op.created or not flow_op.changed or flow_op.pk is None:
            continue
        values = dict(flow_op.values)
        if "source" in flow_op.changed:
            values["source_id"] = _resolve(flow_op.source, ids)
        if "target" in flow_op.changed:
            values["target_id"] = _resolve(flow_op.target, ids)
        if values:
            flow_updates.append((flow_op.pk, values))
    update_changed(writer, DataFlow, flow_updates, stored=plan.stored_flows, now=now)
    # 4. Carried assets: delete the through rows that go, insert the ones that come.
    through = DataFlow.carries.through
    remove: list[int] = []
    add: list[Row] = []
    for flow_op in plan.flows:
        if flow_op.carries is None or flow_op.pk is None:
            continue
        stored = plan.stored_carries.get(flow_op.pk, {})
        wanted = {_resolve(token, ids) for token in flow_op.carries}
        remove.extend(through_id for asset_id, through_id in stored.items() if asset_id not in wanted)
        add.extend({"dataflow_id": flow_op.pk, "asset_id": asset_id} for asset_id in wanted if asset_id not in stored)
    if remove:
        through.objects.filter(pk__in=remove).delete()
    writer.insert(through, add, {})
    # 5. What a full sync prunes; the cascade takes the carried-asset rows and other flows along.
    if plan.prune_flows:
        DataFlow.objects.filter(pk__in=[entry["id"] for entry in plan.prune_flows]).delete()
    if plan.prune_assets:
        Asset.objects.filter(pk__in=[entry["id"] for entry in plan.prune_assets]).delete()
    return ids
