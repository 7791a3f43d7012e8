"""Reach: how likely each attacker profile gets to each asset (DESIGN.md §4.1).

The attack graph has one node per asset plus a virtual INTERNET node. Edges are the moves an
attacker can make, the same moves ``facts.derive_facts`` uses for ``reachable_from_internet``:
along a flow (both ways when it is bidirectional), from a host to the content hosted on it, and
from the internet to every internet-facing asset or asset in a trust-level-0 zone. Each edge has
a traversal probability that is a product of named factors (``docs/risk-method.md`` gives every
constant and why), so a path's probability can be shown as the factors that produced it.

P(reach a) is the best path's product of edge probabilities, i.e. a shortest path on -log p from
all of the profile's entry points at once. Dijkstra is hand-written over adjacency lists built
once per snapshot: a search is O(E log V) with small constants, and the graph is shared by every
profile (only the capability term of a weight changes with the profile).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from heapq import heapify, heappop, heappush
from typing import Final, Literal, NamedTuple

from threats.engine.attackers import AttackerData
from threats.engine.snapshot import SystemSnapshot

INTERNET: Final = "internet"
Node = int | Literal["internet"]  # an asset id, or the internet
Factors = tuple[tuple[str, float], ...]

# Per-step success of an attacker of each RAND operational capacity before any barrier: the
# odds of taking one more step (exploit, credential, pivot). Monotone in capability, never 1.
OC_STEP: Mapping[str, float] = {"OC1": 0.35, "OC2": 0.5, "OC3": 0.65, "OC4": 0.8, "OC5": 0.95}
# The target's access control: how much of the step survives it. Unknown values count as none.
AUTHENTICATION_FACTOR: Mapping[str, float] = {"none": 1.0, "password": 0.6, "api_key": 0.5, "sso": 0.4, "mtls": 0.25}
MFA_FACTOR = 0.5  # only on top of some authentication: MFA without a first factor means nothing
FLOW_AUTHENTICATED_FACTOR = 0.8  # the channel itself asks for credentials
FLOW_ENCRYPTED_FACTOR = 0.9  # TLS mostly protects content, it slows a pivot only a little
TRUST_STEP_FACTOR = 0.6  # per trust level gained when a flow crosses into a more trusted zone
HOSTED_FACTOR = 0.95  # from a host to the files it holds: near certain
ENCRYPTED_AT_REST_FACTOR = 0.4  # keys live elsewhere (KMS), but a running host can often reach them
MIN_EDGE_PROBABILITY = 1e-6  # keeps -log p finite; no edge is impossible, only very unlikely

EdgeKind = Literal["flow", "flow_reverse", "hosted", "internet"]


class PathStep(NamedTuple):
    """One move on a best path; the factors multiply to ``probability`` (before the floor)."""

    from_node: Node
    to_node: Node
    flow_id: int | None
    probability: float
    factors: Factors


@dataclass(frozen=True, slots=True)
class AttackGraph:
    """The snapshot's attack graph. Node i < len(asset_ids) is an asset; the last node is INTERNET.

    Per edge e: ``edge_src``/``edge_dst`` are node indexes, ``edge_flow`` the flow id (or None),
    ``edge_factors`` the capability-independent factors, ``edge_cost`` their -log product, and
    ``edge_uses_capability`` whether the attacker's per-step capability also applies (it does not
    from a host to its content: reading a file you can already see takes no skill).
    """

    asset_ids: tuple[int, ...]
    index: Mapping[int, int]
    zone_nodes: Mapping[int, tuple[int, ...]]
    zone_trust: Mapping[int, int]
    adjacency: tuple[tuple[tuple[int, int], ...], ...]
    edge_src: tuple[int, ...]
    edge_dst: tuple[int, ...]
    edge_flow: tuple[int | None, ...]
    edge_kind: tuple[EdgeKind, ...]
    edge_factors: tuple[Factors, ...]
    edge_cost: tuple[float, ...]
    edge_uses_capability: tuple[bool, ...]

    @property
    def internet(self) -> int:
        return len(self.asset_ids)

    def node(self, i: int) -> Node:
        return INTERNET if i == len(self.asset_ids) else self.asset_ids[i]


@dataclass(frozen=True, slots=True)
class ReachResult:
    """One profile's reach: P(reach) for every asset id, and the best-path tree for ``best_path``."""

    attacker_id: int
    capability: str
    probability: Mapping[int, float]
    graph: AttackGraph
    pred_edge: tuple[int, ...]  # node index -> edge index of its best incoming move, -1 for none
    starts_on_internet: bool


