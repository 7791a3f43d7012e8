"""Reads of the threat library and of a system's findings (one finding with its comments,
the plans that address it and its acceptances, for the finding page and API)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from mitigations.models import MitigationPlan, RiskAcceptance
from threats.models import AtlasTactic, AtlasTechnique, Control, Finding, FindingComment, ThreatControl, ThreatTemplate
from threats.models.findings import FindingStatus
from threats.selectors_explain import finding_explanations
from threats.selectors_risk import IMPACT_LABELS, LIKELIHOOD_LABELS
from workbench.models import System
from workbench.selectors import system_get
from workbench.services.common import Actor


@dataclass(frozen=True)
class ThreatFilter:
    """Library browser filters; empty strings mean "any"."""

    stride: str = ""
    tactic: str = ""
    asset_kind: str = ""
    q: str = ""


def tactic_technique_ids(tactic_id: str) -> set[str]:
    """Technique ids under an ATLAS tactic, sub-techniques included (they inherit the parent's)."""
    direct = set(AtlasTechnique.objects.filter(tactics__atlas_id=tactic_id).values_list("atlas_id", flat=True))
    subs = set(AtlasTechnique.objects.filter(parent__atlas_id__in=direct).values_list("atlas_id", flat=True))
    return direct | subs


def threat_list(*, filters: ThreatFilter | None = None) -> list[ThreatTemplate]:
    """Active threats matching the filters (the library is small: filtering JSON lists in Python
    keeps this portable between SQLite and PostgreSQL)."""
    f = filters or ThreatFilter()
    qs = ThreatTemplate.objects.filter(active=True).prefetch_related(
        Prefetch("control_links", queryset=ThreatControl.objects.select_related("control"))
    )
    if f.q:
        qs = qs.filter(name__icontains=f.q) | qs.filter(code__icontains=f.q)
    threats = list(qs.order_by("code"))
    if f.stride:
        threats = [t for t in threats if f.stride.upper() in t.stride]
    if f.asset_kind:
        threats = [t for t in threats if f.asset_kind in (t.asset_kinds or [])]
    if f.tactic:
        ids = tactic_technique_ids(f.tactic)
        threats = [t for t in threats if ids.intersection(t.atlas_ids or [])]
    return threats


def tactic_choices() -> QuerySet[AtlasTactic]:
    return AtlasTactic.objects.order_by("atlas_id")


def atlas_names(ids: list[str]) -> dict[str, str]:
    """Names of ATLAS techniques and mitigations by id, for showing references."""
    from threats.models import AtlasMitigation

    names = dict(AtlasTechnique.objects.filter(atlas_id__in=ids).values_list("atlas_id", "name"))
    names.update(AtlasMitigation.objects.filter(atlas_id__in=ids).values_list("atlas_id", "name"))
    return names


def control_list() -> QuerySet[Control]:
    return (
        Control.objects.filter(active=True)
        .prefetch_related(Prefetch("threat_links", queryset=ThreatControl.objects.select_related("threat")))
        .order_by("code")
    )


def finding_list(*, system: System, status: str = "", include_closed: bool = False) -> QuerySet[Finding]:
    """A system's findings with template, asset and flow joined (constant queries)."""
    qs = Finding.objects.filter(system=system).select_related("template", "asset", "flow")
    if status:
        qs = qs.filter(status=status)
    elif not include_closed:
        qs = qs.exclude(status=FindingStatus.NOT_APPLICABLE)
    return qs.order_by("template__code", "target_repr")


def finding_get(*, user: Actor, slug: str, pk: int, team_id: int | None = None) -> Finding:
    """One finding of a visible system with its comments, or 404.

    Scoped twice: the system must be visible to ``user`` (and belong to ``team_id``, a token's
    team), and the finding must belong to that system, so another team's finding, or a finding
    addressed through another system's URL, looks exactly like a missing one. ``finding.system``
    is that system, with the caller's ``capabilities`` (``system_get``).
    """
    system = system_get(user=user, slug=slug, team_id=team_id)
    qs = Finding.objects.select_related("template", "asset", "flow__source", "flow__target")
    comments = Prefetch("comments", queryset=FindingComment.objects.order_by("created_at", "pk"))
    finding = get_object_or_404(qs.prefetch_related(comments), system=system, pk=pk)
    finding.system = system
    return finding


def finding_comment_get(*, finding: Finding, pk: int) -> FindingComment:
    """A comment on this (already visible) finding, or 404."""
    return get_object_or_404(
        FindingComment.objects.select_related("team", "finding__template", "finding__system__team"),
        finding=finding,
        pk=pk,
    )


def finding_risk_views(finding: Finding) -> list[dict[str, Any]]:
    """The three risk views of the last recompute with their band labels, inherent first.

    Empty until the finding has been priced. Bands are 1-based (NIST SP 800-30 style), the
    labels are the heat map's. Each view carries its explanation, from the row or computed for
    the version shown (``finding_explanations``); ``explaining`` is true while the results are
    behind the model and the explanation waits for them.
    """
    explanations = finding_explanations(finding=finding) if finding.risk else {}
    titles = (
        ("inherent", "Inherent (no controls)"),
        ("current", "Current (implemented and verified plans)"),
        ("projected", "Projected (with approved and proposed plans)"),
    )
    views = []
    for key, title in titles:
        view = (finding.risk or {}).get(key)
        if not view:
            continue
        likelihood, impact = view.get("likelihood_band"), view.get("impact_band")
        if explanations and key in explanations:
            view = {**view, "explanation": explanations[key]}
        views.append(
            {
                "key": key,
                "title": title,
                "view": view,
                "explaining": explanations is None,
                "likelihood": LIKELIHOOD_LABELS[likelihood - 1] if likelihood in range(1, 6) else "",
                "impact": IMPACT_LABELS[impact - 1] if impact in range(1, 6) else "",
            }
        )
    return views


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
    threat and it covers the target the way ``mitigations.selectors.plan_controls_for`` puts a
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
