"""Idempotency-Key: the answer given for a key is stored, and a retry with that key gets it again.

``(system, actor, idempotency_key)`` is unique on ``InventorySync``. A retry with the same body
gets the stored answer (a result or a refusal) with ``replayed`` set; another body reusing the
key is refused. Answers are stored as the client got them, HTTP status included; that status is
the caller's to say (``status_for``), so the mapping to HTTP stays in the API.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from workbench.models import InventorySync, System
from workbench.services.common import Actor
from workbench.services.inventory.errors import IdempotencyKeyReused, InvalidIdempotencyKey, StoredRefusal
from workbench.services.inventory.outcome import StatusFor, SyncResult

KEY_TTL = timedelta(hours=24)
KEY_MAX = InventorySync._meta.get_field("idempotency_key").max_length or 200


def check_idempotency_key(key: str) -> None:
    """A key is stored with the answer: at most its column's length, printable ASCII."""
    if len(key) > KEY_MAX or not key.isascii() or not key.isprintable():
        raise InvalidIdempotencyKey(f"Idempotency-Key must be at most {KEY_MAX} printable ASCII characters.")


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
    assert actor.pk is not None  # the EDIT_MODEL check ran: an authenticated member
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
