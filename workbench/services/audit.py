"""Writing, verifying and re-sealing the keyed, hash-chained audit record (docs/audit-chain.md).

Chain rule: ``hash = HMAC-SHA256(key, content)`` where content is every stored column of the
event, the previous event's hash among them (``workbench.services.audit_seal``). The team row is
locked while an event is appended, so concurrent writers cannot fork the chain;
``Team.audit_head`` remembers the newest sequence, and signed anchors outside the database
(``workbench.services.audit_anchor``) remember it where a database writer cannot reach.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models, transaction
from django.utils import timezone

from workbench.models import AuditEvent, System, Team
from workbench.models.audit import ChainScheme
from workbench.services.audit_anchor import Anchor, AnchorBook, anchor_book_read, audit_anchor_write
from workbench.services.audit_seal import GENESIS, event_hash, legacy_hash, seal_matches

__all__ = [
    "GENESIS",
    "ChainReport",
    "audit_instance",
    "audit_record",
    "event_hash",
    "team_audit_reseal",
    "team_verify_audit",
]

BATCH = 2000
RESEAL_HINT = "run `manage.py verify_audit --reseal` once after upgrading (docs/audit-chain.md)"


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
    """Append one keyed event to the team's chain. Must run inside the caller's transaction."""
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
        scheme=ChainScheme.HMAC,
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    Team.objects.filter(pk=team.pk).update(audit_head=event.sequence)
    return event


def audit_instance(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    verb: str,
    instance: models.Model,
    system: System | None = None,
    team: Team | None = None,
    label: str | None = None,
    key: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append the event of ``verb`` on one model row, named the same way by every service.

    The object is the row's model name, primary key and ``str`` (or ``label``), so a caller says only
    what happened and what changed. ``team`` defaults to the system's. A deletion is recorded after
    the row goes (locks are taken in the same order as by every other write: rows first, the team's
    chain last), so its caller passes the ``key`` and ``label`` the row had.
    """
    owner = team if team is not None else (system.team if system is not None else None)
    if owner is None:
        raise ValueError("audit_instance needs a team or a system")
    return audit_record(
        team=owner,
        actor=actor,
        verb=verb,
        object_type=instance._meta.model_name or "",
        object_id=instance.pk if key is None else key,
        object_repr=str(instance) if label is None else label,
        before=before,
        after=after,
        system=system,
    )


@dataclass(frozen=True)
class ChainReport:
    """Outcome of a chain check: ``ok`` or the first event that breaks it and why.

    ``broken_sequence`` is None when the break is not at an event (a bad anchor line);
    ``legacy`` counts unkeyed events, accepted only by the re-seal's own check.
    """

    ok: bool
    checked: int
    broken_sequence: int | None = None
    reason: str = ""
    anchors: int = 0
    legacy: int = 0


