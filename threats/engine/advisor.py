"""The control advisor (DESIGN.md §5): which controls to add, and which flows to harden first.

Two independent answers on the risk engine's own inputs:

* ``select_controls``: a greedy choice of library controls not yet in force that brings the
  system's projected annual loss under its risk appetite. Each step takes the candidate with the
  largest loss reduction per annual cost, then re-scores. The loss is the analytic expected
  annual loss (sum over findings of frequency x PERT mean), the value the Monte Carlo mean
  converges to, so a step costs no simulation and is exactly ``risk.compute_risk``'s
  ``expected_loss`` for the projected view plus the chosen controls (same functions, same order
  of operations). Controls change success, never reach, so each finding keeps its reach and
  magnitude from the start, and a pick re-prices only the findings whose threat it mitigates.
* ``flow_cut.minimum_flow_cut`` (its own module): the fewest flows whose hardening disconnects
  every attacker profile's entry points from the crown jewels.

Annual cost = yearly cost + one-off cost / ``AMORTISATION_YEARS``: a control is bought once and
then run, and three years is a common depreciation period for security tooling, so a large
one-off price weighs against it without dominating a cheap yearly one. The library gives both
costs as ranges; ``candidates_from_library`` takes their midpoints (the expected cost when every
price in the range is equally likely).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import mul
from typing import Literal

from threats.engine.attackers import AttackerData
from threats.engine.controls import ControlsInForce, codes_by_asset
from threats.engine.facts import SystemFacts
from threats.engine.library import Library, Match, ThreatDef
from threats.engine.montecarlo import pert_mean
from threats.engine.reach import (
    AttackGraph,
    ReachResult,
    build_graph,
    compute_reach,
)
from threats.engine.risk import FindingKey, magnitude, reductions, success
from threats.engine.snapshot import SystemSnapshot

AMORTISATION_YEARS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A library control that could be put in force; empty ``asset_kinds``: organisation-wide."""

    code: str
    name: str = ""
    yearly_cost: float = 0.0
    one_off_cost: float = 0.0
    asset_kinds: frozenset[str] = frozenset()

    @property
    def annual_cost(self) -> float:
        return self.yearly_cost + self.one_off_cost / AMORTISATION_YEARS


@dataclass(frozen=True, slots=True)
class FindingChange:
    """One finding's expected annual loss before and after a step."""

    key: FindingKey
    loss_before: float
    loss_after: float


@dataclass(frozen=True, slots=True)
class Step:
    """One pick: the control, where it goes in force (``asset_ids`` None: system-wide), its cost,
    and the system loss before and after it, with the findings it lowers."""

    code: str
    name: str
    asset_ids: tuple[int, ...] | None
    yearly_cost: float
    one_off_cost: float
    annual_cost: float
    loss_before: float
    loss_after: float
    findings: tuple[FindingChange, ...]


@dataclass(frozen=True, slots=True)
class Selection:
    """The greedy answer; ``reached`` is whether ``loss_after <= appetite``."""

    appetite: float
    loss_before: float
    loss_after: float
    reached: bool
    steps: tuple[Step, ...]

    @property
    def annual_cost(self) -> float:
        return math.fsum(s.annual_cost for s in self.steps)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.steps)


def candidates_from_library(library: Library) -> tuple[Candidate, ...]:
    """Every library control as a candidate, priced at the midpoints of its cost ranges."""
    return tuple(
        Candidate(
            code=c.code,
            name=c.name,
            yearly_cost=(c.cost_yearly[0] + c.cost_yearly[1]) / 2,
            one_off_cost=(c.cost_one_off[0] + c.cost_one_off[1]) / 2,
            asset_kinds=c.asset_kinds,
        )
        for c in library.controls
    )


