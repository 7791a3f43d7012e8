"""Derive the attributes that rules test, once per snapshot.

Rules never look at the snapshot directly: they read one flat dict per asset or flow whose keys
are exactly the attribute tables of ``docs/library-format.md``. Deriving them up front keeps the
evaluator trivial (a dict lookup per leaf) and makes the graph work linear: reachability from the
internet is one multi-source BFS, and ``reachable_from_personnel`` one BFS per personnel type,
instead of a search per asset.
"""

from __future__ import annotations

import gc
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from threats.engine.jewels import is_jewel, placement
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot
from threats.engine.vocab import (
    ASSET_KINDS,
    AUTHENTICATIONS,
    HUMAN_ROLE,
    INITIATORS,
    MODEL_CLASSES,
    OUTPUT_GRANULARITIES,
    PERSONNEL,
    PERSONNEL_TYPES,
    WEIGHT_KINDS,
)

AttrType = Literal["bool", "enum", "int", "number", "str", "set"]
Attrs = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AttrSpec:
    """The type of one attribute: what operators and values a rule may use with it.

    ``members`` lists the allowed values of an enum, or of a set's elements; ``None`` means free
    text (``protocol``, ``tags``). ``lowercase`` marks text that is derived in lower case.
    """

    type: AttrType
    nullable: bool = False
    members: frozenset[str] | None = None
    lowercase: bool = False


_BOOL = AttrSpec("bool")
_KINDS = AttrSpec("set", members=ASSET_KINDS)

ASSET_ATTRIBUTES: Mapping[str, AttrSpec] = {
    "kind": AttrSpec("enum", members=ASSET_KINDS),
    "internet_facing": _BOOL,
    "authentication": AttrSpec("enum", members=AUTHENTICATIONS),
    "authenticated": _BOOL,
    "mfa": _BOOL,
    "encrypted_at_rest": _BOOL,
    "rate_limited": _BOOL,
    "logging": _BOOL,
    "monitored": _BOOL,
    "third_party": _BOOL,
    "runs_untrusted_code": _BOOL,
    "prompt_cache_shared": _BOOL,
    "streaming": _BOOL,
    "instances": AttrSpec("int"),
    "rate_limit_per_minute": AttrSpec("int", nullable=True),
    "output_granularity": AttrSpec("enum", members=OUTPUT_GRANULARITIES),
    "model_class": AttrSpec("enum", members=MODEL_CLASSES),
    "personnel": AttrSpec("enum", members=PERSONNEL),
    "criticality": AttrSpec("int"),
    "size_gb": AttrSpec("number", nullable=True),
    "tags": AttrSpec("set"),
    "zone_trust": AttrSpec("int", nullable=True),
    "reachable_from_internet": _BOOL,
    "hosts_kinds": _KINDS,
    "hosts_weights": _BOOL,
    "host_kind": AttrSpec("enum", nullable=True, members=ASSET_KINDS),
    "inbound_kinds": _KINDS,
    "outbound_kinds": _KINDS,
    "unauthenticated_inbound": _BOOL,
    "exports_weights": _BOOL,
    "reachable_from_personnel": AttrSpec("set", members=PERSONNEL_TYPES),
    "is_crown_jewel": _BOOL,
    # v2: where jewels live and what interfaces serve (docs/library-format.md, asset attributes)
    "exposed": _BOOL,
    "is_jewel": _BOOL,
    "holds_copies": _BOOL,
    "holds_stored_kinds": _KINDS,
    "holds_loaded_kinds": _KINDS,
    "holds_secondary_copies": _BOOL,
    "serves_kinds": _KINDS,
    "serves_trained_models": _BOOL,
    "requested_by_kinds": _KINDS,
    "requests_kinds": _KINDS,
    "retrieves_jewels": _BOOL,
}

