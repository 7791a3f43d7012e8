"""Payload builders and a client helper shared by the inventory-sync tests."""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import connection
from django.urls import reverse

from workbench.models import System


def sync_url(system: System) -> str:
    return reverse("inventory-sync", kwargs={"version": "v1", "slug": system.slug})


def asset(external_id: str, **fields: Any) -> dict[str, Any]:
    """A valid asset item; ``fields`` override or add to the defaults."""
    return {
        "external_id": external_id,
        "name": f"Asset {external_id}",
        "kind": "object_store",
        "value_min": 1000,
        "value_likely": 5000,
        "value_max": 20000,
        "tags": ["cmdb"],
        **fields,
    }


def flow(source: str, target: str, **fields: Any) -> dict[str, Any]:
    return {"external_id": f"{source}->{target}", "source": source, "target": target, "protocol": "https", **fields}


def inventory(n: int, *, source: str = "cmdb", mode: str = "upsert", flows_per_asset: int = 2, **extra: Any) -> dict:
    """``n`` assets in a ring with ``flows_per_asset`` flows each (to the next assets)."""
    keys = [f"a{i}" for i in range(n)]
    steps = range(1, min(flows_per_asset, n - 1) + 1)
    flows = [flow(keys[i], keys[(i + step) % n]) for i in range(n) for step in steps]
    return {"source": source, "mode": mode, "assets": [asset(k) for k in keys], "flows": flows, **extra}


def post_sync(client: Any, system: System, payload: Any, **headers: Any) -> Any:
    """POST ``payload`` as ASCII-escaped JSON (so lone surrogates reach the server as a client sends them)."""
    return client.post(sync_url(system), json.dumps(payload), content_type="application/json", **headers)


def write_statements(queries: list[dict[str, Any]]) -> list[str]:
    """The INSERT/UPDATE/DELETE statements among captured queries."""
    statements = [re.sub(r"^\d+ times: ", "", q["sql"].lstrip()) for q in queries]  # executemany's log form
    return [sql for sql in statements if sql.split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}]


def bulk_batches(rows: int, columns: int) -> int:
    """Statements a bulk insert of ``rows`` needs here: 1 on PostgreSQL, more under SQLite's 999 variables."""
    if rows == 0:
        return 0
    per_batch = connection.ops.bulk_batch_size(["x"] * columns, [None] * rows) or rows
    return -(-rows // per_batch)


def updated_columns(sql: str) -> list[str]:
    """The columns a sync UPDATE sets (bulk_update's ``CASE`` form or the unnest form)."""
    sets = re.split(r" FROM unnest\(| WHERE ", sql.split(" SET ", 1)[1])[0]
    return sorted(re.findall(r'(?:^|, )"(\w+)" = ', sets))


def updated_row_count(queries: list[dict[str, Any]], sql: str) -> int:
    """How many rows a sync UPDATE writes: the length of unnest's key array on PostgreSQL;
    elsewhere the statement runs once per row (``executemany``, logged as "N times: ...")."""
    found = re.search(r"FROM unnest\('\{([\d,]+)\}'", sql)
    if found:
        return len(found.group(1).split(","))
    logged = next(q["sql"] for q in queries if q["sql"].endswith(sql))
    times = re.match(r"^(\d+) times: ", logged)
    assert times, logged
    return int(times.group(1))
