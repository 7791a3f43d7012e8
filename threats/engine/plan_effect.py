"""What one mitigation plan does to the system's loss: the system with and without it (DESIGN.md §5).

A risk owner deciding on a plan needs the answer to "if I approve this, what changes?", for the
system as a whole and in the engine's own terms. Summing the loss of the findings a plan names
cannot give it: findings overlap (a jewel is lost at most once a year, whatever the number of
routes that reach it), so such sums exceed the system's loss. Instead each plan is priced by two
runs of the same loss function the system page and the advisor use (``system_expected``):

* **current**: the controls in force now (element properties and implemented plans), without
  and with this plan. For a plan not yet implemented "without" is the system page's current
  figure; for an implemented one "with" is.
* **projected**: every pending and implemented plan, without and with this plan; "with" is the
  system page's projected figure for a pending plan.

Identical control sets are evaluated once, so a plan that changes nothing costs no run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from threats.engine.attack_graph import ViewFrame, view_frame
from threats.engine.attackers import AttackerData
from threats.engine.controls import ControlsInForce, Coverage, coverage, merge
from threats.engine.evaluate import run_profile
from threats.engine.facts import SystemFacts
from threats.engine.jewels import placement
from threats.engine.library import Library, Match
from threats.engine.pricing import SuccessMemo, price_view
from threats.engine.risk import system_expected
from threats.engine.snapshot import SystemSnapshot


@dataclass(frozen=True, slots=True)
class PlanControl:
    """One plan's control as the engine sees it: ``coverage`` None means system-wide."""

    plan_id: int
    code: str
    coverage: Coverage | frozenset[int] | None
    in_force: bool  # implemented or verified: part of the current view


@dataclass(frozen=True, slots=True)
class PlanEffect:
    """Expected yearly loss of the system without and with one plan, in the two views."""

    plan_id: int
    current_without: float
    current_with: float
    projected_without: float
    projected_with: float

    @property
    def current_removed(self) -> float:
        return self.current_without - self.current_with

    @property
    def projected_removed(self) -> float:
        return self.projected_without - self.projected_with


def _key(controls: ControlsInForce) -> frozenset[tuple[str, Coverage | None]]:
    return frozenset((code, coverage(raw)) for code, raw in controls.items())


def loss_function(
    snapshot: SystemSnapshot,
    library: Library,
    attackers: Sequence[AttackerData],
    facts: SystemFacts,
    matches: Sequence[Match],
) -> Callable[[ControlsInForce], float]:
    """``controls -> expected yearly loss`` of this system, memoised on the control set."""
    seen: dict[frozenset[tuple[str, Coverage | None]], float] = {}
    frame: list[ViewFrame] = []  # built on first use, then priced for every control set
    memo: SuccessMemo = {}

    def loss(controls: ControlsInForce) -> float:
        key = _key(controls)
        if key not in seen:
            if not frame:
                where = placement(snapshot)
                frame.append(view_frame(snapshot=snapshot, facts=facts, where=where, library=library, active=matches))
            normalised = {code: coverage(raw) for code, raw in controls.items()}
            graph = price_view(frame[0], normalised, memo)
            seen[key] = system_expected(graph, [run_profile(graph, a) for a in attackers])
        return seen[key]

    return loss


def plan_effects(
    loss: Callable[[ControlsInForce], float],
    implied: ControlsInForce,
    plans: Sequence[PlanControl],
    *,
    price: Sequence[PlanControl] | None = None,
) -> dict[int, PlanEffect]:
    """The effect (module docstring) of each plan of ``price`` (default: all of ``plans``);
    ``implied``: the controls the elements' properties amount to, ``plans``: every implemented
    and pending plan of the system, the context each is priced in."""
    result: dict[int, PlanEffect] = {}
    for plan in plans if price is None else price:
        others = [p for p in plans if p.plan_id != plan.plan_id]
        mine = {plan.code: plan.coverage}
        current = merge(implied, *({p.code: p.coverage} for p in others if p.in_force))
        everything = merge(implied, *({p.code: p.coverage} for p in others))
        result[plan.plan_id] = PlanEffect(
            plan_id=plan.plan_id,
            current_without=loss(current),
            current_with=loss(merge(current, mine)),
            projected_without=loss(everything),
            projected_with=loss(merge(everything, mine)),
        )
    return result
