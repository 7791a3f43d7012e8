"""Plans whose whole scope was deleted become ``obsolete`` and stop counting as controls.

A scoped plan covers its own assets and the targets of its findings (an asset, or both ends of a
flow; ``selectors.covered_assets``). Once every one of them is deleted (in the editor, by a
``full`` inventory sync, with the flow it was about) the plan protects nothing. Left "approved"
it would still read as an approved control on the plan list, the finding page and to anyone
counting approvals. It does not go back to "proposed": there is nothing left to decide on, and
it must never widen to the whole system. It ends in the terminal ``obsolete`` state, with an
audit event by the system and a note to its proposer and owner; a new plan is proposed for
whatever replaced the assets.

This runs after every committed change of a system (``workbench.background.changes``) in
its own transaction. It does not bump the version: a plan that covers nothing already counted
for nothing in the risk views, so the numbers are unchanged.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from mitigations import workflow
from mitigations.models import MitigationPlan
from mitigations.selectors import covered_assets
from mitigations.services.notifications import notify_plan
from workbench.services.audit import audit_instance

logger = logging.getLogger(__name__)

LIVE_STATES = workflow.CURRENT_STATES | workflow.PROJECTED_STATES
REASON = "every asset and flow in its scope was deleted"


def plans_retire_obsolete(*, system_id: int) -> list[int]:
    """Mark the system's live scoped plans that cover nothing any more as obsolete; their ids.

    Two queries when nothing is to be done. Each plan is retired in its own transaction under a
    row lock with its state and coverage checked again, so a concurrent edit that gave the plan
    a new scope, or a second run, leaves it alone.
    """
    candidates = list(
        MitigationPlan.objects.filter(system_id=system_id, system_wide=False, status__in=LIVE_STATES).values_list(
            "pk", flat=True
        )
    )
    if not candidates:
        return []
    covered = covered_assets(candidates)
    retired = []
    for plan_id in (pk for pk in candidates if not covered.get(pk)):
        with transaction.atomic():
            if _retire(plan_id):
                retired.append(plan_id)
    return retired


def _retire(plan_id: int) -> bool:
    plan = (
        MitigationPlan.objects.select_for_update(of=("self",))
        .select_related("system__team", "control")
        .filter(pk=plan_id)
        .first()
    )
    if plan is None or plan.system_wide or plan.status not in LIVE_STATES or covered_assets([plan_id]).get(plan_id):
        return False
    seen = plan.status
    now = timezone.now()
    if (
        MitigationPlan.objects.filter(pk=plan_id, status=seen).update(status=workflow.OBSOLETE, status_changed_at=now)
        != 1
    ):
        return False
    plan.status, plan.status_changed_at = workflow.OBSOLETE, now
    after = {"status": workflow.OBSOLETE, "reason": REASON}
    audit_instance(actor=None, verb="obsolete", instance=plan, system=plan.system, before={"status": seen}, after=after)
    notify_plan(plan=plan, event=workflow.OBSOLETE, actor=None)
    return True


def on_system_changed(system_id: int) -> None:
    """What ``workbench.background.changes`` calls after a change committed, so it logs and never
    raises (the request that changed the system has already succeeded)."""
    try:
        plans_retire_obsolete(system_id=system_id)
    except Exception:  # noqa: BLE001 - the change is committed; a failure here must not become a 500
        logger.exception("could not retire obsolete plans of system %s", system_id)
