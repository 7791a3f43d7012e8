"""One attacker profile on one view's graph: how far it gets, and the odds of every loss.

For a profile of capability OCn and actor type a, a move's probability is its finding's success
at OCn (zero when the technique cannot be realised by that actor type) times its zone-crossing
factor; the moves and structural edges between two nodes combine as "at least one works"
(1 - product of 1 - p). Reach is the best path's probability from the profile's start nodes
(Dijkstra on -log p, in scipy). A theft instance's route probability is the reach of its position
times its success; a start-only position (authorised, held, physical) counts 1 when the profile
holds it. The best route to a jewel is its most probable instance (the weakest copy sets the
odds). ``route_values`` runs the same search backwards from the jewels, which prices the routes
through every access finding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from threats.engine.attack_graph import ViewGraph
from threats.engine.attackers import AttackerData
from threats.engine.thefts import START_AUTHORISED, START_GRAPH, START_HELD
from threats.engine.vocab import HUMAN_ROLE, OC_LEVELS

# Personal devices: what their owner opens from them is the owner's own authorised access.
DEVICE_KINDS = frozenset({"workstation", "notebook", "edge_device"})
SCOPED_ACTORS = frozenset({"insider", "supplier"})
_TINY = 1e-12  # scipy reads a zero weight as "no edge"; a certain move costs this instead
_NO_PRED = -9999


@dataclass(frozen=True, slots=True)
class ProfileRun:
    """What one profile reaches in one view. Arrays follow the view graph's numbering."""

    attacker: AttackerData
    oc: int
    starts: tuple[int, ...]
    scope: frozenset[int]  # asset ids of the authorised scope
    scope_parent: dict[int, int]  # start node -> the node whose authorised access reaches it
    reach: np.ndarray
    pred: np.ndarray
    pair_q: np.ndarray
    move_q: np.ndarray
    allowed: np.ndarray  # per finding: the actor type can realise it
    inst_route: np.ndarray
    c_route: np.ndarray


def start_nodes(graph: ViewGraph, attacker: AttackerData) -> tuple[list[int], frozenset[int], dict[int, int]]:
    """(start nodes, authorised scope asset ids, scope parents) of a profile.

    Entry assets are held; a trust-0 entry zone means the internet; another entry zone is a
    network position inside it. An insider or supplier whose entries are people also holds
    their authorised scope: what those people open authenticated connections to, and what their
    personal devices open in turn; an insider's entry zone's assets are in scope too.
    """
    topo = graph.topo
    starts: set[int] = set()
    entry = [topo.index[a] for a in attacker.entry_asset_ids if a in topo.index]
    starts.update(entry)
    for zone in attacker.entry_zone_ids:
        node = topo.zone_node.get(zone)
        if node is not None:
            starts.add(node)
    scope: set[int] = set()
    parent: dict[int, int] = {}
    if attacker.actor_type in SCOPED_ACTORS:
        people = [i for i in entry if topo.kinds[i] == HUMAN_ROLE]
        frontier = list(people)
        scope.update(people)
        while frontier:
            i = frontier.pop(0)
            for r in topo.uses[i]:
                if r in scope:
                    continue
                scope.add(r)
                parent[r] = i
                if topo.kinds[r] in DEVICE_KINDS and (topo.kinds[i] == HUMAN_ROLE):
                    frontier.append(r)
        if attacker.actor_type == "insider":
            zones = {topo.zone_node.get(z) for z in attacker.entry_zone_ids} - {None, topo.internet}
            scope.update(i for i, z in enumerate(topo.zone_of) if z in zones)
    scope_parent: dict[int, int] = {}
    for i in scope:
        q = topo.query.get(topo.asset_ids[i])
        node = q if q is not None else i
        starts.add(node)
        if i in parent:
            scope_parent[node] = parent[i]
    return sorted(starts), frozenset(topo.asset_ids[i] for i in scope), scope_parent


def run_profile(graph: ViewGraph, attacker: AttackerData, *, exclude: int | None = None) -> ProfileRun:
    """Reach and route probabilities of one profile; ``exclude`` drops one finding (what fixing
    it would change)."""
    oc = OC_LEVELS.index(attacker.capability)
    allowed = graph.actor_allowed[attacker.actor_type].copy()
    if exclude is not None:
        allowed[exclude] = False
    success = graph.success[:, oc] * allowed
    move_q = success[graph.move_finding] * graph.move_factor if len(graph.move_finding) else np.zeros(0)
    pair_q = _combine(graph, move_q)
    starts, scope, scope_parent = start_nodes(graph, attacker)
    reach, pred = _forward(graph, pair_q, starts)
    inst_route = _instance_routes(graph, attacker, oc, reach, scope, allowed)
    t = graph.thefts
    c_route = reach[t.c_node] * t.c_success[:, oc] * allowed[t.c_finding] if len(t.c_node) else np.zeros(0)
    return ProfileRun(
        attacker, oc, tuple(starts), scope, scope_parent, reach, pred, pair_q, move_q, allowed, inst_route, c_route
    )


