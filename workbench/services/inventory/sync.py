"""Inventory sync (DESIGN.md §7): upsert a source's assets and flows in one atomic, idempotent write.

``inventory_sync`` is the one entry point; it returns a ``SyncResult`` or raises a ``SyncError``
(``inventory.errors``) and knows nothing of HTTP. Its steps:

1. Read the request once (``inventory.envelope``): its size, its envelope, the full-sync guard.
2. A payload above ``INVENTORY_SYNC_INLINE_ITEMS`` items, when the caller can queue it, is stored
   and processed by a worker under a Job (``inventory.queued``).
3. Lock the system row (``select_for_update``, NO KEY so that writers of rows referencing it,
   such as audit events, do not deadlock with it): syncs of one system run one after the other,
   so overlapping payloads can never both insert the same ``(source, external_id)``.
4. With an ``Idempotency-Key``, a stored answer for that key is replayed (or refused when the
   body differs) before anything else runs (``inventory.idempotency``).
5. Check every item and plan the writes against the stored rows (``inventory.plan``); one bad
   item refuses the whole payload with every item's errors and nothing written.
6. Write with bulk statements (``inventory.write``); then one version bump (hence one recompute,
   after commit) and one audit event summarising the sync, only if something changed. Sending
   the same payload again plans no write at all.

A deadlock or serialization failure rolls the attempt back and runs it again (``inventory.outcome``).
Answers given for an Idempotency-Key are stored with the HTTP status the caller names
(``status_for``, the API's mapping of outcome codes: ``inventory.idempotency``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from workbench.models import Asset, DataFlow, Job, System
from workbench.permissions import TeamCapability, require
from workbench.services.audit import audit_record
from workbench.services.common import Actor, bump_version
from workbench.services.inventory.answers import audit_summary, invalid_items, result_body
from workbench.services.inventory.envelope import Envelope, read_envelope
from workbench.services.inventory.errors import SyncError, WouldExceedLimits
from workbench.services.inventory.idempotency import check_idempotency_key, remember, replay
from workbench.services.inventory.outcome import StatusFor, SyncResult, collector_paused, with_retries
from workbench.services.inventory.plan import SyncPlan, plan_sync
from workbench.services.inventory.queued import inventory_sync_enqueue
from workbench.services.inventory.write import write_plan
from workbench.services.limits import SystemLimitExceeded, check_room


def inline_limit() -> int:
    """Largest payload (assets + flows) answered in the request; larger ones become a Job."""
    return int(getattr(settings, "INVENTORY_SYNC_INLINE_ITEMS", 5000))


def inventory_sync(
    *,
    actor: Actor,
    system: System,
    payload: Any,
    idempotency_key: str = "",
    body_sha256: str = "",
    raw_body: bytes = b"",
    job_url: Callable[[Job], str] | None = None,
    status_for: StatusFor | None = None,
) -> SyncResult:
    """Sync one source's inventory into ``system`` (see the module docstring for the steps).

    ``payload`` is the parsed JSON body. With ``job_url`` (how the caller names a Job to its
    client) a payload above ``inline_limit()`` is queued (``raw_body`` is then what is stored);
    without it every payload is synced here, as the worker does. ``status_for`` is needed
    with an Idempotency-Key or a queued payload, whose answers are stored.

    Raises a ``SyncError`` for every refusal and ``PermissionDenied`` when ``actor`` is not an
    editor or admin of the system's team. Writes: the rows, one version bump, one
    ``inventory_sync`` audit event, and with a key one ``InventorySync`` row. Dry runs write
    nothing and ignore the key.
    """
    check_idempotency_key(idempotency_key)
    envelope = read_envelope(payload)
    if job_url is not None and envelope.item_count > inline_limit():
        return inventory_sync_enqueue(
            actor=actor,
            system=system,
            envelope=envelope,
            raw_body=raw_body,
            body_sha256=body_sha256,
            idempotency_key=idempotency_key,
            job_url=job_url,
            status_for=status_for,
        )
    key = "" if envelope.dry_run else idempotency_key

    def attempt() -> SyncResult | SyncError:
        # A refusal is returned, not raised, inside the transaction: with a key it is stored too.
        with transaction.atomic():
            rows = System.objects.filter(pk=system.pk)
            # Dry runs only read: they take no lock and queue behind no sync.
            rows = rows if envelope.dry_run else rows.select_for_update(no_key=True)
            system.version = rows.values_list("version", flat=True).get()
            require(actor, system.team, TeamCapability.EDIT_MODEL)
            if key:
                replayed = replay(system=system, actor=actor, key=key, body_sha256=body_sha256)
                if replayed is not None:
                    return replayed
            outcome = _sync_locked(actor=actor, system=system, envelope=envelope)
            if key:
                answer = outcome.body() if isinstance(outcome, SyncError) else outcome.body
                remember(
                    system=system,
                    actor=actor,
                    key=key,
                    body_sha256=body_sha256,
                    source=envelope.source,
                    code=outcome.code,
                    body=answer,
                    status_for=status_for,
                )
            return outcome

    with collector_paused():
        outcome = with_retries(attempt)
    if isinstance(outcome, SyncError):
        raise outcome
    return outcome


def _sync_locked(*, actor: Actor, system: System, envelope: Envelope) -> SyncResult | SyncError:
    plan = plan_sync(system=system, envelope=envelope)
    if plan.errors:
        return invalid_items(plan)
    if (too_large := _size_refusal(plan, system)) is not None:
        return too_large
    changed = plan.changes_anything
    if changed and not envelope.dry_run:
        write_plan(plan=plan, system=system, now=timezone.now())
        bump_version(system)
        audit_record(
            team=system.team,
            actor=actor,
            verb="inventory_sync",
            object_type="inventory",
            object_id=envelope.source,
            object_repr=f"{envelope.source} ({envelope.mode})",
            after=audit_summary(plan),
            system=system,
        )
    return SyncResult(result_body(plan, system=system, changed=changed))


def _size_refusal(plan: SyncPlan, system: System) -> WouldExceedLimits | None:
    """The planned creations, less the prunes, must fit the system's size limits."""
    created: dict[type[models.Model], tuple[int, int]] = {
        model: (sum(1 for op in ops if op.status == "created"), len(pruned))
        for model, ops, pruned in ((Asset, plan.assets, plan.prune_assets), (DataFlow, plan.flows, plan.prune_flows))
    }
    try:
        check_room(system=system, changes=created, lock=False)
    except SystemLimitExceeded as exc:
        errors = exc.message_dict
        return WouldExceedLimits(next(iter(errors.values()))[0], errors=errors)
    return None
