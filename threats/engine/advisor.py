"""The advisor (DESIGN.md §5): what to do first, priced on the risk engine's own loss function.

Candidates are ``actions``: controls placed where a finding lists them, and hardening changes.
Each is scored by what it removes from the system's expected yearly loss in the projected view
(the same analytic figure the risk panel shows, jewels counted at most once a year), so an
action that cuts a route is worth what that route carried. Greedy: take the action with the
most loss removed per annual cost, apply it, re-score; lazy evaluation keeps each candidate's
last score as a bound and re-scores only the one on top. An action whose loss removed is below
its annual cost is never recommended: it is listed as "not worth it at this price".
Candidates are limited to assets on the routes that carry loss (the best route of every profile
to every jewel, and the places thefts happen): nothing else can lower the loss.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, replace

from threats.engine.actions import Action, apply_hardening, control_actions, flow_actions, hardening_actions
from threats.engine.attack_graph import ViewFrame, known_moves, view_frame
from threats.engine.attackers import AttackerData
from threats.engine.chokepoints import ChokePoint, Cut, choke_points, weighted_cut
from threats.engine.controls import ControlsInForce, Coverage, coverage, merge
from threats.engine.evaluate import run_profile
from threats.engine.facts import derive_facts
from threats.engine.jewels import placement
from threats.engine.library import Library, find_threats, rematch
from threats.engine.pricing import Priced, SuccessMemo, price_view
from threats.engine.risk import current_paths_view, system_expected
from threats.engine.routes import pair_moves, route_of
from threats.engine.snapshot import SystemSnapshot

MAX_STEPS = 60
# Bounds that keep advice on a big system to minutes, not hours (bench/advisor.py): each
# evaluation is a run of the loss function. Systems of ordinary size (the demo: 103 candidates,
# 378 evaluations) stay under both, so their advice is the full greedy.
MAX_CANDIDATES = 150
MAX_EVALUATIONS = 1000
# Hardened states whose frames are kept: the chosen state of the current step and the last
# few what-ifs (a frame of 5,000 assets is tens of megabytes).
FRAMES_KEPT = 4


def _negligible(loss: float) -> float:
    """A removal this small is float noise, not a reason to buy anything."""
    return max(loss * 1e-9, 0.01)


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    loss_before: float
    loss_after: float

    @property
    def removed(self) -> float:
        return self.loss_before - self.loss_after


@dataclass(frozen=True, slots=True)
class Advice:
    appetite: float
    loss_before: float
    loss_after: float
    reached: bool
    steps: tuple[Step, ...]
    not_worth_it: tuple[Step, ...]  # the best of the rest, each alone against the final state
    evaluated: int
    candidates: int
    capped: bool = False  # stopped at the step or evaluation limit, over the appetite, candidates left
    screened_out: int = 0  # candidates left unscored by the shortlist (they carry the least route weight)

    @property
    def annual_cost(self) -> float:
        return sum(s.action.annual_cost for s in self.steps)


class Evaluator:
    """The projected loss of the system with a set of actions taken."""

    def __init__(
        self,
        snapshot: SystemSnapshot,
        library: Library,
        attackers: Sequence[AttackerData],
        controls: ControlsInForce,
    ) -> None:
        self.snapshot, self.library, self.attackers = snapshot, library, tuple(attackers)
        self.controls = {code: coverage(v) for code, v in controls.items()}
        self.count = 0
        self._base_facts = base_facts = derive_facts(snapshot)
        self._base_matches = find_threats(library, snapshot, base_facts)
        # Frames by the hardening changes applied (in order): a control what-if re-prices the
        # frame of the state it starts from instead of rebuilding the graph; success memo shared.
        self._frames: dict[tuple[str, ...], ViewFrame] = {
            (): view_frame(
                snapshot=snapshot,
                facts=base_facts,
                where=placement(snapshot),
                library=library,
                active=self._base_matches,
            )
        }
        self._memo: SuccessMemo = {}
        self._priced: dict[tuple[tuple[str, ...], tuple[str, ...]], Priced] = {}
        self._base_moves = known_moves(self._frames[()])

    @property
    def matches(self) -> list:
        return self._base_matches

    def _frame(self, hardened: Sequence[Action]) -> ViewFrame:
        key = tuple(a.key for a in hardened)
        frame = self._frames.pop(key, None)  # re-inserted last: the dict is kept in LRU order
        if frame is None:
            snapshot = apply_hardening(self.snapshot, hardened)
            facts = derive_facts(snapshot)
            # A change touches a few targets: the others keep their matches and moves.
            matches = rematch(self.library, facts, self._base_facts, self._base_matches)
            frame = view_frame(
                snapshot=snapshot,
                facts=facts,
                where=placement(snapshot),
                library=self.library,
                active=matches,
                reuse=self._base_moves,
            )
            others = [k for k in self._frames if k]
            if len(others) >= FRAMES_KEPT:  # keep the base; drop the least recently used state
                del self._frames[others[0]]
        self._frames[key] = frame
        return frame

    def _controls(self, actions: Sequence[Action]) -> dict[str, Coverage | None]:
        extra: ControlsInForce = {}
        for action in actions:
            if action.control:
                extra = merge(extra, {action.control: action.coverage})
        return {code: coverage(v) for code, v in merge(self.controls, extra).items()}

    def _state(self, frame: ViewFrame, key: tuple[str, ...], chosen: Sequence[Action]) -> Priced:
        """The graph of the chosen actions (priced once per step), base of the step's control
        what-ifs: each then prices only the findings on the targets it adds a control to."""
        state = (key, tuple(a.key for a in chosen if a.control))
        priced = self._priced.pop(state, None)  # re-inserted last: LRU order, as the frames
        if priced is None:
            controls = self._controls(chosen)
            priced = (controls, price_view(frame, controls, self._memo))
            if len(self._priced) >= FRAMES_KEPT:
                del self._priced[next(iter(self._priced))]
        self._priced[state] = priced
        return priced

    def loss(self, actions: Sequence[Action]) -> float:
        self.count += 1
        hardened = [a for a in actions if a.change]
        frame = self._frame(hardened)
        base = None
        if actions and actions[-1].control and actions[-1].coverage is not None:  # a scoped control
            base = self._state(frame, tuple(a.key for a in hardened), actions[:-1])
        graph = price_view(frame, self._controls(actions), self._memo, base)
        return system_expected(graph, [run_profile(graph, a) for a in self.attackers])


def candidates(evaluator: Evaluator, on_routes: set[int], hot: set[int]) -> list[Action]:
    """Control placements and hardening changes on the assets that carry loss."""
    relevant = on_routes | hot
    result = []
    for action in control_actions(evaluator.library, evaluator.snapshot, evaluator.matches, evaluator.controls):
        if action.coverage is None or action.coverage.assets & relevant:
            result.append(action)
    for action in hardening_actions(evaluator.library, evaluator.snapshot):
        if action.asset_id in relevant or action.holder_id in relevant:
            result.append(action)
    return result


def advise(
    evaluator: Evaluator,
    actions: Sequence[Action],
    appetite: float,
    *,
    max_steps: int = MAX_STEPS,
    max_evaluations: int = MAX_EVALUATIONS,
) -> Advice:
    """Greedy selection with the cost-benefit floor (see the module docstring).

    Lazy evaluation assumes that an action's worth only falls as others are taken, which holds
    for controls on one route but not across redundant routes: while two doors lead to the
    weights, closing either saves little, and once one is closed the other is worth the whole
    route. So candidates set aside (worth nothing, or less than they cost) are scored again
    against the new state whenever the heap runs dry, until a pass adds nothing.
    """
    base = evaluator.loss(())
    chosen: list[Action] = []
    steps: list[Step] = []
    current = base
    stamp = 0
    scores: dict[int, float] = {}  # loss removed at the last scoring
    rejected: dict[int, Step] = {}
    parked = list(range(len(actions)))  # to be scored against the current state
    taken: set[int] = set()
    budget = evaluator.count + max_evaluations
    out_of_budget = False
    while parked and current > appetite and len(steps) < max_steps and not out_of_budget:
        heap = [(-float("inf"), -1, i) for i in parked]
        heapq.heapify(heap)
        parked, progressed = [], False
        while heap and current > appetite and len(steps) < max_steps:
            bound, seen, i = heapq.heappop(heap)
            action = actions[i]
            if seen == stamp:  # scored against the current state and still the best: take it
                step = Step(action, current, current - scores[i])
                chosen.append(action)
                steps.append(step)
                taken.add(i)
                rejected.pop(i, None)
                current = step.loss_after
                stamp += 1
                progressed = True
                continue
            if evaluator.count >= budget:
                out_of_budget = True
                break
            removed = current - evaluator.loss((*chosen, action))
            if removed < action.annual_cost or removed <= _negligible(current):
                rejected[i] = Step(action, current, current - removed)
                parked.append(i)
                continue
            scores[i] = removed
            score = removed / action.annual_cost if action.annual_cost > 0 else float("inf")
            heapq.heappush(heap, (-score, stamp, i))
        if not progressed:
            break
    # What comes closest among the rest; a step that saves next to nothing is not a near miss.
    near = [st for i, st in rejected.items() if i not in taken and st.removed >= 0.01 * st.action.annual_cost]
    not_worth = sorted(near, key=lambda st: -st.removed)[:5]
    return Advice(
        appetite=appetite,
        loss_before=base,
        loss_after=current,
        reached=current <= appetite,
        steps=tuple(steps),
        not_worth_it=tuple(not_worth),
        evaluated=evaluator.count,
        candidates=len(actions),
        capped=(len(steps) >= max_steps or out_of_budget) and current > appetite,
    )


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the advice page shows, from one computation."""

    advice: Advice
    choke_points: tuple[ChokePoint, ...]
    cut: Cut