def _batches(team_id: int) -> Iterator[list[AuditEvent]]:
    """A team's events in sequence order, in bounded pages (keyset, so rows can be updated between)."""
    last = -1
    while True:
        batch = list(AuditEvent.objects.filter(team_id=team_id, sequence__gt=last).order_by("sequence")[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1].sequence


def _live_refs(batch: list[AuditEvent]) -> tuple[set[int], set[int]]:
    """Systems and users that still exist although an event's link to them is null."""
    systems = {e.system_ref for e in batch if e.system_id is None and e.system_ref is not None}
    actors = {e.actor_ref for e in batch if e.actor_id is None and e.actor_ref is not None}
    live_systems = set(System.objects.filter(pk__in=systems).values_list("pk", flat=True)) if systems else set()
    users = get_user_model().objects
    live_actors = set(users.filter(pk__in=actors).values_list("pk", flat=True)) if actors else set()
    return live_systems, live_actors


def _link_problem(event: AuditEvent, live_systems: set[int], live_actors: set[int]) -> str | None:
    """The foreign keys are not sealed themselves (deletions null them); they must agree with the refs."""
    if event.system_id is not None and event.system_id != event.system_ref:
        return "system link does not match the sealed system"
    if event.system_id is None and event.system_ref in live_systems:
        return "system link was removed although the system exists"
    if event.actor_id is not None and event.actor_id != event.actor_ref:
        return "actor link does not match the sealed actor"
    if event.actor_id is None and event.actor_ref in live_actors:
        return "actor link was removed although the user exists"
    return None


def _anchor_problem(event: AuditEvent, anchors: list[Anchor]) -> str | None:
    for anchor in anchors:
        if anchor.hash != event.hash or (anchor.event_id is not None and anchor.event_id != event.pk):
            return f"event does not match the anchor of {anchor.at} (anchor line {anchor.line})"
    return None


def _event_problem(event: AuditEvent, *, keyed_seen: bool, allow_legacy: bool) -> str | None:
    """Why ``event``'s seal is wrong, or None; legacy seals are accepted only when ``allow_legacy``."""
    if event.scheme == ChainScheme.HMAC:
        return None if seal_matches(event) else "content does not match its hash"
    if event.scheme != ChainScheme.SHA256:
        return f"event claims an unknown seal scheme {event.scheme}"
    if keyed_seen:
        return "event claims the unkeyed seal after keyed events: the workbench never writes that"
    if not allow_legacy:
        return f"event is sealed with the unkeyed SHA-256 of before migration 0008: {RESEAL_HINT}"
    return None if legacy_hash(event) == event.hash else "content does not match its hash"


def _verify(team_id: int, head: int, anchors: list[Anchor], *, allow_legacy: bool) -> ChainReport:
    """Walk the chain once: numbering, links, seals, foreign keys, then the head and the anchors."""
    by_sequence: defaultdict[int, list[Anchor]] = defaultdict(list)
    for anchor in anchors:
        by_sequence[anchor.sequence].append(anchor)
    prev_hash, expected, checked, legacy, keyed_seen = GENESIS, 1, 0, 0, False
    for batch in _batches(team_id):
        live_systems, live_actors = _live_refs(batch)
        for event in batch:
            if event.sequence != expected:
                # Sequences are unique, so the only way to be below ``expected`` is a forged #0.
                if event.sequence > expected:
                    return ChainReport(False, checked, expected, f"event #{expected} is missing", legacy=legacy)
                return ChainReport(False, checked, event.sequence, "event precedes #1", legacy=legacy)
            problem = (
                ("link to the previous event does not match" if event.prev_hash != prev_hash else None)
                or _event_problem(event, keyed_seen=keyed_seen, allow_legacy=allow_legacy)
                or _link_problem(event, live_systems, live_actors)
                or _anchor_problem(event, by_sequence.get(event.sequence, []))
            )
            if problem:
                return ChainReport(False, checked, event.sequence, problem, legacy=legacy)
            keyed_seen = keyed_seen or event.scheme == ChainScheme.HMAC
            legacy += event.scheme == ChainScheme.SHA256
            prev_hash, expected, checked = event.hash, expected + 1, checked + 1
    if checked != head:
        return ChainReport(False, checked, checked + 1, f"chain ends at #{checked}, head says #{head}", legacy=legacy)
    beyond = max((a for a in anchors if a.sequence > checked), key=lambda a: a.sequence, default=None)
    if beyond is not None:
        start = "chain is empty" if checked == 0 else f"chain ends at #{checked}"
        reason = f"{start}, but the anchor of {beyond.at} (anchor line {beyond.line}) says #{beyond.sequence}"
        return ChainReport(False, checked, checked + 1, reason, legacy=legacy)
    return ChainReport(True, checked, anchors=len(anchors), legacy=legacy)


def team_verify_audit(*, team: Team, book: AnchorBook | None = None) -> ChainReport:
    """Verify one team's whole chain against its seals and its anchors (read from the file if
    ``book`` is not given). A bad anchor line claiming this team fails the check too: someone
    who can write the file but has no key tried to alter what it says."""
    book = book if book is not None else anchor_book_read()
    head = Team.objects.values_list("audit_head", flat=True).get(pk=team.pk)
    report = _verify(team.pk, head, book.for_team(team.pk), allow_legacy=False)
    problems = book.problems_for(team.pk)
    if report.ok and problems:
        first = problems[0]
        return ChainReport(False, report.checked, None, f"anchor line {first.line}: {first.reason}")
    return report


@dataclass(frozen=True)
class ResealReport:
    """Outcome of a re-seal: how many unkeyed events were re-sealed, or why nothing was."""

    ok: bool
    resealed: int
    reason: str = ""
    anchor: Anchor | None = None


def team_audit_reseal(*, team: Team, book: AnchorBook | None = None) -> ResealReport:
    """Re-seal a team's chain written before migration 0008 with the key; all or nothing.

    1. Lock the team row (no event can be appended meanwhile).
    2. Verify the old chain, unkeyed seals included; refuse if anything is broken.
    3. Refuse a team that has anchors: anchors are only written for keyed chains, so an unkeyed
       event there was forged (a downgrade), and re-sealing would launder it.
    4. Rewrite every event's seal in sequence order, then anchor the new head.
    """
    book = book if book is not None else anchor_book_read()
    with transaction.atomic():
        head = Team.objects.select_for_update().values_list("audit_head", flat=True).get(pk=team.pk)
        report = _verify(team.pk, head, [], allow_legacy=True)
        if not report.ok:
            where = f"event #{report.broken_sequence}: " if report.broken_sequence else ""
            return ResealReport(False, 0, f"old chain is broken at {where}{report.reason}; nothing re-sealed")
        if report.legacy == 0:
            return ResealReport(True, 0, "chain is keyed already")
        if book.for_team(team.pk) or book.problems_for(team.pk):
            return ResealReport(False, 0, "team has anchors, so its chain was keyed: unkeyed events in it are forged")
        prev_hash = GENESIS
        for batch in _batches(team.pk):
            for event in batch:
                event.prev_hash, event.scheme = prev_hash, ChainScheme.HMAC
                event.hash = event_hash(event)
                prev_hash = event.hash
            AuditEvent.objects.bulk_update(batch, ["prev_hash", "scheme", "hash"], batch_size=500)
    run = audit_anchor_write(teams=[team], path=book.path)
    return ResealReport(True, report.legacy, anchor=run.written[0] if run.written else None)
