"""The attack graph of one risk view: positions, moves, thefts (docs/risk-method.md §1-3).

Nodes are the assets, a virtual INTERNET node, one network-position node per trust zone (standing
inside that zone's network) and one query node per interface (being able to send it requests as
a client). Holding an asset node means acting with that asset's privileges. Edges are *moves*:
each access technique that applies to a target gives one move per place it can be tried from
(its position, ``library_defs.ACCESS_POSITIONS``), and a few structural moves need no technique
(a host controls what runs on it; a client can query what it calls; a public API can be queried
by whoever signs up). Thefts turn a position into the loss of a jewel. Everything is plain
numpy arrays so that the per-profile evaluation (``evaluate``) is vectorised.

This module is built once per view; the attacker profile enters only in ``evaluate``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from threats.engine.facts import SystemFacts
from threats.engine.finding_spec import FindingSpec
from threats.engine.graph_parts import Topology, topology
from threats.engine.jewels import Placement, initiator_of
from threats.engine.library import Library, Match, ThreatDef
from threats.engine.snapshot import SystemSnapshot
from threats.engine.thefts import TheftPlaces, TheftTable, theft_places
from threats.engine.vocab import ACTOR_TYPES

HOSTED_PROBABILITY = 0.95  # whoever controls a host controls what runs on it, nearly always
# Query access to an interface for someone without an account of their own: signing up for an
# API key is open to anyone; internal single sign-on, IAM or client certificates are not.
ACCOUNT_ACCESS: Mapping[str, float] = {
    "none": 1.0,
    "api_key": 1.0,
    "token": 0.9,
    "password": 0.6,
    "sso": 0.3,
    "iam": 0.2,
    "mtls": 0.1,
}
NodeLabel = tuple[str, int]  # ("asset", id) | ("internet", 0) | ("zone", id) | ("query", id)
# Control codes in force: (everywhere, asset id -> codes on it, flow id -> codes on it)
Codes = tuple[frozenset[str], Mapping[int, frozenset[str]], Mapping[int, frozenset[str]]]


@dataclass(frozen=True, slots=True)
class ViewFrame:
    """A view's graph before controls: positions, moves, structural edges and theft places.
    Controls change only the odds, so one frame is priced for every set of controls on the same
    system and findings (``price_view``): current and projected share it, and so do the
    advisor's control what-ifs.

    Moves m: ``move_src/dst`` nodes, ``move_finding`` index into the findings, ``move_factor``
    the zone-crossing factor; structural edges ``struct_*``; every (src, dst) pair once in
    ``pair_src/dst`` with ``move_pair`` / ``struct_pair`` pointing there."""

    topo: Topology
    matches: tuple[tuple[Match, bool], ...]
    threats: Mapping[str, ThreatDef]
    move_src: np.ndarray
    move_dst: np.ndarray
    move_finding: np.ndarray
    move_factor: np.ndarray
    move_active: np.ndarray
    struct_src: np.ndarray
    struct_dst: np.ndarray
    struct_p: np.ndarray
    pair_src: np.ndarray
    pair_dst: np.ndarray
    move_pair: np.ndarray
    struct_pair: np.ndarray
    places: TheftPlaces
    inst_active: np.ndarray  # per theft instance: its finding is active in this view
    c_active: np.ndarray  # per compute instance
    finding_index: Mapping[tuple[str, str, int], int]
    actor_allowed: Mapping[str, np.ndarray]  # actor type -> per finding
    targets: Mapping[tuple[str, int], tuple[int, ...]]  # (target type, id) -> its findings
    flows_at: Mapping[int, tuple[int, ...]]  # asset id -> the flows it is an end of

    @property
    def nodes(self) -> int:
        return self.topo.nodes

    def label(self, node: int) -> NodeLabel:
        return self.topo.labels[node]


@dataclass(frozen=True, slots=True)
class ViewGraph(ViewFrame):
    """A frame priced with one view's controls: every finding's success and every theft's odds."""

    findings: tuple[FindingSpec, ...]
    thefts: TheftTable
    success: np.ndarray  # (findings, OC levels)
    codes: Codes  # the controls it was priced with, by element (``pricing``)


MoveList = list[tuple[int, int, float]]
KnownMoves = tuple[Topology, Mapping[tuple[str, str, int], MoveList]]


