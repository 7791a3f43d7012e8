"""Best routes: the most probable way one profile steals one jewel, step by step.

A route is the forward search's best path to the position of the jewel's most probable theft
instance, then the theft itself. Each step names the findings that make the move (and their own
probabilities), so the steps' probabilities multiply to the route's, which is the profile's
odds of stealing the jewel in one attempt (docs/risk-method.md §1).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from threats.engine.attack_graph import ViewGraph
from threats.engine.evaluate import ProfileRun, path_to
from threats.engine.results import Route, RouteStep


def pair_moves(graph: ViewGraph) -> dict[tuple[int, int], list[int]]:
    """(src node, dst node) -> indexes of the active moves between them."""
    result: dict[tuple[int, int], list[int]] = {}
    for m in np.nonzero(graph.move_active)[0]:
        result.setdefault((int(graph.move_src[m]), int(graph.move_dst[m])), []).append(int(m))
    return result


_PAIR_CACHE: dict[int, tuple[ViewGraph, dict[tuple[int, int], int]]] = {}
_PAIR_CACHE_SIZE = 8


def _pair_index(graph: ViewGraph) -> dict[tuple[int, int], int]:
    """(src, dst) -> pair index, built once per graph: a recompute asks for thousands of routes
    on the same few graphs, and rebuilding this map each time was most of their cost."""
    hit = _PAIR_CACHE.get(id(graph))
    if hit is not None and hit[0] is graph:
        return hit[1]
    index = {pair: i for i, pair in enumerate(zip(graph.pair_src.tolist(), graph.pair_dst.tolist(), strict=True))}
    if len(_PAIR_CACHE) >= _PAIR_CACHE_SIZE:
        _PAIR_CACHE.pop(next(iter(_PAIR_CACHE)))
    _PAIR_CACHE[id(graph)] = (graph, index)
    return index


def route_of(
    graph: ViewGraph, run: ProfileRun, jewel: int, moves_at: Mapping[tuple[int, int], list[int]]
) -> Route | None:
    """The profile's best route to jewel index ``jewel``, or None when it cannot steal it."""
    t = graph.thefts
    candidates = np.nonzero((t.jewel == jewel) & graph.inst_active)[0]
    if not len(candidates) or not len(run.inst_route):
        return None
    # Rank by the loss a route brings (odds x share), so a full theft beats a likelier partial one.
    weighted = run.inst_route[candidates] * t.fraction[candidates]
    best = int(candidates[int(np.argmax(weighted))])
    if run.inst_route[best] <= 0:
        return None
    steps: list[RouteStep] = []
    node = int(t.node[best])
    if node < 0:  # a start-only position: the target is held, in scope or physically reached
        node = graph.topo.index[int(t.target[best])]
    if node >= 0:
        path = path_to(graph, run, node) or [node]
        pairs = _pair_index(graph) if len(path) > 1 else {}
        for a, b in zip(path, path[1:], strict=False):
            moves = moves_at.get((a, b), [])
            techniques = tuple(
                (*graph.findings[int(graph.move_finding[m])].key, float(run.move_q[m]))
                for m in moves
                if run.move_q[m] > 0
            )
            if run.scope_parent.get(b) == a:
                steps.append(RouteStep(graph.label(a), graph.label(b), 1.0, (), "authorised"))
                continue
            prob = float(run.pair_q[pairs[(a, b)]]) if (a, b) in pairs else 0.0
            kind = "move" if techniques else "structural"
            steps.append(RouteStep(graph.label(a), graph.label(b), prob, techniques, kind))
        source = graph.label(node)
    spec = graph.findings[int(t.finding[best])]
    success = float(t.success[best, run.oc])
    steps.append(RouteStep(source, ("jewel", t.jewels.ids[jewel]), success, ((*spec.key, success),), "theft"))
    return Route(
        attacker_id=run.attacker.id,
        jewel_id=t.jewels.ids[jewel],
        probability=float(run.inst_route[best]),
        share=float(t.fraction[best]),
        steps=tuple(steps),
    )
