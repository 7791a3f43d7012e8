"""What someone with write access to the database but without the audit key can do to a chain.

The unkeyed formula is copied here on purpose rather than imported: it is what the chain used
before migration 0008, and what an attacker reading the old source would recompute.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from workbench.models import AuditEvent, Team


def last_event(team: Team) -> AuditEvent:
    """The team's newest audit event."""
    return AuditEvent.objects.filter(team=team).latest("sequence")


def unkeyed_hash(event: AuditEvent) -> str:
    """``sha256(prev_hash + canonical content)``: anyone can compute it, no key involved."""
    body = {
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
        "created_at": event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    content = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((event.prev_hash + content).encode()).hexdigest()


def reseal_unkeyed(team: Team, *, from_sequence: int = 1, scheme: int | None = None) -> None:
    """Recompute every hash and link from ``from_sequence`` on with the unkeyed formula.

    With ``scheme=1`` the rows also claim the old unkeyed scheme (a downgrade); that is also how
    a chain written before migration 0008 looks after it (the migration marks rows scheme 1).
    """
    events = list(AuditEvent.objects.filter(team=team).order_by("sequence"))
    prev = next((e.hash for e in events if e.sequence == from_sequence - 1), "0" * 64)
    for event in events:
        if event.sequence < from_sequence:
            continue
        event.prev_hash = prev
        event.hash = unkeyed_hash(event)
        prev = event.hash
        changes = {"prev_hash": event.prev_hash, "hash": event.hash}
        if scheme is not None:
            changes["scheme"] = scheme
        AuditEvent.objects.filter(pk=event.pk).update(**changes)


def verify_output(*args: str, ok: bool) -> str:
    """Run ``verify_audit`` and return what it printed; ``ok`` says whether it must succeed."""
    out = StringIO()
    if ok:
        call_command("verify_audit", *args, stdout=out)
    else:
        with pytest.raises(CommandError):
            call_command("verify_audit", *args, stdout=out)
    return out.getvalue()