def known_moves(frame: ViewFrame) -> KnownMoves:
    """``frame``'s topology and each of its findings' moves, by (threat code, target type, id)."""
    result: dict[tuple[str, str, int], MoveList] = {
        (m.threat_code, m.target_type, m.target_id): [] for m, _ in frame.matches
    }
    keys = list(result)
    finding, src, dst = frame.move_finding.tolist(), frame.move_src.tolist(), frame.move_dst.tolist()
    for f, a, b, factor in zip(finding, src, dst, frame.move_factor.tolist(), strict=True):
        result[keys[f]].append((a, b, factor))
    return frame.topo, result


def view_frame(
    *,
    snapshot: SystemSnapshot,
    facts: SystemFacts,
    where: Placement,
    library: Library,
    active: Sequence[Match],
    shadow: Sequence[Match] = (),
    reuse: KnownMoves | None = None,
) -> ViewFrame:
    """Everything of a view's graph that does not depend on the controls in force
    (``pricing.price_view`` adds them). ``reuse``: ``known_moves`` of a frame of the same
    library on a system that differs in a few properties (the advisor's hardening what-ifs);
    where both have the same topology, a finding's moves are taken from it, since they depend
    on nothing else."""
    topo = topology(snapshot, facts)
    threats = {t.code: t for t in library.threats}
    matches = tuple([(m, True) for m in active] + [(m, False) for m in shadow])
    found = [(threats[m.threat_code], (m.threat_code, m.target_type, m.target_id)) for m, _ in matches]
    known = reuse[1] if reuse is not None and reuse[0] == topo else {}
    msrc: list[int] = []
    mdst: list[int] = []
    mfind: list[int] = []
    mfac: list[float] = []
    for f, (threat, key) in enumerate(found):
        if threat.role != "access":
            continue
        moves = known.get(key)
        for src, dst, factor in _moves(threat, key[1], key[2], topo) if moves is None else moves:
            msrc.append(src)
            mdst.append(dst)
            mfind.append(f)
            mfac.append(factor)
    ssrc, sdst, sp = _structural(snapshot, topo)
    move_src = np.asarray(msrc, dtype=np.int64)
    move_dst = np.asarray(mdst, dtype=np.int64)
    move_finding = np.asarray(mfind, dtype=np.int64)
    is_active = np.asarray([on for _, on in matches], dtype=bool)
    move_active = is_active[move_finding] if len(mfind) else np.zeros(0, dtype=bool)
    pair_keys = np.concatenate(
        [move_src[move_active] * topo.nodes + move_dst[move_active], np.asarray(ssrc) * topo.nodes + np.asarray(sdst)]
    ).astype(np.int64)
    unique, inverse = np.unique(pair_keys, return_inverse=True)
    move_pair = np.full(len(msrc), -1, dtype=np.int64)
    move_pair[move_active] = inverse[: int(move_active.sum())]
    # Shadow moves point at their pair when one exists, so attribution can read its target.
    places = theft_places(findings=found, snapshot=snapshot, facts=facts, where=where, topo=topo)
    return ViewFrame(
        topo=topo,
        matches=matches,
        threats=threats,
        move_src=move_src,
        move_dst=move_dst,
        move_finding=move_finding,
        move_factor=np.asarray(mfac, dtype=np.float64),
        move_active=move_active,
        struct_src=np.asarray(ssrc, dtype=np.int64),
        struct_dst=np.asarray(sdst, dtype=np.int64),
        struct_p=np.asarray(sp, dtype=np.float64),
        pair_src=unique // topo.nodes,
        pair_dst=unique % topo.nodes,
        move_pair=move_pair,
        struct_pair=inverse[int(move_active.sum()) :],
        places=places,
        inst_active=is_active[places.finding] if len(places.finding) else np.zeros(0, dtype=bool),
        c_active=is_active[places.c_finding] if len(places.c_finding) else np.zeros(0, dtype=bool),
        finding_index={key: i for i, (_, key) in enumerate(found)},
        actor_allowed={
            actor: np.asarray([actor in threat.actors for threat, _ in found], dtype=bool) for actor in ACTOR_TYPES
        },
        targets=_by_target(key for _, key in found),
        flows_at=_flows_at(snapshot),
    )


