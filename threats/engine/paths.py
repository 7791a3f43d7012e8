"""The k most probable simple attack paths from a profile's entry points to one asset (Yen).

Paths live on the same attack graph as reach (``reach.build_graph``), with the same per-step
probabilities, so the best path's probability equals the profile's reach of the target. A
virtual super-source links every entry point at cost 0, which turns the multi-source search into
Yen's ordinary single-source form. Paths are sequences of edges (parallel flows between two
assets are different paths) and never revisit an asset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from heapq import heappop, heappush

from threats.engine.attackers import AttackerData
from threats.engine.reach import MIN_EDGE_PROBABILITY, OC_STEP, AttackGraph, PathStep, entry_sources

MAX_K = 20  # guard rail: Yen's cost grows with k x path length Dijkstra runs


@dataclass(frozen=True, slots=True)
class AttackPath:
    """One path: its probability (product of its steps) and the steps, entry first."""

    attacker_id: int
    target_id: int
    probability: float
    steps: tuple[PathStep, ...]


def k_best_paths(graph: AttackGraph, attacker: AttackerData, target_id: int, k: int = 5) -> list[AttackPath]:
    """Up to ``k`` most probable simple paths to ``target_id``, most probable first.

    An entry point that is the target itself gives one empty path of probability 1; an unknown
    or unreachable target gives none.
    """
    k = max(0, min(k, MAX_K))
    target = graph.index.get(target_id)
    sources = entry_sources(graph, attacker)
    if target is None or not sources or k == 0:
        return []
    if target in sources:
        return [AttackPath(attacker.id, target_id, 1.0, ())]
    search = _Search(graph, attacker, sources)
    search.target = target
    first = search.shortest(search.root, frozenset(), frozenset())
    if first is None:
        return []
    found: list[tuple[float, tuple[int, ...]]] = [first]
    candidates: list[tuple[float, tuple[int, ...]]] = []
    seen = {first[1]}
    while len(found) < k:
        _, last = found[-1]
        nodes = search.nodes_of(last)
        for i in range(len(last)):
            spur, root = nodes[i], last[:i]
            banned_edges = frozenset(edges[i] for _, edges in found if edges[:i] == root)
            banned_nodes = frozenset(nodes[:i])
            tail = search.shortest(spur, banned_nodes, banned_edges)
            if tail is None:
                continue
            edges = root + tail[1]
            if edges not in seen:
                seen.add(edges)
                heappush(candidates, (search.cost(edges), edges))
        if not candidates:
            break
        found.append(heappop(candidates))
    return [search.path(target_id, edges) for _, edges in found]


class _Search:
    """Dijkstra on -log p over the graph plus a super-source whose edges are numbered after the
    graph's own (edge ``E + j`` goes to the j-th entry point)."""

    def __init__(self, graph: AttackGraph, attacker: AttackerData, sources: list[int]) -> None:
        self.graph, self.attacker = graph, attacker
        step = -math.log(OC_STEP[attacker.capability])
        self.weights = [
            c + step if uses else c for c, uses in zip(graph.edge_cost, graph.edge_uses_capability, strict=True)
        ]
        self.root = len(graph.asset_ids) + 1
        self.first_virtual = len(graph.edge_src)
        self.sources = sources
        self.target = -1

    def _out(self, node: int) -> list[tuple[int, int]]:
        if node == self.root:
            return [(s, self.first_virtual + j) for j, s in enumerate(self.sources)]
        return list(self.graph.adjacency[node])

    def _src(self, edge: int) -> int:
        return self.root if edge >= self.first_virtual else self.graph.edge_src[edge]

    def _dst(self, edge: int) -> int:
        return self.sources[edge - self.first_virtual] if edge >= self.first_virtual else self.graph.edge_dst[edge]

    def _weight(self, edge: int) -> float:
        return 0.0 if edge >= self.first_virtual else self.weights[edge]

    def cost(self, edges: tuple[int, ...]) -> float:
        return math.fsum(self._weight(e) for e in edges)

    def nodes_of(self, edges: tuple[int, ...]) -> list[int]:
        return [self.root, *(self._dst(e) for e in edges)]

    def shortest(
        self, start: int, banned_nodes: frozenset[int], banned_edges: frozenset[int]
    ) -> tuple[float, tuple[int, ...]] | None:
        """Cheapest edge path from ``start`` to the target avoiding the banned nodes and edges."""
        target = self.target
        dist = {start: 0.0}
        pred: dict[int, int] = {}
        heap = [(0.0, start)]
        while heap:
            d, u = heappop(heap)
            if d > dist.get(u, math.inf):
                continue
            if u == target:
                edges = []
                while u != start:
                    e = pred[u]
                    edges.append(e)
                    u = self._src(e)
                return d, tuple(reversed(edges))
            for v, e in self._out(u):
                if v in banned_nodes or e in banned_edges:
                    continue
                nd = d + self._weight(e)
                if nd < dist.get(v, math.inf):
                    dist[v] = nd
                    pred[v] = e
                    heappush(heap, (nd, v))
        return None

    def path(self, target_id: int, edges: tuple[int, ...]) -> AttackPath:
        graph, capability = (
            self.graph,
            (f"capability {self.attacker.capability} per step", OC_STEP[self.attacker.capability]),
        )
        steps = []
        for e in edges:
            if e >= self.first_virtual:
                continue  # the super-source's link to an entry point is not a move
            factors = (capability, *graph.edge_factors[e]) if graph.edge_uses_capability[e] else graph.edge_factors[e]
            probability = max(math.prod(value for _, value in factors), MIN_EDGE_PROBABILITY)
            steps.append(
                PathStep(
                    graph.node(graph.edge_src[e]),
                    graph.node(graph.edge_dst[e]),
                    graph.edge_flow[e],
                    probability,
                    factors,
                )
            )
        probability = math.exp(-self.cost(edges))
        return AttackPath(self.attacker.id, target_id, probability, tuple(steps))
