"""A system's attack paths as report data: the k most probable routes per profile and jewel.

Routes live on the current view's attack graph (``attack_graph``), so the best route's probability
is the profile's odds of stealing the jewel in one attempt, the same figure the risk is priced
from. The k best are Yen's simple paths (networkx) from a virtual start, linked to every start
node of the profile, to a virtual sink per jewel, linked from every position a theft of it can
be tried from (weighted by that theft's odds and the share of the value it takes). A route that
needs no move (an insider's authorised access, a device in hand) is a single theft step.

Each hop names the techniques that make it and the controls in force (and only planned) on the
asset it enters: that is where a reader can make the hop harder.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import networkx as nx
import numpy as np

from threats.engine.attack_graph import ViewGraph
from threats.engine.controls import ControlsInForce, codes_by_asset
from threats.engine.dot import DrawnPath, PathHop
from threats.engine.evaluate import ProfileRun
from threats.engine.routes import pair_moves
from threats.engine.snapshot import SystemSnapshot
from threats.engine.thefts import START_GRAPH

INTERNET_NAME = "Internet"
_START, _SINK = "start", "sink"


@dataclass(frozen=True, slots=True)
class PathReport:
    """``pairs``: one entry per (profile, jewel) analysed, jewels by expected loss; ``summary``:
    counts, and the pairs a deadline cut."""

    pairs: list[dict[str, Any]]
    drawn: list[DrawnPath]
    summary: dict[str, Any]


def _round(value: float) -> float:
    if value == 0 or not math.isfinite(value):
        return float(value)
    return round(value, 5 - int(math.floor(math.log10(abs(value)))))


def attack_path_report(
    snapshot: SystemSnapshot,
    graph: ViewGraph,
    runs: Sequence[ProfileRun],
    jewel_order: Sequence[int],
    *,
    current: ControlsInForce,
    projected: ControlsInForce,
    k: int = 5,
    max_targets: int = 25,
    deadline: float | None = None,
) -> PathReport:
    """Up to ``k`` routes of every profile to each of the first ``max_targets`` jewels of
    ``jewel_order`` (asset ids, most important first); pairs not started before ``deadline``
    (``time.monotonic()``) are left out and counted."""
    view = _Hops(snapshot, graph, current, projected)
    targets = [j for j in jewel_order if j in graph.thefts.jewels.index][: max(int(max_targets), 0)]
    pairs: list[dict[str, Any]] = []
    drawn: list[DrawnPath] = []
    cut = 0
    for jewel_id in targets:
        for run in runs:
            if deadline is not None and time.monotonic() > deadline:
                cut += 1
                continue
            routes = k_routes(graph, run, graph.thefts.jewels.index[jewel_id], k)
            if not routes:
                continue
            target = view.assets[jewel_id]
            pairs.append(
                {
                    "profile": {
                        "id": run.attacker.id,
                        "name": run.attacker.name,
                        "capability": run.attacker.capability,
                    },
                    "target": {
                        "id": target.id,
                        "name": target.name,
                        "kind": target.kind,
                        "criticality": target.criticality,
                    },
                    "probability": _round(routes[0][0]),
                    "paths": [view.path_json(p, nodes, theft, run) for p, nodes, theft in routes],
                }
            )
            drawn.extend(view.drawn(run.attacker.name, jewel_id, p, nodes) for p, nodes, _ in routes)
    summary = {
        "k": k,
        "jewels": len(graph.thefts.jewels.ids),
        "targets": len(targets),
        "profiles": len(runs),
        "pairs": len(pairs),
        "pairs_cut_by_time_limit": cut,
        "paths": sum(len(p["paths"]) for p in pairs),
    }
    return PathReport(pairs, drawn, summary)


def k_routes(graph: ViewGraph, run: ProfileRun, jewel: int, k: int) -> list[tuple[float, list[int], int]]:
    """(probability, graph nodes start first, theft instance) of the k best routes to a jewel."""
    t = graph.thefts
    mine = np.nonzero((t.jewel == jewel) & graph.inst_active)[0]
    odds = t.success[mine, run.oc] * t.fraction[mine] * run.allowed[t.finding[mine]] if len(mine) else np.zeros(0)
    routes: list[tuple[float, list[int], int]] = []
    direct = [(float(run.inst_route[i]), int(i)) for i in mine if t.start[i] != START_GRAPH and run.inst_route[i] > 0]
    for prob, inst in sorted(direct, reverse=True):
        routes.append((prob, [graph.topo.index[int(t.target[inst])]], inst))
    g = nx.DiGraph()
    keep = run.pair_q > 0
    for s, d, q in zip(graph.pair_src[keep], graph.pair_dst[keep], run.pair_q[keep], strict=True):
        g.add_edge(int(s), int(d), weight=-math.log(q) + 1e-12)
    for node in run.starts:
        g.add_edge(_START, node, weight=0.0)
    best: dict[int, tuple[float, int]] = {}
    for i, o in zip(mine, odds, strict=True):
        if t.start[i] == START_GRAPH and o > 0:
            node = int(t.node[i])
            if node not in best or o > best[node][0]:
                best[node] = (float(o), int(i))
    for node, (o, _) in best.items():
        g.add_edge(node, _SINK, weight=-math.log(o) + 1e-12)
    if _START in g and _SINK in g and nx.has_path(g, _START, _SINK):
        for path in islice(nx.shortest_simple_paths(g, _START, _SINK, weight="weight"), k):
            nodes = _with_scope(run, [n for n in path if n not in (_START, _SINK)])
            cost = sum(g[a][b]["weight"] for a, b in zip(path, path[1:], strict=False))
            instance = best[nodes[-1]][1]
            share = float(t.fraction[instance])
            routes.append((math.exp(-cost) / share if share > 0 else 0.0, nodes, instance))
    routes.sort(key=lambda r: -r[0] * float(t.fraction[r[2]]))
    return routes[:k]


def _with_scope(run: ProfileRun, nodes: list[int]) -> list[int]:
    """The route preceded by the people and devices whose own access reaches its first node (an
    insider's path starts at the insider, not at the server they are allowed into)."""
    seen = set(nodes)
    while nodes and nodes[0] in run.scope_parent and run.scope_parent[nodes[0]] not in seen:
        nodes.insert(0, run.scope_parent[nodes[0]])
        seen.add(nodes[0])
    return nodes


class _Hops:
    """Names, controls and the moves between nodes, looked up once per report."""

    def __init__(
        self, snapshot: SystemSnapshot, graph: ViewGraph, current: ControlsInForce, projected: ControlsInForce
    ):
        self.graph = graph
        self.assets = {a.id: a for a in snapshot.assets}
        self.zones = {z.id: z.name for z in snapshot.zones}
        self.flows = snapshot.flows
        self.current = codes_by_asset(current)
        self.projected = codes_by_asset(projected)
        self.moves = pair_moves(graph)
        self.pairs = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(graph.pair_src, graph.pair_dst, strict=True))}

    def asset_of(self, node: int) -> int | None:
        kind, ident = self.graph.label(node)
        return int(ident) if kind in ("asset", "query", "input") else None

    def name(self, node: int) -> str:
        kind, ident = self.graph.label(node)
        if kind == "internet":
            return INTERNET_NAME
        if kind == "zone":
            return f"inside {self.zones.get(ident, '?')}"
        asset = self.assets.get(ident)
        label = asset.name if asset else f"asset #{ident}"
        return {"query": f"{label} (as a caller)", "input": f"{label} (its input)"}.get(kind, label)

    def controls(self, asset_id: int) -> tuple[list[str], list[str]]:
        now = self.current[1].get(asset_id, self.current[0])
        later = self.projected[1].get(asset_id, self.projected[0])
        return sorted(now), sorted(later - now)

    def _flow(self, a: int | None, b: int | None) -> dict[str, Any] | None:
        for flow in self.flows:
            if {flow.source_id, flow.target_id} == {a, b}:
                return {"id": flow.id, "name": flow.name}
        return None

    def _hop(self, a: int, b: int, run: ProfileRun) -> dict[str, Any]:
        g = self.graph
        techniques = [
            g.findings[int(g.move_finding[m])].key[0] for m in self.moves.get((a, b), []) if run.move_q[m] > 0
        ]
        pair = self.pairs.get((a, b))
        to_asset = self.asset_of(b)
        controls, planned = self.controls(to_asset) if to_asset is not None else ([], [])
        own = run.scope_parent.get(b) == a  # their own authorised access: certain, no technique
        techniques = [] if own else techniques
        return {
            "from": {"id": self.asset_of(a), "name": self.name(a)},
            "to": {"id": to_asset, "name": self.name(b)},
            "via": ", ".join(techniques) or ("authorised access" if own else "structural move"),
            "techniques": techniques,
            "probability": 1.0 if own else _round(float(run.pair_q[pair])) if pair is not None else 0.0,
            "flow": self._flow(self.asset_of(a), to_asset),
            "controls": controls,
            "planned": planned,
        }

    def path_json(self, probability: float, nodes: list[int], instance: int, run: ProfileRun) -> dict[str, Any]:
        g = self.graph
        hops = [self._hop(a, b, run) for a, b in zip(nodes, nodes[1:], strict=False)]
        theft = g.findings[int(g.thefts.finding[instance])].key[0]
        jewel = g.thefts.jewels.ids[int(g.thefts.jewel[instance])]
        hops.append(
            {
                "from": {"id": self.asset_of(nodes[-1]), "name": self.name(nodes[-1])},
                "to": {"id": jewel, "name": self.assets[jewel].name},
                "via": theft,
                "techniques": [theft],
                "probability": _round(float(g.thefts.success[instance, run.oc])),
                "flow": None,
                "controls": self.controls(jewel)[0],
                "planned": self.controls(jewel)[1],
            }
        )
        return {
            "probability": _round(probability),
            "share": _round(float(g.thefts.fraction[instance])),
            "entry": {"id": self.asset_of(nodes[0]), "name": self.name(nodes[0])},
            "assets": [h["to"]["name"] for h in hops],
            "flows": [h["flow"]["name"] for h in hops if h["flow"] is not None],
            "controls": sorted({c for h in hops for c in h["controls"]}),
            "hops": hops,
        }

    def drawn(self, profile: str, jewel: int, probability: float, nodes: list[int]) -> DrawnPath:
        """The route for the diagram: assets only (query and input positions are their asset),
        the internet and zone networks as the Internet node, then the jewel."""
        assets: list[int | None] = []
        for node in nodes:
            asset = self.asset_of(node)
            if not assets or assets[-1] != asset:
                assets.append(asset)
        if assets[-1] != jewel:
            assets.append(jewel)
        hops = tuple(
            PathHop(a, b, (self._flow(a, b) or {}).get("id"), probability, tuple(self.controls(b)[0]))
            for a, b in zip(assets, assets[1:], strict=False)
            if b is not None
        )
        return DrawnPath(profile, jewel, probability, hops)


def best_pairs(pairs: Sequence[Mapping[str, Any]], limit: int) -> list[Mapping[str, Any]]:
    """The pairs with a path, most probable best path first (ties: profile, then target name)."""
    reached = [p for p in pairs if p.get("paths")]
    reached.sort(key=lambda p: (-float(p["probability"]), str(p["profile"]["name"]), str(p["target"]["name"])))
    return reached[: max(limit, 0)]
