"""Run the pure engines on a system and write the risk results back in bulk.

``compute_system_risk`` reads (a fixed number of queries) and computes outside any transaction;
``write_risk`` is called by the recompute pipeline inside its write transaction and touches only
rows whose numbers changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings
from django.utils import timezone

from threats.engine.attackers import AttackerData
from threats.engine.controls import ControlsInForce, implied_controls, standard_views
from threats.engine.extraction import ExtractionBudget
from threats.engine.facts import derive_facts
from threats.engine.library import Match, find_threats
from threats.engine.loss_state import LossState
from threats.engine.risk import FindingRisk, RiskResult, ViewRisk, compute_risk
from threats.engine.snapshot import SystemSnapshot
from threats.models import Finding, FindingStatus, SystemRisk
from threats.services.library import installed_library
from threats.services.snapshot import attackers_snapshot, system_snapshot
from workbench.models import System

VIEWS = ("inherent", "current", "projected")
RISK_COLUMNS = [
    "inherent_mean",
    "current_mean",
    "current_p90",
    "projected_mean",
    "current_frequency",
    "likelihood_band",
    "impact_band",
    "risk",
    "risk_version",
]
_BUDGET_FIELDS = tuple(f.name for f in fields(ExtractionBudget))  # flat: no need for asdict's deep copy


@dataclass(frozen=True)
class ComputedRisk:
    snapshot: SystemSnapshot
    matches: list[Match]
    attackers: tuple[AttackerData, ...]
    result: RiskResult


def plan_controls(*, system: System) -> tuple[ControlsInForce, ControlsInForce]:
    """Controls put in force by mitigation plans: (implemented or verified, approved or proposed).

    Read by ``mitigations.selectors.plan_controls_for`` (three queries); properties of assets
    (authentication, rate limits, monitoring, ...) count as implemented controls separately,
    through ``implied_controls``.
    """
    from mitigations.selectors import plan_controls_for

    return plan_controls_for(system=system)


def compute_system_risk(*, system: System, draws: int | None = None) -> ComputedRisk:
    """Findings and risk for the system's current elements; the seed is the system id, so the same
    model always gives the same numbers (a redelivered run equals a clean one)."""
    snapshot = system_snapshot(system=system)
    facts = derive_facts(snapshot)
    library = installed_library()
    matches = find_threats(library, snapshot, facts)
    attackers = attackers_snapshot(system=system)
    implemented, planned = plan_controls(system=system)
    implied = implied_controls(snapshot, known={c.code for c in library.controls})
    views = standard_views(implied=implied, implemented=implemented, planned=planned)
    previous = LossState.from_bytes(
        SystemRisk.objects.filter(system=system).values_list("loss_state", flat=True).first()
    )
    result = compute_risk(
        snapshot,
        facts,
        library,
        matches,
        attackers,
        views,
        seed=system.pk,
        draws=draws or settings.RISK_DRAWS,
        previous_losses=previous,
    )
    return ComputedRisk(snapshot, matches, attackers, result)


def _round(value: float) -> float:
    """Six significant digits: stable JSON and no false 'changes' from float noise."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return round(value, 5 - int(math.floor(math.log10(abs(value)))))


def _plain(value: Any) -> Any:
    return _round(value) if isinstance(value, float) else value


def _view_json(view: ViewRisk) -> dict[str, Any]:
    ex = view.explanation
    return {
        "frequency": _round(view.frequency),
        "expected_loss": _round(view.expected_loss),
        "mean": _round(view.mean_loss),
        "p90": _round(view.p90_loss),
        "likelihood_band": view.likelihood_band,
        "impact_band": view.impact_band,
        "level": view.risk_level,
        "explanation": {
            "profiles": [
                {
                    "name": p.attacker_name,
                    "capability": p.capability,
                    "attempts_per_year": _round(p.attempts_per_year),
                    "reach": _round(p.reach),
                    "base_probability": _round(p.base_probability),
                    "controls": [[code, _round(eff)] for code, eff in p.control_reductions],
                    "success": _round(p.success),
                    "frequency": _round(p.frequency),
                }
                for p in ex.profiles
            ],
            "magnitude": {
                "min": _round(ex.magnitude.low),
                "likely": _round(ex.magnitude.likely),
                "max": _round(ex.magnitude.high),
                "source": ex.magnitude.source,
            },
            "pert_mean": _round(ex.pert_mean),
            "expected_loss": _round(ex.expected_loss),
        },
    }