def plan_for(
    snapshot: SystemSnapshot,
    library: Library,
    attackers: Sequence[AttackerData],
    controls: ControlsInForce,
    appetite: float,
) -> Plan:
    """Advice, choke points and the weighted cut for the system with ``controls`` in force."""
    graph, runs, _ = current_paths_view(snapshot, library, attackers, controls)
    moves = pair_moves(graph)
    routes = {}
    for run in runs:
        for j, jewel_id in enumerate(graph.thefts.jewels.ids):
            route = route_of(graph, run, j, moves)
            if route is not None:
                routes[(run.attacker.id, jewel_id)] = route
    on_routes = {int(s.source[1]) for r in routes.values() for s in r.steps if s.source[0] != "internet"}
    active = [graph.findings[int(f)].active for f in graph.thefts.finding]
    hot = {int(t) for t, on in zip(graph.thefts.target, active, strict=True) if on}
    evaluator = Evaluator(snapshot, library, attackers, controls)
    actions = candidates(evaluator, on_routes, hot)
    means = {jid: float(graph.thefts.jewels.means[i]) for i, jid in enumerate(graph.thefts.jewels.ids)}
    attempts = {a.id: a.attempts_per_year for a in attackers}
    weights = choke_points(snapshot, routes, attempts, means, limit=len(snapshot.assets) + len(snapshot.flows))
    scored = list(actions)
    if len(actions) > MAX_CANDIDATES:
        shares = {p.element_id: p.share for p in weights if p.kind == "asset"}
        scored = shortlist(actions, shares, hot, evaluator.loss(()))
    advice = advise(evaluator, scored, appetite)
    if len(scored) < len(actions):
        advice = replace(advice, candidates=len(actions), screened_out=len(actions) - len(scored))
    on_flows = flow_actions(library, snapshot, evaluator.matches, evaluator.controls)
    return Plan(advice, tuple(weights[:10]), weighted_cut(graph, runs, [*actions, *on_flows]))


