"""Odds that one try of a technique succeeds, per RAND operational capacity (OC1..OC5).

    success[oc] = base_probability[oc] x product over the technique's controls in force of
                  (1 - effectiveness[oc]) x enabler boost[oc], capped at 1

The attacker's capability enters here and nowhere else (one factor per step). Effectiveness is
per OC level: a control RAND expects at security level n is weaker against operators above OCn
(``library`` decays it with the control's ``capability_decay``). Controls marked ``on: jewel``
count only when in force on the stolen jewel itself (a file's own encryption), so they are left
to ``jewel_factor``.
"""

from __future__ import annotations

import numpy as np

from threats.engine.library import Library, ThreatDef
from threats.engine.vocab import OC_LEVELS

Reductions = tuple[tuple[str, tuple[float, ...]], ...]


def base_vector(threat: ThreatDef) -> np.ndarray:
    return np.asarray([threat.base_probability[level] for level in OC_LEVELS], dtype=np.float64)


def finding_success(
    threat: ThreatDef, codes: frozenset[str], boost: np.ndarray, library: Library | None = None
) -> tuple[np.ndarray, Reductions]:
    """(success by OC, the reductions that applied) for ``threat`` with ``codes`` in force."""
    survive = np.ones(5)
    reductions: list[tuple[str, tuple[float, ...]]] = []
    for tc in threat.controls:
        if tc.on == "jewel" or tc.control not in codes:
            continue
        survive = survive * (1.0 - np.asarray(tc.effectiveness))
        reductions.append((tc.control, tuple(tc.effectiveness)))
    success = np.minimum(base_vector(threat) * survive * boost, 1.0)
    return success, tuple(reductions)


def jewel_factor(threat: ThreatDef, jewel_codes: frozenset[str]) -> tuple[np.ndarray, Reductions]:
    """The survival factor of the ``on: jewel`` controls in force on the jewel, by OC."""
    survive = np.ones(5)
    reductions: list[tuple[str, tuple[float, ...]]] = []
    for tc in threat.controls:
        if tc.on != "jewel" or tc.control not in jewel_codes:
            continue
        survive = survive * (1.0 - np.asarray(tc.effectiveness))
        reductions.append((tc.control, tuple(tc.effectiveness)))
    return survive, tuple(reductions)
