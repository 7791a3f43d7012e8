"""Choke points and the weighted minimum cut (DESIGN.md §5).

Choke points: the assets and flows through which the largest share of the loss-weighted routes
runs, as BloodHound shows the choke points on the way to tier zero. A route's weight is what it
carries: its profile's attempts a year x its probability x the share of the jewel's value it
takes x the jewel's mean value. The share of an element is the weight of the routes through it
over the weight of all routes, so the entry point of every route has share 1.

Weighted minimum cut: the cheapest set of assets whose hardening separates every profile's
starting points from every place a jewel can be stolen from, on the current view's graph. An
asset's capacity is the annual cost of the cheapest action that hardens it (``actions``);
assets no action hardens cannot be cut, and thefts that need no move (a device in hand, an
insider's own access) cannot be cut off by any hardening and are listed apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from threats.engine.actions import Action
from threats.engine.attack_graph import ViewGraph
from threats.engine.evaluate import ProfileRun
from threats.engine.results import Route
from threats.engine.snapshot import SystemSnapshot
from threats.engine.thefts import START_GRAPH

_SOURCE, _SINK = "source", "sink"


@dataclass(frozen=True, slots=True)
class ChokePoint:
    kind: str  # "asset" | "flow"
    element_id: int
    share: float
    routes: int


@dataclass(frozen=True, slots=True)
class Cut:
    """``assets``: (asset id, the action that hardens it); ``unprotected``: (attacker id, jewel
    id, reason) of thefts no hardening of a route can stop."""

    assets: tuple[tuple[int, Action], ...]
    annual_cost: float
    unprotected: tuple[tuple[int, int, str], ...]


def route_elements(route: Route, flows: Mapping[frozenset[int], int]) -> tuple[set[int], set[int]]:
    """(asset ids, flow ids) a route passes, in any role (entry, stepping stone, theft place)."""
    assets: list[int] = []
    for step in route.steps:
        for label in (step.source, step.target):
            if label[0] in ("asset", "query", "input") and (not assets or assets[-1] != label[1]):
                assets.append(int(label[1]))
    used = {flows[frozenset(p)] for p in zip(assets, assets[1:], strict=False) if frozenset(p) in flows}
    return set(assets), used


def choke_points(
    snapshot: SystemSnapshot,
    routes: Mapping[tuple[int, int], Route],
    attempts: Mapping[int, float],
    value_mean: Mapping[int, float],
    *,
    limit: int = 10,
) -> list[ChokePoint]:
    """The elements carrying the most loss-weighted routes, with their share (see module doc)."""
    flows = {frozenset((f.source_id, f.target_id)): f.id for f in snapshot.flows}
    total = 0.0
    asset_weight: dict[int, float] = {}
    flow_weight: dict[int, float] = {}
    asset_count: dict[int, int] = {}
    flow_count: dict[int, int] = {}
    for (attacker_id, jewel_id), route in routes.items():
        weight = attempts.get(attacker_id, 0.0) * route.probability * route.share * value_mean.get(jewel_id, 0.0)
        if weight <= 0:
            continue
        total += weight
        on_assets, on_flows = route_elements(route, flows)
        on_assets.discard(jewel_id)
        for a in on_assets:
            asset_weight[a] = asset_weight.get(a, 0.0) + weight
            asset_count[a] = asset_count.get(a, 0) + 1
        for f in on_flows:
            flow_weight[f] = flow_weight.get(f, 0.0) + weight
            flow_count[f] = flow_count.get(f, 0) + 1
    if total <= 0:
        return []
    points = [ChokePoint("asset", a, w / total, asset_count[a]) for a, w in asset_weight.items()]
    points += [ChokePoint("flow", f, w / total, flow_count[f]) for f, w in flow_weight.items()]
    points.sort(key=lambda p: (-p.share, p.kind, p.element_id))
    return points[:limit]


def weighted_cut(graph: ViewGraph, runs: Sequence[ProfileRun], actions: Sequence[Action]) -> Cut:
    """The cheapest assets to harden so that no profile reaches any theft position (module doc)."""
    cheapest: dict[int, Action] = {}
    for action in actions:
        for asset_id in action.element_ids:
            if asset_id not in cheapest or action.annual_cost < cheapest[asset_id].annual_cost:
                cheapest[asset_id] = action
    topo = graph.topo
    g = nx.DiGraph()
    starts: set[int] = set()
    for run in runs:
        starts.update(run.starts)
        keep = run.pair_q > 0
        for s, d in zip(graph.pair_src[keep], graph.pair_dst[keep], strict=True):
            g.add_edge(("out", int(s)), ("in", int(d)))
    for node in range(graph.nodes):
        if node < len(topo.asset_ids) and topo.asset_ids[node] in cheapest and node not in starts:
            g.add_edge(("in", node), ("out", node), capacity=cheapest[topo.asset_ids[node]].annual_cost)
        else:
            g.add_edge(("in", node), ("out", node))  # no capacity attribute: cannot be cut
    for node in starts:
        g.add_edge(_SOURCE, ("in", node))
    t = graph.thefts
    unprotected: set[tuple[int, int, str]] = set()
    for i in range(len(t.node)):
        if not graph.inst_active[i]:
            continue
        if t.start[i] != START_GRAPH:
            for run in runs:
                if run.inst_route[i] > 0:
                    unprotected.add((run.attacker.id, t.jewels.ids[int(t.jewel[i])], "needs no move"))
            continue
        g.add_edge(("out", int(t.node[i])), _SINK)
    _drop_uncuttable(g, graph, runs, unprotected)
    if _SINK not in g or _SOURCE not in g or not nx.has_path(g, _SOURCE, _SINK):
        return Cut((), 0.0, tuple(sorted(unprotected)))
    try:
        value, (reachable, _) = nx.minimum_cut(g, _SOURCE, _SINK)
    except nx.NetworkXUnbounded:
        return Cut((), float("inf"), tuple(sorted(unprotected)))
    chosen = []
    for node in range(len(topo.asset_ids)):  # an asset is cut where its in side is reached and its out side is not
        if ("in", node) in reachable and ("out", node) not in reachable and topo.asset_ids[node] in cheapest:
            chosen.append((topo.asset_ids[node], cheapest[topo.asset_ids[node]]))
    return Cut(tuple(chosen), float(value), tuple(sorted(unprotected)))


def _drop_uncuttable(g: nx.DiGraph, graph: ViewGraph, runs: Sequence[ProfileRun], unprotected: set) -> None:
    """Remove the sink edges of theft positions a start reaches without passing any asset an
    action could harden, and list those thefts as unprotected (no finite cut exists for them)."""
    if _SOURCE not in g:  # no profile starts anywhere: nothing to separate
        return
    seen = {_SOURCE}
    frontier = [_SOURCE]
    while frontier:
        node = frontier.pop()
        for nxt, data in g[node].items():
            if nxt in seen or "capacity" in data or nxt == _SINK:
                continue
            seen.add(nxt)
            frontier.append(nxt)
    t = graph.thefts
    for node in [n for n in seen if isinstance(n, tuple) and n[0] == "out" and g.has_edge(n, _SINK)]:
        g.remove_edge(node, _SINK)
        for i in range(len(t.node)):
            if int(t.node[i]) == node[1] and graph.inst_active[i] and t.start[i] == START_GRAPH:
                for run in runs:
                    if run.inst_route[i] > 0:
                        unprotected.add((run.attacker.id, t.jewels.ids[int(t.jewel[i])], "no action hardens the way"))
