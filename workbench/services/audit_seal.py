"""The key and the hash functions of the audit chain (docs/audit-chain.md).

Events are sealed with HMAC-SHA256 under a key that never enters the database: someone who can
write to the database but has no key cannot compute a valid seal, so cannot rewrite an event
and re-seal the rest of the chain (with the plain SHA-256 of the first version, anyone could).

The key material comes from ``AUDIT_HMAC_KEY`` or, in the embedded default, a random key written
once to ``AUDIT_KEY_FILE`` (owner-only, untracked, like ``.secret_key``). Separate keys for event
seals and anchor signatures are derived from it with fixed labels, so that no value computed for
one purpose can be replayed as the other, and ``SECRET_KEY`` is never used.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from workbench.models import AuditEvent
from workbench.models.audit import ChainScheme

GENESIS = "0" * 64
MIN_KEY_LENGTH = 32
EVENT_LABEL = b"workbench/audit/event-seal/v2"
ANCHOR_LABEL = b"workbench/audit/anchor-signature/v1"
KEY_ID_LABEL = b"workbench/audit/key-id/v1"


@dataclass(frozen=True)
class AuditKeys:
    """Keys derived from the audit key material; ``key_id`` names the material, not a secret."""

    event: bytes
    anchor: bytes
    key_id: str


def _derive(material: bytes, label: bytes) -> bytes:
    return hmac.new(material, label, hashlib.sha256).digest()


def _read_or_create_key_file(path: Path) -> str:
    """Read the local key file, creating it with a random key on first use (O_EXCL, mode 0600)."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process created it between our read and our open: use theirs.
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@functools.cache
def _keys_for(configured: str, key_file: str) -> AuditKeys:
    material = configured or _read_or_create_key_file(Path(key_file))
    if len(material) < MIN_KEY_LENGTH:
        source = "AUDIT_HMAC_KEY" if configured else f"the audit key file {key_file}"
        raise ImproperlyConfigured(f"{source} must hold at least {MIN_KEY_LENGTH} characters of random key.")
    raw = material.encode()
    return AuditKeys(
        event=_derive(raw, EVENT_LABEL),
        anchor=_derive(raw, ANCHOR_LABEL),
        key_id=_derive(raw, KEY_ID_LABEL).hex()[:12],
    )


def audit_keys() -> AuditKeys:
    """The current keys; cached per configuration so that a settings override in a test applies."""
    return _keys_for(settings.AUDIT_HMAC_KEY, str(settings.AUDIT_KEY_FILE))


def canonical_json(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _created(event: AuditEvent) -> str:
    return event.created_at.astimezone(UTC).isoformat(timespec="microseconds")


def _content(event: AuditEvent) -> dict[str, Any]:
    """The event's own columns, sealed by both schemes (``canonical_json`` sorts the keys)."""
    return {
        "team": event.team_id,
        "sequence": event.sequence,
        "system": event.system_ref,
        "actor": event.actor_ref,
        "actor_name": event.actor_name,
        "verb": event.verb,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "before": event.before,
        "after": event.after,
        "created_at": _created(event),
    }


def legacy_hash(event: AuditEvent) -> str:
    """The unkeyed seal written before migration 0008: ``sha256(prev_hash + content)``.

    Kept to verify old chains before ``verify_audit --reseal`` re-seals them; anyone can compute
    it, which is why no chain may rely on it any longer.
    """
    return hashlib.sha256((event.prev_hash + canonical_json(_content(event))).encode()).hexdigest()


def event_hash(event: AuditEvent) -> str:
    """HMAC-SHA256 over every stored column of the event except its surrogate id.

    The system and actor foreign keys are covered through ``system_ref`` / ``actor_ref``: they may
    be nulled by a deletion, so verification checks each link equals its sealed ref or is null
    because the row it named is gone (``workbench.services.audit``).
    """
    body = {"scheme": ChainScheme.HMAC.value, "prev_hash": event.prev_hash, **_content(event)}
    return hmac.new(audit_keys().event, canonical_json(body).encode(), hashlib.sha256).hexdigest()


def seal_matches(event: AuditEvent) -> bool:
    """Whether the stored hash is the keyed seal of the stored content (constant-time compare)."""
    return hmac.compare_digest(event_hash(event), event.hash)


def anchor_signature(body: dict[str, Any]) -> str:
    """Signature of an anchor line's fields (everything but the signature itself)."""
    return hmac.new(audit_keys().anchor, canonical_json(body).encode(), hashlib.sha256).hexdigest()
