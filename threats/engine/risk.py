"""Risk method v2 (DESIGN.md §4, docs/risk-method.md): theft scenarios priced once per jewel.

``compute_risk`` matches the library on the system and on the system with every control-like
property off (the inherent view), builds one attack graph per view, runs every attacker profile
on it, and turns the routes into yearly loss rates per jewel and endpoint (the system figures,
with at most one loss of a jewel a year) and per finding (the routes through it). Everything is
pure and deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np

from threats.engine.attack_graph import ViewFrame, ViewGraph, view_frame
from threats.engine.attackers import AttackerData
from threats.engine.attribution import Copies, ViewRun, copies_of, run_rates, system_rates, view_rates
from threats.engine.controls import NO_CONTROLS, ControlsInForce, Coverage, coverage
from threats.engine.evaluate import ProfileRun, run_profile
from threats.engine.explain import EXPLAINED_TOP, findings_of
from threats.engine.facts import SystemFacts, derive_facts, gc_paused
from threats.engine.figures import jewel_and_compute, system_view
from threats.engine.jewels import placement
from threats.engine.library import Library, Match, find_threats
from threats.engine.normalise import inherent_snapshot
from threats.engine.pricing import price_view
from threats.engine.results import FindingKey, FindingRisk, RiskResult
from threats.engine.routes import pair_moves, route_of
from threats.engine.simulate import DEFAULT_DRAWS, endpoint_expected, jewels_expected
from threats.engine.snapshot import SystemSnapshot

ATTRIBUTION_JEWELS = 64  # access findings are priced from the jewels with the largest inherent loss
SAVINGS_TOP = 20  # what fixing saves is computed for the current view's top findings


def compute_risk(
    snapshot: SystemSnapshot,
    library: Library,
    attackers: Sequence[AttackerData],
    controls_by_view: Mapping[str, ControlsInForce],
    *,
    facts: SystemFacts | None = None,
    matches: Sequence[Match] | None = None,
    seed: int = 0,
    draws: int = DEFAULT_DRAWS,
    savings_top: int = SAVINGS_TOP,
    explain_top: int = EXPLAINED_TOP,
) -> RiskResult:
    """Price the system in every view of ``controls_by_view`` (an "inherent" view is computed on
    the normalised system with no controls, whatever it maps to). ``matches``: the findings of
    the system as it is (``find_threats``); computed when not given."""
    views = tuple(controls_by_view)
    if not views:
        raise ValueError("controls_by_view must name at least one view")
    with gc_paused():
        return _compute(
            snapshot,
            library,
            tuple(attackers),
            controls_by_view,
            views,
            facts,
            matches,
            seed,
            draws,
            savings_top,
            explain_top,
        )


def view_runs(
    snapshot: SystemSnapshot,
    library: Library,
    attackers: tuple[AttackerData, ...],
    controls_by_view: Mapping[str, ControlsInForce],
    views: tuple[str, ...],
    facts: SystemFacts,
    matches: Sequence[Match],
) -> tuple[dict[str, ViewRun], np.ndarray]:
    """Each view's graph, profile runs and rates (views with the same controls share one), and
    the attribution jewels' indexes."""
    where = placement(snapshot)
    bare = inherent_snapshot(snapshot)
    bare_facts = derive_facts(bare)
    bare_matches = find_threats(library, bare, bare_facts)
    bare_keys = {(m.threat_code, m.target_type, m.target_id) for m in bare_matches}
    shadow = [m for m in matches if (m.threat_code, m.target_type, m.target_id) not in bare_keys]
    graphs: dict[str, ViewGraph] = {}
    built: list[tuple[dict[str, Coverage | None], ViewGraph]] = []
    frame: ViewFrame | None = None  # current and projected differ only in controls: one frame
    for view in views:
        if view == "inherent":
            graphs[view] = price_view(
                view_frame(
                    snapshot=bare, facts=bare_facts, where=where, library=library, active=bare_matches, shadow=shadow
                ),
                NO_CONTROLS,
            )
            continue
        controls = {code: coverage(v) for code, v in controls_by_view[view].items()}
        same = next((g for c, g in built if c == controls), None)  # projected = current: share it
        if same is None:
            if frame is None:
                frame = view_frame(snapshot=snapshot, facts=facts, where=where, library=library, active=matches)
            same = price_view(frame, controls)
            built.append((controls, same))
        graphs[view] = same
    # Attribution jewels: the largest inherent losses (stable when controls change).
    first = graphs.get("inherent") or graphs[views[0]]
    first_runs = tuple(run_profile(first, a) for a in attackers)
    jewel_order = _attribution_jewels(first, first_runs)
    runs: dict[str, ViewRun] = {}
    cache: dict[int, ViewRun] = {}
    for view in views:
        graph = graphs[view]
        if id(graph) in cache:
            runs[view] = ViewRun(view, graph, cache[id(graph)].runs, cache[id(graph)].rates)
            continue
        profile_runs = first_runs if graph is first else tuple(run_profile(graph, a) for a in attackers)
        runs[view] = cache[id(graph)] = ViewRun(view, graph, profile_runs, view_rates(graph, profile_runs, jewel_order))
    return runs, jewel_order