FLOW_ATTRIBUTES: Mapping[str, AttrSpec] = {
    "authenticated": _BOOL,
    "encrypted": _BOOL,
    "bidirectional": _BOOL,
    "protocol": AttrSpec("str", lowercase=True),
    "crosses_zones": _BOOL,
    "crosses_into_higher_trust": _BOOL,
    "crosses_into_lower_trust": _BOOL,
    # Null only for a flow whose endpoint is missing from the snapshot (a dangling reference).
    "source_kind": AttrSpec("enum", nullable=True, members=ASSET_KINDS),
    "target_kind": AttrSpec("enum", nullable=True, members=ASSET_KINDS),
    "source_zone_trust": AttrSpec("int", nullable=True),
    "target_zone_trust": AttrSpec("int", nullable=True),
    "source_internet_facing": _BOOL,
    "carries_kinds": _KINDS,
    "carries_weights": _BOOL,
    "leaves_organisation": _BOOL,
    # v2
    "initiator": AttrSpec("enum", members=INITIATORS),
    "initiator_kind": AttrSpec("enum", nullable=True, members=ASSET_KINDS),
    "responder_kind": AttrSpec("enum", nullable=True, members=ASSET_KINDS),
    "carries_jewels": _BOOL,
    "source_third_party": _BOOL,
    "crosses_internet": _BOOL,
}


@dataclass(frozen=True, slots=True)
class SystemFacts:
    """Attribute dicts keyed by asset id and by flow id."""

    assets: Mapping[int, Attrs]
    flows: Mapping[int, Attrs]


def reachable(adjacency: list[list[int]], seeds: Iterable[int]) -> list[bool]:
    """Multi-source BFS over node indexes; a seed counts as reached (a path of length zero)."""
    seen = [False] * len(adjacency)
    queue: deque[int] = deque()
    for seed in seeds:
        if not seen[seed]:
            seen[seed] = True
            queue.append(seed)
    while queue:
        for nxt in adjacency[queue.popleft()]:
            if not seen[nxt]:
                seen[nxt] = True
                queue.append(nxt)
    return seen


