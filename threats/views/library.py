"""Library browser and findings pages (read only)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from threats import selectors
from threats.models import Control, ThreatControl, ThreatTemplate
from threats.models.findings import FindingStatus
from workbench.choices import AssetKind
from workbench.selectors import system_get

STRIDE = (
    ("S", "Spoofing"),
    ("T", "Tampering"),
    ("R", "Repudiation"),
    ("I", "Information disclosure"),
    ("D", "Denial of service"),
    ("E", "Elevation of privilege"),
)


def _param(request: HttpRequest, name: str, allowed: set[str] | None = None, limit: int = 100) -> str:
    """A query parameter, trimmed and bounded; values outside ``allowed`` are ignored."""
    value = request.GET.get(name, "").strip()[:limit]
    return value if allowed is None or value in allowed else ""


@login_required
@require_safe
def threat_list(request: HttpRequest) -> HttpResponse:
    tactics = selectors.tactic_choices()
    filters = selectors.ThreatFilter(
        stride=_param(request, "stride", {code for code, _ in STRIDE}),
        tactic=_param(request, "tactic", set(tactics.values_list("atlas_id", flat=True))),
        asset_kind=_param(request, "kind", set(AssetKind.values)),
        q=_param(request, "q"),
    )
    return render(
        request,
        "threats/threat_list.html",
        {
            "threats": selectors.threat_list(filters=filters),
            "filters": filters,
            "stride": STRIDE,
            "tactics": tactics,
            "kinds": AssetKind.choices,
        },
    )


@login_required
@require_safe
def threat_detail(request: HttpRequest, code: str) -> HttpResponse:
    threat = get_object_or_404(ThreatTemplate, code=code)
    links = ThreatControl.objects.filter(threat=threat).select_related("control").order_by("-effectiveness")
    return render(
        request,
        "threats/threat_detail.html",
        {
            "threat": threat,
            "links": links,
            "atlas": selectors.atlas_names(threat.atlas_ids),
            "stride": [name for code, name in STRIDE if code in threat.stride],
        },
    )


@login_required
@require_safe
def control_list(request: HttpRequest) -> HttpResponse:
    return render(request, "threats/control_list.html", {"controls": selectors.control_list()})


@login_required
@require_safe
def control_detail(request: HttpRequest, code: str) -> HttpResponse:
    control = get_object_or_404(Control, code=code)
    links = ThreatControl.objects.filter(control=control).select_related("threat").order_by("-effectiveness")
    return render(
        request,
        "threats/control_detail.html",
        {
            "control": control,
            "links": links,
            "atlas": selectors.atlas_names(control.atlas_mitigation_ids),
        },
    )


@login_required
@require_safe
def finding_list(request: HttpRequest, slug: str) -> HttpResponse:
    system = system_get(user=request.user, slug=slug)
    status = _param(request, "status", set(FindingStatus.values))
    findings = selectors.finding_list(system=system, status=status).annotate(comment_count=Count("comments"))
    return render(
        request,
        "threats/finding_list.html",
        {
            "system": system,
            "findings": findings,
            "status": status,
            "statuses": FindingStatus.choices,
        },
    )
