"""Run the risk engine on a system and write the results back in bulk (risk method v2).

``compute_system_risk`` reads (a fixed number of queries) and computes outside any transaction;
``write_risk`` is called by the recompute pipeline inside its write transaction and rewrites a
finding only when one of its figures or any factor of its explanation changed, so what the
pages and the API show is always the computation of the version they name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from threats.engine.attackers import AttackerData
from threats.engine.controls import ControlsInForce, implied_controls, merge, standard_views
from threats.engine.facts import SystemFacts, derive_facts
from threats.engine.library import Library, Match, find_threats
from threats.engine.plan_effect import PlanControl, PlanEffect, loss_function, plan_effects
from threats.engine.results import FindingKey, FindingRisk, RiskResult
from threats.engine.risk import compute_risk, explain_risk
from threats.engine.snapshot import SystemSnapshot
from threats.models import Finding, FindingStatus, SystemRisk
from threats.models.findings import RISK_FIELDS
from threats.ports import mitigations
from threats.services.library import installed_library
from threats.services.risk_json import finding_views, number, system_json
from threats.services.snapshot import attackers_snapshot, system_snapshot
from workbench.models import System
from workbench.services.bulk import writer_for_connection

VIEWS = ("inherent", "current", "projected")
# Plans priced with and without themselves on each recompute (two engine runs each, at most),
# newest first; the page says when a plan is beyond this and was not priced.
PLAN_EFFECT_LIMIT = 20


@dataclass(frozen=True)
class ComputedRisk:
    snapshot: SystemSnapshot
    matches: list[Match]
    attackers: tuple[AttackerData, ...]
    result: RiskResult
    plans: dict[int, PlanEffect]


def plan_controls(*, system: System) -> tuple[ControlsInForce, ControlsInForce]:
    """Controls put in force by mitigation plans: (implemented or verified, approved or proposed).

    Properties of elements (authentication, rate limits, monitoring, encryption, ...) count as
    implemented controls separately, through ``implied_controls``.
    """
    return mitigations().plan_controls(system=system)


def system_views(*, system: System, snapshot: SystemSnapshot, known: set[str]) -> dict[str, ControlsInForce]:
    """The three views' controls for the system as it is (properties plus plans)."""
    implemented, planned = plan_controls(system=system)
    implied = implied_controls(snapshot, known=known)
    return standard_views(implied=implied, implemented=implemented, planned=planned)


def _plan_entries(system: System) -> list[PlanControl]:
    return mitigations().plan_entries(system=system)


@dataclass(frozen=True)
class EngineInputs:
    """What the engine is given for a system as it stands (read in a fixed number of queries)."""

    snapshot: SystemSnapshot
    facts: SystemFacts
    library: Library
    matches: list[Match]
    attackers: tuple[AttackerData, ...]
    entries: list[PlanControl]
    implied: ControlsInForce
    views: dict[str, ControlsInForce]


def engine_inputs(*, system: System) -> EngineInputs:
    snapshot = system_snapshot(system=system)
    facts = derive_facts(snapshot)
    library = installed_library()
    matches = find_threats(library, snapshot, facts)
    entries = _plan_entries(system)
    implied = implied_controls(snapshot, known={c.code for c in library.controls})
    views = standard_views(
        implied=implied,
        implemented=merge(*({e.code: e.coverage} for e in entries if e.in_force)),
        planned=merge(*({e.code: e.coverage} for e in entries if not e.in_force)),
    )
    return EngineInputs(snapshot, facts, library, matches, attackers_snapshot(system=system), entries, implied, views)


def compute_system_risk(*, system: System, draws: int | None = None, explain_top: int | None = None) -> ComputedRisk:
    """Findings and risk for the system's current elements, and what each plan changes; the seed
    is the system id, so the same model always gives the same numbers (a redelivered run equals a
    clean one). ``explain_top``: how many findings carry their full explanation (the setting
    ``RISK_EXPLAINED_TOP`` unless given)."""
    i = engine_inputs(system=system)
    result = compute_risk(
        i.snapshot,
        i.library,
        i.attackers,
        i.views,
        facts=i.facts,
        matches=i.matches,
        seed=system.pk,
        draws=draws or settings.RISK_DRAWS,
        explain_top=settings.RISK_EXPLAINED_TOP if explain_top is None else explain_top,
    )
    loss = loss_function(i.snapshot, i.library, i.attackers, i.facts, i.matches)
    effects = plan_effects(loss, i.implied, i.entries, price=i.entries[:PLAN_EFFECT_LIMIT])
    return ComputedRisk(i.snapshot, i.matches, i.attackers, result, effects)