class Scorer:
    """The projected view priced once per finding; ``loss`` re-prices it under extra controls.

    Per finding it keeps what no candidate changes: the threat, the ends of the target, attempts
    x reach per attacker, the base probabilities, the PERT mean and the codes already in force.
    """

    def __init__(
        self,
        snapshot: SystemSnapshot,
        facts: SystemFacts | None,
        library: Library,
        matches: Sequence[Match],
        attackers: Sequence[AttackerData],
        controls: ControlsInForce,
        graph: AttackGraph | None = None,
    ) -> None:
        threats = {t.code: t for t in library.threats}
        assets = {a.id: a for a in snapshot.assets}
        flows = {f.id: (f.source_id, f.target_id, f.carries) for f in snapshot.flows}
        hosted: dict[int, list[int]] = {}
        for asset in snapshot.assets:
            if asset.hosted_on_id is not None and asset.hosted_on_id != asset.id:
                hosted.setdefault(asset.hosted_on_id, []).append(asset.id)
        graph = graph or build_graph(snapshot)
        self.reach: dict[int, ReachResult] = {a.id: compute_reach(graph, a) for a in attackers}
        probability = [self.reach[a.id].probability for a in attackers]
        attempts = [a.attempts_per_year for a in attackers]
        everywhere, on_asset = codes_by_asset(controls)
        known = None if facts is None else {"asset": facts.assets, "flow": facts.flows}
        rows: dict[FindingKey, tuple[ThreatDef, tuple[int, ...], tuple[float, ...], tuple[float, ...], float]] = {}
        for match in matches:
            threat = threats.get(match.threat_code)
            if threat is None:
                raise ValueError(f"{match.threat_code} on {match.target_type} {match.target_id}: unknown threat")
            kind, tid = match.target_type, match.target_id
            ends: tuple[int, ...] = (tid,) if kind == "asset" else flows[tid][:2] if tid in flows else ()
            if known is not None and tid not in known[kind]:
                ends = ()
            reach = tuple(max([p.get(e, 0.0) for e in ends], default=0.0) for p in probability)
            size = magnitude(kind, tid, assets, flows, hosted)
            base = tuple(threat.base_probability[a.capability] for a in attackers)
            weights = tuple(map(mul, attempts, reach))
            rows[(match.threat_code, kind, tid)] = (threat, ends, weights, base, pert_mean(*size[:3]))
        self.keys: tuple[FindingKey, ...] = tuple(rows)
        self.threats = tuple(r[0] for r in rows.values())
        self.ends = tuple(r[1] for r in rows.values())
        self.weights = tuple(r[2] for r in rows.values())
        self.base = tuple(r[3] for r in rows.values())
        self.size_mean = tuple(r[4] for r in rows.values())
        codes = []
        for ends in self.ends:
            here = everywhere
            for e in ends:
                here = here | on_asset.get(e, everywhere)
            codes.append(here)
        self.codes: tuple[frozenset[str], ...] = tuple(codes)
        self._success: dict[tuple[str, frozenset[str]], tuple[float, ...]] = {}
        self._kinds = tuple((a.id, a.kind) for a in snapshot.assets)
        self.controls = controls

    def placement(self, candidate: Candidate) -> frozenset[int] | None | Literal[False]:
        """Where adding ``candidate`` puts it in force beyond the controls already in force: the
        assets of its kinds not yet covered, None for system-wide, False when it adds nothing."""
        existing = self.controls.get(candidate.code, frozenset())
        if existing is None:
            return False
        if not candidate.asset_kinds:
            return None
        new = frozenset(aid for aid, kind in self._kinds if kind in candidate.asset_kinds) - existing
        return new or False

    def finding_loss(self, i: int, codes: frozenset[str]) -> float:
        """Expected annual loss of finding ``i`` with ``codes`` in force on its target, computed as
        ``risk.explain`` does: sum of (attempts x reach) x success, times the PERT mean."""
        threat = self.threats[i]
        hit = self._success.get((threat.code, codes))
        if hit is None:
            hit = self._success[(threat.code, codes)] = success(self.base[i], reductions(threat, codes))
        return sum(map(mul, self.weights[i], hit)) * self.size_mean[i]

    def covers(self, i: int, where: frozenset[int] | None) -> bool:
        """Whether a control put in force on ``where`` (None: everywhere) applies to finding ``i``."""
        return bool(self.ends[i]) and (where is None or any(e in where for e in self.ends[i]))

    def loss(self, extra: Mapping[str, frozenset[int] | None] | None = None) -> float:
        """System expected annual loss with ``extra`` controls (code -> assets, None: everywhere)."""
        extra = extra or {}
        losses = []
        for i, codes in enumerate(self.codes):
            added = frozenset(c for c, where in extra.items() if self.covers(i, where))
            losses.append(self.finding_loss(i, codes | added if added else codes))
        return math.fsum(losses)


