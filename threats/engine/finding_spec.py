"""One (threat, target) of a view as the graph prices it (``attack_graph``, ``pricing``) and the
theft table reads it (``thefts``): a module of its own so that neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from threats.engine.library import ThreatDef


@dataclass(frozen=True, slots=True)
class FindingSpec:
    """One (threat, target) of the view. ``active``: part of this view's graph; a finding of the
    current system that the inherent system lacks is priced there as a shadow (its own routes,
    every control off) without changing the view's totals."""

    key: tuple[str, str, int]
    threat: ThreatDef
    active: bool
    success: np.ndarray  # (5,) per OC level, controls and boosts applied
    reductions: tuple[tuple[str, tuple[float, ...]], ...]  # (control, effectiveness by OC)
    boost: np.ndarray  # (5,) multiplier from enablers on the same target
