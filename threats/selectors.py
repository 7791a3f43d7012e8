"""Reads of the threat library and of a system's findings (one finding with its comments and
risk views, for the finding page and API). The plans and acceptances on that page come from
mitigations through ``threats.ports``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

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
    return finding_of(system=system_get(user=user, slug=slug, team_id=team_id), pk=pk)


def finding_of(*, system: System, pk: int) -> Finding:
    """One finding of this (already visible) system with its comments, or 404; for the API views,
    which get the system from ``SystemScopedMixin``. ``finding.system`` is ``system`` itself."""
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