def derive_facts(snapshot: SystemSnapshot) -> SystemFacts:
    """Compute every asset and flow attribute of ``snapshot`` in time linear in its size.

    References to ids that are not in the snapshot (a zone, host, flow end or carried asset of
    another system) are treated as absent rather than raising: the facts stay defined and
    conservative (null kinds and trusts, no graph edge).
    """
    with gc_paused():
        return _derive(snapshot)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building many small containers.

    Building 40,000 dicts triggers repeated full collections that walk every live object, which
    measured as half the derivation time at 10,000 assets. Nothing built here forms a cycle, so
    pausing loses nothing; the previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _derive(snapshot: SystemSnapshot) -> SystemFacts:
    assets = snapshot.assets
    index = {asset.id: i for i, asset in enumerate(assets)}
    trust_by_zone = {zone.id: zone.trust_level for zone in snapshot.zones}
    kinds = [asset.kind for asset in assets]
    ends = [_end(asset, trust_by_zone) for asset in assets]
    hosts = [index.get(asset.hosted_on_id) if asset.hosted_on_id is not None else None for asset in assets]
    where = placement(snapshot)

    # Moves an attacker can make (graph rules): along a flow (the payload's way, and from the
    # side that opens the connection to the side that answers), both ways on a bidirectional
    # flow, and from a host to what runs or is kept on it.
    adjacency: list[list[int]] = [[] for _ in assets]
    hosts_kinds: defaultdict[int, set[str]] = defaultdict(set)
    for i, host in enumerate(hosts):
        if host is not None:
            adjacency[host].append(i)
            hosts_kinds[host].add(kinds[i])
    for held in (where.stored, where.loaded):
        for holder, jewels in held.items():
            h = index[holder]
            for j in jewels:
                adjacency[h].append(index[j])
                hosts_kinds[h].add(kinds[index[j]])
    requested_by: defaultdict[int, set[str]] = defaultdict(set)
    requests: defaultdict[int, set[str]] = defaultdict(set)
    holds_jewels = {index[h] for held in (where.stored, where.loaded) for h in held}
    retrieves: set[int] = set()

    inbound: defaultdict[int, set[str]] = defaultdict(set)
    outbound: defaultdict[int, set[str]] = defaultdict(set)
    unauth_in: set[int] = set()
    exports: set[int] = set()
    flow_facts: dict[int, dict[str, Any]] = {}
    jewel_ids = frozenset(a.id for a in assets if is_jewel(a))
    for flow in snapshot.flows:
        src = index.get(flow.source_id)
        dst = index.get(flow.target_id)
        carried = _freeze(kinds[j] for j in map(index.get, flow.carries) if j is not None) if flow.carries else _EMPTY
        if src is not None and dst is not None:
            adjacency[src].append(dst)
            if flow.bidirectional or flow.initiator == "target":
                adjacency[dst].append(src)
            outbound[src].add(kinds[dst])
            inbound[dst].add(kinds[src])
            opener, answers = (dst, src) if flow.initiator == "target" else (src, dst)
            requests[opener].add(kinds[answers])
            requested_by[answers].add(kinds[opener])
            if flow.authenticated and answers in holds_jewels:
                retrieves.add(opener)
        if dst is not None and not flow.authenticated:
            unauth_in.add(dst)
        if src is not None and not carried.isdisjoint(WEIGHT_KINDS):
            exports.add(src)
        source = ends[src] if src is not None else _DANGLING
        target = ends[dst] if dst is not None else _DANGLING
        flow_facts[flow.id] = _flow_attrs(flow, source, target, carried)
        flow_facts[flow.id].update(_flow_v2(flow, source, target, jewel_ids))

    seeds = [i for i, end in enumerate(ends) if end.internet_facing or end.trust == 0]
    # A person is exposed when mail, chat or another channel from an exposed asset reaches them.
    phished = {
        index[f.target_id]
        for f in snapshot.flows
        if f.target_id in index
        and f.source_id in index
        and kinds[index[f.target_id]] == HUMAN_ROLE
        and (ends[index[f.source_id]].internet_facing or ends[index[f.source_id]].trust == 0)
    }
    from_internet = reachable(adjacency, seeds)
    personnel_reach: defaultdict[int, set[str]] = defaultdict(set)
    for personnel in sorted(PERSONNEL_TYPES):
        people = [i for i, a in enumerate(assets) if a.kind == HUMAN_ROLE and a.personnel == personnel]
        if people:
            for i, hit in enumerate(reachable(adjacency, people)):
                if hit:
                    personnel_reach[i].add(personnel)

    asset_facts: dict[int, Attrs] = {}
    for i, asset in enumerate(assets):
        hosted = _freeze(hosts_kinds.get(i, ()))
        host = hosts[i]
        asset_facts[asset.id] = {
            "kind": asset.kind,
            "internet_facing": asset.internet_facing,
            "authentication": asset.authentication,
            "authenticated": asset.authentication != "none",
            "mfa": asset.mfa,
            "encrypted_at_rest": asset.encrypted_at_rest,
            "rate_limited": asset.rate_limited,
            "logging": asset.logging,
            "monitored": asset.monitored,
            "third_party": asset.third_party,
            "rate_limit_per_minute": asset.rate_limit_per_minute,
            "output_granularity": asset.output_granularity,
            "model_class": asset.model_class,
            "personnel": asset.personnel,
            "criticality": asset.criticality,
            "size_gb": asset.size_gb,
            "tags": _freeze(asset.tags),
            "is_crown_jewel": asset.kind in WEIGHT_KINDS or asset.criticality == 5,
            "zone_trust": ends[i].trust,
            "reachable_from_internet": from_internet[i],
            "hosts_kinds": hosted,
            "hosts_weights": not hosted.isdisjoint(WEIGHT_KINDS),
            "host_kind": kinds[host] if host is not None else None,
            "inbound_kinds": _freeze(inbound.get(i, ())),
            "outbound_kinds": _freeze(outbound.get(i, ())),
            "unauthenticated_inbound": i in unauth_in,
            "exports_weights": i in exports,
            "reachable_from_personnel": _freeze(personnel_reach.get(i, ())),
            "runs_untrusted_code": asset.runs_untrusted_code,
            "prompt_cache_shared": asset.prompt_cache_shared,
            "streaming": asset.streaming,
            "instances": asset.instances,
            "exposed": ends[i].internet_facing or ends[i].trust == 0 or (asset.kind == HUMAN_ROLE and i in phished),
            "is_jewel": asset.id in jewel_ids,
            "holds_copies": i in holds_jewels or asset.id in where.own,
            "holds_stored_kinds": _freeze(kinds[index[j]] for j in where.stored.get(asset.id, ())),
            "holds_loaded_kinds": _freeze(kinds[index[j]] for j in where.loaded.get(asset.id, ())),
            "holds_secondary_copies": bool(where.secondary.get(asset.id)),
            "serves_kinds": _freeze(kinds[index[m]] for m in where.served.get(asset.id, ())),
            "serves_trained_models": any(m in where.trained_on for m in where.served.get(asset.id, ())),
            "requested_by_kinds": _freeze(requested_by.get(i, ())),
            "requests_kinds": _freeze(requests.get(i, ())),
            "retrieves_jewels": i in retrieves,
        }
    return SystemFacts(assets=asset_facts, flows=flow_facts)


