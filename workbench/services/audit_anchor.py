"""Signed checkpoints ("anchors") of each team's audit chain head, kept outside the database.

An anchor says "at time T, team X's chain had N events and its newest hash was H", signed with a
key derived from the audit key. Anchors are appended, one JSON object a line, to the file
``AUDIT_ANCHOR_PATH`` and written to the ``workbench.audit.anchor`` log, both out of reach of
someone who can only write to the database. ``verify_audit`` then notices a chain that is shorter
than an anchor says (a cut tail, a wiped chain) or whose event N no longer has hash H.

Anchors are only as safe as the place they are kept: copy the file or the log off the machine
(docs/audit-chain.md).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from workbench.models import AuditEvent, Team
from workbench.models.audit import ChainScheme
from workbench.services.audit_seal import GENESIS, anchor_signature, audit_keys, canonical_json

logger = logging.getLogger("workbench.audit.anchor")

FORMAT_VERSION = 1
MAX_LINE = 4096
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "v": int,
    "kid": str,
    "team": int,
    "slug": str,
    "event": (int, type(None)),
    "sequence": int,
    "hash": str,
}
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Anchor:
    """One verified anchor line: team ``team_id`` had ``sequence`` events, the last one ``event_id``."""

    line: int
    team_id: int
    slug: str
    event_id: int | None
    sequence: int
    hash: str
    at: str


@dataclass(frozen=True)
class AnchorProblem:
    """A line that is not a valid, correctly signed anchor; ``team_id`` is what it claims, if anything."""

    line: int
    team_id: int | None
    reason: str


@dataclass
class AnchorBook:
    """Every anchor of one file, by team, and every line that failed to parse or verify."""

    path: Path
    anchors: dict[int, list[Anchor]] = field(default_factory=dict)
    problems: list[AnchorProblem] = field(default_factory=list)

    def for_team(self, team_id: int) -> list[Anchor]:
        return self.anchors.get(team_id, [])

    def problems_for(self, team_id: int) -> list[AnchorProblem]:
        return [problem for problem in self.problems if problem.team_id == team_id]

    def latest(self, team_id: int) -> Anchor | None:
        anchors = self.for_team(team_id)
        return anchors[-1] if anchors else None


def anchor_path(path: str | Path | None = None) -> Path:
    """The anchor file: ``path``, else ``AUDIT_ANCHOR_PATH``, else one file per database under var/.

    One file per database, so that a test run or a second local database never reads the
    anchors of another one and reports its chains as cut.
    """
    if path:
        return Path(path)
    if settings.AUDIT_ANCHOR_PATH:
        return Path(settings.AUDIT_ANCHOR_PATH)
    name = str(connection.settings_dict["NAME"])
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name or name).strip("_")[:80] or "default"
    return Path(settings.BASE_DIR) / "var" / "audit-anchors" / f"{connection.vendor}-{label}.jsonl"


def _parse(number: int, text: str) -> Anchor | AnchorProblem:
    """Parse and verify one line; nothing in it is trusted before its signature checks."""
    if len(text) > MAX_LINE:
        return AnchorProblem(number, None, "line is too long to be an anchor")
    try:
        data: Any = json.loads(text)
    except ValueError:
        return AnchorProblem(number, None, "line is not JSON")
    if not isinstance(data, dict):
        return AnchorProblem(number, None, "line is not an anchor object")
    claimed = data.get("team")
    team_id = claimed if isinstance(claimed, int) and not isinstance(claimed, bool) else None
    fields_ok = set(data) == {*_FIELDS, "at", "sig"} and all(
        isinstance(data[name], kind) and not isinstance(data[name], bool) for name, kind in _FIELDS.items()
    )
    if not fields_ok or not isinstance(data["at"], str) or not isinstance(data["sig"], str):
        return AnchorProblem(number, team_id, "line does not have the fields of an anchor")
    if data["v"] != FORMAT_VERSION or not _HEX64.fullmatch(data["hash"]) or data["sequence"] < 0:
        return AnchorProblem(number, team_id, "anchor has an unknown version or a malformed head")
    body = {name: data[name] for name in data if name != "sig"}
    if not hmac.compare_digest(anchor_signature(body), data["sig"]):
        current = audit_keys().key_id
        if data["kid"] != current:
            reason = f"anchor is signed with another key (id {data['kid']}; the current key is {current})"
        else:
            reason = "anchor signature does not match: the line was forged or altered"
        return AnchorProblem(number, team_id, reason)
    return Anchor(number, data["team"], data["slug"], data["event"], data["sequence"], data["hash"], data["at"])


def anchor_book_read(path: str | Path | None = None) -> AnchorBook:
    """Read and verify every line of the anchor file; a missing file is an empty book."""
    book = AnchorBook(path=anchor_path(path))
    by_team: defaultdict[int, list[Anchor]] = defaultdict(list)
    try:
        handle = book.path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return book
    with handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.strip()
            if not text:
                continue
            parsed = _parse(number, text)
            if isinstance(parsed, Anchor):
                by_team[parsed.team_id].append(parsed)
            else:
                book.problems.append(parsed)
    book.anchors = dict(by_team)
    return book


def _append(path: Path, lines: list[str]) -> None:
    """Append whole lines with O_APPEND (each write lands at the end, never over earlier lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, "".join(f"{line}\n" for line in lines).encode())
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class AnchorRun:
    """What one anchoring pass did."""

    written: list[Anchor]
    unchanged: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    path: Path | None = None


