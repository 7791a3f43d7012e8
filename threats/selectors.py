"""Reads of the threat library and of a system's findings."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from mitigations.models import Control, ThreatControl
from threats.models import AtlasTactic, AtlasTechnique, Finding, ThreatTemplate
from threats.models.findings import FindingStatus
from workbench.models import System


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
