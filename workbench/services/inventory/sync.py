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
   body differs) before anything else runs.
5. Check every item and plan the writes against the stored rows (``inventory.plan``); one bad
   item refuses the whole payload with every item's errors and nothing written.
6. Write with bulk statements (``inventory.write``); then one version bump (hence one recompute,
   after commit) and one audit event summarising the sync, only if something changed. Sending
   the same payload again plans no write at all.

A deadlock or serialization failure (another writer of the same rows, e.g. an edit in the
browser) rolls the attempt back and retries it, so clients never see one.

Answers given for an Idempotency-Key are stored as the client got them, HTTP status included;
that status is the caller's to say (``status_for``, the API's mapping of outcome codes), so
the mapping to HTTP stays in the API.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError, models, transaction
from django.utils import timezone

from workbench.models import Asset, DataFlow, InventorySync, Job, System
from workbench.services.audit import audit_record
from workbench.services.common import Actor, bump_version, require_role
from workbench.services.inventory.answers import audit_summary, invalid_items, result_body
from workbench.services.inventory.envelope import Envelope, read_envelope
from workbench.services.inventory.errors import (
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    StoredRefusal,
    SyncError,
    WouldExceedLimits,
)
from workbench.services.inventory.plan import SyncPlan, plan_sync
from workbench.services.inventory.write import write_plan
from workbench.services.limits import SystemLimitExceeded, check_room

logger = logging.getLogger(__name__)

ATTEMPTS = 3
RETRY_PGCODES = frozenset({"40P01", "40001", "23505"})  # deadlock, serialization failure, unique race
KEY_TTL = timedelta(hours=24)
KEY_MAX = InventorySync._meta.get_field("idempotency_key").max_length or 200
# Outcome codes of a sync that was not refused (a refusal's code is its SyncError's).
SYNCED, ACCEPTED = "synced", "accepted"
StatusFor = Callable[[str], int]
T = TypeVar("T")


@dataclass(frozen=True)
class SyncResult:
    """A sync that ran (``queued`` False) or was accepted as a Job; ``replayed`` for a stored answer."""

    body: dict[str, Any]
    queued: bool = False
    replayed: bool = False

    @property
    def code(self) -> str:
        return ACCEPTED if self.queued else SYNCED


def inline_limit() -> int:
    """Largest payload (assets + flows) answered in the request; larger ones become a Job."""
    return int(getattr(settings, "INVENTORY_SYNC_INLINE_ITEMS", 5000))


def check_idempotency_key(key: str) -> None:
    """A key is stored with the answer: at most its column's length, printable ASCII."""
    if len(key) > KEY_MAX or not key.isascii() or not key.isprintable():
        raise InvalidIdempotencyKey(f"Idempotency-Key must be at most {KEY_MAX} printable ASCII characters.")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector around one sync.

    Why: parsing and planning a large inventory allocates hundreds of thousands of small dicts
    and tuples, and each allocation burst makes the collector re-scan every live object, the
    whole payload included: 35-40% of a 10,000-asset sync (bench/sync.py). Nothing here builds
    reference cycles, so reference counting frees it all; the collector resumes afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _retryable(exc: DatabaseError) -> bool:
    return getattr(exc.__cause__, "pgcode", None) in RETRY_PGCODES


def with_retries(attempt: Callable[[], T]) -> T:
    """Run ``attempt`` (one transaction) again after a deadlock or serialization failure."""
    for number in range(1, ATTEMPTS + 1):
        try:
            return attempt()
        except (OperationalError, IntegrityError) as exc:
            if number == ATTEMPTS or not _retryable(exc):
                raise
            logger.warning("inventory sync attempt %s failed transiently (%s); retrying", number, exc.__cause__)
    raise AssertionError("unreachable")  # pragma: no cover


def replay(*, system: System, actor: Actor, key: str, body_sha256: str) -> SyncResult | StoredRefusal | None:
    """The answer stored for ``key``, or None; raises ``IdempotencyKeyReused`` for another body."""
    stored = (
        InventorySync.objects.filter(system=system, actor_id=actor.pk, idempotency_key=key)
        .filter(created_at__gte=timezone.now() - KEY_TTL)
        .only("body_sha256", "response")
        .first()
    )
    if stored is None:
        return None
    if stored.body_sha256 != body_sha256:
        raise IdempotencyKeyReused
    body = stored.response
    if "code" in body:  # only refusals carry a code
        return StoredRefusal(body)
    return SyncResult(body, queued="job" in body, replayed=True)


def remember(
    *,
    system: System,
    actor: Actor,
    key: str,
    body_sha256: str,
    source: str,
    code: str,
    body: dict[str, Any],
    status_for: StatusFor | None,
    **extra: Any,
) -> InventorySync:
    """Store the answer given for ``key`` (and, for a queued sync, its body and Job)."""
    assert actor.pk is not None  # require_role ran: an authenticated member
    if status_for is None:
        raise TypeError("Storing an answer needs status_for, the caller's status of each outcome code.")
    # Keys expire after KEY_TTL; dropping the system's expired rows here keeps the table small
    # and frees an expired key for reuse (a Job keeps its own result).
    InventorySync.objects.filter(system=system, created_at__lt=timezone.now() - KEY_TTL).delete()
    return InventorySync.objects.create(
        team_id=system.team_id,
        system=system,
        actor_id=actor.pk,
        idempotency_key=key,
        body_sha256=body_sha256,
        source=source,
        status_code=status_for(code),
        response=body,
        **extra,
    )


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
        from workbench.services.inventory.queued import inventory_sync_enqueue

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
            require_role(actor=actor, team=system.team)
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
