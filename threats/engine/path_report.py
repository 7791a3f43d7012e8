"""A system's attack paths as report data: crown jewels, k best paths per profile, controls per hop.

Pure, like every engine: the render service passes a snapshot, the attacker profiles and the
controls in force for the current and projected views (``controls.standard_views``), and gets
JSON-ready pairs (stored, served by the API, shown on the system page) and the ``DrawnPath`` list
the attack-path diagram is drawn from, so that the table and the picture cannot disagree.

The controls listed on a hop are those in force on the asset the hop enters: that is where
authentication, MFA, rate limits and monitoring act, and what a reader can change to make the hop
harder. Controls of the projected view that are not yet current are listed apart as "planned".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from threats.engine.attackers import AttackerData
from threats.engine.controls import ControlsInForce, codes_by_asset
from threats.engine.dot import DrawnPath, PathHop
from threats.engine.paths import AttackPath, k_best_paths_many
from threats.engine.reach import INTERNET, PathStep, build_graph
from threats.engine.snapshot import AssetData, SystemSnapshot
from threats.engine.vocab import WEIGHT_KINDS

INTERNET_NAME = "Internet"


@dataclass(frozen=True, slots=True)
class PathReport:
    """``pairs``: one entry per (profile, crown jewel) analysed, targets in priority order.
    ``summary``: how many crown jewels there are, how many were analysed, pairs the deadline cut."""

    pairs: list[dict[str, Any]]
    drawn: list[DrawnPath]
    summary: dict[str, Any]


def is_crown_jewel(asset: AssetData) -> bool:
    """DESIGN.md §5: weights, checkpoints and adapters, and anything of criticality 5."""
    return asset.kind in WEIGHT_KINDS or asset.criticality == 5


def crown_jewels(snapshot: SystemSnapshot) -> list[AssetData]:
    """Crown jewels, most important first (criticality, likely value, id), so that a cap or a
    deadline drops the least valuable ones."""
    jewels = [a for a in snapshot.assets if is_crown_jewel(a)]
    return sorted(jewels, key=lambda a: (-a.criticality, -a.value_likely, a.id))


def attack_path_report(
    snapshot: SystemSnapshot,
    attackers: Sequence[AttackerData],
    *,
    current: ControlsInForce,
    projected: ControlsInForce,
    k: int = 5,
    max_targets: int = 25,
    deadline: float | None = None,
) -> PathReport:
    """The k most probable paths of every profile to each of the first ``max_targets`` crown
    jewels; pairs not started before ``deadline`` (``time.monotonic()``) are left out and counted."""
    jewels = crown_jewels(snapshot)
    targets = jewels[: max(int(max_targets), 0)]
    graph = build_graph(snapshot)
    found = k_best_paths_many(graph, attackers, [t.id for t in targets], k=k, deadline=deadline)
    view = _HopView(snapshot, current, projected)
    pairs: list[dict[str, Any]] = []
    drawn: list[DrawnPath] = []
    for target in targets:
        for attacker in attackers:
            paths = found.get((attacker.id, target.id))
            if paths is None:
                continue
            pairs.append(
                {
                    "profile": {"id": attacker.id, "name": attacker.name, "capability": attacker.capability},
                    "target": {
                        "id": target.id,
                        "name": target.name,
                        "kind": target.kind,
                        "criticality": target.criticality,
                    },
                    "probability": _round(paths[0].probability) if paths else 0.0,
                    "paths": [view.path_json(path) for path in paths],
                }
            )
            drawn.extend(view.drawn(attacker.name, path) for path in paths)
    summary = {
        "k": k,
        "crown_jewels": len(jewels),
        "targets": len(targets),
        "profiles": len(attackers),
        "pairs": len(pairs),
        "pairs_cut_by_time_limit": len(targets) * len(attackers) - len(pairs),
        "paths": sum(len(p["paths"]) for p in pairs),
    }
    return PathReport(pairs, drawn, summary)


def _round(value: float) -> float:
    """Six significant digits: stable JSON, no float noise between equal runs."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return round(value, 5 - int(math.floor(math.log10(abs(value)))))


class _HopView:
    """Names, flows and the controls on each asset, looked up once per report."""

    def __init__(self, snapshot: SystemSnapshot, current: ControlsInForce, projected: ControlsInForce) -> None:
        self.assets = {a.id: a for a in snapshot.assets}
        self.flows = {f.id: f for f in snapshot.flows}
        self.current_everywhere, self.current_local = codes_by_asset(current)
        self.projected_everywhere, self.projected_local = codes_by_asset(projected)

    def controls(self, asset_id: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(codes in force on the asset, codes only planned there), each sorted."""
        now = self.current_local.get(asset_id, self.current_everywhere)
        later = self.projected_local.get(asset_id, self.projected_everywhere)
        return tuple(sorted(now)), tuple(sorted(later - now))

    def _node(self, node: int | str) -> dict[str, Any]:
        if node == INTERNET or isinstance(node, str):
            return {"id": None, "name": INTERNET_NAME}
        asset = self.assets.get(node)
        return {"id": node, "name": asset.name if asset else f"asset #{node}"}

    def _via(self, step: PathStep) -> str:
        if step.flow_id is None:
            return "internet exposure" if step.from_node == INTERNET else "content of its host"
        flow = self.flows.get(step.flow_id)
        return "flow (against its direction)" if flow is not None and flow.target_id == step.from_node else "flow"

    def path_json(self, path: AttackPath) -> dict[str, Any]:
        hops: list[dict[str, Any]] = []
        for step in path.steps:
            to_id = int(step.to_node)
            controls, planned = self.controls(to_id)
            flow = self.flows.get(step.flow_id) if step.flow_id is not None else None
            hops.append(
                {
                    "from": self._node(step.from_node),
                    "to": self._node(to_id),
                    "via": self._via(step),
                    "flow": {"id": flow.id, "name": flow.name} if flow is not None else None,
                    "probability": _round(step.probability),
                    "factors": [[label, _round(value)] for label, value in step.factors],
                    "controls": list(controls),
                    "planned": list(planned),
                }
            )
        start = self._node(path.steps[0].from_node) if path.steps else self._node(path.target_id)
        return {
            "probability": _round(path.probability),
            "entry": start,
            "assets": [h["to"]["name"] for h in hops],
            "flows": [h["flow"]["name"] for h in hops if h["flow"] is not None],
            "controls": sorted({code for h in hops for code in h["controls"]}),
            "hops": hops,
        }

    def drawn(self, profile_name: str, path: AttackPath) -> DrawnPath:
        hops = tuple(
            PathHop(
                None if step.from_node == INTERNET else int(step.from_node),
                int(step.to_node),
                step.flow_id,
                step.probability,
                self.controls(int(step.to_node))[0],
            )
            for step in path.steps
        )
        return DrawnPath(profile_name, path.target_id, path.probability, hops)


def best_pairs(pairs: Sequence[Mapping[str, Any]], limit: int) -> list[Mapping[str, Any]]:
    """The pairs with a path, most probable best path first (ties: profile, then target name)."""
    reached = [p for p in pairs if p.get("paths")]
    reached.sort(key=lambda p: (-float(p["probability"]), str(p["profile"]["name"]), str(p["target"]["name"])))
    return reached[: max(limit, 0)]