def _by_target(keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, int], tuple[int, ...]]:
    """(target type, target id) -> the positions of its findings."""
    result: dict[tuple[str, int], list[int]] = {}
    for i, (_, target_type, target_id) in enumerate(keys):
        result.setdefault((target_type, target_id), []).append(i)
    return {k: tuple(v) for k, v in result.items()}


def _flows_at(snapshot: SystemSnapshot) -> dict[int, tuple[int, ...]]:
    """Asset id -> the flows it is an end of."""
    result: dict[int, list[int]] = {}
    for flow in snapshot.flows:
        result.setdefault(flow.source_id, []).append(flow.id)
        if flow.target_id != flow.source_id:
            result.setdefault(flow.target_id, []).append(flow.id)
    return {k: tuple(v) for k, v in result.items()}


def _moves(threat: ThreatDef, target_type: str, target_id: int, topo: Topology) -> list[tuple[int, int, float]]:
    """(from node, to node, zone-crossing factor) for every place the technique can be tried."""
    positions = threat.positions or (threat.position,)
    if target_type == "flow":
        flow = topo.flows.by_id.get(target_id)
        if flow is None or flow.source_id not in topo.index or flow.target_id not in topo.index:
            return []
        s, d = topo.index[flow.source_id], topo.index[flow.target_id]
        i_id, r_id = initiator_of(flow)
        i, r = topo.index[i_id], topo.index[r_id]
        moves: list[tuple[int, int, float]] = []
        for position in positions:
            if position in ("content", "payload"):
                moves.append((s, d, 1.0))
                if flow.bidirectional:
                    moves.append((d, s, 1.0))
            elif position == "network" or (position == "credentials" and flow.authenticated):
                moves.append((i, r, topo.crossing(i, r)))
        return _once(moves)
    x = topo.index.get(target_id)
    if x is None:
        return []
    moves = []
    for position in positions:
        moves.extend(topo.sources(position, x))
    if threat.from_kinds:  # e.g. tool poisoning comes from tool servers, not from any feed
        n = len(topo.asset_ids)
        moves = [m for m in moves if m[0] >= n or topo.kinds[m[0]] in threat.from_kinds]
    return _once(moves)


def _once(moves: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """One move per (from, to): a technique tried from one place is one attempt, even when two
    of its positions name the same node (an unzoned person is both exposed and on the internet's
    network), so it must not combine with itself as if it were a second, independent door."""
    best: dict[tuple[int, int], float] = {}
    for src, dst, factor in moves:
        best[(src, dst)] = max(factor, best.get((src, dst), 0.0))
    return [(src, dst, factor) for (src, dst), factor in best.items()]


def _structural(snapshot: SystemSnapshot, topo: Topology) -> tuple[list[int], list[int], list[float]]:
    """Moves that need no technique: host -> hosted service, client -> query of what it calls,
    interface -> query of itself and of what it forwards to, internet or zone network -> query
    of a reachable interface (as good as getting an account)."""
    src: list[int] = []
    dst: list[int] = []
    p: list[float] = []

    def add(a: int, b: int, prob: float) -> None:
        src.append(a)
        dst.append(b)
        p.append(prob)

    assets = {a.id: a for a in snapshot.assets}
    for asset in snapshot.assets:
        i = topo.index[asset.id]
        host = topo.index.get(asset.hosted_on_id) if asset.hosted_on_id is not None else None
        if host is not None and host != i and asset.kind not in topo.data_kinds:
            add(host, i, HOSTED_PROBABILITY)
        q = topo.query.get(asset.id)
        if q is None:
            continue
        add(i, q, 1.0)
        add(q, topo.input[asset.id], 1.0)
        account = ACCOUNT_ACCESS.get(asset.authentication, 1.0)
        if topo.exposed[i]:
            add(topo.internet, q, account)
        zone = topo.zone_node.get(asset.zone_id) if asset.zone_id is not None else None
        if zone is not None and zone != topo.internet:
            add(zone, q, account)
    for flow in snapshot.flows:
        i_id, r_id = initiator_of(flow)
        if i_id not in assets or r_id not in assets or i_id == r_id:
            continue
        q = topo.query.get(r_id)
        if q is None:
            continue
        add(topo.index[i_id], q, 1.0)
        forwarder = topo.input.get(i_id)
        if forwarder is not None:  # input the initiator receives reaches what it calls
            add(forwarder, topo.input[r_id], 1.0)
    return src, dst, p
