"""An independent check of a weighted cut: with the cut's assets unable to pass an attacker on
and the cut's flows hardened, no profile reaches a theft position except the thefts the cut lists
as unprotected.

It reads only the cut's answer and the engine's graph arrays, not the flow network the cut was
computed on. A hardened flow removes what the engine would change there: the moves and thefts
of the techniques on that flow that list the control placed on it. A (from, to) pair stays open
while any other move or a structural edge makes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import networkx as nx
import numpy as np

from threats.engine.attack_graph import ViewGraph
from threats.engine.attackers import AttackerData
from threats.engine.chokepoints import Cut
from threats.engine.controls import ControlsInForce, implied_controls
from threats.engine.evaluate import ProfileRun
from threats.engine.library import Library
from threats.engine.snapshot import SystemSnapshot
from threats.engine.thefts import START_GRAPH


def in_force(snapshot: SystemSnapshot, library: Library) -> ControlsInForce:
    """The controls the system's own properties put in force (no plans)."""
    return implied_controls(snapshot, {c.code for c in library.controls})


def advised_cut(
    snapshot: SystemSnapshot, library: Library, attackers: Sequence[AttackerData]
) -> tuple[Cut, list[tuple[str, str]]] | None:
    """The advisor's weighted cut of a system and the thefts profiles still reach past it
    (``unseparated``); None when no finite cut exists."""
    from threats.engine.advisor import plan_for  # noqa: PLC0415 - only the property tests need it
    from threats.engine.risk import current_paths_view  # noqa: PLC0415

    controls = in_force(snapshot, library)
    cut = plan_for(snapshot, library, attackers, controls, appetite=0.0).cut
    if cut.annual_cost == float("inf"):
        return None
    graph, runs, _ = current_paths_view(snapshot, library, attackers, controls)
    unprotected = {(a, j) for a, j, _ in cut.unprotected}
    flows = [(f, a.control) for f, a in cut.flows]
    return cut, unseparated(graph, runs, [a for a, _ in cut.assets], flows, unprotected)


def hardened_findings(graph: ViewGraph, flows: Iterable[tuple[int, str]]) -> set[int]:
    """Indices of the findings on a cut flow whose technique lists the control placed there."""
    chosen: dict[int, set[str]] = {}
    for flow_id, control in flows:
        chosen.setdefault(flow_id, set()).add(control)
    return {
        k
        for k, spec in enumerate(graph.findings)
        if spec.key[1] == "flow"
        and spec.key[2] in chosen
        and chosen[spec.key[2]] & {tc.control for tc in spec.threat.controls}
    }


def unseparated(
    graph: ViewGraph,
    runs: Sequence[ProfileRun],
    assets: Iterable[int],
    flows: Iterable[tuple[int, str]],
    unprotected: set[tuple[int, int]],
) -> list[tuple[str, str]]:
    """(profile name, node label) of every theft a profile still reaches that is not listed;
    ``flows``: (flow id, control code placed on it) of the cut."""
    blocked = {graph.topo.index[a] for a in assets}
    gone = hardened_findings(graph, flows)
    open_pairs = set(graph.struct_pair.tolist())
    for m in np.flatnonzero(graph.move_active).tolist():
        if int(graph.move_finding[m]) not in gone:
            open_pairs.add(int(graph.move_pair[m]))
    t = graph.thefts
    missed = []
    for run in runs:
        moves = nx.DiGraph()
        for p in np.flatnonzero(run.pair_q > 0).tolist():
            src, dst = int(graph.pair_src[p]), int(graph.pair_dst[p])
            if p in open_pairs and src not in blocked:
                moves.add_edge(src, dst)
        reached = set(run.starts)
        for start in run.starts:
            if start in moves:
                reached |= nx.descendants(moves, start)
        for i in range(len(t.node)):
            if not graph.inst_active[i] or t.start[i] != START_GRAPH or run.inst_route[i] <= 0:
                continue
            if (run.attacker.id, t.jewels.ids[int(t.jewel[i])]) in unprotected or int(t.finding[i]) in gone:
                continue
            node = int(t.node[i])
            if node in reached and node not in blocked:
                missed.append((run.attacker.name, str(graph.label(node))))
    return missed