def explain_risk(
    snapshot: SystemSnapshot,
    library: Library,
    attackers: Sequence[AttackerData],
    controls_by_view: Mapping[str, ControlsInForce],
    keys: Collection[FindingKey],
    *,
    savings: Mapping[FindingKey, float] | None = None,
    facts: SystemFacts | None = None,
    matches: Sequence[Match] | None = None,
) -> dict[FindingKey, FindingRisk]:
    """The findings of ``keys`` with their explanations, as ``compute_risk`` would give them,
    without the system's pricing (savings come from the stored figures: ``savings``)."""
    views = tuple(controls_by_view)
    with gc_paused():
        facts = facts if facts is not None else derive_facts(snapshot)
        matches = list(matches) if matches is not None else find_threats(library, snapshot, facts)
        wanted = set(keys)
        runs, _ = view_runs(snapshot, library, tuple(attackers), controls_by_view, views, facts, matches)
        focus = runs.get("current") or runs[views[0]]
        by_index = {
            focus.graph.finding_index[k]: s for k, s in (savings or {}).items() if k in focus.graph.finding_index
        }
        chosen = [m for m in matches if (m.threat_code, m.target_type, m.target_id) in wanted]
        return findings_of(runs, views, chosen, by_index, top=0, explain=wanted)


def _compute(
    snapshot: SystemSnapshot,
    library: Library,
    attackers: tuple[AttackerData, ...],
    controls_by_view: Mapping[str, ControlsInForce],
    views: tuple[str, ...],
    facts: SystemFacts | None,
    matches: Sequence[Match] | None,
    seed: int,
    draws: int,
    savings_top: int,
    explain_top: int,
) -> RiskResult:
    facts = facts if facts is not None else derive_facts(snapshot)
    matches = list(matches) if matches is not None else find_threats(library, snapshot, facts)
    runs, jewel_order = view_runs(snapshot, library, attackers, controls_by_view, views, facts, matches)
    savings = _savings(runs["current"], attackers, savings_top) if "current" in runs else {}
    jewels, compute, simulated = jewel_and_compute(runs, views, attackers, seed=seed, draws=draws)
    findings = findings_of(runs, views, matches, savings, top=explain_top)
    system = {v: system_view(v, i, jewels, compute, simulated, findings) for i, v in enumerate(views)}
    focus = runs.get("current") or runs[views[0]]
    routes = {}
    moves_at = pair_moves(focus.graph)
    for run in focus.runs:
        for j, jewel_id in enumerate(focus.graph.thefts.jewels.ids):
            route = route_of(focus.graph, run, j, moves_at)
            if route is not None:
                routes[(run.attacker.id, jewel_id)] = route
    topo = focus.graph.topo
    reach = {run.attacker.id: {aid: float(run.reach[i]) for i, aid in enumerate(topo.asset_ids)} for run in focus.runs}
    return RiskResult(
        views=views,
        findings=findings,
        jewels=jewels,
        compute=compute,
        system=system,
        reach=reach,
        routes=routes,
        extraction=_extraction(runs, views, attackers),
        attribution_jewels=tuple(focus.graph.thefts.jewels.ids[j] for j in jewel_order),
        seed=seed,
        draws=draws,
        internals=runs,
    )


def _attribution_jewels(graph: ViewGraph, runs: Sequence[ProfileRun]) -> np.ndarray:
    """Indexes of up to ATTRIBUTION_JEWELS jewels by expected loss in ``graph`` (the inherent view)."""
    jewels = graph.thefts.jewels
    if not len(jewels.ids):
        return np.zeros(0, dtype=np.int64)
    loss = jewels_expected(jewels.means, *system_rates(graph, runs)[:3])
    order = np.argsort(-loss, kind="stable")
    order = order[loss[order] > 0][:ATTRIBUTION_JEWELS]
    return np.sort(order).astype(np.int64)


