"""The one way to change a finding's status from outside the findings pipeline.

The recompute pipeline writes findings while it holds the system's ``SystemRisk`` row locked, so
anyone else who changes a status (accepting a risk, ending an acceptance) must take that same
lock first, or a recompute running at the same time writes back the status it read before.
Keeping the lock and the write together here means a writer in another app cannot forget either
(ADR 0004). A status change does not bump the system version: the model and its numbers are
unchanged, only the open counts move.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from threats.models import Finding, SystemRisk


@dataclass
class LockedFinding:
    """A finding read under the recompute lock and its own row lock, in the caller's transaction.

    Only ``finding_lock`` makes one, so whoever holds it has taken both locks in that order.
    """

    finding: Finding

    def set_status(self, status: str) -> None:
        """Write the new status (and ``updated_at``) and reflect it on the loaded finding."""
        Finding.objects.filter(pk=self.finding.pk).update(status=status, updated_at=timezone.now())
        self.finding.status = status


def finding_lock(*, system_id: int, finding_id: int) -> LockedFinding:
    """Lock the system's findings as the recompute does, then the finding; return it as stored now.

    Must run inside ``transaction.atomic`` (``select_for_update`` refuses otherwise). The finding
    comes with its template and system, which callers audit and notify with.
    """
    SystemRisk.objects.select_for_update().filter(system_id=system_id).first()
    finding = Finding.objects.select_for_update(of=("self",)).select_related("template", "system").get(pk=finding_id)
    return LockedFinding(finding)
