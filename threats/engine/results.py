"""What the risk engine returns (``risk.compute_risk``): plain, frozen, JSON-ready values.

Per finding and view: how often the technique succeeds, the expected yearly loss of the routes
through it (its ranking figure: never more than the jewels it leads to are worth), its
apportioned exposure (shares of each jewel's loss that add up to that loss), and, for the
current view's top findings, what fixing it saves. Per jewel: the yearly loss and its routes.
Per system: the totals. Finding figures do not add up to the total; exposures do.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

FindingKey = tuple[str, str, int]  # (threat_code, target_type, target_id)

BAND_NAMES: tuple[str, ...] = ("very low", "low", "moderate", "high", "very high")
# Loss events per year. NIST SP 800-30 names the five levels; the decades are ours.
LIKELIHOOD_THRESHOLDS: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
# Most likely loss per event in the system's currency, by decades from 10k to 10M.
IMPACT_THRESHOLDS: tuple[float, ...] = (10_000.0, 100_000.0, 1_000_000.0, 10_000_000.0)
# NIST SP 800-30 Rev. 1, Appendix I, Table I-2: level by likelihood (rows) and impact (columns).
RISK_LEVELS: tuple[tuple[str, ...], ...] = (
    ("very low", "very low", "very low", "low", "low"),
    ("very low", "low", "low", "low", "moderate"),
    ("very low", "low", "moderate", "moderate", "high"),
    ("very low", "low", "moderate", "high", "very high"),
    ("very low", "low", "moderate", "high", "very high"),
)


def likelihood_band(frequency: float) -> int:
    return 1 + bisect_right(LIKELIHOOD_THRESHOLDS, frequency)


def impact_band(likely_loss: float) -> int:
    return 1 + bisect_right(IMPACT_THRESHOLDS, likely_loss)


def risk_level(likelihood: int, impact: int) -> str:
    return RISK_LEVELS[likelihood - 1][impact - 1]


def heat_map(bands: Iterable[tuple[int, int]]) -> tuple[tuple[int, ...], ...]:
    """5 x 5 counts: ``[likelihood - 1][impact - 1]``, very low first on both axes."""
    counts = [[0] * 5 for _ in range(5)]
    for likelihood, impact in bands:
        counts[likelihood - 1][impact - 1] += 1
    return tuple(tuple(row) for row in counts)


class Magnitude(NamedTuple):
    """Loss per event (min, most likely, max); the explanation says where it comes from."""

    low: float
    likely: float
    high: float


@dataclass(frozen=True, slots=True)
class FindingView:
    frequency: float  # successful tries a year
    loss: float  # expected yearly loss of the routes through this finding
    p90: float
    exposure: float  # its share of the jewels' loss (shares of one jewel add up to it)
    saving: float | None  # drop of the system's expected loss if fixed; None when not computed
    likelihood_band: int
    impact_band: int
    risk_level: str
    explanation: Mapping[str, Any] | None  # None: not expanded in this run (see explain.findings_of)


@dataclass(frozen=True, slots=True)
class FindingRisk:
    threat_code: str
    target_type: str
    target_id: int
    role: str
    form: str  # theft | compute | access | enabler
    magnitude: Magnitude
    views: Mapping[str, FindingView]

    @property
    def key(self) -> FindingKey:
        return (self.threat_code, self.target_type, self.target_id)


class RouteStep(NamedTuple):
    """One move of a route: from and to are node labels (("asset", id), ("internet", 0),
    ("zone", id), ("query", id), ("jewel", id)); ``techniques``: (code, target type, target id,
    probability) of the findings that make the move, empty for a structural one."""

    source: tuple[str, int]
    target: tuple[str, int]
    probability: float
    techniques: tuple[tuple[str, str, int, float], ...]
    kind: str  # "move" | "structural" | "theft"


@dataclass(frozen=True, slots=True)
class Route:
    attacker_id: int
    jewel_id: int
    probability: float
    share: float  # of the jewel's value the final theft takes
    steps: tuple[RouteStep, ...]


@dataclass(frozen=True, slots=True)
class JewelView:
    expected: float
    mean: float
    p90: float
    probability: float  # of at least one theft in a year (any category)
    rates: tuple[tuple[float, float], ...]  # (share of value, thefts a year)
    by_profile: Mapping[int, float]  # attacker id -> its contribution to the full-loss rate


@dataclass(frozen=True, slots=True)
class JewelRisk:
    asset_id: int
    value: tuple[float, float, float]
    value_mean: float
    views: Mapping[str, JewelView]


@dataclass(frozen=True, slots=True)
class ComputeView:
    expected: float
    mean: float
    rate: float
    days: float


@dataclass(frozen=True, slots=True)
class ComputeRisk:
    asset_id: int
    cost: tuple[float, float, float]
    views: Mapping[str, ComputeView]


@dataclass(frozen=True, slots=True)
class SystemView:
    mean: float
    p90: float
    expected: float
    theft_expected: float
    compute_expected: float
    heat_map: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class RiskResult:
    views: tuple[str, ...]
    findings: Mapping[FindingKey, FindingRisk]
    jewels: Mapping[int, JewelRisk]
    compute: Mapping[int, ComputeRisk]
    system: Mapping[str, SystemView]
    reach: Mapping[int, Mapping[int, float]]  # attacker id -> asset id -> P(reach), current view
    routes: Mapping[tuple[int, int], Route]  # (attacker id, jewel id) -> best route, current view
    extraction: Mapping[FindingKey, Mapping[str, tuple[Any, ...]]]
    attribution_jewels: tuple[int, ...]
    seed: int
    draws: int
    internals: Any = field(default=None, compare=False, repr=False)  # graphs and runs, for paths
