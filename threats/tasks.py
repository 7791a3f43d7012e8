"""Celery entry points of the threat app: load by id, call a service, return a small dict."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from threats.services.recompute import system_recompute
from workbench.models import System


@shared_task(name="threats.recompute_system", soft_time_limit=120, time_limit=150)
def recompute_system(*, system_id: int) -> dict[str, Any]:
    """Refresh a system's findings.

    Idempotency: the service writes only differences, so a redelivered or repeated run on the
    same version writes nothing.
    """
    system = System.objects.filter(pk=system_id).first()
    if system is None:
        return {"status": "gone"}
    report = system_recompute(system=system)
    return {"status": "ok", "version": system.version, "created": report.created, "closed": report.closed}