def build_graph(snapshot: SystemSnapshot) -> AttackGraph:
    """Build the attack graph once; references to ids outside the snapshot are ignored."""
    assets = snapshot.assets
    index = {a.id: i for i, a in enumerate(assets)}
    trust = {z.id: z.trust_level for z in snapshot.zones}
    zone_of = [a.zone_id if a.zone_id in trust else None for a in assets]
    zone_nodes: dict[int, list[int]] = {}
    for i, zone in enumerate(zone_of):
        if zone is not None:
            zone_nodes.setdefault(zone, []).append(i)

    edges = _EdgeBuilder(len(assets) + 1)
    for i, asset in enumerate(assets):
        host = index.get(asset.hosted_on_id) if asset.hosted_on_id is not None else None
        if host is not None and host != i:
            edges.add(host, i, None, "hosted", _hosted_factors(asset.encrypted_at_rest))
        zone = zone_of[i]
        if asset.internet_facing or (zone is not None and trust[zone] == 0):
            # No zone-crossing penalty: exposing the asset is what opened its zone's boundary.
            edges.add(len(assets), i, None, "internet", _access_factors(asset.authentication, asset.mfa, None, 0))
    for flow in snapshot.flows:
        src, dst = index.get(flow.source_id), index.get(flow.target_id)
        if src is None or dst is None or src == dst:
            continue
        gain = _trust_gain(zone_of[src], zone_of[dst], trust)
        protection = (flow.authenticated, flow.encrypted)
        edges.add(
            src, dst, flow.id, "flow", _access_factors(assets[dst].authentication, assets[dst].mfa, protection, gain)
        )
        if flow.bidirectional:
            back = _trust_gain(zone_of[dst], zone_of[src], trust)
            edges.add(
                dst,
                src,
                flow.id,
                "flow_reverse",
                _access_factors(assets[src].authentication, assets[src].mfa, protection, back),
            )
    return AttackGraph(
        asset_ids=tuple(a.id for a in assets),
        index=index,
        zone_nodes={zone: tuple(nodes) for zone, nodes in zone_nodes.items()},
        zone_trust=trust,
        adjacency=tuple(tuple(out) for out in edges.adjacency),
        edge_src=tuple(edges.src),
        edge_dst=tuple(edges.dst),
        edge_flow=tuple(edges.flow),
        edge_kind=tuple(edges.kind),
        edge_factors=tuple(edges.factors),
        edge_cost=tuple(edges.cost),
        edge_uses_capability=tuple(kind != "hosted" for kind in edges.kind),
    )


def entry_sources(graph: AttackGraph, attacker: AttackerData) -> list[int]:
    """Node indexes where ``attacker`` starts with reach 1.

    Entry assets start as held; an entry zone of trust level 0 means the internet, any other
    entry zone puts every asset directly in it at reach 1 (nested zones are not included: a
    sub-zone is a separate, usually more trusted, enclave). A profile with no valid entry points
    starts nowhere and reaches nothing, as the seeded insider does until the team points it at
    assets.
    """
    starts: set[int] = {graph.index[a] for a in attacker.entry_asset_ids if a in graph.index}
    for zone in attacker.entry_zone_ids:
        if zone not in graph.zone_trust:
            continue
        if graph.zone_trust[zone] == 0:
            starts.add(graph.internet)
        else:
            starts.update(graph.zone_nodes.get(zone, ()))
    return sorted(starts)


def compute_reach(graph: AttackGraph, attacker: AttackerData) -> ReachResult:
    """P(reach) of every asset for one profile: Dijkstra on -log p from all its entry points."""
    n = len(graph.asset_ids) + 1
    step_cost = -math.log(OC_STEP[attacker.capability])
    weights = [
        c + step_cost if uses else c for c, uses in zip(graph.edge_cost, graph.edge_uses_capability, strict=True)
    ]
    dist = [math.inf] * n
    pred = [-1] * n
    heap = [(0.0, s) for s in entry_sources(graph, attacker)]
    for _, s in heap:
        dist[s] = 0.0
    heapify(heap)
    adjacency = graph.adjacency
    while heap:
        d, u = heappop(heap)
        if d > dist[u]:
            continue
        for v, e in adjacency[u]:
            nd = d + weights[e]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = e
                heappush(heap, (nd, v))
    exp = math.exp
    probability = {aid: (exp(-dist[i]) if dist[i] < math.inf else 0.0) for i, aid in enumerate(graph.asset_ids)}
    return ReachResult(
        attacker_id=attacker.id,
        capability=attacker.capability,
        probability=probability,
        graph=graph,
        pred_edge=tuple(pred),
        starts_on_internet=dist[n - 1] == 0.0,
    )


