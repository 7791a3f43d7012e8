"""Rates of one view, from its profile runs: per jewel and endpoint (the system), per finding.

A jewel's rate of category k (a share of its value) is the sum over profiles of attempts x the
profile's best route to it in that category. A finding's rates count only the routes through it:
for a theft, the routes ending in it; for an access technique, the best route that takes one of
its moves and then goes on to the jewel (forward reach to the move x the move x the backward
route value from its target, ``evaluate.route_values``). Access findings are priced from the
jewels in ``jewels`` (the attribution set; all of them in systems of ordinary size).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from threats.engine.attack_graph import ViewGraph
from threats.engine.evaluate import ProfileRun, route_values
from threats.engine.thefts import START_GRAPH
from threats.engine.union import union_by_category


@dataclass(frozen=True, slots=True)
class ViewRates:
    """Arrays of one view. ``cat_*``: the (jewel, share) categories of active thefts with their
    rates (per profile: the chance that at least one of the jewel's copies is taken, each copy by
    its likeliest theft); ``f_*``: per finding. Theft findings: ``tg_*`` (finding, jewel, share) groups with
    rates; access findings: ``acc_rate`` (attribution jewel, finding) value-weighted rates."""

    cat_jewel: np.ndarray
    cat_share: np.ndarray
    cat_rate: np.ndarray
    cat_by_profile: np.ndarray  # (profiles, categories)
    endpoint_rate: np.ndarray
    f_frequency: np.ndarray
    f_frequency_by_profile: np.ndarray  # (profiles, findings)
    tg_finding: np.ndarray
    tg_jewel: np.ndarray
    tg_share: np.ndarray
    tg_rate: np.ndarray
    tg_by_profile: np.ndarray  # (profiles, groups)
    c_rate: np.ndarray  # per finding: compute incidents a year (0 for others)
    acc_jewels: np.ndarray  # jewel indexes of the attribution set
    acc_findings: np.ndarray  # finding indexes with moves
    acc_rate: np.ndarray  # (attribution jewels, acc_findings)
    acc_by_profile: np.ndarray  # (profiles, attribution jewels, acc_findings)


@dataclass(frozen=True, slots=True)
class ViewRun:
    """One view's graph, its profile runs and rates (kept for paths and what-if questions)."""

    name: str
    graph: ViewGraph
    runs: tuple[ProfileRun, ...]
    rates: ViewRates


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unique rows, inverse) of a 2-D key array (one row per instance)."""
    if not len(keys):
        return keys, np.zeros(0, dtype=np.int64)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)


@dataclass(frozen=True, slots=True)
class Copies:
    """Where each jewel's copies are taken, of one graph (the same for every run on it): the
    distinct (jewel, share, holder) copies of active thefts, and their (jewel, share) categories."""

    keys: np.ndarray
    inverse: np.ndarray  # active theft -> copy
    category: np.ndarray  # copy -> category
    categories: np.ndarray  # (jewel, share) rows


def copies_of(graph: ViewGraph) -> Copies:
    """Copies: the best theft at each place a jewel is kept (alternatives there: the likeliest
    counts), then "at least one copy is taken" across places, so every copy adds its part."""
    t = graph.thefts
    share_key = np.round(t.fraction, 9)
    active = graph.inst_active
    copy_keys, copy_inv = _groups(
        np.column_stack([t.jewel[active], share_key[active], t.target[active]]) if active.any() else np.zeros((0, 3))
    )
    cat_keys, copy_cat = (
        _groups(copy_keys[:, :2]) if len(copy_keys) else (np.zeros((0, 2)), np.zeros(0, dtype=np.int64))
    )
    return Copies(copy_keys, copy_inv, copy_cat, cat_keys)


def view_rates(graph: ViewGraph, runs: Sequence[ProfileRun], jewels: np.ndarray) -> ViewRates:
    t = graph.thefts
    findings = len(graph.findings)
    share_key = np.round(t.fraction, 9)
    copies = copies_of(graph)
    copy_keys, copy_inv, copy_cat, cat_keys = copies.keys, copies.inverse, copies.category, copies.categories
    tg_keys, tg_inv = _groups(np.column_stack([t.finding, t.jewel, share_key]) if len(t.finding) else np.zeros((0, 3)))
    profiles = len(runs)
    cat_by_profile = np.zeros((profiles, len(cat_keys)))
    tg_by_profile = np.zeros((profiles, len(tg_keys)))
    freq_by_profile = np.zeros((profiles, findings))
    n_endpoints = len(t.endpoints)
    endpoint_rate = np.zeros(n_endpoints)
    c_rate = np.zeros(findings)
    move_findings = np.unique(graph.move_finding) if len(graph.move_finding) else np.zeros(0, dtype=np.int64)
    starts = np.searchsorted(graph.move_finding, move_findings) if len(move_findings) else np.zeros(0, dtype=np.int64)
    acc_by_profile = np.zeros((profiles, len(jewels), len(move_findings)))
    for p, run in enumerate(runs):
        attempts = run.attacker.attempts_per_year
        route = run.inst_route
        if len(route):
            cat_by_profile[p] = attempts * _copies_union(graph, run, copy_keys, copy_inv, copy_cat, len(cat_keys))
            best_tg = np.zeros(len(tg_keys))
            np.maximum.at(best_tg, tg_inv, route)
            tg_by_profile[p] = attempts * best_tg
            f_best = np.zeros(findings)
            np.maximum.at(f_best, t.finding, route)
            freq_by_profile[p] = np.maximum(freq_by_profile[p], attempts * f_best)
        if len(run.c_route):
            c_best = np.zeros(findings)
            np.maximum.at(c_best, t.c_finding, run.c_route)
            c_rate += attempts * c_best
            freq_by_profile[p] = np.maximum(freq_by_profile[p], attempts * c_best)
            endpoint_rate += attempts * _endpoint_best_sum(graph, run.c_route)
        if len(move_findings):
            step = run.reach[graph.move_src] * run.move_q
            m_best = np.zeros(findings)
            np.maximum.at(m_best, graph.move_finding, step)
            freq_by_profile[p] = np.maximum(freq_by_profile[p], attempts * m_best)
            if len(jewels):
                downstream = route_values(graph, run, jewels)[:, graph.move_dst] * step[None, :]
                acc_by_profile[p] = attempts * np.maximum.reduceat(downstream, starts, axis=1)
    return ViewRates(
        cat_jewel=cat_keys[:, 0].astype(np.int64) if len(cat_keys) else np.zeros(0, dtype=np.int64),
        cat_share=cat_keys[:, 1] if len(cat_keys) else np.zeros(0),
        cat_rate=cat_by_profile.sum(axis=0),
        cat_by_profile=cat_by_profile,
        endpoint_rate=endpoint_rate,
        f_frequency=freq_by_profile.sum(axis=0),
        f_frequency_by_profile=freq_by_profile,
        tg_finding=tg_keys[:, 0].astype(np.int64) if len(tg_keys) else np.zeros(0, dtype=np.int64),
        tg_jewel=tg_keys[:, 1].astype(np.int64) if len(tg_keys) else np.zeros(0, dtype=np.int64),
        tg_share=tg_keys[:, 2] if len(tg_keys) else np.zeros(0),
        tg_rate=tg_by_profile.sum(axis=0),
        tg_by_profile=tg_by_profile,
        c_rate=c_rate,
        acc_jewels=jewels,
        acc_findings=move_findings,
        acc_rate=acc_by_profile.sum(axis=0),
        acc_by_profile=acc_by_profile,
    )


def _endpoint_best_sum(graph: ViewGraph, c_route: np.ndarray) -> np.ndarray:
    """Per endpoint: the sum over its abuse findings of each finding's best compute route.

    Sparse over the (endpoint, finding) pairs that exist: a dense (endpoints x findings) matrix
    was 120 MB per profile run at 5,000 assets, zeroed again for every what-if.
    """
    t = graph.thefts
    out = np.zeros(len(t.endpoints))
    active = graph.c_active
    endpoint, finding = t.c_endpoint[active].astype(np.int64), t.c_finding[active].astype(np.int64)
    if not len(endpoint):
        return out
    width = np.int64(max(len(graph.findings), 1))
    keys, inverse = np.unique(endpoint * width + finding, return_inverse=True)
    best = np.zeros(len(keys))
    np.maximum.at(best, inverse.reshape(-1), c_route[active])
    np.add.at(out, keys // width, best)
    return out


def run_rates(graph: ViewGraph, run: ProfileRun, copies: Copies) -> tuple[np.ndarray, np.ndarray]:
    """One profile's yearly rates per category and per endpoint."""
    t = graph.thefts
    cats = len(copies.categories)
    attempts = run.attacker.attempts_per_year
    cat_rate = np.zeros(cats)
    endpoint_rate = np.zeros(len(t.endpoints))
    if len(run.inst_route):
        cat_rate = attempts * _copies_union(graph, run, copies.keys, copies.inverse, copies.category, cats)
    if len(run.c_route):
        endpoint_rate = attempts * _endpoint_best_sum(graph, run.c_route)
    return cat_rate, endpoint_rate


