"""What a sync says back: the per-item result, the invalid-items refusal and the audit summary.

All three are read off the plan (``inventory.plan``); they are plain data, the API sends the
result and the refusal's ``body()`` as they are.
"""

from __future__ import annotations

from typing import Any

from workbench.models import System
from workbench.services.inventory.errors import InvalidItems
from workbench.services.inventory.plan import SyncPlan

ERROR_LIST_LIMIT = 1000
AUDIT_LIST_LIMIT = 500


def _counts(ops: list[Any], deleted: int) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "deleted": deleted}
    for op in ops:
        counts[op.status] += 1
    return counts


def _item(op: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": op.item.index, "external_id": op.item.external_id, "status": op.status}
    entry["id"] = op.pk
    if op.changed:
        entry["changed"] = op.changed
    return entry


def result_body(plan: SyncPlan, *, system: System, changed: bool) -> dict[str, Any]:
    """The answer of a sync that ran (dry or not): counts, one entry per item, what was pruned."""
    envelope = plan.envelope
    return {
        "source": envelope.source,
        "mode": envelope.mode,
        "dry_run": envelope.dry_run,
        "changed": changed,
        "version": system.version,
        "summary": {
            "assets": _counts(plan.assets, len(plan.prune_assets)),
            "flows": _counts(plan.flows, len(plan.prune_flows)),
        },
        "assets": [_item(op) for op in plan.assets],
        "flows": [_item(op) for op in plan.flows],
        "deleted": {"assets": plan.prune_assets, "flows": plan.prune_flows},
    }


def invalid_items(plan: SyncPlan) -> InvalidItems:
    """The refusal of a payload with invalid items: every item's errors, capped per section."""
    errors = plan.errors
    counts = {section: errors.count(section) for section in ("assets", "flows")}
    listed = {section: errors.listing(section, ERROR_LIST_LIMIT) for section in ("assets", "flows")}
    for entries in listed.values():
        for entry in entries:
            entry["status"] = "error"
    total = counts["assets"] + counts["flows"]
    return InvalidItems(
        f"{total} invalid item{'s' if total != 1 else ''}; nothing was written.",
        errors=listed,
        error_count=counts,
        truncated=any(count > ERROR_LIST_LIMIT for count in counts.values()),
    )


def audit_summary(plan: SyncPlan) -> dict[str, Any]:
    """Counts plus (capped) external ids of what changed: the audit chain records the sync."""

    def keys(ops: list[Any], status: str) -> list[Any]:
        chosen = [op for op in ops if op.status == status]
        if status == "updated":
            return [{op.item.external_id: op.changed} for op in chosen[:AUDIT_LIST_LIMIT]]
        return [op.item.external_id for op in chosen[:AUDIT_LIST_LIMIT]]

    summary: dict[str, Any] = {
        "source": plan.envelope.source,
        "mode": plan.envelope.mode,
        "assets": _counts(plan.assets, len(plan.prune_assets)),
        "flows": _counts(plan.flows, len(plan.prune_flows)),
    }
    for section, ops in (("assets", plan.assets), ("flows", plan.flows)):
        summary[f"created_{section}"] = keys(ops, "created")
        summary[f"updated_{section}"] = keys(ops, "updated")
    summary["deleted_assets"] = [entry["external_id"] for entry in plan.prune_assets[:AUDIT_LIST_LIMIT]]
    summary["deleted_flows"] = [
        [entry["origin"], entry["external_id"]] for entry in plan.prune_flows[:AUDIT_LIST_LIMIT]
    ]
    summary["truncated"] = max(len(plan.assets), len(plan.flows), len(plan.prune_flows)) > AUDIT_LIST_LIMIT
    return summary