def shortlist(
    actions: Sequence[Action], share: dict[int, float], hot: set[int], loss: float, limit: int = MAX_CANDIDATES
) -> list[Action]:
    """At most ``limit`` actions to score: those that could pay for themselves (the share of
    loss-weighted routes through what they protect, times the system's loss, at least their
    cost), most route weight first (a system-wide control protects everything; a theft place
    counts as fully on the route). Ranking by weight per cost instead kept hundreds of cheap
    actions on minor assets and dropped the controls that matter (bench/advisor.py at 1,000
    assets stopped at 162M instead of 14M). Order among the kept actions is unchanged."""
    if len(actions) <= limit:
        return list(actions)

    def reach(action: Action) -> float:
        if action.control and action.coverage is None:
            return 1.0
        ids = [*action.element_ids, *([action.holder_id] if action.holder_id is not None else [])]
        return max((1.0 if i in hot else share.get(i, 0.0) for i in ids), default=0.0)

    potential = [reach(a) * loss for a in actions]
    could_pay = [i for i, a in enumerate(actions) if potential[i] >= a.annual_cost]
    ranked = sorted(could_pay, key=lambda i: (-potential[i], actions[i].annual_cost, i))
    keep = set(ranked[:limit])
    return [a for i, a in enumerate(actions) if i in keep]
