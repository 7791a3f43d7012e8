"""Inventory sync (DESIGN.md §7): upsert a source's assets and flows in one atomic, idempotent write.

1. Lock the system row (``select_for_update``, NO KEY so that writers of rows referencing it,
   such as audit events, do not deadlock with it): syncs of one system run one after the other,
   so overlapping payloads can never both insert the same ``(source, external_id)``.
2. With an ``Idempotency-Key``, a stored answer for that key is replayed (or refused with 409
   when the body differs) before anything else runs.
3. Check every item and plan the writes against the stored rows (``inventory_plan``); one bad
   item refuses the whole payload with every item's errors and nothing written.
4. Write with bulk statements (``inventory_write``); then one version bump (hence one recompute,
   after commit) and one audit event summarising the sync, only if something changed. Sending
   the same payload again plans no write at all.

A deadlock or serialization failure (another writer of the same rows, e.g. an edit in the
browser) rolls the attempt back and retries it, so clients never see one. Payloads above
``INVENTORY_SYNC_INLINE_ITEMS`` items are stored and processed by a worker
(``workbench.inventory_sync``) under a Job.
Refusals of a whole request (sizes, a full sync pruning all) are in ``inventory_guard``.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.utils import timezone

from workbench.choices import JobKind
from workbench.models import InventorySync, Job, System
from workbench.services.audit import audit_record
from workbench.services.common import Actor, bump_version, require_role
from workbench.services.inventory_guard import parse_sync, size_refusal, sync_precheck
from workbench.services.inventory_parse import Envelope, PayloadError
from workbench.services.inventory_plan import SyncPlan, plan_sync
from workbench.services.inventory_write import write_plan
from workbench.services.jobs import job_create, job_fail, job_finish, job_start
from workbench.services.packed import pack, pack_bytes, unpack_bytes

logger = logging.getLogger(__name__)

ATTEMPTS = 3
RETRY_PGCODES = frozenset({"40P01", "40001", "23505"})  # deadlock, serialization failure, unique race
KEY_TTL = timedelta(hours=24)
ERROR_LIST_LIMIT = 1000
AUDIT_LIST_LIMIT = 500


def inline_limit() -> int:
    """Largest payload (assets + flows) answered in the request; larger ones become a Job."""
    return int(getattr(settings, "INVENTORY_SYNC_INLINE_ITEMS", 5000))


class IdempotencyConflict(Exception):
    """The Idempotency-Key was already used with a different body."""


@dataclass(frozen=True)
class SyncAnswer:
    """What the client gets: an HTTP status and a JSON body; ``replayed`` for a stored answer."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


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


def _with_retries(attempt: Callable[[], SyncAnswer]) -> SyncAnswer:
    for number in range(1, ATTEMPTS + 1):
        try:
            return attempt()
        except (OperationalError, IntegrityError) as exc:
            if number == ATTEMPTS or not _retryable(exc):
                raise
            logger.warning("inventory sync attempt %s failed transiently (%s); retrying", number, exc.__cause__)
    raise AssertionError("unreachable")  # pragma: no cover


def _replay(*, system: System, actor: Actor, key: str, body_sha256: str) -> SyncAnswer | None:
    stored = (
        InventorySync.objects.filter(system=system, actor_id=actor.pk, idempotency_key=key)
        .filter(created_at__gte=timezone.now() - KEY_TTL)
        .only("body_sha256", "status_code", "response")
        .first()
    )
    if stored is None:
        return None
    if stored.body_sha256 != body_sha256:
        raise IdempotencyConflict
    return SyncAnswer(stored.status_code, stored.response, replayed=True)


def _remember(
    *, system: System, actor: Actor, key: str, body_sha256: str, source: str, answer: SyncAnswer, **extra: Any
) -> InventorySync:
    assert actor.pk is not None  # require_role ran: an authenticated member
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
        status_code=answer.status_code,
        response=answer.body,
        **extra,
    )