def _numbers(risk: FindingRisk) -> dict[str, Any]:
    """The finding's stored figures; the explanation JSON is derived from the same inputs, so
    unchanged figures mean an unchanged explanation and the row is left alone."""
    current = risk.views["current"]
    return {
        "inherent_mean": _round(risk.views["inherent"].mean_loss),
        "current_mean": _round(current.mean_loss),
        "current_p90": _round(current.p90_loss),
        "projected_mean": _round(risk.views["projected"].mean_loss),
        "current_frequency": _round(current.frequency),
        "likelihood_band": current.likelihood_band,
        "impact_band": current.impact_band,
    }


def set_finding_risk(finding: Finding, risk: FindingRisk, version: int) -> bool:
    """Copy a finding's figures and explanation onto the row; False when nothing changed."""
    values = _numbers(risk)
    if finding.risk_version is not None and all(getattr(finding, k) == v for k, v in values.items()):
        return False
    for key, value in values.items():
        setattr(finding, key, value)
    finding.risk = {view: _view_json(risk.views[view]) for view in VIEWS}
    finding.risk_version = version
    return True


def prepare_new_finding(computed: ComputedRisk, version: int) -> Callable[[Finding, tuple[str, str]], None]:
    """A ``findings_apply`` hook that fills the risk of findings before they are inserted."""

    def prepare(finding: Finding, key: tuple[str, str]) -> None:
        target_type, _, target_id = key[1].partition(":")
        risk = computed.result.findings.get((key[0], target_type, int(target_id)))
        if risk is not None:
            set_finding_risk(finding, risk, version)

    return prepare


def write_risk(
    *, system_risk: SystemRisk, findings: dict[tuple[str, str], Finding], computed: ComputedRisk, version: int
) -> dict[str, Any]:
    """Store per-finding and system results for ``version``; only changed findings are written."""
    result = computed.result
    names = {a.id: a.name for a in computed.snapshot.assets}
    changed: list[Finding] = []
    for (code, target_type, target_id), risk in result.findings.items():
        finding = findings.get((code, f"{target_type}:{target_id}"))
        if finding is None or finding.risk_version == version:  # new rows were filled on insert
            continue
        if set_finding_risk(finding, risk, version):
            changed.append(finding)
    if changed:
        Finding.objects.bulk_update(changed, RISK_COLUMNS, batch_size=500)
    extraction = []
    for (code, _, target_id), per_view in result.extraction.items():
        for budget in per_view.get("current", ()):
            extraction.append(
                {
                    "threat": code,
                    "target": names.get(target_id, str(target_id)),
                    **{
                        k: (_round(v) if isinstance(v, float) else v)
                        for k in _BUDGET_FIELDS
                        for v in (getattr(budget, k),)
                    },
                }
            )
    crown = [
        a.id
        for a in computed.snapshot.assets
        if a.kind in {"model_weights", "checkpoint", "adapter"} or a.criticality == 5
    ]
    system_risk.totals = {
        view: {"mean": _round(s.mean_loss), "p90": _round(s.p90_loss), "expected": _round(s.expected_loss)}
        for view, s in result.system.items()
    }
    system_risk.heatmap = {view: [list(row) for row in s.heat_map] for view, s in result.system.items()}
    system_risk.extraction = sorted(extraction, key=lambda e: (e["target"], e["capability"]))
    system_risk.reach = {
        a.name: {names.get(aid, str(aid)): _round(result.reach[a.id].get(aid, 0.0)) for aid in crown}
        for a in computed.attackers
    }
    system_risk.computed_version = version
    system_risk.computed_at = timezone.now()
    system_risk.seed, system_risk.draws = result.seed, result.draws
    system_risk.loss_state = result.loss_state.to_bytes() if result.loss_state is not None else None
    system_risk.save()
    open_ids = [f.pk for f in findings.values() if f.status == FindingStatus.OPEN]
    return {
        "findings_priced": len(result.findings),
        "findings_rewritten": len(changed),
        "findings_simulated": result.simulated,
        "open": len(open_ids),
        "current_mean": system_risk.totals.get("current", {}).get("mean"),
    }
