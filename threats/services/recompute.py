"""The recompute pipeline (DESIGN.md §6): claim a version, compute, write results for it.

1. Read the system's version ``v``; if results already exist for ``v`` or later, stop (a task run
   twice for one version writes nothing the second time).
2. Claim ``v`` (``claims.claim_version``); a loser stops. Bursts of edits thus coalesce: every
   queued task reads the newest version, the first claims it, the rest find it claimed or done.
3. Snapshot the system in a fixed number of queries and run the pure engines outside any
   transaction.
4. Write findings, risk and the system summary in one transaction, under a lock on the summary
   row, only if no newer results were written meanwhile.
5. If the version moved while computing, enqueue another run; the sweep catches anything a lost
   message leaves behind.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from threats.models import SystemRisk
from threats.services.claims import claim_version, release_claim
from threats.services.findings import findings_apply
from threats.services.risk import compute_system_risk, prepare_new_finding, write_risk
from workbench.background import JobRun, enqueue_recompute
from workbench.choices import JobKind
from workbench.models import System


@dataclass(frozen=True)
class RecomputeOutcome:
    status: str  # "computed", "fresh", "claimed_elsewhere", "superseded", "gone"
    version: int | None = None
    job_id: int | None = None
    details: dict[str, Any] | None = None


def system_recompute(*, system_id: int, token: str | None = None) -> RecomputeOutcome:
    """Bring a system's derived results up to its current version (idempotent, see module doc)."""
    token = token or uuid.uuid4().hex
    system = System.objects.select_related("team").filter(pk=system_id).first()
    if system is None:
        return RecomputeOutcome("gone")
    version = system.version
    risk = SystemRisk.objects.filter(system=system).first()
    if risk is not None and risk.computed_version >= version:
        return RecomputeOutcome("fresh", version)
    if not claim_version(system_id=system.pk, version=version, token=token):
        return RecomputeOutcome("claimed_elsewhere", version)
    # A redelivered message (its worker died) carries the same task id: finish that run's Job.
    run = JobRun.resumed_or_new(system=system, kind=JobKind.RECOMPUTE, version=version, token=token)
    run.start(task_id=token)
    try:
        computed = compute_system_risk(system=system)
        with transaction.atomic():
            locked = SystemRisk.objects.select_for_update().get(system=system)
            if locked.computed_version >= version:
                run.finish({"superseded": True, "version": version})
                return RecomputeOutcome("superseded", version, run.job.pk)
            report, findings = findings_apply(
                system=system,
                matches=computed.matches,
                snapshot=computed.snapshot,
                version=version,
                prepare=prepare_new_finding(computed, version),
            )
            details = write_risk(system_risk=locked, findings=findings, computed=computed, version=version)
            details.update(
                created=report.created, closed=report.closed, reopened=report.reopened, open_findings=report.open_total
            )
            run.finish({"version": version, **details})
    except Exception as exc:
        release_claim(system_id=system.pk, token=token)  # first: the claim is freed even if the Job write fails
        run.crashed(exc)
        raise
    if System.objects.filter(pk=system.pk, version__gt=version).exists():
        enqueue_recompute(system.pk)
    return RecomputeOutcome("computed", version, run.job.pk, details)


def stale_system_ids(*, limit: int = 500) -> list[int]:
    """Systems whose results are behind their version and not being computed right now."""
    from django.db.models import F, Q

    from threats.services.claims import LEASE

    lease_start = timezone.now() - LEASE
    behind = System.objects.filter(Q(risk__isnull=True) | Q(risk__computed_version__lt=F("version")))
    busy = Q(risk__claimed_version__gte=F("version")) & Q(risk__claimed_at__gte=lease_start)
    return list(behind.exclude(busy).order_by("pk").values_list("pk", flat=True)[:limit])
