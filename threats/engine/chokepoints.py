"""Choke points and the weighted minimum cut (DESIGN.md §5).

Choke points: the assets and flows through which the largest share of the loss-weighted routes
runs, as BloodHound shows the choke points on the way to tier zero. A route's weight is what it
carries: its profile's attempts a year x its probability x the share of the jewel's value it
takes x the jewel's mean value. The share of an element is the weight of the routes through it
over the weight of all routes, so the entry point of every route has share 1.

Weighted minimum cut: the cheapest set of assets and flows whose hardening separates every
profile's starting points from every place a jewel can be stolen from, on the current view's
graph. Each asset node is split into an in and an out side joined by an edge whose capacity is
the annual cost of the cheapest action that hardens the asset (``actions``). A flow is cut where
the engine reads its controls: the techniques *on* the flow (interception of what it carries, a
poisoned artifact travelling on it). Each such finding gets a node of its own whose capacity is
the cheapest action placed on its flow (``actions.flow_actions``) that the technique lists; the
moves and thefts of that technique pass through it. A move along a flow that comes from a
technique on an asset (a network hop to the answering side) is cut at that asset, not at the
flow. Assets and flows no action hardens have no capacity and cannot be cut; thefts that need
no move (a device in hand, an insider's own access) cannot be cut off by any hardening and are
listed apart. The cut is exact for assets; a flow with several techniques on it is priced once
per technique by the cut (an upper bound) and once in ``Cut.annual_cost``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

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
    """``assets``: (asset id, the action that hardens it); ``flows``: (flow id, the action on
    it); ``unprotected``: (attacker id, jewel id, reason) of thefts no hardening of a route can
    stop."""

    assets: tuple[tuple[int, Action], ...]
    annual_cost: float
    unprotected: tuple[tuple[int, int, str], ...]
    flows: tuple[tuple[int, Action], ...] = ()


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
    """The cheapest assets and flows to harden so that no profile reaches any theft position
    (module doc); ``annual_cost`` counts each chosen action once."""
    cheapest: dict[int, Action] = {}
    on_flow: dict[int, list[Action]] = {}
    for action in actions:
        for asset_id in action.element_ids:
            if asset_id not in cheapest or action.annual_cost < cheapest[asset_id].annual_cost:
                cheapest[asset_id] = action
        for flow_id in action.flow_ids:
            on_flow.setdefault(flow_id, []).append(action)
    by_finding = _flow_hardening(graph, on_flow)
    topo = graph.topo
    g = nx.DiGraph()
    starts: set[int] = set()
    kept: set[int] = set()
    for run in runs:
        starts.update(run.starts)
        kept.update(np.flatnonzero(run.pair_q > 0).tolist())
    _add_moves(g, graph, kept, by_finding)
    for node in range(graph.nodes):
        if node < len(topo.asset_ids) and topo.asset_ids[node] in cheapest and node not in starts:
            g.add_edge(("in", node), ("out", node), capacity=cheapest[topo.asset_ids[node]].annual_cost)
        else:
            g.add_edge(("in", node), ("out", node))  # no capacity attribute: cannot be cut
    for node in starts:
        g.add_edge(_SOURCE, ("in", node))
    t = graph.thefts
    unprotected: set[tuple[int, int, str]] = set()
    direct: dict[int, list[int]] = {}  # node -> theft instances whose sink edge leaves it directly
    for i in range(len(t.node)):
        if not graph.inst_active[i]:
            continue
        if t.start[i] != START_GRAPH:
            for run in runs:
                if run.inst_route[i] > 0:
                    unprotected.add((run.attacker.id, t.jewels.ids[int(t.jewel[i])], "needs no move"))
            continue
        node, k = int(t.node[i]), int(t.finding[i])
        if k in by_finding:  # a theft on a flow that an action on the flow works against
            _via(g, ("out", node), k, by_finding[k], _SINK)
        else:
            g.add_edge(("out", node), _SINK)
            direct.setdefault(node, []).append(i)
    _drop_uncuttable(g, graph, runs, unprotected, direct)
    if _SINK not in g or _SOURCE not in g or not nx.has_path(g, _SOURCE, _SINK):
        return Cut((), 0.0, tuple(sorted(unprotected)))
    try:
        _, (reachable, _) = nx.minimum_cut(g, _SOURCE, _SINK)
    except nx.NetworkXUnbounded:
        return Cut((), float("inf"), tuple(sorted(unprotected)))
    chosen = []
    for node in range(len(topo.asset_ids)):  # an asset is cut where its in side is reached and its out side is not
        if ("in", node) in reachable and ("out", node) not in reachable and topo.asset_ids[node] in cheapest:
            chosen.append((topo.asset_ids[node], cheapest[topo.asset_ids[node]]))
    flows: dict[tuple[int, str], tuple[int, Action]] = {}
    for k, action in by_finding.items():
        if ("via", k, "in") in reachable and ("via", k, "out") not in reachable:
            flow_id = graph.findings[k].key[2]
            flows[(flow_id, action.key)] = (flow_id, action)
    cost = sum(a.annual_cost for _, a in chosen) + sum(a.annual_cost for _, a in flows.values())
    return Cut(tuple(chosen), float(cost), tuple(sorted(unprotected)), tuple(sorted(flows.values(), key=_by_flow)))


def _by_flow(entry: tuple[int, Action]) -> tuple[int, str]:
    return entry[0], entry[1].key


def _flow_hardening(graph: ViewGraph, on_flow: Mapping[int, Sequence[Action]]) -> dict[int, Action]:
    """Finding index -> the cheapest action on its flow that its technique lists a control of,
    for findings on flows. Only these moves and thefts can be cut at the flow: the engine reads
    a flow's controls for the techniques on that flow, never for a technique on an asset whose
    route happens to run along the flow (that one is cut at the asset)."""
    result: dict[int, Action] = {}
    for k, spec in enumerate(graph.findings):
        if not spec.active or spec.key[1] != "flow" or spec.key[2] not in on_flow:
            continue
        listed = {tc.control for tc in spec.threat.controls}
        options = [a for a in on_flow[spec.key[2]] if a.control in listed]
        if options:
            result[k] = min(options, key=lambda a: (a.annual_cost, a.key))
    return result


def _add_moves(g: nx.DiGraph, graph: ViewGraph, kept: set[int], by_finding: Mapping[int, Action]) -> None:
    """One edge per kept (from, to) pair: through the flow's capacity (``_via``) when every move
    of the pair is a technique on a flow that an action there works against, else uncuttable
    (a structural move, or a move no flow action touches, keeps the pair open whatever the flows)."""
    open_pairs = {int(p) for p in graph.struct_pair.tolist()}
    via: dict[int, set[int]] = {}
    for m in np.flatnonzero(graph.move_active).tolist():
        p, k = int(graph.move_pair[m]), int(graph.move_finding[m])
        if k in by_finding:
            via.setdefault(p, set()).add(k)
        else:
            open_pairs.add(p)
    for p in kept:
        src, dst = ("out", int(graph.pair_src[p])), ("in", int(graph.pair_dst[p]))
        if p in open_pairs or p not in via:
            g.add_edge(src, dst)
            continue
        for k in via[p]:  # parallel: every technique on the pair must be cut
            _via(g, src, k, by_finding[k], dst)


def _via(g: nx.DiGraph, src: object, k: int, action: Action, dst: object) -> None:
    """``src`` -> finding ``k``'s flow node (capacity: the action on the flow) -> ``dst``. One
    node per finding, so hardening the flow once cuts every move or theft of that technique."""
    g.add_edge(src, ("via", k, "in"))
    g.add_edge(("via", k, "in"), ("via", k, "out"), capacity=action.annual_cost)
    g.add_edge(("via", k, "out"), dst)


def _drop_uncuttable(
    g: nx.DiGraph,
    graph: ViewGraph,
    runs: Sequence[ProfileRun],
    unprotected: set[tuple[int, int, str]],
    direct: Mapping[int, Sequence[int]],
) -> None:
    """Remove the sink edges of theft positions a start reaches without passing any asset or
    flow an action could harden, and list those thefts as unprotected (no finite cut exists)."""
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
        for i in direct.get(int(node[1]), ()):
            for run in runs:
                if run.inst_route[i] > 0:
                    unprotected.add((run.attacker.id, t.jewels.ids[int(t.jewel[i])], "no action hardens the way"))