def inventory_sync(
    *,
    actor: Actor,
    system: System,
    data: Any,
    idempotency_key: str = "",
    body_sha256: str = "",
) -> SyncAnswer:
    """Sync one source's inventory into ``system`` (see the module docstring for the steps).

    Raises ``PayloadError`` (not a sync request), ``PermissionDenied`` (not an editor or admin of
    the system's team) and ``IdempotencyConflict``; item errors and refusals are answers.
    Writes: the rows, one version bump, one ``inventory_sync`` audit event, and with a key one
    ``InventorySync`` row. Dry runs write nothing and ignore the key.
    """
    if (refused := sync_precheck(data)) is not None:
        return SyncAnswer(refused.status_code, refused.body)
    envelope, _ = parse_sync(data)
    key = "" if envelope.dry_run else idempotency_key

    def attempt() -> SyncAnswer:
        with transaction.atomic():
            rows = System.objects.filter(pk=system.pk)
            # Dry runs only read: they take no lock and queue behind no sync.
            rows = rows if envelope.dry_run else rows.select_for_update(no_key=True)
            system.version = rows.values_list("version", flat=True).get()
            require_role(actor=actor, team=system.team)
            if key:
                replayed = _replay(system=system, actor=actor, key=key, body_sha256=body_sha256)
                if replayed is not None:
                    return replayed
            answer = _sync_locked(actor=actor, system=system, envelope=envelope)
            if key:
                _remember(
                    system=system,
                    actor=actor,
                    key=key,
                    body_sha256=body_sha256,
                    source=envelope.source,
                    answer=answer,
                )
            return answer

    with collector_paused():
        return _with_retries(attempt)


def _sync_locked(*, actor: Actor, system: System, envelope: Envelope) -> SyncAnswer:
    plan = plan_sync(system=system, envelope=envelope)
    if plan.errors:
        return SyncAnswer(422, _error_body(plan))
    if (too_large := size_refusal(plan, system)) is not None:
        return SyncAnswer(too_large.status_code, too_large.body)
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
            after=_audit_summary(plan),
            system=system,
        )
    return SyncAnswer(200, _result_body(plan, system=system, changed=changed))


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


def _result_body(plan: SyncPlan, *, system: System, changed: bool) -> dict[str, Any]:
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


def _error_body(plan: SyncPlan) -> dict[str, Any]:
    errors = plan.errors
    counts = {section: errors.count(section) for section in ("assets", "flows")}
    listed = {section: errors.listing(section, ERROR_LIST_LIMIT) for section in ("assets", "flows")}
    for entries in listed.values():
        for entry in entries:
            entry["status"] = "error"
    total = counts["assets"] + counts["flows"]
    return {
        "detail": f"{total} invalid item{'s' if total != 1 else ''}; nothing was written.",
        "code": "invalid_items",
        "errors": listed,
        "error_count": counts,
        "truncated": any(count > ERROR_LIST_LIMIT for count in counts.values()),
    }


def _audit_summary(plan: SyncPlan) -> dict[str, Any]:
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


# --- large payloads: a Job processed by a worker ------------------------------------------