def best_path(result: ReachResult, asset_id: int) -> list[PathStep]:
    """The most probable path from an entry point to ``asset_id``; [] if it is an entry or unreached.

    Each step's factors include the capability step where it applies, so they multiply to the
    step's probability, and the steps' probabilities multiply to the reach (up to rounding).
    """
    graph = result.graph
    node = graph.index.get(asset_id)
    if node is None:
        return []
    steps: list[PathStep] = []
    step = OC_STEP[result.capability]
    capability = (f"capability {result.capability} per step", step)
    while (e := result.pred_edge[node]) >= 0:
        factors = (capability, *graph.edge_factors[e]) if graph.edge_uses_capability[e] else graph.edge_factors[e]
        probability = max(math.prod(value for _, value in factors), MIN_EDGE_PROBABILITY)
        src = graph.edge_src[e]
        steps.append(PathStep(graph.node(src), graph.node(node), graph.edge_flow[e], probability, factors))
        node = src
    steps.reverse()
    return steps


def target_reach(
    result: ReachResult, target_type: str, target_id: int, flow_ends: Mapping[int, tuple[int, int]]
) -> float:
    """Reach of a finding's target: an asset's own, or for a flow the better of its two ends.

    An attacker at either end of a flow sees its traffic (the sender's side or the receiver's),
    so a flow is as exposed as its more exposed end.
    """
    p = result.probability
    if target_type == "asset":
        return p.get(target_id, 0.0)
    ends = flow_ends.get(target_id)
    if ends is None:
        return 0.0
    return max(p.get(ends[0], 0.0), p.get(ends[1], 0.0))


# -- edge factors ----------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _access_factors(auth: str, mfa: bool, flow: tuple[bool, bool] | None, gain: int) -> Factors:
    """Factors of a move onto an asset; cached, since a graph has few distinct combinations.

    ``flow`` is (authenticated, encrypted) of the flow moved along, None from the internet.
    """
    factors = [(f"target authentication {auth}", AUTHENTICATION_FACTOR.get(auth, 1.0))]
    if mfa and auth != "none":
        factors.append(("target requires MFA", MFA_FACTOR))
    if flow is not None:
        authenticated, encrypted = flow
        factors.append(
            ("authenticated flow", FLOW_AUTHENTICATED_FACTOR) if authenticated else ("unauthenticated flow", 1.0)
        )
        factors.append(("encrypted flow", FLOW_ENCRYPTED_FACTOR) if encrypted else ("unencrypted flow", 1.0))
    if gain > 0:
        factors.append((f"into a zone {gain} trust level(s) higher", TRUST_STEP_FACTOR**gain))
    return tuple(factors)


@lru_cache(maxsize=2)
def _hosted_factors(encrypted_at_rest: bool) -> Factors:
    factors = [("content of its host", HOSTED_FACTOR)]
    if encrypted_at_rest:
        factors.append(("encrypted at rest", ENCRYPTED_AT_REST_FACTOR))
    return tuple(factors)


def _trust_gain(src_zone: int | None, dst_zone: int | None, trust: Mapping[int, int]) -> int:
    """Trust levels gained by the move; an unzoned end is unknown, so it costs nothing."""
    if src_zone is None or dst_zone is None:
        return 0
    return max(trust[dst_zone] - trust[src_zone], 0)


class _EdgeBuilder:
    """Accumulates edges in parallel lists; the cost of a factor tuple is computed once."""

    def __init__(self, nodes: int) -> None:
        self.adjacency: list[list[tuple[int, int]]] = [[] for _ in range(nodes)]
        self.src: list[int] = []
        self.dst: list[int] = []
        self.flow: list[int | None] = []
        self.kind: list[EdgeKind] = []
        self.factors: list[Factors] = []
        self.cost: list[float] = []
        self._costs: dict[Factors, float] = {}

    def add(self, src: int, dst: int, flow: int | None, kind: EdgeKind, factors: Factors) -> None:
        cost = self._costs.get(factors)
        if cost is None:
            # The capability step (< 1) is added per profile; the floor applies to the rest here.
            p = max(math.prod(value for _, value in factors), MIN_EDGE_PROBABILITY)
            cost = self._costs[factors] = -math.log(p)
        self.adjacency[src].append((dst, len(self.src)))
        self.src.append(src)
        self.dst.append(dst)
        self.flow.append(flow)
        self.kind.append(kind)
        self.factors.append(factors)
        self.cost.append(cost)
