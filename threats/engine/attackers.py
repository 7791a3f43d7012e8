"""Attacker profiles as plain data: the third input of the risk engine, beside snapshot and library.

A service copies each ``AttackerProfile`` row into an ``AttackerData``; the engines never see the
model. Entry points are ids, like everything in a snapshot, so that a profile is serialisable and
can be built by hand in a test or a benchmark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from threats.engine.vocab import ACTOR_TYPES, OC_LEVELS


@dataclass(frozen=True, slots=True, kw_only=True)
class AttackerData:
    """Who attacks, with which RAND operational capacity, from where, and how often.

    ``actor_type``: external, insider (staff with legitimate access), supplier (vendor,
    contractor or licensee staff, or whoever controls a third-party source) or physical (can
    touch facilities or hardware); threats declare which types can realise them.

    ``entry_zone_ids``: zones the attacker starts in. A trust-level-0 zone means "on the
    internet"; any other zone means inside it (every asset of that zone is reached with
    probability 1, the insider case). ``entry_asset_ids``: assets the attacker already holds.
    A profile with neither starts on the internet (see ``reach.entry_sources``).
    ``attempts_per_year``: how many attempts against each reachable target the profile makes,
    FAIR's threat event frequency before reach and success are applied.
    """

    id: int
    name: str = ""
    capability: str = "OC2"
    actor_type: str = "external"
    entry_zone_ids: tuple[int, ...] = ()
    entry_asset_ids: tuple[int, ...] = ()
    attempts_per_year: float = 1.0

    def __post_init__(self) -> None:
        # Refuse bad data here: a typo in the capability would otherwise silently price at zero.
        if self.capability not in OC_LEVELS:
            raise ValueError(f"attacker {self.id}: capability {self.capability!r} is not one of {OC_LEVELS}")
        if self.actor_type not in ACTOR_TYPES:
            raise ValueError(f"attacker {self.id}: actor type {self.actor_type!r} is not one of {sorted(ACTOR_TYPES)}")
        if not math.isfinite(self.attempts_per_year) or self.attempts_per_year < 0:
            raise ValueError(f"attacker {self.id}: attempts_per_year must be a finite number >= 0")
