"""Theft and compute-abuse instances of one view: where each loss can happen, and its odds.

A theft finding (a technique on a target) yields one or more jewels (``LossDef.yields``); each
(jewel, place it can be tried from) pair is one *instance*. Its odds per OC level are the
finding's success, times the ``on: jewel`` controls in force on that jewel when the copy is a
copy on which they still act (``JEWEL_CONTROLLED_COPIES``: a file's own encryption never protects a
copy loaded in memory), times, for
query thefts with a goal, the chance of finishing before detection (``extraction``). Its loss
is a fraction of the jewel's value: 1 for the jewel itself, the replication value's share for a
functional clone, or the declared fraction for partial recovery (docs/risk-method.md §3).

Positions that are not graph nodes are checked per profile: ``authorised`` (the target is in
the profile's authorised scope), ``held`` (an entry asset) and ``physical``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from threats.engine.extraction import ExtractionBudget, budgets_for
from threats.engine.facts import SystemFacts
from threats.engine.jewels import Placement, initiator_of, is_jewel
from threats.engine.snapshot import AssetData, SystemSnapshot
from threats.engine.values import Money, compute_cost, pert_mean, replication_of, replication_share, value_of

if TYPE_CHECKING:
    from threats.engine.finding_spec import FindingSpec
    from threats.engine.graph_parts import Topology

START_GRAPH, START_AUTHORISED, START_HELD, START_PHYSICAL = 0, 1, 2, 3
_START = {"authorised": START_AUTHORISED, "held": START_HELD, "physical": START_PHYSICAL}
# Taking a copy out over the network gets harder as it grows: bulk transfers are a signal and a
# 9 TB checkpoint leaves slowly (knowledge base: size_gb; RAND places bandwidth limits on weight
# holders at SL4-SL5). Applied to thefts from a reached holder (control, authorised); our
# estimate, by decades of gigabytes.
SIZE_FACTORS: tuple[tuple[float, float], ...] = ((10.0, 1.0), (100.0, 0.9), (1_000.0, 0.8), (10_000.0, 0.7))
LARGEST_FACTOR = 0.5
# Copies on which the jewel's own controls (``on: jewel``) still act: a file at rest or on the
# wire stays encrypted, a model queried or trained keeps its privacy training and watermark. Not
# on a copy loaded in memory or handed out by a retrieval service: both are plaintext by design.
JEWEL_CONTROLLED_COPIES = frozenset({"stored", "carried", "served", "trained"})
DETECTED_DAYS = 2.0  # monitored abuse is noticed and stopped within a couple of days
BILLING_DAYS = 30.0  # unmonitored abuse runs until the invoice arrives


@dataclass(frozen=True, slots=True)
class Jewels:
    ids: tuple[int, ...]
    values: tuple[Money, ...]
    means: np.ndarray
    index: Mapping[int, int]
    clones: tuple[Money, ...]  # what a functional clone of each is worth (replication value)


def _yields(kind: str, target_type: str, target_id: int, where: Placement, facts_flow: Any, outgoing: Any) -> list:
    """(jewel id, copy kind) pairs a theft on the target takes; copy kind is "stored",
    "loaded", "served", "retrieved", "carried" or "trained"."""
    if target_type == "flow":
        return [(c, "carried") for c in facts_flow] if kind == "carried" else []
    result: list[tuple[int, str]] = []
    if kind in ("stored", "copies"):
        result += [(j, "stored") for j in where.stored.get(target_id, ())]
        if target_id in where.own:
            result.append((target_id, "stored"))
    if kind in ("loaded", "copies"):
        result += [(j, "loaded") for j in where.loaded.get(target_id, ())]
    if kind == "served":
        result += [(m, "served") for m in where.served.get(target_id, ())]
    if kind == "trained_on":
        for m in where.served.get(target_id, ()):
            result += [(d, "trained") for d in where.trained_on.get(m, ())]
    if kind == "retrievable":
        for holder in outgoing.get(target_id, ()):
            result += [(j, "retrieved") for j in where.stored.get(holder, ())]
            result += [(j, "retrieved") for j in where.loaded.get(holder, ())]
            if holder in where.own:
                result.append((holder, "retrieved"))
    return result


@dataclass(frozen=True, slots=True)
class TheftPlaces:
    """The instances of a view before controls (arrays indexed by instance), and the jewels and
    endpoints they refer to: where each theft and compute abuse can happen. Controls change only
    the odds (``price_thefts``), so one set of places serves every set of controls on the same
    system (current and projected, the advisor's control what-ifs)."""

    jewels: Jewels
    finding: np.ndarray
    node: np.ndarray
    start: np.ndarray
    target: np.ndarray
    jewel: np.ndarray
    fraction: np.ndarray
    yield_kind: tuple[str, ...]
    own: tuple[bool, ...]  # the jewel's own (``on: jewel``) controls act on this copy
    size: tuple[float | None, ...]  # how much the copy's size slows its exfiltration, where it does
    budgeted: Mapping[int, AssetData]  # finding -> the endpoint its extraction budget is for
    # compute abuse: one row per (finding, place)
    c_finding: np.ndarray
    c_node: np.ndarray
    c_endpoint: np.ndarray
    endpoints: tuple[int, ...]
    endpoint_cost: tuple[Money, ...]
    assets: Mapping[int, AssetData]


@dataclass(frozen=True, slots=True)
class TheftTable(TheftPlaces):
    """The places priced with one view's controls."""

    success: np.ndarray  # (I, 5)
    jewel_reductions: tuple[tuple[tuple[str, tuple[float, ...]], ...], ...]
    budgets: tuple[tuple[ExtractionBudget, ...] | None, ...]
    c_success: np.ndarray
    endpoint_days: np.ndarray


def theft_places(
    *,
    findings: Sequence[tuple[Any, tuple[str, str, int]]],
    snapshot: SystemSnapshot,
    facts: SystemFacts,
    where: Placement,
    topo: Topology,
) -> TheftPlaces:
    """Every theft and compute instance of the view's findings ((threat, key) pairs, active and
    shadow), without their odds."""
    assets = {a.id: a for a in snapshot.assets}
    jewel_ids = tuple(a.id for a in snapshot.assets if is_jewel(a))
    values = tuple(value_of(assets[j]) for j in jewel_ids)
    jewels = Jewels(
        jewel_ids,
        values,
        np.asarray([pert_mean(*v) for v in values]),
        {j: i for i, j in enumerate(jewel_ids)},
        tuple(replication_of(assets[j]) for j in jewel_ids),
    )
    outgoing: dict[int, list[int]] = {}
    for flow in snapshot.flows:
        if flow.authenticated:
            opener, answers = initiator_of(flow)
            outgoing.setdefault(opener, []).append(answers)
    rows: dict[str, list[Any]] = {k: [] for k in ("f", "n", "s", "t", "j", "fr", "yk", "own", "size")}
    crow: dict[str, list[Any]] = {k: [] for k in ("f", "n", "e")}
    endpoints: dict[int, int] = {}
    budgeted: dict[int, AssetData] = {}
    for f, (threat, (_, target_type, target_id)) in enumerate(findings):
        if threat.role != "theft" or threat.loss is None:
            continue
        direct = threat.query_goal in ("clone", "parameters") or threat.loss.form == "compute"
        nodes, start = _positions(threat.position, target_type, target_id, topo, facts, direct)
        if threat.query_goal and target_id in assets and target_type == "asset":
            budgeted[f] = assets[target_id]
        if threat.loss.form == "compute":
            if target_type != "asset" or target_id not in assets:
                continue
            e = endpoints.setdefault(target_id, len(endpoints))
            for node in nodes:
                crow["f"].append(f)
                crow["n"].append(node)
                crow["e"].append(e)
            continue
        carried = topo.flows.by_id[target_id].carries if target_type == "flow" and target_id in topo.flows.by_id else ()
        for jewel_id, copy in _yields(threat.loss.yields, target_type, target_id, where, carried, outgoing):
            j = jewels.index.get(jewel_id)
            if j is None:
                continue
            jewel = assets[jewel_id]
            if threat.loss.jewel_kinds and jewel.kind not in threat.loss.jewel_kinds:
                continue
            fraction = _fraction(threat.loss.value, threat.loss.fraction, jewel, values[j])
            slow = size_factor(jewel.size_gb) if threat.position in ("control", "authorised") else None
            for node in nodes:
                rows["f"].append(f)
                rows["n"].append(node)
                rows["s"].append(start)
                rows["t"].append(target_id)
                rows["j"].append(j)
                rows["fr"].append(fraction)
                rows["yk"].append(copy)
                rows["own"].append(copy in JEWEL_CONTROLLED_COPIES)
                rows["size"].append(slow if slow is not None and copy in ("stored", "loaded") else None)
    ep_ids = tuple(sorted(endpoints, key=endpoints.__getitem__))
    return TheftPlaces(
        jewels=jewels,
        finding=np.asarray(rows["f"], dtype=np.int64),
        node=np.asarray(rows["n"], dtype=np.int64),
        start=np.asarray(rows["s"], dtype=np.int64),
        target=np.asarray(rows["t"], dtype=np.int64),
        jewel=np.asarray(rows["j"], dtype=np.int64),
        fraction=np.asarray(rows["fr"], dtype=np.float64),
        yield_kind=tuple(rows["yk"]),
        own=tuple(rows["own"]),
        size=tuple(rows["size"]),
        budgeted=budgeted,
        c_finding=np.asarray(crow["f"], dtype=np.int64),
        c_node=np.asarray(crow["n"], dtype=np.int64),
        c_endpoint=np.asarray(crow["e"], dtype=np.int64),
        endpoints=ep_ids,
        endpoint_cost=tuple(compute_cost(assets[e]) for e in ep_ids),
        assets=assets,
    )


def price_thefts(
    places: TheftPlaces,
    *,
    specs: Sequence[FindingSpec],
    controls: tuple[frozenset[str], Mapping[int, frozenset[str]], Mapping[int, frozenset[str]]],
    jewel_factor: Any,
) -> TheftTable:
    """The odds of every instance of ``places`` with ``controls`` in force: the finding's
    success, times the jewel's own controls on copies they act on, times the copy's size
    factor, times the chance of finishing an extraction before detection."""
    everywhere, on_asset, _ = controls
    budgets: dict[int, tuple[ExtractionBudget, ...]] = {}
    factor: dict[int, np.ndarray] = {}
    for f, endpoint in places.budgeted.items():
        threat = specs[f].threat
        budgets[f] = budgets_for(threat.query_goal, endpoint, on_asset.get(endpoint.id, everywhere))
        factor[f] = np.asarray([b.finish_probability for b in budgets[f]])
    success: list[np.ndarray] = []
    reductions: list[Any] = []
    row_budgets: list[tuple[ExtractionBudget, ...] | None] = []
    ids = places.jewels.ids
    seen: dict[tuple[int, int, bool, float | None], tuple[np.ndarray, Any]] = {}  # one per copy, not per place
    for f, j, own, size in zip(places.finding.tolist(), places.jewel.tolist(), places.own, places.size, strict=True):
        key = (f, j, own, size)
        if key not in seen:
            jf, jred = jewel_factor(specs[f].threat, on_asset.get(ids[j], everywhere)) if own else (_ONES, ())
            if size is not None:
                jf = jf * size
            seen[key] = (specs[f].success * jf * factor.get(f, _ONES), jred)
        row, jred = seen[key]
        success.append(row)
        reductions.append(jred)
        row_budgets.append(budgets.get(f))
    c_success = [specs[f].success * factor.get(f, _ONES) for f in places.c_finding.tolist()]
    assets = places.assets
    return TheftTable(
        **{f.name: getattr(places, f.name) for f in fields(TheftPlaces)},
        success=np.asarray(success, dtype=np.float64).reshape(-1, 5),
        jewel_reductions=tuple(reductions),
        budgets=tuple(row_budgets),
        c_success=np.asarray(c_success, dtype=np.float64).reshape(-1, 5),
        endpoint_days=np.asarray([_abuse_days(assets[e], on_asset.get(e, everywhere)) for e in places.endpoints]),
    )


_ONES = np.ones(5)


def size_factor(size_gb: float | None) -> float:
    """How much a copy's size slows its exfiltration (SIZE_FACTORS); unknown size: none."""
    if size_gb is None:
        return 1.0
    for limit, factor in SIZE_FACTORS:
        if size_gb < limit:
            return factor
    return LARGEST_FACTOR


def _fraction(form: str, declared: float, jewel: AssetData, value: Money) -> float:
    if form == "replication":
        return replication_share(jewel, value)
    if form == "fraction":
        return declared
    return 1.0


def _abuse_days(endpoint: AssetData, codes: frozenset[str]) -> float:
    watched = endpoint.monitored or "M-EXTRACTION-MONITOR" in codes  # logs nobody reads stop nothing
    return DETECTED_DAYS if watched else BILLING_DAYS


def _positions(
    position: str, target_type: str, target_id: int, topo: Topology, facts: SystemFacts, direct: bool
) -> tuple[list[int], int]:
    """(graph nodes the theft can be tried from, start kind). Start-only positions return [-1].
    ``direct``: a query theft that needs the interface's own answers (a clone, parameters,
    compute on its bill) rather than input that reaches it through a forwarder."""
    if position in _START:
        return [-1], _START[position]
    if target_type == "flow":
        flow = topo.flows.by_id.get(target_id)
        if flow is None or flow.source_id not in topo.index or flow.target_id not in topo.index:
            return [], START_GRAPH
        s, d = topo.index[flow.source_id], topo.index[flow.target_id]
        nodes = {s, d}
        for end in (s, d):
            zone = topo.zone_of[end]
            if zone is not None:
                nodes.add(zone)
        if facts.flows[target_id].get("crosses_internet"):
            nodes.add(topo.internet)
        return sorted(nodes), START_GRAPH
    x = topo.index.get(target_id)
    if x is None:
        return [], START_GRAPH
    if position == "query":
        q = (topo.query if direct else topo.input).get(target_id)
        return [q if q is not None else x], START_GRAPH
    if position == "cotenant":
        return list(topo.hosted_here[x]), START_GRAPH
    return [x], START_GRAPH