def _flow_v2(flow: FlowData, source: _End, target: _End, jewels: frozenset[int]) -> dict[str, Any]:
    """Attributes of risk method v2: who opens the connection, and whether the flow crosses the
    internet (an end exposed, in a trust-0 zone or run by a third party)."""
    opener, answers = (target, source) if flow.initiator == "target" else (source, target)
    ends = (source, target)
    return {
        "initiator": flow.initiator,
        "initiator_kind": opener.kind,
        "responder_kind": answers.kind,
        "carries_jewels": any(c in jewels for c in flow.carries),
        "source_third_party": source.third_party,
        "crosses_internet": any(
            e.kind is not None and (e.internet_facing or e.trust == 0 or e.third_party) for e in ends
        ),
    }


class _End(NamedTuple):
    """What a flow needs to know about one of its ends; ``zone`` is None when unzoned."""

    kind: str | None
    zone: int | None
    trust: int | None
    internet_facing: bool
    third_party: bool


_DANGLING = _End(None, None, None, False, False)
_EMPTY: frozenset[str] = frozenset()


def _end(asset: AssetData, trust_by_zone: Mapping[int, int]) -> _End:
    zone = asset.zone_id if asset.zone_id in trust_by_zone else None  # an unknown zone counts as none
    trust = trust_by_zone[zone] if zone is not None else None
    return _End(asset.kind, zone, trust, asset.internet_facing, asset.third_party)


def _freeze(values: Iterable[str]) -> frozenset[str]:
    """Share one empty frozenset: most assets have empty sets, and 10,000 copies cost time."""
    frozen = frozenset(values)
    return frozen if frozen else _EMPTY


def _flow_attrs(flow: FlowData, source: _End, target: _End, carried: frozenset[str]) -> dict[str, Any]:
    """Attributes of one flow; a dangling end is ``_DANGLING`` (null kind, zone and trust)."""
    s_trust, t_trust = source.trust, target.trust
    higher = lower = False
    if s_trust is not None and t_trust is not None:
        higher, lower = t_trust > s_trust, t_trust < s_trust
    return {
        "authenticated": flow.authenticated,
        "encrypted": flow.encrypted,
        "bidirectional": flow.bidirectional,
        "protocol": flow.protocol.lower(),
        # Both ends must be in a zone: an unzoned asset is not "in a different zone", it is unknown.
        "crosses_zones": source.zone is not None and target.zone is not None and source.zone != target.zone,
        "crosses_into_higher_trust": higher,
        "crosses_into_lower_trust": lower,
        "source_kind": source.kind,
        "target_kind": target.kind,
        "source_zone_trust": s_trust,
        "target_zone_trust": t_trust,
        "source_internet_facing": source.internet_facing,
        "carries_kinds": carried,
        "carries_weights": not carried.isdisjoint(WEIGHT_KINDS),
        "leaves_organisation": target.kind is not None and (target.third_party or t_trust == 0),
    }
