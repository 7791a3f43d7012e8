"""FAIR-style risk per finding and per view, with every number expandable (DESIGN.md §4).

For a finding (threat t on target a), per view and attacker profile p:

    success(p)   = base_probability[t][OC of p] x product of (1 - effectiveness) over t's controls
                   in force for the view on a (on either end asset for a flow), or system-wide
    frequency    = sum over p of attempts_per_year(p) x reach(p, a) x success(p)
    magnitude    = PERT(min, likely, max) of a's value (see ``magnitude``)

``Explanation`` keeps each factor as computed, so the factors multiply (and add) to the shown
frequency exactly, in floating point. The Monte Carlo mean and 90th percentile come from
``montecarlo``; ``expected_loss`` (frequency x PERT mean) is the analytic mean beside them.
``compute_risk`` strings reach, these factors, the simulation and the extraction budgets together.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import mul
from typing import Any, NamedTuple

import numpy as np

from threats.engine.attackers import AttackerData
from threats.engine.controls import ControlsInForce, codes_by_asset
from threats.engine.extraction import ExtractionBudget, extraction_budgets
from threats.engine.facts import SystemFacts, gc_paused
from threats.engine.library import Library, Match, ThreatDef
from threats.engine.loss_state import LossState, simulate_with_state
from threats.engine.montecarlo import DEFAULT_DRAWS, pert_mean
from threats.engine.reach import ReachResult, build_graph, compute_reach
from threats.engine.snapshot import AssetData, SystemSnapshot

FindingKey = tuple[str, str, int]  # (threat_code, target_type, target_id)
Reductions = tuple[tuple[str, float], ...]  # (control code, effectiveness), in library order

BAND_NAMES: tuple[str, ...] = ("very low", "low", "moderate", "high", "very high")
# Loss events per year. NIST SP 800-30 names the five levels; the decades are ours: rarer than
# once a century, once a century to once a decade, to once a year, to ten a year, more.
LIKELIHOOD_THRESHOLDS: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
# Most likely loss per event in the system's currency, by decades from 10k to 10M.
IMPACT_THRESHOLDS: tuple[float, ...] = (10_000.0, 100_000.0, 1_000_000.0, 10_000_000.0)
# NIST SP 800-30 Rev. 1, Appendix I, Table I-2: level of risk by likelihood (rows) and impact
# (columns), both very low first.
RISK_LEVELS: tuple[tuple[str, ...], ...] = (
    ("very low", "very low", "very low", "low", "low"),
    ("very low", "low", "low", "low", "moderate"),
    ("very low", "low", "moderate", "moderate", "high"),
    ("very low", "low", "moderate", "high", "very high"),
    ("very low", "low", "moderate", "high", "very high"),
)


class Magnitude(NamedTuple):
    """Loss per event in currency, with where it came from (an asset, or a flow's cargo)."""

    low: float
    likely: float
    high: float
    source: str


class ProfileFactor(NamedTuple):
    """One attacker profile's share of a finding's frequency, factor by factor.

    ``success == math.prod((base_probability, *(1 - e for _, e in control_reductions)))`` and
    ``frequency == attempts_per_year * reach * success``, exactly.
    """

    attacker_id: int
    attacker_name: str
    capability: str
    attempts_per_year: float
    reach: float
    base_probability: float
    control_reductions: Reductions
    success: float
    frequency: float


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a finding has its frequency and expected loss in one view.

    Per attacker (same order as ``attackers``): ``reach``, ``base_probability`` and ``success``;
    ``control_reductions`` apply to every attacker. ``frequency`` is, exactly,
    ``sum(p.frequency for p in self.profiles)``; ``expected_loss = frequency * pert_mean``.
    The per-attacker tuples are shared between findings, so 15,000 findings x 3 views stay cheap.
    """

    view: str
    attackers: tuple[AttackerData, ...]
    reach: tuple[float, ...]
    base_probability: tuple[float, ...]
    control_reductions: Reductions
    success: tuple[float, ...]
    frequency: float
    magnitude: Magnitude
    pert_mean: float
    expected_loss: float

    @property
    def profiles(self) -> tuple[ProfileFactor, ...]:
        """The factors per attacker profile, computed as the frequency was."""
        return tuple(
            ProfileFactor(
                a.id,
                a.name,
                a.capability,
                a.attempts_per_year,
                r,
                b,
                self.control_reductions,
                s,
                a.attempts_per_year * r * s,
            )
            for a, r, b, s in zip(self.attackers, self.reach, self.base_probability, self.success, strict=True)
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data for storage and display."""
        return {
            "view": self.view,
            "frequency": self.frequency,
            "magnitude": self.magnitude._asdict(),
            "pert_mean": self.pert_mean,
            "expected_loss": self.expected_loss,
            "control_reductions": [list(pair) for pair in self.control_reductions],
            "profiles": [{k: v for k, v in p._asdict().items() if k != "control_reductions"} for p in self.profiles],
        }


@dataclass(frozen=True, slots=True)
class ViewRisk:
    """A finding's risk in one view. Bands are 1 (very low) .. 5 (very high)."""

    frequency: float
    expected_loss: float
    mean_loss: float
    p90_loss: float
    likelihood_band: int
    impact_band: int
    risk_level: str
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class FindingRisk:
    """A finding's magnitude and its risk in every view, keyed by view name."""

    threat_code: str
    target_type: str
    target_id: int
    magnitude: Magnitude
    views: Mapping[str, ViewRisk]

    @property
    def key(self) -> FindingKey:
        return (self.threat_code, self.target_type, self.target_id)


def likelihood_band(frequency: float) -> int:
    """1..5 from loss events per year (LIKELIHOOD_THRESHOLDS; a threshold starts the higher band)."""
    return 1 + bisect_right(LIKELIHOOD_THRESHOLDS, frequency)


def impact_band(likely_loss: float) -> int:
    """1..5 from the most likely loss per event (IMPACT_THRESHOLDS)."""
    return 1 + bisect_right(IMPACT_THRESHOLDS, likely_loss)


def risk_level(likelihood: int, impact: int) -> str:
    """NIST SP 800-30 Table I-2 level for 1-based likelihood and impact bands."""
    return RISK_LEVELS[likelihood - 1][impact - 1]


def heat_map(bands: Iterable[tuple[int, int]]) -> tuple[tuple[int, ...], ...]:
    """5 x 5 counts of findings: ``[likelihood - 1][impact - 1]``, very low first on both axes."""
    counts = [[0] * 5 for _ in range(5)]
    for likelihood, impact in bands:
        counts[likelihood - 1][impact - 1] += 1
    return tuple(tuple(row) for row in counts)


def magnitude(
    target_type: str,
    target_id: int,
    assets: Mapping[int, AssetData],
    flows: Mapping[int, tuple[int, int, tuple[int, ...]]],
    hosted: Mapping[int, Sequence[int]] | None = None,
) -> Magnitude:
    """The loss of one event on the target; ``flows`` maps flow id to (source, target, carries),
    ``hosted`` maps a host to the data assets stored on it (``hosted_on``).

    An asset loses its own value plus the value of the content stored on it: whoever empties
    the weights bucket takes the weights. A flow loses the most valuable content it carries (by
    most likely value), or, carrying nothing declared, its target asset's value: what the flow
    feeds is what leaks or is spoofed. Values are made consistent (0 <= min <= likely <= max)
    rather than rejected.
    """
    if target_type == "asset":
        asset = assets.get(target_id)
        if asset is None:
            return Magnitude(0.0, 0.0, 0.0, "unknown asset")
        own = _value(asset, f"asset #{target_id}")
        content = [_value(assets[c], "") for c in (hosted or {}).get(target_id, ()) if c in assets]
        if not content:
            return own
        return Magnitude(
            own.low + math.fsum(c.low for c in content),
            own.likely + math.fsum(c.likely for c in content),
            own.high + math.fsum(c.high for c in content),
            f"asset #{target_id} with {len(content)} hosted asset(s)",
        )
    flow = flows.get(target_id)
    if flow is None:
        return Magnitude(0.0, 0.0, 0.0, "unknown flow")
    carried = [assets[c] for c in flow[2] if c in assets]
    if carried:
        best = max(carried, key=lambda a: (a.value_likely, a.value_max, a.value_min))
        return _value(best, f"carried asset #{best.id}")
    target = assets.get(flow[1])
    return _value(target, f"flow target #{flow[1]}") if target else Magnitude(0.0, 0.0, 0.0, "unknown flow target")


def _value(asset: AssetData, source: str) -> Magnitude:
    low, likely, high = (max(float(v), 0.0) for v in (asset.value_min, asset.value_likely, asset.value_max))
    low, high = min(low, likely, high), max(low, likely, high)
    return Magnitude(low, min(max(likely, low), high), high, source)


def reductions(threat: ThreatDef, codes_in_force: frozenset[str]) -> Reductions:
    """The threat's controls among ``codes_in_force`` on the target, with their effectiveness."""
    return tuple((tc.control, tc.effectiveness) for tc in threat.controls if tc.control in codes_in_force)


def success(base: tuple[float, ...], controls: Reductions) -> tuple[float, ...]:
    """P(success | reached) per attacker: base x product of (1 - effectiveness), left to right."""
    survive = tuple(1 - e for _, e in controls)
    return tuple(math.prod((b, *survive)) for b in base)


def explain(
    view: str,
    attackers: tuple[AttackerData, ...],
    reach: tuple[float, ...],
    base: tuple[float, ...],
    controls: Reductions,
    successes: tuple[float, ...],
    size: Magnitude,
    size_mean: float,
) -> Explanation:
    """The frequency of a finding in one view, summed from its factors exactly as ``profiles``
    recomputes them (same operations, same order)."""
    attempts = [a.attempts_per_year for a in attackers]
    frequency = sum(map(mul, map(mul, attempts, reach), successes))  # (attempts * reach) * success
    return Explanation(
        view, attackers, reach, base, controls, successes, frequency, size, size_mean, frequency * size_mean
    )


@dataclass(frozen=True, slots=True)
class SystemRisk:
    """The system in one view: simulated total annual loss, the analytic mean, and the heat map
    (finding counts, ``[likelihood - 1][impact - 1]``)."""

    mean_loss: float
    p90_loss: float
    expected_loss: float
    heat_map: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class RiskResult:
    """Everything ``compute_risk`` found. ``reach_paths[attacker_id]`` feeds ``reach.best_path``;
    ``extraction[key][view]`` holds one budget per attacker, in ``attackers`` order."""

    views: tuple[str, ...]
    findings: Mapping[FindingKey, FindingRisk]
    system: Mapping[str, SystemRisk]
    reach: Mapping[int, Mapping[int, float]]  # attacker id -> asset id -> P(reach)
    reach_paths: Mapping[int, ReachResult]
    extraction: Mapping[FindingKey, Mapping[str, tuple[ExtractionBudget, ...]]]
    seed: int
    draws: int
    loss_state: LossState | None = None  # feed to the next run as ``previous_losses``
    simulated: int = 0  # findings the Monte Carlo simulated (the others were reused)


def compute_risk(
    snapshot: SystemSnapshot,
    facts: SystemFacts | None,
    library: Library,
    matches: Sequence[Match],
    attackers: Sequence[AttackerData],
    controls_by_view: Mapping[str, ControlsInForce],
    seed: int = 0,
    draws: int = DEFAULT_DRAWS,
    previous_losses: LossState | None = None,
) -> RiskResult:
    """Price every match in every view (DESIGN.md §4); pure and deterministic for a given seed.

    ``facts``: what ``find_threats`` used; a match whose target is missing from it (or from the
    snapshot) is unreachable and prices at zero. Views keep ``controls_by_view`` order and are
    simulated together with shared random numbers (``montecarlo``). Attacker ids must be unique.
    ``previous_losses`` (the last run's ``loss_state``) lets the Monte Carlo reuse every finding
    whose inputs did not change; the numbers are identical with or without it.
    Raises ValueError for a match whose threat is not in ``library``, or for no views.
    """
    views, attackers = tuple(controls_by_view), tuple(attackers)
    if not views:
        raise ValueError("controls_by_view must name at least one view")
    with gc_paused():  # ~100,000 small tuples and dataclasses, none in a cycle (see facts.gc_paused)
        return _compute(
            snapshot, facts, library, matches, attackers, controls_by_view, views, seed, draws, previous_losses
        )


def _compute(
    snapshot: SystemSnapshot,
    facts: SystemFacts | None,
    library: Library,
    matches: Sequence[Match],
    attackers: tuple[AttackerData, ...],
    controls_by_view: Mapping[str, ControlsInForce],
    views: tuple[str, ...],
    seed: int,
    draws: int,
    previous_losses: LossState | None,
) -> RiskResult:
    threats = {t.code: t for t in library.threats}
    assets = {a.id: a for a in snapshot.assets}
    flows = {f.id: (f.source_id, f.target_id, f.carries) for f in snapshot.flows}
    hosted: dict[int, list[int]] = {}
    for asset in snapshot.assets:
        if asset.hosted_on_id is not None and asset.hosted_on_id != asset.id:
            hosted.setdefault(asset.hosted_on_id, []).append(asset.id)
    graph = build_graph(snapshot)
    paths = {a.id: compute_reach(graph, a) for a in attackers}
    probability = [paths[a.id].probability for a in attackers]
    codes_by_view = [codes_by_asset(controls_by_view[v]) for v in views]
    known = None if facts is None else {"asset": facts.assets, "flow": facts.flows}
    bases: dict[str, tuple[float, ...]] = {}
    factors: dict[tuple[str, frozenset[str]], tuple[Reductions, tuple[float, ...]]] = {}
    rows: list[tuple[Match, Magnitude, list[Explanation]]] = []
    for match in matches:
        threat = threats.get(match.threat_code)
        if threat is None:
            raise ValueError(f"{match.threat_code} on {match.target_type} {match.target_id}: unknown threat")
        kind, tid = match.target_type, match.target_id
        ends: tuple[int, ...] = (tid,) if kind == "asset" else flows[tid][:2] if tid in flows else ()
        if known is not None and tid not in known[kind]:
            ends = ()
        # A flow is as exposed as its more exposed end: an attacker at either end sees its traffic.
        if len(ends) == 1:
            reach = tuple(p.get(tid, 0.0) for p in probability)
        else:
            reach = tuple(max([p.get(e, 0.0) for e in ends], default=0.0) for p in probability)
        size = magnitude(kind, tid, assets, flows, hosted)
        size_mean = pert_mean(size.low, size.likely, size.high)
        base = bases.get(threat.code)
        if base is None:
            base = bases[threat.code] = tuple(threat.base_probability[a.capability] for a in attackers)
        explanations = []
        for view, (everywhere, on_asset) in zip(views, codes_by_view, strict=True):
            codes = everywhere
            for e in ends:
                here = on_asset.get(e, everywhere)
                codes = here if codes is everywhere else codes | here
            hit = factors.get((threat.code, codes))
            if hit is None:
                controls = reductions(threat, codes)
                hit = factors[(threat.code, codes)] = (controls, success(base, controls))
            explanations.append(explain(view, attackers, reach, base, hit[0], hit[1], size, size_mean))
        rows.append((match, size, explanations))

    frequencies = np.array([[ex[v].frequency for _, _, ex in rows] for v in range(len(views))]).reshape(len(views), -1)
    sizes = np.array([m[:3] for _, m, _ in rows], dtype=np.float64).reshape(-1, 3)
    keys = [f"{m.threat_code}|{m.target_type}|{m.target_id}" for m, _, _ in rows]
    simulation = simulate_with_state(
        frequencies, sizes[:, 0], sizes[:, 1], sizes[:, 2], keys, seed=seed, draws=draws, previous=previous_losses
    )
    losses = simulation.summaries
    findings: dict[FindingKey, FindingRisk] = {}
    for i, (match, size, explanations) in enumerate(rows):
        impact = impact_band(size.likely)
        per_view = {}
        for v, ex in enumerate(explanations):
            likelihood = likelihood_band(ex.frequency)
            per_view[ex.view] = ViewRisk(
                ex.frequency,
                ex.expected_loss,
                float(losses[v].finding_mean[i]),
                float(losses[v].finding_p90[i]),
                likelihood,
                impact,
                risk_level(likelihood, impact),
                ex,
            )
        key = (match.threat_code, match.target_type, match.target_id)
        findings[key] = FindingRisk(*key, size, per_view)
    system = {
        view: SystemRisk(
            losses[v].system_mean,
            losses[v].system_p90,
            math.fsum(f.views[view].expected_loss for f in findings.values()),
            heat_map((f.views[view].likelihood_band, f.views[view].impact_band) for f in findings.values()),
        )
        for v, view in enumerate(views)
    }
    return RiskResult(
        views=views,
        findings=findings,
        system=system,
        reach={aid: r.probability for aid, r in paths.items()},
        reach_paths=paths,
        extraction=extraction_budgets(matches, assets, attackers, controls_by_view),
        seed=seed,
        draws=draws,
        loss_state=simulation.state,
        simulated=simulation.simulated,
    )
