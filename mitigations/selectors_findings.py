"""Plans and acceptances of one finding, for the finding page (served to threats through
``mitigations.port``): which plans address the finding, how, and how much they reduce it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from mitigations.models import MitigationPlan, RiskAcceptance
from threats.models import Finding, ThreatControl


@dataclass(frozen=True)
class CoveringPlan:
    """A plan that addresses a finding, how (``scope``) and how much it reduces its threat.

    ``scope`` is "finding" (the plan lists this finding), "target" (it covers the asset the finding
    sits on, or an end of its flow) or "system" (system-wide). ``effectiveness`` is the library's
    probability reduction of the plan's control against this threat, None when it has none.
    """

    plan: MitigationPlan
    scope: str
    effectiveness: Decimal | None


def finding_plans(*, finding: Finding) -> list[CoveringPlan]:
    """Plans of the finding's system that address it, newest first, in any status.

    A plan counts when it lists the finding, or when its control works against the finding's
    threat and it covers the target the way ``plan_controls_for`` puts a
    control in force (system-wide; scoped to the asset; scoped to a finding on that asset).
    Five queries, whatever the number of plans.
    """
    effect = dict(
        ThreatControl.objects.filter(threat_id=finding.template_id).values_list("control_id", "effectiveness")
    )
    direct = set(
        MitigationPlan.findings.through.objects.filter(finding_id=finding.pk).values_list(
            "mitigationplan_id", flat=True
        )
    )
    plans = list(
        MitigationPlan.objects.filter(system_id=finding.system_id)
        .filter(Q(pk__in=direct) | Q(control_id__in=list(effect)))
        .select_related("control", "owner")
        .order_by("-created_at", "-pk")
    )
    ends = {finding.asset_id} if finding.asset_id else set()
    if finding.flow is not None:
        ends |= {finding.flow.source_id, finding.flow.target_id}
    scoped_ids = [p.pk for p in plans if p.pk not in direct and not p.system_wide]
    covering: set[int] = set()
    if scoped_ids and ends:
        covering.update(
            MitigationPlan.assets.through.objects.filter(
                mitigationplan_id__in=scoped_ids, asset_id__in=ends
            ).values_list("mitigationplan_id", flat=True)
        )
        covering.update(
            MitigationPlan.findings.through.objects.filter(mitigationplan_id__in=scoped_ids)
            .filter(
                Q(finding__asset_id__in=ends)
                | Q(finding__flow__source_id__in=ends)
                | Q(finding__flow__target_id__in=ends)
            )
            .values_list("mitigationplan_id", flat=True)
        )
    result = []
    for plan in plans:
        if plan.pk in direct:
            scope = "finding"
        elif plan.system_wide:
            scope = "system"
        elif plan.pk in covering:
            scope = "target"
        else:
            continue
        result.append(CoveringPlan(plan, scope, effect.get(plan.control_id)))
    return result


def finding_acceptances(*, finding: Finding) -> QuerySet[RiskAcceptance]:
    """Every acceptance of the finding's risk, newest first (at most one is active)."""
    return RiskAcceptance.objects.filter(finding=finding).order_by("-created_at", "-pk")