def _head_body(team_id: int, slug: str, head: int) -> dict[str, Any] | str:
    """The signed fields for a team's current head, or why it cannot be anchored now."""
    first = AuditEvent.objects.filter(team_id=team_id, sequence=1).values_list("scheme", flat=True).first()
    if first is not None and first != ChainScheme.HMAC:
        return "its chain is not keyed yet: run `manage.py verify_audit --reseal`"
    last = AuditEvent.objects.filter(team_id=team_id, sequence=head).values_list("pk", "hash").first()
    if last is None and head != 0:
        return f"its head event #{head} is missing: run `manage.py verify_audit`"
    event_id, head_hash = last if last is not None else (None, GENESIS)
    return {
        "v": FORMAT_VERSION,
        "kid": audit_keys().key_id,
        "team": team_id,
        "slug": slug,
        "event": event_id,
        "sequence": head,
        "hash": head_hash,
        "at": timezone.now().isoformat(timespec="seconds"),
    }


def audit_anchor_write(
    *, teams: list[Team] | None = None, only_changed: bool = False, path: str | Path | None = None
) -> AnchorRun:
    """Append a signed anchor of each team's chain head (all teams when ``teams`` is None).

    ``only_changed`` (the periodic task) skips a team whose newest anchor already names its
    current head, so the file grows with activity, not with time. A chain that still holds
    unkeyed events is skipped (anchoring it would pin hashes that ``--reseal`` is about to
    change), and so is one whose head event is missing. Does not verify the chains: an anchor
    pins what is there, verification checks it, and earlier anchors still catch a cut made
    before this one.
    """
    target = anchor_path(path)
    book = anchor_book_read(target) if only_changed else None
    rows = Team.objects.order_by("pk")
    if teams is not None:
        rows = rows.filter(pk__in=[team.pk for team in teams])
    written: list[Anchor] = []
    lines: list[str] = []
    unchanged = 0
    skipped: dict[str, str] = {}
    for team_id, slug, head in rows.values_list("pk", "slug", "audit_head"):
        body = _head_body(team_id, slug, head)
        if isinstance(body, str):
            skipped[slug] = body
            logger.warning("audit chain of team %s not anchored: %s", slug, body)
            continue
        latest = book.latest(team_id) if book is not None else None
        if latest is not None and (latest.sequence, latest.hash) == (body["sequence"], body["hash"]):
            unchanged += 1
            continue
        line = canonical_json({**body, "sig": anchor_signature(body)})
        lines.append(line)
        written.append(Anchor(0, team_id, slug, body["event"], body["sequence"], body["hash"], body["at"]))
        logger.info("audit anchor %s", line)
    if lines:
        _append(target, lines)
    return AnchorRun(written=written, unchanged=unchanged, skipped=skipped, path=target)
