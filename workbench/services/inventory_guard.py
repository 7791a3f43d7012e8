"""Inventory-sync refusals that come before any write (issue 13, points 5 and 8).

Kept apart from ``workbench.services.inventory`` (the sync's steps) and from the parser and
planner, which check items: these check the request as a whole.

* ``MAX_SYNC_ITEMS`` (``workbench.services.limits``): a larger body is refused with 413 before
  it is parsed.
* ``mode: full`` with no assets means "the source has no assets any more" and would delete all
  of them with their flows; an empty export from a broken collector says exactly that. Refused
  (422 ``prune_all_required``) unless the payload also says ``"prune_all": true``.
* The system's size limits, once the plan says how many rows a sync creates and prunes
  (422 ``system_too_large``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from workbench.models import Asset, DataFlow, System
from workbench.services.inventory_parse import Envelope, PayloadError, parse_envelope
from workbench.services.inventory_plan import SyncPlan
from workbench.services.limits import SystemLimitExceeded, check_room, max_sync_items


@dataclass(frozen=True)
class Refusal:
    """An answer that refuses the sync: HTTP status and the API's error body."""

    status_code: int
    body: dict[str, Any]


PRUNE_ALL = "prune_all"


def parse_sync(data: Any) -> tuple[Envelope, bool]:
    """The envelope and its ``prune_all`` flag; raises ``PayloadError`` (400).

    ``prune_all`` is taken out before ``parse_envelope``, which knows only the keys of
    DESIGN.md §7; it is a boolean and means something only with ``mode: full``.
    """
    errors: dict[str, list[str]] = {}
    prune_all = False
    if isinstance(data, dict) and PRUNE_ALL in data:
        flag = data[PRUNE_ALL]
        data = {key: value for key, value in data.items() if key != PRUNE_ALL}
        if type(flag) is not bool:
            errors[PRUNE_ALL] = ["Expected true or false."]
        elif flag and data.get("mode") != "full":
            errors[PRUNE_ALL] = ["Only a sync with mode 'full' prunes; leave prune_all out."]
        else:
            prune_all = flag
    try:
        envelope = parse_envelope(data)
    except PayloadError as exc:
        raise PayloadError({**exc.errors, **errors}) from None
    if errors:
        raise PayloadError(errors)
    return envelope, prune_all


def _item_count(data: Any) -> int:
    if not isinstance(data, dict):
        return 0
    return sum(len(data[name]) for name in ("assets", "flows") if isinstance(data.get(name), list))


def sync_precheck(data: Any) -> Refusal | None:
    """The refusals that need no database, or None; raises ``PayloadError`` (400).

    1. More than ``MAX_SYNC_ITEMS`` assets and flows: 413, counted before anything is parsed.
    2. ``mode: full`` with no assets would delete every asset of the source and their flows,
       which an empty export from a broken collector must never do: 422 unless the payload
       says ``"prune_all": true``.
    """
    items, cap = _item_count(data), max_sync_items()
    if items > cap:
        detail = (
            f"A sync takes at most {cap:,} items (assets and flows); this one has {items:,}. "
            "Send the inventory in several upsert syncs."
        )
        return Refusal(413, {"detail": detail, "code": "too_many_items"})
    envelope, prune_all = parse_sync(data)
    if envelope.mode == "full" and not envelope.assets and not prune_all:
        detail = (
            f"A full sync without assets would delete every asset of source {envelope.source!r} and "
            'their flows; nothing was written. Send "prune_all": true if that is what you mean.'
        )
        return Refusal(422, {"detail": detail, "code": "prune_all_required"})
    return None


def size_refusal(plan: SyncPlan, system: System) -> Refusal | None:
    """422 when the planned creations, less the prunes, pass the system's size limits."""
    created: dict[type[models.Model], tuple[int, int]] = {
        model: (sum(1 for op in ops if op.status == "created"), len(pruned))
        for model, ops, pruned in ((Asset, plan.assets, plan.prune_assets), (DataFlow, plan.flows, plan.prune_flows))
    }
    try:
        check_room(system=system, changes=created, lock=False)
    except SystemLimitExceeded as exc:
        errors = exc.message_dict
        detail = next(iter(errors.values()))[0]
        return Refusal(422, {"detail": detail, "code": "system_too_large", "errors": errors})
    return None
