"""Writing and verifying the hash-chained audit record.

Chain rule: ``hash = sha256(prev_hash + canonical_json(content))`` where content includes the
team, the per-team sequence number and every stored field. The team row is locked while an event
is appended, so concurrent writers cannot fork the chain; ``Team.audit_head`` remembers the newest
sequence so that a deleted tail is noticed too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from workbench.models import AuditEvent, System, Team

GENESIS = "0" * 64


def _content(event: AuditEvent) -> str:
    created = event.created_at.astimezone(UTC).isoformat(timespec="microseconds")
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
        "created_at": created,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256((event.prev_hash + _content(event)).encode()).hexdigest()


def audit_record(
    *,
    team: Team,
    actor: AbstractBaseUser | AnonymousUser | None,
    verb: str,
    object_type: str,
    object_id: Any = "",
    object_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    system: System | None = None,
) -> AuditEvent:
    """Append one event to the team's chain. Must run inside the caller's transaction."""
    head = Team.objects.select_for_update().only("id", "audit_head").get(pk=team.pk)
    prev_hash = (
        AuditEvent.objects.filter(team_id=team.pk, sequence=head.audit_head).values_list("hash", flat=True).first()
        or GENESIS
    )
    user = actor if actor is not None and actor.is_authenticated else None
    event = AuditEvent(
        team_id=team.pk,
        sequence=head.audit_head + 1,
        system=system,
        system_ref=system.pk if system is not None else None,
        actor_id=user.pk if user is not None else None,
        actor_ref=user.pk if user is not None else None,
        actor_name=user.get_username() if user is not None else "system",
        verb=verb,
        object_type=object_type,
        object_id=str(object_id or ""),
        object_repr=object_repr[:200],
        before=before,
        after=after,
        created_at=timezone.now(),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    Team.objects.filter(pk=team.pk).update(audit_head=event.sequence)
    return event


@dataclass(frozen=True)
class ChainReport:
    """Outcome of a chain check: ``ok`` or the first event that breaks it and why."""

    ok: bool
    checked: int
    broken_sequence: int | None = None
    reason: str = ""


def verify_chain(events: Iterable[AuditEvent], expected_head: int) -> ChainReport:
    """Check a team's events in stored-sequence order against their hashes and links."""
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    for event in events:
        if event.sequence != expected_seq:
            return ChainReport(False, checked, expected_seq, f"event #{expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return ChainReport(False, checked, event.sequence, "link to the previous event does not match")
        if event_hash(event) != event.hash:
            return ChainReport(False, checked, event.sequence, "content does not match its hash")
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    if checked != expected_head:
        return ChainReport(False, checked, checked + 1, f"chain ends at #{checked}, head says #{expected_head}")
    return ChainReport(True, checked)


def team_verify_audit(*, team: Team) -> ChainReport:
    """Verify one team's whole chain, reading events in bounded batches."""
    head = Team.objects.values_list("audit_head", flat=True).get(pk=team.pk)
    events = AuditEvent.objects.filter(team_id=team.pk).order_by("sequence").iterator(chunk_size=2000)
    return verify_chain(events, head)