def _combine(graph: ViewGraph, move_q: np.ndarray) -> np.ndarray:
    """Per node pair: 1 - product of (1 - p) over its active moves and structural edges."""
    log_survive = np.zeros(len(graph.pair_src))
    active = graph.move_active
    if active.any():
        q = np.minimum(move_q[active], 1.0 - _TINY)
        np.add.at(log_survive, graph.move_pair[active], np.log1p(-q))
    if len(graph.struct_pair):
        q = np.minimum(graph.struct_p, 1.0 - _TINY)
        np.add.at(log_survive, graph.struct_pair, np.log1p(-q))
    return -np.expm1(log_survive)


def _forward(graph: ViewGraph, pair_q: np.ndarray, starts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    n = graph.nodes
    if not starts:
        return np.zeros(n), np.full(n, _NO_PRED)
    keep = pair_q > 0
    weights = -np.log(pair_q[keep]) + _TINY
    matrix = csr_matrix((weights, (graph.pair_src[keep], graph.pair_dst[keep])), shape=(n, n))
    dist, pred, _ = dijkstra(matrix, directed=True, indices=starts, min_only=True, return_predecessors=True)
    return np.exp(-dist), pred


def _instance_routes(
    graph: ViewGraph, attacker: AttackerData, oc: int, reach: np.ndarray, scope: frozenset[int], allowed: np.ndarray
) -> np.ndarray:
    t = graph.thefts
    if not len(t.node):
        return np.zeros(0)
    position = np.where(t.start == START_GRAPH, reach[np.maximum(t.node, 0)], 0.0)
    special = np.nonzero(t.start != START_GRAPH)[0]
    if len(special):
        topo = graph.topo
        target, kind = t.target[special].astype(np.int64), t.start[special]
        entry_zones = [topo.zone_node[z] for z in attacker.entry_zone_ids if z in topo.zone_node]
        held = np.isin(target, np.asarray(attacker.entry_asset_ids, dtype=np.int64))
        authorised = np.isin(target, np.fromiter(scope, dtype=np.int64, count=len(scope)))
        if attacker.actor_type == "physical" and entry_zones:
            zones = [topo.zone_of[topo.index[a]] if a in topo.index else None for a in target.tolist()]
            zone = np.asarray([-1 if z is None else z for z in zones], dtype=np.int64)
            physical = held | np.isin(zone, np.asarray(entry_zones))
        else:
            physical = held
        holds = np.where(kind == START_AUTHORISED, authorised, np.where(kind == START_HELD, held, physical))
        position[special] = holds.astype(np.float64)
    return position * t.success[:, oc] * allowed[t.finding]


def route_values(graph: ViewGraph, run: ProfileRun, jewels: np.ndarray) -> np.ndarray:
    """(len(jewels), nodes): the best probability, from holding each node, of stealing each jewel,
    weighted by the share of its value the theft takes. Only graph positions count: no access
    finding leads to an authorised, held or physical position."""
    n = graph.nodes
    t = graph.thefts
    if not len(jewels):
        return np.zeros((0, n))
    sink_of = {int(j): n + k for k, j in enumerate(jewels)}
    graph_inst = (t.start == START_GRAPH) & np.isin(t.jewel, jewels) & graph.inst_active
    odds = t.success[:, run.oc] * t.fraction * run.allowed[t.finding] if len(t.finding) else np.zeros(0)
    graph_inst &= odds > 0
    keep = run.pair_q > 0
    size = n + len(jewels)
    # Several thefts of one jewel at one node: the best one is the edge (csr would add them up).
    sink_src = np.asarray([sink_of[int(j)] for j in t.jewel[graph_inst]], dtype=np.int64)
    sink_dst = t.node[graph_inst]
    sink_w = -np.log(odds[graph_inst]) + _TINY
    keys = sink_src * size + sink_dst
    order = np.lexsort((sink_w, keys))
    first = np.ones(len(order), dtype=bool)
    first[1:] = keys[order][1:] != keys[order][:-1]
    chosen = order[first]
    src = np.concatenate([graph.pair_dst[keep], sink_src[chosen]])
    dst = np.concatenate([graph.pair_src[keep], sink_dst[chosen]])
    weights = np.concatenate([-np.log(run.pair_q[keep]) + _TINY, sink_w[chosen]])
    matrix = csr_matrix((weights, (src, dst)), shape=(size, size))
    dist = dijkstra(matrix, directed=True, indices=[sink_of[int(j)] for j in jewels], min_only=False)
    return np.exp(-dist[:, :n])


def path_to(graph: ViewGraph, run: ProfileRun, node: int) -> list[int]:
    """Nodes of the best path from where the profile starts to ``node``, start first; [] when
    unreached. A start in the authorised scope is preceded by the people and devices whose
    access reaches it (those steps are certain: it is their own access)."""
    if run.reach[node] <= 0:
        return []
    path = [node]
    while run.pred[path[-1]] >= 0:
        path.append(int(run.pred[path[-1]]))
    seen = set(path)
    while path[-1] in run.scope_parent and run.scope_parent[path[-1]] not in seen:
        path.append(run.scope_parent[path[-1]])
        seen.add(path[-1])
    path.reverse()
    return path
