"""Claiming a system version for recomputation (conditional UPDATE, healthchecks' pattern).

1. A task reads the system's current version ``v``.
2. It claims ``v`` only if results are older than ``v`` and nobody holds a live claim on ``v``
   (a claim is live until its lease expires; the same task id may reclaim, which is what a
   redelivered Celery message carries after a worker died).
3. Exactly one row changes for the winner; everyone else walks away.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from threats.models import SystemRisk

# Longer than the recompute task's hard time limit, so a live run is never taken over.
LEASE = timedelta(seconds=180)


def claim_version(*, system_id: int, version: int, token: str) -> bool:
    """True when this caller now owns the computation of ``version``."""
    SystemRisk.objects.get_or_create(system_id=system_id)
    now = timezone.now()
    live_claim_on_v = Q(claimed_version__gte=version) & Q(claimed_at__gte=now - LEASE) & ~Q(claim_token=token)
    updated = (
        SystemRisk.objects.filter(system_id=system_id, computed_version__lt=version)
        .exclude(live_claim_on_v)
        .update(claimed_version=version, claim_token=token[:64], claimed_at=now)
    )
    return updated == 1


def release_claim(*, system_id: int, token: str) -> None:
    """Give up a claim after a failure so the next attempt need not wait for the lease."""
    SystemRisk.objects.filter(system_id=system_id, claim_token=token).update(claimed_at=None, claim_token="")
