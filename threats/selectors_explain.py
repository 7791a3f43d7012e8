"""A finding's explanation, read from its row or computed when asked (risk method v2).

A recompute stores every finding's figures but expands the explanation (profiles, controls,
jewels and routes behind each figure) only for the largest findings: expanding all of them
was most of a recompute's time and memory on big systems. Any other finding's explanation is
computed here from the system as it stands, by the same engine and inputs as the recompute,
and only when the stored results are for the system's current version: an explanation of a
newer model beside figures of an older one would not add up, so a stale finding says it is
being recomputed instead. Answers are cached per system version and library.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from threats.engine.results import FindingKey
from threats.models import Finding, SystemRisk
from threats.services.library import installed_library
from threats.services.risk import explain_findings
from threats.services.risk_json import explanation_json

EXPLANATION_CACHE_SECONDS = 3600


def stored_explanations(finding: Finding) -> dict[str, dict[str, Any]]:
    """view -> explanation kept on the row by the recompute (empty for most findings)."""
    return {view: data["explanation"] for view, data in (finding.risk or {}).items() if "explanation" in data}


def _key(finding: Finding) -> FindingKey:
    target_type, _, target_id = finding.target_key.partition(":")
    return (finding.template.code, target_type, int(target_id))


def finding_explanations(*, finding: Finding) -> dict[str, dict[str, Any]] | None:
    """view -> explanation of the finding's figures, or None while the results are behind the
    model (the page polls until they are fresh). Empty when the finding has no figures."""
    views = finding.risk or {}
    stored = stored_explanations(finding)
    if not views or set(stored) >= set(views):
        return stored
    system = finding.system
    computed = SystemRisk.objects.filter(system=system).values_list("computed_version", flat=True).first()
    if computed is None or computed != system.version:
        return None
    library = installed_library()
    born = system.created_at.timestamp() if system.created_at else 0
    key = f"explain:{system.pk}:{born}:{system.version}:{library.version}:{finding.template.code}:{finding.target_key}"
    cached: dict[str, dict[str, Any]] | None = cache.get(key)
    if cached is not None:
        return cached
    finding_key = _key(finding)
    saving = finding.current_saving
    risks, names, attackers = explain_findings(
        system=system, keys={finding_key}, savings={} if saving is None else {finding_key: float(saving)}
    )
    risk = risks.get(finding_key)
    result = {
        view: explanation_json(figures.explanation, names, attackers)
        for view, figures in (risk.views.items() if risk is not None else ())
        if figures.explanation is not None and view in views
    }
    still = type(system).objects.filter(pk=system.pk).values_list("version", flat=True).first()
    if still != system.version:  # the model moved while this ran: not this version's answer
        return None
    cache.set(key, result, EXPLANATION_CACHE_SECONDS)
    return result
