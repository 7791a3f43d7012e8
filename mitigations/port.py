"""The mitigations side of ``threats.ports.MitigationsPort``, bound by
``settings.THREATS_MITIGATIONS_PORT``: it delegates to the mitigations selectors and turns plans
and acceptances into the plain records threats declares, so no mitigations type crosses over."""

from __future__ import annotations

from django.db.models import Count

from mitigations import selectors
from mitigations.models import MitigationPlan, PlanStatus
from mitigations.selectors_findings import finding_acceptances, finding_plans
from threats.engine.controls import ControlsInForce
from threats.engine.plan_effect import PlanControl
from threats.models import Finding
from threats.ports import FindingAcceptance, FindingPlan
from workbench.models import System


class MitigationsPort:
    """Reads of plans and acceptances for the recompute, the finding page and the dashboard."""

    def plan_entries(self, *, system: System) -> list[PlanControl]:
        return selectors.plan_entries(system=system)

    def plan_controls(self, *, system: System) -> tuple[ControlsInForce, ControlsInForce]:
        return selectors.plan_controls_for(system=system)

    def accepted_finding_ids(self, *, system_id: int) -> set[int]:
        return selectors.accepted_finding_ids(system_id=system_id)

    def finding_plans(self, *, finding: Finding) -> list[FindingPlan]:
        return [
            FindingPlan(
                url=item.plan.get_absolute_url(),
                control_code=item.plan.control.code,
                control_name=item.plan.control.name,
                status_label=item.plan.get_status_display(),
                owner_name=item.plan.owner.get_username() if item.plan.owner is not None else "",
                scope=item.scope,
                effectiveness=item.effectiveness,
            )
            for item in finding_plans(finding=finding)
        ]

    def finding_acceptances(self, *, finding: Finding, limit: int) -> list[FindingAcceptance]:
        return [
            FindingAcceptance(
                status_label=acceptance.get_status_display(),
                end_reason=acceptance.end_reason,
                accepted_by_name=acceptance.accepted_by_name,
                expires_on=acceptance.expires_on,
                justification=acceptance.justification,
            )
            for acceptance in finding_acceptances(finding=finding)[:limit]
        ]

    def proposed_plan_counts(self, *, system_ids: list[int]) -> dict[int, int]:
        rows = (
            MitigationPlan.objects.filter(system_id__in=system_ids, status=PlanStatus.PROPOSED)
            .order_by()
            .values("system_id")
            .annotate(n=Count("pk"))
            .values_list("system_id", "n")
        )
        return dict(rows)