def inventory_sync_enqueue(
    *,
    actor: Actor,
    system: System,
    envelope: Envelope,
    raw_body: bytes,
    body_sha256: str,
    idempotency_key: str,
    job_url: Callable[[Job], str],
) -> SyncAnswer:
    """Accept a large payload as a Job (202) and queue ``workbench.inventory_sync`` after commit.

    The body is stored (compressed) on an ``InventorySync`` row until the worker has processed
    it; with an Idempotency-Key a retry replays the same 202 (same Job) instead of queueing twice.
    """
    from workbench.tasks import inventory_sync_job

    def attempt() -> SyncAnswer:
        with transaction.atomic():
            System.objects.select_for_update(no_key=True).only("id").get(pk=system.pk)
            require_role(actor=actor, team=system.team)
            if idempotency_key:
                replayed = _replay(system=system, actor=actor, key=idempotency_key, body_sha256=body_sha256)
                if replayed is not None:
                    return replayed
            job = job_create(team=system.team, kind=JobKind.SYNC, system=system, system_version=system.version)
            answer = SyncAnswer(
                202,
                {
                    "source": envelope.source,
                    "mode": envelope.mode,
                    "dry_run": envelope.dry_run,
                    "items": envelope.item_count,
                    "job": {"id": job.pk, "status": job.status, "url": job_url(job)},
                },
            )
            row = _remember(
                system=system,
                actor=actor,
                key=idempotency_key,
                body_sha256=body_sha256,
                source=envelope.source,
                answer=answer,
                payload=pack_bytes(raw_body),
                job=job,
            )
            transaction.on_commit(lambda: _queue(inventory_sync_job, row.pk, job))
            return answer

    return _with_retries(attempt)


def _queue(task: Any, sync_id: int, job: Job) -> None:
    try:
        task.delay(sync_id=sync_id)
    except Exception as exc:  # noqa: BLE001 - a broker outage must end in a failed Job, not a lost one
        logger.exception("could not queue inventory sync %s", sync_id)
        job_fail(job=job, error=f"Could not queue the sync ({type(exc).__name__}); send it again.")
        InventorySync.objects.filter(pk=sync_id).update(payload=b"")


# The per-item lists of an answer: kept compressed on the InventorySync row, not in Job.result.
ITEM_LISTS = ("assets", "flows", "deleted")


def inventory_sync_run(*, sync_id: int, task_id: str = "") -> dict[str, Any]:
    """Process a queued sync and record its answer (the worker's service).

    The Job's ``result`` gets the summary (status, counts, version, item errors); the full
    answer with one entry per item is stored compressed on the sync row and served from there by
    the Job's status endpoint (``sync_job_answer``), which never has to parse it.
    """
    row = InventorySync.objects.select_related("system__team", "actor", "job").filter(pk=sync_id).first()
    if row is None or row.job is None:
        return {"status": "gone"}
    job = row.job
    if job.is_terminal:
        return {"status": "done", "job_id": job.pk}
    if not row.payload:
        job_fail(job=job, error="The queued body is no longer stored; send the sync again.")
        return {"status": "gone", "job_id": job.pk}
    job_start(job=job, task_id=task_id)
    try:
        with collector_paused():
            data = json.loads(unpack_bytes(row.payload).decode("utf-8"))
        answer = inventory_sync(actor=row.actor, system=row.system, data=data)
    except PayloadError as exc:
        answer = SyncAnswer(400, {"detail": "Invalid sync request.", "code": "invalid_request", "errors": exc.errors})
    except PermissionDenied as exc:
        answer = SyncAnswer(403, {"detail": str(exc), "code": "permission_denied"})
    except Exception as exc:
        job_fail(job=job, error=f"{type(exc).__name__}: {exc}")
        raise
    full = {"status_code": answer.status_code, **answer.body}
    with collector_paused():
        packed = pack(full)
    InventorySync.objects.filter(pk=row.pk).update(payload=b"", answer=packed)
    summary = {key: value for key, value in full.items() if key not in ITEM_LISTS}
    if answer.status_code == 200:
        job_finish(job=job, result=summary)
    else:
        job_fail(job=job, error=str(answer.body.get("detail", "The sync was refused.")))
        Job.objects.filter(pk=job.pk).update(result=summary)
    return {"status": "finished", "job_id": job.pk, "status_code": answer.status_code}


def sync_job_answer(job: Job) -> bytes | None:
    """The full answer of a processed sync Job as JSON bytes, or None (not processed yet)."""
    stored = InventorySync.objects.filter(job=job).values_list("answer", flat=True).first()
    return unpack_bytes(stored) if stored else None
