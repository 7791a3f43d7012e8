"""The advisor for one system, read from the database and returned as JSON-ready data.

The inputs are built with the risk service's own helpers, so the advice prices exactly what the
recompute prices (projected view, analytic expected loss). Nothing is written: advice is a read,
computed on request from the current model. Each step names its control (or the control a
hardening change amounts to) and the assets and findings it applies to, so that a "Propose"
button can turn it into a mitigation plan.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from threats.engine.actions import AMORTISATION_YEARS, HARDENING_CONTROL, Action
from threats.engine.advisor import Advice, Step, plan_for
from threats.engine.chokepoints import ChokePoint, Cut
from threats.engine.snapshot import SystemSnapshot
from threats.models import Finding
from threats.services.library import installed_library
from threats.services.risk import system_views
from threats.services.snapshot import attackers_snapshot, system_snapshot
from workbench.models import System

VIEW = "projected"
EXPOSURE_CONTROL = "M-ZERO-TRUST-SEGMENT"  # the plan a "remove internet exposure" change files


def system_advice(*, system: System) -> dict[str, Any]:
    """Actions to take first (greedy, to the risk appetite), choke points and the weighted cut."""
    snapshot = system_snapshot(system=system)
    library = installed_library()
    attackers = attackers_snapshot(system=system)
    views = system_views(system=system, snapshot=snapshot, known={c.code for c in library.controls})
    appetite = float(system.risk_appetite)
    plan = plan_for(snapshot, library, attackers, views[VIEW], appetite)
    names = _Names(snapshot, *_finding_ids(system), {a.id: a.name for a in attackers})
    return {
        "system": system.slug,
        "version": system.version,
        "view": VIEW,
        "currency": system.currency,
        "appetite": appetite,
        "amortisation_years": AMORTISATION_YEARS,
        "controls": _advice_json(plan.advice, names),
        "choke_points": [_choke_json(c, names) for c in plan.choke_points],
        "cut": _cut_json(plan.cut, names),
    }


ADVICE_CACHE_SECONDS = 600


def cached_system_advice(*, system: System, compute: bool = True) -> dict[str, Any] | None:
    """``system_advice``, kept in the cache for this exact system version and library.

    The key names the version, so an answer is never reused for a model it was not computed
    on (any edit, plan or appetite change bumps the version), and the system's creation time,
    so a system made later under a reused id (SQLite reuses the highest deleted id) never reads
    another's advice. The system page and the advisor page share one computation per version.
    """
    library = installed_library()
    born = system.created_at.timestamp() if system.created_at else 0
    key = f"advice:{system.pk}:{born}:{system.version}:{library.version}:{len(library.threats)}:{len(library.controls)}"
    advice: dict[str, Any] | None = cache.get(key)
    if advice is None and compute:
        advice = system_advice(system=system)
        cache.set(key, advice, ADVICE_CACHE_SECONDS)
    return advice


def _finding_ids(system: System) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """(asset id -> ids of the stored findings on it, a flow's findings counting for both ends;
    flow id -> ids of the findings on that flow), in one query."""
    on_asset: dict[int, list[int]] = {}
    on_flow: dict[int, list[int]] = {}
    rows = Finding.objects.filter(system=system).values_list(
        "pk", "asset_id", "flow_id", "flow__source_id", "flow__target_id"
    )
    for pk, asset_id, flow_id, source_id, target_id in rows:
        for a in (asset_id, source_id, target_id):
            if a is not None:
                on_asset.setdefault(a, []).append(pk)
        if flow_id is not None:
            on_flow.setdefault(flow_id, []).append(pk)
    return on_asset, on_flow


class _Names:
    def __init__(
        self,
        snapshot: SystemSnapshot,
        findings: dict[int, list[int]],
        flow_findings: dict[int, list[int]],
        attackers: dict[int, str],
    ) -> None:
        self.assets = {a.id: a.name for a in snapshot.assets}
        self.flows = {f.id: f.name for f in snapshot.flows}
        self.ends = {f.id: (f.source_id, f.target_id) for f in snapshot.flows}
        self.findings = findings
        self.flow_findings = flow_findings
        self.attackers = attackers


def _plan_control(action: Action) -> str:
    if action.control:
        return action.control
    if action.change == "remove_exposure":
        return EXPOSURE_CONTROL
    return HARDENING_CONTROL.get(action.change, "")


def _step_json(step: Step, names: _Names) -> dict[str, Any]:
    action = step.action
    assets = list(action.element_ids)
    if action.holder_id is not None:
        assets.append(action.holder_id)
    return {
        "key": action.key,
        "kind": "control" if action.control else "hardening",
        "control": _plan_control(action),
        "change": action.change,
        "label": action.label,
        "scope": "system" if action.control and action.coverage is None else "assets",
        "asset_ids": assets,
        "asset_names": [names.assets.get(a, "") for a in assets],
        "yearly_cost": action.yearly_cost,
        "one_off_cost": action.one_off_cost,
        "annual_cost": action.annual_cost,
        "loss_before": step.loss_before,
        "loss_after": step.loss_after,
        "reduction": step.removed,
        "reduction_per_cost": step.removed / action.annual_cost if action.annual_cost > 0 else None,
        "finding_ids": sorted({pk for a in assets for pk in names.findings.get(a, [])}),
    }


def _advice_json(advice: Advice, names: _Names) -> dict[str, Any]:
    return {
        "loss_before": advice.loss_before,
        "loss_after": advice.loss_after,
        "reaches_appetite": advice.reached,
        "remaining_over_appetite": max(advice.loss_after - advice.appetite, 0.0),
        "annual_cost": advice.annual_cost,
        "yearly_cost": sum(s.action.yearly_cost for s in advice.steps),
        "one_off_cost": sum(s.action.one_off_cost for s in advice.steps),
        "steps": [_step_json(s, names) for s in advice.steps],
        "not_worth_it": [_step_json(s, names) for s in advice.not_worth_it],
        "candidates": advice.candidates,
        "evaluated": advice.evaluated,
        "step_limit_reached": advice.capped,
        "screened_out": advice.screened_out,
    }


def _choke_json(point: ChokePoint, names: _Names) -> dict[str, Any]:
    table = names.assets if point.kind == "asset" else names.flows
    return {
        "kind": point.kind,
        "id": point.element_id,
        "name": table.get(point.element_id, ""),
        "share": point.share,
        "routes": point.routes,
    }


def _cut_json(cut: Cut, names: _Names) -> dict[str, Any]:
    return {
        "annual_cost": cut.annual_cost,
        "assets": [
            {
                "asset_id": asset_id,
                "asset_name": names.assets.get(asset_id, ""),
                "action": action.label,
                "control": _plan_control(action),
                "annual_cost": action.annual_cost,
                "finding_ids": sorted(names.findings.get(asset_id, [])),
            }
            for asset_id, action in cut.assets
        ],
        "flows": [_cut_flow_json(flow_id, action, names) for flow_id, action in cut.flows],
        "unprotected": [
            {
                "attacker_id": a,
                "attacker_name": names.attackers.get(a, ""),
                "asset_id": j,
                "asset_name": names.assets.get(j, ""),
                "reason": why,
            }
            for a, j, why in cut.unprotected
        ],
    }


def _cut_flow_json(flow_id: int, action: Action, names: _Names) -> dict[str, Any]:
    """A flow of the cut with its ends, so a reader can find it without the diagram. Its
    findings are the ones a plan for it is filed on (a plan scoped to a flow's findings covers
    the flow's two ends)."""
    source_id, target_id = names.ends.get(flow_id, (0, 0))
    return {
        "flow_id": flow_id,
        "flow_name": names.flows.get(flow_id, ""),
        "source_id": source_id,
        "source_name": names.assets.get(source_id, ""),
        "target_id": target_id,
        "target_name": names.assets.get(target_id, ""),
        "action": action.label,
        "control": _plan_control(action),
        "annual_cost": action.annual_cost,
        "finding_ids": sorted(names.flow_findings.get(flow_id, [])),
    }