def _copies_union(
    graph: ViewGraph, run: ProfileRun, copy_keys: np.ndarray, copy_inv: np.ndarray, copy_cat: np.ndarray, cats: int
) -> np.ndarray:
    """Per category: the chance one attempt takes at least one copy (``union``). A copy is a
    (jewel, share, holder); its best theft counts, tried from each position it has."""
    t = graph.thefts
    active = np.nonzero(graph.inst_active)[0]
    route = run.inst_route[active]
    on_graph = t.start[active] == START_GRAPH
    nodes = np.maximum(t.node[active], 0)
    reach = run.reach[nodes]
    odds = np.where(on_graph & (reach > 0), route / np.maximum(reach, 1e-300), 0.0)
    # One row per (copy, node): the copy's best theft from that position.
    g = on_graph & (odds > 0)
    keys = np.column_stack([copy_inv[g], nodes[g]])
    node_p = np.zeros(0)
    if len(keys):
        unique, inverse = np.unique(keys, axis=0, return_inverse=True)
        node_p = np.zeros(len(unique))
        np.maximum.at(node_p, inverse.reshape(-1), odds[g])
        node_cat, node_of = copy_cat[unique[:, 0]], unique[:, 1]
    else:
        node_cat = node_of = np.zeros(0, dtype=np.int64)
    special = ~on_graph & (route > 0)
    best_special = np.zeros(len(copy_keys))
    np.maximum.at(best_special, copy_inv[special], route[special])
    held = np.nonzero(best_special > 0)[0]
    return (
        union_by_category(run.reach, run.pred, node_cat, node_of, node_p, copy_cat[held], best_special[held], cats)
        if cats
        else np.zeros(0)
    )


