"""Recomputing what is derived from a system's model (findings now; risk joins in the risk issue)."""

from __future__ import annotations

import logging

from threats.services.findings import FindingsReport, findings_refresh
from workbench.models import System

logger = logging.getLogger(__name__)


def system_recompute(*, system: System) -> FindingsReport:
    """Apply the installed library to the system's current elements."""
    return findings_refresh(system=system, version=system.version)


def enqueue_recompute(system_id: int) -> None:
    """Queue a recompute after commit; a broker failure is logged, never raised into the request.

    The version stamp on the system is the outbox: a sweep finds systems whose results lag
    behind, so a lost message delays results but loses nothing.
    """
    from threats.tasks import recompute_system

    try:
        recompute_system.delay(system_id=system_id)
    except Exception:  # noqa: BLE001 - any broker error must not fail the user's write
        logger.exception("could not enqueue recompute for system %s", system_id)