def explain_findings(
    *, system: System, keys: set[FindingKey], savings: dict[FindingKey, float]
) -> tuple[dict[FindingKey, FindingRisk], dict[int, str], dict[int, str]]:
    """The findings of ``keys`` with their full explanations for the system as it stands (a
    key's stored saving is passed in ``savings``: it is a recompute's figure), and the asset and
    attacker names to show them with."""
    i = engine_inputs(system=system)
    risks = explain_risk(
        i.snapshot, i.library, i.attackers, i.views, keys, savings=savings, facts=i.facts, matches=i.matches
    )
    return risks, {a.id: a.name for a in i.snapshot.assets}, {a.id: a.name for a in i.attackers}


def _values(risk: FindingRisk, names: dict[int, str], attackers: dict[int, str]) -> dict[str, Any]:
    current = risk.views["current"]
    return {
        "inherent_mean": number(risk.views["inherent"].loss),
        "current_mean": number(current.loss),
        "current_p90": number(current.p90),
        "projected_mean": number(risk.views["projected"].loss),
        "current_frequency": number(current.frequency),
        "current_exposure": number(current.exposure),
        "current_saving": None if current.saving is None else number(current.saving),
        "likelihood_band": current.likelihood_band,
        "impact_band": current.impact_band,
        "risk": finding_views(risk, names, attackers),
    }


def set_finding_risk(
    finding: Finding, risk: FindingRisk, version: int, names: dict[int, str], attackers: dict[int, str]
) -> bool:
    """Copy a finding's figures and explanation onto the row; False when nothing changed."""
    values = _values(risk, names, attackers)
    if finding.risk_version is not None and all(getattr(finding, k) == v for k, v in values.items()):
        return False
    for key, value in values.items():
        setattr(finding, key, value)
    finding.risk_version = version
    return True


def _names(computed: ComputedRisk) -> tuple[dict[int, str], dict[int, str]]:
    return {a.id: a.name for a in computed.snapshot.assets}, {a.id: a.name for a in computed.attackers}


def prepare_new_finding(computed: ComputedRisk, version: int) -> Callable[[Finding, tuple[str, str]], None]:
    """A ``findings_apply`` hook that fills the risk of findings before they are inserted."""
    names, attackers = _names(computed)

    def prepare(finding: Finding, key: tuple[str, str]) -> None:
        target_type, _, target_id = key[1].partition(":")
        risk = computed.result.findings.get((key[0], target_type, int(target_id)))
        if risk is not None:
            set_finding_risk(finding, risk, version, names, attackers)

    return prepare


def write_risk(
    *, system_risk: SystemRisk, findings: dict[tuple[str, str], Finding], computed: ComputedRisk, version: int
) -> dict[str, Any]:
    """Store per-finding and system results for ``version``; only changed findings are written."""
    result = computed.result
    names, attackers = _names(computed)
    changed: list[Finding] = []
    for (code, target_type, target_id), risk in result.findings.items():
        finding = findings.get((code, f"{target_type}:{target_id}"))
        if finding is None or finding.risk_version == version:  # new rows were filled on insert
            continue
        if set_finding_risk(finding, risk, version, names, attackers):
            changed.append(finding)
    if changed:
        rows = [(f.pk, {c: getattr(f, c) for c in RISK_FIELDS}) for f in changed]
        writer_for_connection().update(Finding, rows, {})
    for key, value in system_json(computed.snapshot, computed.attackers, result).items():
        setattr(system_risk, key, value)
    system_risk.plan_effects = {
        str(pid): {
            "current": [number(e.current_without), number(e.current_with)],
            "projected": [number(e.projected_without), number(e.projected_with)],
        }
        for pid, e in computed.plans.items()
    }
    system_risk.computed_version = version
    system_risk.computed_at = timezone.now()
    system_risk.seed, system_risk.draws = result.seed, result.draws
    system_risk.save()
    open_ids = [f.pk for f in findings.values() if f.status == FindingStatus.OPEN]
    return {
        "findings_priced": len(result.findings),
        "findings_rewritten": len(changed),
        "open": len(open_ids),
        "current_mean": system_risk.totals.get("current", {}).get("mean"),
    }
