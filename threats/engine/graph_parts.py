"""Node numbering and neighbourhoods of one snapshot, shared by the graph, thefts and paths.

Nodes 0..n-1 are the assets in snapshot order, n is INTERNET, then one network node per zone
that is not at trust level 0 (a trust-0 zone's network *is* the internet), then two query nodes
per interface asset: "query" (a caller of the interface, who sees its own answers) and "input"
(someone whose input reaches it, perhaps through a gateway or agent that forwards it, and who
sees only what comes back out of the outer interface). ``sources`` answers, for an access
position, from which nodes a technique on an asset can be tried (``docs/library-format.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from threats.engine.facts import SystemFacts
from threats.engine.jewels import initiator_of
from threats.engine.snapshot import FlowData, SystemSnapshot
from threats.engine.vocab import DATA_KINDS, HUMAN_ROLE

# Interfaces: reaching one as a client (its query node) is not the same as controlling it.
INTERFACE_KINDS = frozenset({"inference_endpoint", "api_gateway", "ai_agent", "agent_tool", "external_service"})
TRUST_STEP = 0.85  # per trust level gained by a network or credential move into a higher zone
# Stores whose outbound connections (replication, restore, mirroring) run with the store
# service's own credentials: reading its data does not hand them over, taking over the service
# does, so a credential move out of one of these is discounted (our estimate).
DATA_STORE_KINDS = frozenset(
    {"object_store", "vector_store", "model_registry", "container_registry", "model_hub", "code_repository"}
)
SERVICE_CREDENTIALS_FACTOR = 0.3
# An AI agent that runs no code of its own uses its standing access only through its tools: an
# injected or poisoned agent fetches what it is told to, slower and more visibly than a shell
# holding the same token would (our estimate). An agent that runs code has the shell.
AGENT_DELEGATION_FACTOR = 0.5


@dataclass(frozen=True, slots=True)
class Flows:
    by_id: Mapping[int, FlowData]


@dataclass(frozen=True, slots=True)
class Topology:
    """Numbering and neighbourhoods (see the module docstring); lists are indexed by node."""

    asset_ids: tuple[int, ...]
    index: Mapping[int, int]
    nodes: int
    internet: int
    zone_node: Mapping[int, int]  # zone id -> node (INTERNET for trust-0 zones)
    query: Mapping[int, int]  # interface asset id -> its query node (a direct caller)
    input: Mapping[int, int]  # interface asset id -> its input node (input reaches it)
    labels: tuple[tuple[str, int], ...]
    exposed: tuple[bool, ...]  # per asset node
    trust: tuple[int | None, ...]  # per asset node
    zone_of: tuple[int | None, ...]  # per asset node: its zone's network node
    kinds: tuple[str, ...]
    runs_code: tuple[bool, ...]  # per asset node: runs untrusted code
    flows: Flows
    into: tuple[tuple[int, ...], ...]  # per asset node: sources of flows into it (payload)
    initiators: tuple[tuple[int, ...], ...]  # per asset node: initiators of flows it answers
    credentials: tuple[tuple[int, ...], ...]  # per asset node: who holds standing credentials for it
    hosted_here: tuple[tuple[int, ...], ...]  # per asset node: assets hosted on it
    uses: tuple[tuple[int, ...], ...]  # per asset node: responders of authenticated flows it opens
    data_kinds: frozenset[str] = DATA_KINDS

    def crossing(self, src: int, dst: int) -> float:
        """Zone-crossing factor of a move between asset nodes: TRUST_STEP per level gained. An
        unzoned source (a contractor, a vendor's staff, a public package index) stands outside
        every boundary, at the internet's level 0; an unzoned target has no boundary to cross."""
        if src >= len(self.asset_ids) or dst >= len(self.asset_ids):
            return 1.0
        a, b = self.trust[src], self.trust[dst]
        a = 0 if a is None else a
        if b is None or b <= a:
            return 1.0
        return float(TRUST_STEP ** (b - a))

    def sources(self, position: str, x: int) -> list[tuple[int, int, float]]:
        """(from, to, crossing factor) of an access technique on asset node ``x``."""
        moves: list[tuple[int, int, float]] = []
        exposed = self.exposed[x]
        if position == "exposed":
            if exposed:
                moves.append((self.internet, x, 1.0))
        elif position == "network":
            if exposed:
                moves.append((self.internet, x, 1.0))
            zone = self.zone_of[x]
            if zone is not None and zone != self.internet:
                moves.append((zone, x, 1.0))
            moves.extend((u, x, self.crossing(u, x)) for u in self.initiators[x])
        elif position == "credentials":
            for u in self.credentials[x]:
                held = SERVICE_CREDENTIALS_FACTOR if self.kinds[u] in DATA_STORE_KINDS else 1.0
                if self.kinds[u] == "ai_agent" and not self.runs_code[u]:
                    held = AGENT_DELEGATION_FACTOR
                moves.append((u, x, self.crossing(u, x) * held))
        elif position in ("content", "payload"):
            moves.extend((u, x, 1.0) for u in self.into[x])
        elif position == "escape":
            moves.extend((u, x, 1.0) for u in self.hosted_here[x])
        elif position == "approach":
            if self.kinds[x] == HUMAN_ROLE:
                moves.append((self.internet, x, 1.0))
        elif position == "query":
            q = self.input.get(self.asset_ids[x])
            if q is not None:
                moves.append((q, x, 1.0))
        elif position == "physical":
            zone = self.zone_of[x]
            if zone is not None and zone != self.internet:
                moves.append((zone, x, 1.0))
        return moves


def topology(snapshot: SystemSnapshot, facts: SystemFacts) -> Topology:
    """Number the nodes and index each asset's neighbourhood once."""
    assets = snapshot.assets
    n = len(assets)
    index = {a.id: i for i, a in enumerate(assets)}
    trust_of_zone = {z.id: z.trust_level for z in snapshot.zones}
    labels: list[tuple[str, int]] = [("asset", a.id) for a in assets] + [("internet", 0)]
    zone_node: dict[int, int] = {}
    for zone in snapshot.zones:
        if zone.trust_level == 0:
            zone_node[zone.id] = n
        else:
            zone_node[zone.id] = len(labels)
            labels.append(("zone", zone.id))
    query: dict[int, int] = {}
    forwarded: dict[int, int] = {}
    for asset in assets:
        if asset.kind in INTERFACE_KINDS:
            query[asset.id] = len(labels)
            labels.append(("query", asset.id))
            forwarded[asset.id] = len(labels)
            labels.append(("input", asset.id))
    into: list[list[int]] = [[] for _ in assets]
    initiators: list[list[int]] = [[] for _ in assets]
    credentials: list[list[int]] = [[] for _ in assets]
    hosted_here: list[list[int]] = [[] for _ in assets]
    uses: list[list[int]] = [[] for _ in assets]
    kinds = tuple(a.kind for a in assets)
    for asset in assets:
        host = index.get(asset.hosted_on_id) if asset.hosted_on_id is not None else None
        if host is not None and host != index[asset.id] and asset.kind not in DATA_KINDS:
            hosted_here[host].append(index[asset.id])
    for flow in snapshot.flows:
        s, d = index.get(flow.source_id), index.get(flow.target_id)
        if s is None or d is None or s == d:
            continue
        into[d].append(s)
        if flow.bidirectional:
            into[s].append(d)
        i_id, r_id = initiator_of(flow)
        i, r = index[i_id], index[r_id]
        initiators[r].append(i)
        if flow.authenticated:
            credentials[r].append(i)
            uses[i].append(r)
            if kinds[r] == "secrets_store":  # a KMS or vault holds the secrets it issues
                credentials[i].append(r)
    zone_of = tuple(zone_node.get(a.zone_id) if a.zone_id is not None else None for a in assets)
    return Topology(
        asset_ids=tuple(a.id for a in assets),
        index=index,
        nodes=len(labels),
        internet=n,
        zone_node=zone_node,
        query=query,
        input=forwarded,
        labels=tuple(labels),
        exposed=tuple(bool(facts.assets[a.id]["exposed"]) for a in assets),
        trust=tuple(trust_of_zone.get(a.zone_id) if a.zone_id is not None else None for a in assets),
        zone_of=zone_of,
        kinds=kinds,
        runs_code=tuple(a.runs_untrusted_code for a in assets),
        flows=Flows({f.id: f for f in snapshot.flows}),
        into=tuple(tuple(sorted(set(v))) for v in into),
        initiators=tuple(tuple(sorted(set(v))) for v in initiators),
        credentials=tuple(tuple(sorted(set(v))) for v in credentials),
        hosted_here=tuple(tuple(v) for v in hosted_here),
        uses=tuple(tuple(sorted(set(v))) for v in uses),
    )