def system_expected(
    graph: ViewGraph,
    runs: Sequence[ProfileRun],
    copies: Copies | None = None,
    memo: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> float:
    """The system's expected yearly loss in a view: jewels (at most once a year) plus compute.
    ``copies``: ``copies_of(graph)`` when many what-ifs run on one graph; ``memo``: see
    ``system_rates``."""
    t = graph.thefts
    cat_jewel, cat_share, cat_rate, endpoint_rate = system_rates(graph, runs, copies, memo)
    total = float(jewels_expected(t.jewels.means, cat_jewel, cat_share, cat_rate).sum())
    for e, rate in enumerate(endpoint_rate):
        total += endpoint_expected(t.endpoint_cost[e], float(t.endpoint_days[e]), float(rate))
    return total


def _savings(view: ViewRun, attackers: Sequence[AttackerData], top: int) -> dict[int, float]:
    """Finding index -> drop of the current expected loss if the finding were fixed, for the
    ``top`` active findings with the largest loss through them (an enabler's is not computed)."""
    if top <= 0:
        return {}
    from threats.engine.figures import finding_losses  # noqa: PLC0415 - figures imports this module's types

    losses = finding_losses(view)
    graph = view.graph
    candidates = [f for f in np.argsort(-losses, kind="stable") if losses[f] > 0 and graph.findings[f].active]
    copies = copies_of(graph)
    memo = {id(run): run_rates(graph, run, copies) for run in view.runs}  # view.runs outlive the loop
    base = system_expected(graph, view.runs, copies, memo)
    result: dict[int, float] = {}
    for f in candidates:
        if len(result) >= top:
            break
        spec = graph.findings[int(f)]
        if spec.threat.role == "enabler":
            continue
        # A profile the threat does not apply to runs as before without the finding.
        without = tuple(
            run_profile(graph, a, exclude=int(f)) if run.allowed[int(f)] else run
            for a, run in zip(attackers, view.runs, strict=True)
        )
        result[int(f)] = max(base - system_expected(graph, without, copies, memo), 0.0)
    return result


def _extraction(runs: Mapping[str, ViewRun], views: tuple[str, ...], attackers: Sequence[AttackerData]) -> dict:
    """Budgets of query thefts per finding and view, one per attacker (its OC's budget)."""
    result: dict = {}
    for view in views:
        graph = runs[view].graph
        t = graph.thefts
        seen: set[int] = set()
        for i, f in enumerate(t.finding):
            budgets = t.budgets[i]
            if budgets is None or int(f) in seen:
                continue
            seen.add(int(f))
            spec = graph.findings[int(f)]
            per = tuple(budgets[_oc(a)] for a in attackers)
            result.setdefault(spec.key, {})[view] = per
    return result


def _oc(attacker: AttackerData) -> int:
    return int(attacker.capability[2]) - 1


def current_paths_view(
    snapshot: SystemSnapshot,
    library: Library,
    attackers: Sequence[AttackerData],
    controls: ControlsInForce,
    *,
    facts: SystemFacts | None = None,
) -> tuple[ViewGraph, tuple[ProfileRun, ...], list[int]]:
    """The current view's graph and profile runs, and the jewels by expected loss (asset ids,
    largest first): what the attack-path report draws, without the rest of the pricing."""
    facts = facts if facts is not None else derive_facts(snapshot)
    matches = find_threats(library, snapshot, facts)
    graph = price_view(
        view_frame(snapshot=snapshot, facts=facts, where=placement(snapshot), library=library, active=matches),
        {code: coverage(v) for code, v in controls.items()},
    )
    runs = tuple(run_profile(graph, a) for a in attackers)
    t = graph.thefts
    cat_jewel, cat_share, cat_rate, _ = system_rates(graph, runs)
    expected = jewels_expected(t.jewels.means, cat_jewel, cat_share, cat_rate)
    loss = {int(j): float(expected[j]) for j in np.unique(cat_jewel)}
    order = sorted(loss, key=lambda j: (-loss[j], t.jewels.ids[j]))
    return graph, runs, [t.jewels.ids[j] for j in order if loss[j] > 0]