def select_controls(scorer: Scorer, candidates: Iterable[Candidate], appetite: float) -> Selection:
    """Greedy: add the candidate with the largest loss reduction per annual cost until the loss is
    at most ``appetite`` or no candidate lowers it. A free candidate that lowers the loss comes
    first; ties go to the larger reduction, then to the smaller code. Every step strictly lowers
    the loss (a pick whose reduction is lost to rounding ends the search)."""
    pool: dict[str, tuple[Candidate, frozenset[int] | None]] = {}
    for cand in sorted(candidates, key=lambda c: c.code):
        where = scorer.placement(cand)
        if where is not False and cand.code not in pool:
            pool[cand.code] = (cand, where)
    codes = list(scorer.codes)
    losses = [scorer.finding_loss(i, c) for i, c in enumerate(codes)]
    # Which candidates could lower each finding (its threat lists them, they would cover its
    # target, they are not in force there yet), and the reverse index.
    by_finding: dict[int, list[str]] = {}
    affects: dict[str, list[int]] = {code: [] for code in pool}
    for i, threat in enumerate(scorer.threats):
        for tc in threat.controls:
            if tc.control in pool and tc.control not in codes[i] and scorer.covers(i, pool[tc.control][1]):
                by_finding.setdefault(i, []).append(tc.control)
                affects[tc.control].append(i)
    delta = {
        code: {i: losses[i] - scorer.finding_loss(i, codes[i] | {code}) for i in found}
        for code, found in affects.items()
    }
    gain = {code: math.fsum(d.values()) for code, d in delta.items()}

    start = total = math.fsum(losses)
    steps: list[Step] = []
    while total > appetite and pool:
        best = _best(pool, gain)
        if best is None:
            break
        cand, where = pool.pop(best)
        changes: list[FindingChange] = []
        touched: set[str] = set()
        for i in affects[best]:
            before, codes[i] = losses[i], codes[i] | {best}
            losses[i] = scorer.finding_loss(i, codes[i])
            if losses[i] < before:
                changes.append(FindingChange(scorer.keys[i], before, losses[i]))
            touched.update(c for c in by_finding[i] if c in pool)
        after = math.fsum(losses)
        if not after < total:
            break
        for code in touched:
            d = delta[code]
            for i in affects[best]:
                if i in d:
                    d[i] = losses[i] - scorer.finding_loss(i, codes[i] | {code})
            gain[code] = math.fsum(d.values())
        steps.append(
            Step(
                best,
                cand.name,
                None if where is None else tuple(sorted(where)),
                cand.yearly_cost,
                cand.one_off_cost,
                cand.annual_cost,
                total,
                after,
                tuple(changes),
            )
        )
        total = after
    return Selection(appetite, start, total, total <= appetite, tuple(steps))


def _best(pool: Mapping[str, tuple[Candidate, object]], gain: Mapping[str, float]) -> str | None:
    best, best_key = None, (0.0, 0.0)
    for code, (cand, _) in pool.items():  # in code order: the first of equals wins
        g = gain.get(code, 0.0)
        if g <= 0:
            continue
        cost = cand.annual_cost
        key = (g / cost if cost > 0 else math.inf, g)
        if best is None or key > best_key:
            best, best_key = code, key
    return best


# -- minimum cut -----------------------------------------------------------------------------------
