"""The stored state an inventory-sync plan compares against, read in a fixed number of queries.

Assets outside the sync's source are referred to by primary key (``("id", pk)``), assets of the
source by external id (``("ext", key)``): new assets get their key only at write time, which is
why references stay symbolic until ``inventory.write``.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, models
from django.db.models import QuerySet

from workbench.models import Asset, DataFlow, System, TrustZone
from workbench.models.rules import ASSET_RULE_COLUMNS
from workbench.services.inventory.checks import ASSET_SYNC_FIELDS, FLOW_SYNC_FIELDS
from workbench.services.inventory.envelope import Envelope

Token = tuple[str, Any]


def _field(model: type[Asset] | type[DataFlow], name: str) -> Any:
    return model._meta.get_field(name)


ASSET_ATTNAMES = {name: _field(Asset, name).attname for name in ASSET_SYNC_FIELDS}
FLOW_COLUMNS = {name: name for name in FLOW_SYNC_FIELDS if name not in ("source", "target", "carries")}
ASSET_DEFAULTS = {attname: _field(Asset, name).get_default() for name, attname in ASSET_ATTNAMES.items()}
FLOW_DEFAULTS = {name: _field(DataFlow, name).get_default() for name in FLOW_COLUMNS}
# Columns (attnames) every plan reads: the cross-field rules, the host and kind checks, the prune report.
ALWAYS_READ = frozenset({"name", *ASSET_RULE_COLUMNS})


def _rows(queryset: QuerySet[Any], names: list[str]) -> list[dict[str, Any]]:
    """``queryset.values(*names)`` as dicts, on PostgreSQL read through a plain cursor.

    Why: Django's ``values()`` runs every row through its converter pipeline (a JSON decode per
    JSON column, per row): 60% of an unchanged 10,000-asset re-sync went there (bench/sync.py).
    The query is the one Django compiles; only JSON columns need a decode, done here directly.
    """
    values = queryset.values(*names)
    if connection.vendor != "postgresql":
        return list(values)
    model = queryset.model
    json_columns = [
        index for index, name in enumerate(names) if isinstance(model._meta.get_field(name), models.JSONField)
    ]
    sql, params = values.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    if json_columns:
        decoded = []
        for row in fetched:
            mutable = list(row)
            for index in json_columns:
                if mutable[index] is not None:
                    mutable[index] = json.loads(mutable[index])
            decoded.append(mutable)
        fetched = decoded
    return [dict(zip(names, row, strict=True)) for row in fetched]


class StoredState:
    """The stored state a plan compares against, read in four queries (only the asset columns
    that the payload sets or the checks need)."""

    def __init__(self, system: System, envelope: Envelope, asset_fields: set[str]) -> None:
        source = envelope.source
        columns = [
            ASSET_ATTNAMES[name]
            for name in ASSET_SYNC_FIELDS
            if name in asset_fields or ASSET_ATTNAMES[name] in ALWAYS_READ
        ]
        self.zone_by_name: dict[str, int] = {}
        self.zone_ids: set[int] = set()
        for pk, name in TrustZone.objects.filter(system=system).values_list("id", "name"):
            self.zone_by_name[name] = pk
            self.zone_ids.add(pk)
        assets = Asset.objects.filter(system=system, source=source).exclude(external_id="")
        self.assets: dict[str, dict[str, Any]] = {
            row["external_id"]: row for row in _rows(assets, ["id", "external_id", *columns])
        }
        self.ext_of: dict[int, str] = {row["id"]: key for key, row in self.assets.items()}
        self.token = lambda asset_id: ("ext", self.ext_of[asset_id]) if asset_id in self.ext_of else ("id", asset_id)
        flows = DataFlow.objects.filter(system=system, origin=source).exclude(external_id="")
        self.flows: dict[str, dict[str, Any]] = {
            row["external_id"]: row
            for row in _rows(flows, ["id", "external_id", "source_id", "target_id", *FLOW_COLUMNS])
        }
        self.carries: dict[int, dict[int, int]] = {}
        through = DataFlow.carries.through.objects.filter(dataflow__system=system, dataflow__origin=source).exclude(
            dataflow__external_id=""
        )
        for through_id, flow_id, asset_id in through.values_list("id", "dataflow_id", "asset_id"):
            self.carries.setdefault(flow_id, {})[asset_id] = through_id
