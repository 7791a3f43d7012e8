"""The system's expected loss by definition, for tests that check a faster path against it:
harden, derive the facts, match the library, build and price the graph anew, run every profile."""

from __future__ import annotations

from collections.abc import Sequence

from threats.engine.actions import Action, apply_hardening
from threats.engine.attack_graph import view_frame
from threats.engine.attackers import AttackerData
from threats.engine.controls import ControlsInForce, coverage
from threats.engine.evaluate import run_profile
from threats.engine.facts import derive_facts
from threats.engine.jewels import placement
from threats.engine.library import Library, find_threats
from threats.engine.pricing import price_view
from threats.engine.risk import system_expected
from threats.engine.snapshot import SystemSnapshot


def loss_from_scratch(
    snapshot: SystemSnapshot,
    library: Library,
    attackers: Sequence[AttackerData],
    controls: ControlsInForce,
    hardening: Sequence[Action] = (),
) -> float:
    hardened = apply_hardening(snapshot, hardening) if hardening else snapshot
    facts = derive_facts(hardened)
    frame = view_frame(
        snapshot=hardened,
        facts=facts,
        where=placement(hardened),
        library=library,
        active=find_threats(library, hardened, facts),
    )
    graph = price_view(frame, {code: coverage(v) for code, v in controls.items()})
    return system_expected(graph, [run_profile(graph, a) for a in attackers])
