"""The control advisor for one system, read from the database and returned as JSON-ready data.

The inputs are built with the risk service's own helpers, so the advice prices exactly what the
recompute prices (projected view); no Monte Carlo runs, the advisor scores with the analytic
expected loss. Nothing is written: advice is a read, computed on request from the current model.
Each suggestion names its control code (or flow) and the asset and finding ids it applies to, so
that a "Propose" button can turn it into a mitigation plan.
"""

from __future__ import annotations

from typing import Any

from threats.engine.advisor import AMORTISATION_YEARS, Scorer, Selection, candidates_from_library, select_controls
from threats.engine.attackers import AttackerData
from threats.engine.controls import implied_controls, standard_views
from threats.engine.facts import derive_facts
from threats.engine.flow_cut import CutPath, FlowCut, minimum_flow_cut
from threats.engine.library import find_threats
from threats.engine.reach import build_graph
from threats.engine.risk import FindingKey
from threats.engine.snapshot import SystemSnapshot
from threats.models import Finding
from threats.services.library import installed_library
from threats.services.risk import plan_controls
from threats.services.snapshot import attackers_snapshot, system_snapshot
from workbench.models import System

VIEW = "projected"


def system_advice(*, system: System) -> dict[str, Any]:
    """Controls to add (greedy, to the risk appetite) and flows to harden first (minimum cut).

    A fixed number of queries whatever the system's size: the snapshot (4), attackers (3), the
    installed library (2), the plans in force (``plan_controls``) and the finding ids (1).
    Candidates are the active library controls not yet in force where they would go; they are
    priced at the midpoints of their cost ranges, one-off costs spread over ``AMORTISATION_YEARS``.
    """
    snapshot = system_snapshot(system=system)
    facts = derive_facts(snapshot)
    library = installed_library()
    matches = find_threats(library, snapshot, facts)
    attackers = attackers_snapshot(system=system)
    implemented, planned = plan_controls(system=system)
    implied = implied_controls(snapshot, known={c.code for c in library.controls})
    controls = standard_views(implied=implied, implemented=implemented, planned=planned)[VIEW]
    graph = build_graph(snapshot)
    scorer = Scorer(snapshot, facts, library, matches, attackers, controls, graph)
    appetite = float(system.risk_appetite)
    selection = select_controls(scorer, candidates_from_library(library), appetite)
    cut = minimum_flow_cut(snapshot, attackers, graph, scorer.reach)
    names = _Names(snapshot, attackers, _finding_ids(system))
    return {
        "system": system.slug,
        "version": system.version,
        "view": VIEW,
        "currency": system.currency,
        "appetite": appetite,
        "amortisation_years": AMORTISATION_YEARS,
        "controls": _selection_json(selection, names),
        "flows": _cut_json(cut, names),
    }


def _finding_ids(system: System) -> dict[tuple[str, str], int]:
    """(threat code, target key) -> finding id; a match not yet stored by a recompute has none."""
    rows = Finding.objects.filter(system=system).values_list("pk", "template__code", "target_key")
    return {(code, key): pk for pk, code, key in rows}


class _Names:
    """Display names and finding ids for the ids the engines return."""

    def __init__(
        self, snapshot: SystemSnapshot, attackers: tuple[AttackerData, ...], findings: dict[tuple[str, str], int]
    ) -> None:
        self.assets = {a.id: a.name for a in snapshot.assets}
        self.flows = {f.id: f.name for f in snapshot.flows}
        self.attackers = {a.id: a.name for a in attackers}
        self.findings = findings
        self.flow_findings: dict[int, list[int]] = {}
        for (_, key), pk in findings.items():
            kind, _, target = key.partition(":")
            if kind == "flow" and target.isdigit():
                self.flow_findings.setdefault(int(target), []).append(pk)

    def finding(self, key: FindingKey) -> int | None:
        return self.findings.get((key[0], f"{key[1]}:{key[2]}"))

    def target(self, kind: str, target_id: int) -> str:
        return (self.assets if kind == "asset" else self.flows).get(target_id, f"{kind} #{target_id}")

    def node(self, node: int | str) -> str:
        return "Internet" if isinstance(node, str) else self.assets.get(node, f"asset #{node}")


def _selection_json(selection: Selection, names: _Names) -> dict[str, Any]:
    steps = []
    for step in selection.steps:
        findings = [
            {
                "finding_id": names.finding(change.key),
                "threat": change.key[0],
                "target_type": change.key[1],
                "target_id": change.key[2],
                "target_name": names.target(change.key[1], change.key[2]),
                "loss_before": change.loss_before,
                "loss_after": change.loss_after,
            }
            for change in step.findings
        ]
        reduction = step.loss_before - step.loss_after
        steps.append(
            {
                "control": step.code,
                "control_name": step.name,
                "scope": "system" if step.asset_ids is None else "assets",
                "asset_ids": list(step.asset_ids or ()),
                "asset_names": [names.assets.get(a, "") for a in step.asset_ids or ()],
                "yearly_cost": step.yearly_cost,
                "one_off_cost": step.one_off_cost,
                "annual_cost": step.annual_cost,
                "loss_before": step.loss_before,
                "loss_after": step.loss_after,
                "reduction": reduction,
                "reduction_per_cost": reduction / step.annual_cost if step.annual_cost > 0 else None,
                "finding_ids": sorted({f["finding_id"] for f in findings if f["finding_id"] is not None}),
                "findings": findings,
            }
        )
    return {
        "loss_before": selection.loss_before,
        "loss_after": selection.loss_after,
        "reaches_appetite": selection.reached,
        "annual_cost": selection.annual_cost,
        "yearly_cost": sum(s.yearly_cost for s in selection.steps),
        "one_off_cost": sum(s.one_off_cost for s in selection.steps),
        "steps": steps,
    }


def _path_json(path: CutPath, names: _Names) -> dict[str, Any]:
    return {
        "attacker_id": path.attacker_id,
        "attacker_name": names.attackers.get(path.attacker_id, ""),
        "target_id": path.target_id,
        "target_name": names.node(path.target_id),
        "probability": path.probability,
        "from_internet": isinstance(path.nodes[0], str),
        "asset_ids": [n for n in path.nodes if not isinstance(n, str)],
        "node_names": [names.node(n) for n in path.nodes],
        "flow_ids": list(path.flow_ids),
    }


def _cut_json(cut: FlowCut, names: _Names) -> dict[str, Any]:
    return {
        "crown_jewel_ids": list(cut.crown_jewel_ids),
        "cut": [
            {
                "flow_id": flow.flow_id,
                "flow_name": names.flows.get(flow.flow_id, ""),
                "source_id": flow.source_id,
                "source_name": names.node(flow.source_id),
                "target_id": flow.target_id,
                "target_name": names.node(flow.target_id),
                "asset_ids": [flow.source_id, flow.target_id],
                "finding_ids": sorted(names.flow_findings.get(flow.flow_id, ())),
                "paths": [_path_json(p, names) for p in flow.paths],
            }
            for flow in cut.flows
        ],
        "unprotected": [
            {
                "attacker_id": u.attacker_id,
                "attacker_name": names.attackers.get(u.attacker_id, ""),
                "asset_id": u.asset_id,
                "asset_name": names.node(u.asset_id),
                "reason": u.reason,
            }
            for u in cut.unprotected
        ],
    }
