"""Writing a sync plan with set-based statements only: one per table and change, never one per row.

Order: (1) create assets, (2) update changed assets and replace the relations that changed
(copies, served models), (3) create and update flows, (4) carried assets, (5) delete what a full
sync prunes. Deleting last means a flow the payload moves away from
a pruned asset is moved before the cascade could take it.

Updates touch only changed rows and, per row, only its changed columns: rows are grouped by the
set of columns that changed, one statement per group; beyond ``MAX_UPDATE_GROUPS`` column sets
the rarest are merged (their unchanged columns are rewritten with the value they hold), which
keeps the statement count bounded whatever the payload.

Two writers with one interface. On PostgreSQL, ``INSERT ... SELECT FROM unnest(arrays)`` and
``UPDATE ... FROM unnest(arrays)``, one array parameter per column: one statement per table or
column set at any size. Django's ``bulk_create`` / ``bulk_update`` compile every value (and for
updates a ``CASE WHEN pk = ...`` branch per row and column) in Python, which measured 5-10x
slower (bench/sync.py: 10,000 assets and 20,000 flows took 8 s to insert that way). Elsewhere
(SQLite, the embedded default) those portable calls are used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from django.db import connection, models

from workbench.models import Asset, DataFlow, System
from workbench.services.inventory.plan import SyncPlan
from workbench.services.inventory.relations import write_relations
from workbench.services.inventory.stored import ASSET_DEFAULTS, FLOW_DEFAULTS, Token

UPDATE_BATCH = 1000  # bulk_update's CASE WHEN grows with the square of the batch
MAX_UPDATE_GROUPS = 6
Row = dict[str, Any]


class OrmWriter:
    """Portable: ``bulk_create`` and ``bulk_update`` (SQLite's 999-variable limit batches them)."""

    def allocate(self, model: type[models.Model], count: int) -> list[int] | None:
        """No keys ahead of the insert here: ``insert`` returns them."""
        return None

    def insert(self, model: type[models.Model], rows: list[Row], constants: Row) -> list[int]:
        objs = model._default_manager.bulk_create([model(**row, **constants) for row in rows])
        return [obj.pk for obj in objs]

    def update(self, model: type[models.Model], rows: list[tuple[int, Row]], constants: Row) -> None:
        objs = []
        for pk, values in rows:
            obj = model(pk=pk)
            for column, value in (values | constants).items():
                setattr(obj, column, value)
            objs.append(obj)
        columns = [*rows[0][1], *constants]
        model._default_manager.bulk_update(objs, columns, batch_size=UPDATE_BATCH)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_literal(field: models.Field[Any, Any], values: list[Any]) -> str:
    """PostgreSQL's text form of an array (``{"a","b",NULL}``), parsed server-side by ``array_in``.

    Sent as one string parameter: psycopg2 would otherwise render ``ARRAY[...]`` with one
    expression per element, which PostgreSQL parses ten times slower (3.2 s against 0.3 s for
    300,000 strings, measured). One comprehension per column type keeps the Python side cheap.
    """
    if isinstance(field, models.JSONField):
        # orjson: 10,000 small json.dumps calls cost more than the INSERT they feed.
        items = ["NULL" if v is None else _quoted(orjson.dumps(v).decode()) for v in values]
    elif isinstance(field, models.BooleanField):
        items = ["NULL" if v is None else ("t" if v else "f") for v in values]
    elif isinstance(field, models.IntegerField | models.DecimalField | models.ForeignKey):
        items = ["NULL" if v is None else str(v) for v in values]
    elif isinstance(field, models.DateTimeField):
        items = ["NULL" if v is None else '"' + v.isoformat() + '"' for v in values]
    else:
        items = ["NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]
    return "{" + ",".join(items) + "}"


class PostgresWriter:
    """One ``unnest`` statement per table or column set, whatever the number of rows; columns
    with one value for every row travel as a single parameter, not as an array."""

    @staticmethod
    def _fields(model: type[models.Model], names: Iterable[str]) -> list[models.Field[Any, Any]]:
        return [model._meta.get_field(name) for name in names]  # type: ignore[misc]

    @staticmethod
    def _cast(field: models.Field[Any, Any], array: bool = False) -> str:
        return f"%s::{field.db_type(connection)}{'[]' if array else ''}"

    @staticmethod
    def _scalar(field: models.Field[Any, Any], value: Any) -> Any:
        return json.dumps(value) if isinstance(field, models.JSONField) and value is not None else value

    def allocate(self, model: type[models.Model], count: int) -> list[int] | None:
        """Draw ``count`` primary keys from the table's sequence before inserting.

        Why: with keys known up front, an asset hosted on another new asset gets its host in
        the INSERT itself (no second UPDATE pass, no second foreign-key check per row), and the
        INSERT needs no ``RETURNING`` to be matched back to the items. Keys drawn by a sync that
        rolls back are skipped, as with any sequence.
        """
        if count == 0:
            return []
        table = model._meta.db_table
        column = model._meta.pk.column  # type: ignore[union-attr]
        # The sequence is looked up once (materialised): resolved per row it costs 10x more.
        sql = (
            "WITH seq AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS s) "
            "SELECT nextval(seq.s) FROM seq, generate_series(1, %s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [table, column, count])
            return [pk for (pk,) in cursor.fetchall()]

    def insert(self, model: type[models.Model], rows: list[Row], constants: Row) -> list[int]:
        """Insert ``rows`` (same keys each) plus ``constants``; returns the new keys in row order
        when rows carry an ``external_id`` but no ``id`` (rows with ``id`` were allocated)."""
        if not rows:
            return []
        qn = connection.ops.quote_name
        names, fixed = list(rows[0]), list(constants)
        varying, constant = self._fields(model, names), self._fields(model, fixed)
        # Query parameters, in the order their %s appear: the constants of the SELECT list, then the arrays.
        params = [self._scalar(field, constants[name]) for name, field in zip(fixed, constant, strict=True)]
        params += [
            array_literal(field, [row[name] for row in rows]) for name, field in zip(names, varying, strict=True)
        ]
        keyed = "external_id" in names and "id" not in names
        aliases = ", ".join(f"c{index}" for index in range(len(names)))
        sql = "INSERT INTO {} ({}) SELECT {} FROM unnest({}) AS v({}){}".format(  # noqa: S608 - quoted model metadata
            qn(model._meta.db_table),
            ", ".join(qn(str(field.column)) for field in (*varying, *constant)),
            ", ".join([*(f"v.c{index}" for index in range(len(names))), *(self._cast(f) for f in constant)]),
            ", ".join(self._cast(field, array=True) for field in varying),
            aliases,
            " RETURNING id, external_id" if keyed else "",
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if not keyed:
                return []
            # RETURNING order is not promised: match the keys by external id (unique per table here).
            pks = {key: pk for pk, key in cursor.fetchall()}
        return [pks[row["external_id"]] for row in rows]

    def update(self, model: type[models.Model], rows: list[tuple[int, Row]], constants: Row) -> None:
        qn = connection.ops.quote_name
        pk = model._meta.pk
        assert pk is not None
        names, fixed = list(rows[0][1]), list(constants)
        varying, constant = self._fields(model, names), self._fields(model, fixed)
        # Query parameters, in the order their %s appear: the constants of the SET list, then the arrays.
        params = [self._scalar(field, constants[name]) for name, field in zip(fixed, constant, strict=True)]
        params.append(array_literal(pk, [row_pk for row_pk, _ in rows]))
        params += [
            array_literal(f, [values[name] for _, values in rows]) for name, f in zip(names, varying, strict=True)
        ]
        sets = [f"{qn(str(field.column))} = v.c{index}" for index, field in enumerate(varying)]
        sets += [f"{qn(str(field.column))} = {self._cast(field)}" for field in constant]
        sql = "UPDATE {} AS t SET {} FROM unnest({}) AS v(pk, {}) WHERE t.{} = v.pk".format(  # noqa: S608
            qn(model._meta.db_table),
            ", ".join(sets),
            ", ".join(self._cast(field, array=True) for field in (pk, *varying)),
            ", ".join(f"c{index}" for index in range(len(names))),
            qn(str(pk.column)),
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


Writer = OrmWriter | PostgresWriter


def writer_for_connection() -> Writer:
    return PostgresWriter() if connection.vendor == "postgresql" else OrmWriter()


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


def _create_assets(writer: Writer, plan: SyncPlan, system: System, ids: dict[str, int], now: datetime) -> None:
    """Insert new assets; a host that is a stored asset is set at once, a new one right after."""
    creates = [op for op in plan.assets if op.created]
    names = _varying(creates, ("external_id", "hosted_on_id"))
    constants = {key: value for key, value in ASSET_DEFAULTS.items() if key not in names}
    constants |= {"team_id": system.team_id, "system_id": system.pk, "source": plan.envelope.source}
    constants |= {"created_at": now, "updated_at": now}
    allocated = writer.allocate(Asset, len(creates))
    if allocated is not None:
        names.insert(0, "id")
        for op, pk in zip(creates, allocated, strict=True):
            op.pk = pk
            ids[op.item.external_id] = pk
    rows = []
    for op in creates:
        host = ids.get(op.host[1]) if op.host is not None else None
        values = {**op.values, "id": op.pk, "external_id": op.item.external_id, "hosted_on_id": host}
        rows.append({name: values[name] if name in values else ASSET_DEFAULTS[name] for name in names})
        if host is not None:
            op.host = None
    inserted = writer.insert(Asset, rows, constants)
    if allocated is None:
        for op, pk in zip(creates, inserted, strict=True):
            op.pk = pk
            ids[op.item.external_id] = pk
    late = [(op.pk, {"hosted_on_id": _resolve(op.host, ids)}) for op in creates if op.host]
    if late:
        writer.update(Asset, late, {"updated_at": now})  # type: ignore[arg-type]


def _create_flows(writer: Writer, plan: SyncPlan, system: System, ids: dict[str, int], now: datetime) -> None:
    creates = [op for op in plan.flows if op.created]
    names = _varying(creates, ("external_id", "source_id", "target_id"))
    constants = {key: value for key, value in FLOW_DEFAULTS.items() if key not in names}
    constants |= {"team_id": system.team_id, "system_id": system.pk, "origin": plan.envelope.source}
    constants |= {"created_at": now, "updated_at": now}
    allocated = writer.allocate(DataFlow, len(creates))
    if allocated is not None:
        names.insert(0, "id")
        for op, pk in zip(creates, allocated, strict=True):
            op.pk = pk
    rows = []
    for op in creates:
        values = {**op.values, "id": op.pk, "external_id": op.item.external_id}
        values |= {"source_id": _resolve(op.source, ids), "target_id": _resolve(op.target, ids)}
        rows.append({name: values[name] if name in values else FLOW_DEFAULTS[name] for name in names})
    inserted = writer.insert(DataFlow, rows, constants)
    if allocated is None:
        for op, pk in zip(creates, inserted, strict=True):
            op.pk = pk


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