def system_rates(
    graph: ViewGraph,
    runs: Sequence[ProfileRun],
    copies: Copies | None = None,
    memo: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(category jewels, shares, rates, endpoint rates): the part of ``view_rates`` the system's
    figures need, for what-if runs (what fixing a finding saves, an advisor's candidate).
    ``copies``: ``copies_of(graph)``, passed in by callers that run many what-ifs on one graph;
    ``memo``: ``run_rates`` of runs that stay alive meanwhile, by ``id(run)`` (what-ifs leave most
    profiles' runs as they were); it is only read here."""
    t = graph.thefts
    copies = copies if copies is not None else copies_of(graph)
    cats = len(copies.categories)
    cat_rate = np.zeros(cats)
    endpoint_rate = np.zeros(len(t.endpoints))
    for run in runs:
        known = memo.get(id(run)) if memo is not None else None
        if known is None:
            known = run_rates(graph, run, copies)
        cat_rate += known[0]
        endpoint_rate += known[1]
    cat_keys = copies.categories
    cat_jewel = cat_keys[:, 0].astype(np.int64) if len(cat_keys) else np.zeros(0, dtype=np.int64)
    cat_share = cat_keys[:, 1] if len(cat_keys) else np.zeros(0)
    return cat_jewel, cat_share, cat_rate, endpoint_rate
