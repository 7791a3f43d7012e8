"""Applying the library to a system: create, update, close and reopen Finding rows.

The rule engine is pure; this service feeds it a snapshot and writes only the difference back,
in bulk. Running it again on an unchanged system writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from threats.engine.facts import derive_facts
from threats.engine.library import Match, find_threats
from threats.engine.snapshot import SystemSnapshot
from threats.models import Finding, ThreatTemplate
from threats.models.findings import FindingStatus
from threats.ports import mitigations
from threats.services.library import installed_library
from threats.services.snapshot import system_snapshot
from workbench.models import System
from workbench.services.bulk import create_all, writer_for_connection


@dataclass(frozen=True)
class FindingsReport:
    created: int
    updated: int
    closed: int
    reopened: int
    open_total: int

    @property
    def wrote(self) -> bool:
        return bool(self.created or self.updated or self.closed or self.reopened)


def findings_apply(
    *,
    system: System,
    matches: list[Match],
    snapshot: SystemSnapshot,
    version: int,
    prepare: Callable[[Finding, tuple[str, str]], None] | None = None,
) -> tuple[FindingsReport, dict[tuple[str, str], Finding]]:
    """Write the difference between ``matches`` and the stored findings; returns the live findings
    keyed by (threat code, target key). ``prepare`` fills extra columns (risk) of new findings
    before they are inserted, saving an update. Call inside a transaction."""
    templates = dict(ThreatTemplate.objects.filter(active=True).values_list("code", "id"))
    codes = {pk: code for code, pk in templates.items()}
    names = {("asset", a.id): a.name for a in snapshot.assets}
    names.update({("flow", f.id): f.name for f in snapshot.flows})
    # The risk JSON is loaded: the writer compares it to decide whether a row changed (deferring
    # it cost one query per unchanged finding). It is small, bar the few expanded explanations.
    existing = {(f.template_id, f.target_key): f for f in Finding.objects.filter(system=system)}

    to_create: list[Finding] = []
    to_update: list[Finding] = []
    live: list[Finding] = []
    seen: set[tuple[int, str]] = set()
    reopened = 0
    accepted: set[int] | None = None  # loaded on the first reopen only
    for match in matches:
        key = (templates[match.threat_code], f"{match.target_type}:{match.target_id}")
        seen.add(key)
        explanation = list(match.explanation)
        target_repr = names[(match.target_type, match.target_id)]
        finding = existing.get(key)
        if finding is None:
            finding = Finding(
                team_id=system.team_id,
                system=system,
                template_id=key[0],
                target_type=match.target_type,
                target_key=key[1],
                target_repr=target_repr,
                explanation=explanation,
                computed_version=version,
                asset_id=match.target_id if match.target_type == "asset" else None,
                flow_id=match.target_id if match.target_type == "flow" else None,
            )
            if prepare is not None:
                prepare(finding, (match.threat_code, key[1]))
            to_create.append(finding)
            live.append(finding)
            continue
        live.append(finding)
        changed = finding.explanation != explanation or finding.target_repr != target_repr
        if finding.status == FindingStatus.NOT_APPLICABLE:
            # A finding that returns while its risk acceptance is still valid stays accepted.
            accepted = _accepted_ids(system) if accepted is None else accepted
            finding.status = FindingStatus.ACCEPTED if finding.pk in accepted else FindingStatus.OPEN
            finding.closed_version = None
            reopened += 1
            changed = True
        if changed:
            finding.explanation, finding.target_repr, finding.computed_version = explanation, target_repr, version
            to_update.append(finding)
    closed = 0
    for key, finding in existing.items():
        if key not in seen and finding.status != FindingStatus.NOT_APPLICABLE:
            finding.status, finding.closed_version, finding.computed_version = (
                FindingStatus.NOT_APPLICABLE,
                version,
                version,
            )
            to_update.append(finding)
            closed += 1
    now = timezone.now()
    create_all(Finding, to_create, now=now)
    if to_update:
        for finding in to_update:
            finding.updated_at = now
        columns = ("status", "closed_version", "explanation", "target_repr", "computed_version", "updated_at")
        writer_for_connection().update(Finding, [(f.pk, {c: getattr(f, c) for c in columns}) for f in to_update], {})
    open_total = sum(1 for f in live if f.status == FindingStatus.OPEN)
    report = FindingsReport(
        created=len(to_create), updated=len(to_update) - closed, closed=closed, reopened=reopened, open_total=open_total
    )
    return report, {(codes[f.template_id], f.target_key): f for f in live}


def _accepted_ids(system: System) -> set[int]:
    return mitigations().accepted_finding_ids(system_id=system.pk)


@transaction.atomic
def findings_refresh(*, system: System, version: int | None = None) -> FindingsReport:
    """Bring the system's findings in line with the library for its current elements."""
    version = version if version is not None else system.version
    snapshot = system_snapshot(system=system)
    matches = find_threats(installed_library(), snapshot, derive_facts(snapshot))
    report, _ = findings_apply(system=system, matches=matches, snapshot=snapshot, version=version)
    return report
