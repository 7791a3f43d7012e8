"""The threat and control library (format v2, ``docs/library-format.md``) and matching it to a system.

This module holds the contract between the library files and the risk engine: the v2
dataclasses and the vocabularies of positions, yields and loss forms. ``load_library`` parses
and validates the two YAML files into them (``library_parse``: safe loader, size and node caps,
every error reported with its path); ``find_threats`` says which threats apply to which targets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain

from threats.engine.facts import Attrs, SystemFacts, derive_facts, gc_paused
from threats.engine.library_defs import (
    CONTROL_SCOPES,
    DEFAULT_CAPABILITY_DECAY,
    LIBRARY_VERSION,
    MAX_BYTES,
    MAX_FLOW_DEPTH,
    MAX_NODES,
    SAFE_LOADER,
    ControlDef,
    Library,
    LibraryError,
    LossDef,
    Match,
    ThreatControlDef,
    ThreatDef,
    positions_for,
)
from threats.engine.library_parse import parse_library
from threats.engine.snapshot import SystemSnapshot

__all__ = [
    "CONTROL_SCOPES",
    "ControlDef",
    "DEFAULT_CAPABILITY_DECAY",
    "find_threats",
    "Library",
    "LIBRARY_VERSION",
    "LibraryError",
    "load_library",
    "LossDef",
    "Match",
    "MAX_BYTES",
    "MAX_FLOW_DEPTH",
    "MAX_NODES",
    "positions_for",
    "rematch",
    "SAFE_LOADER",
    "ThreatControlDef",
    "ThreatDef",
]


def load_library(threats_yaml: bytes | str, controls_yaml: bytes | str) -> Library:
    """Parse and validate both library files; raise LibraryError listing every problem found."""
    return parse_library(threats_yaml, controls_yaml)


def find_threats(library: Library, snapshot: SystemSnapshot, facts: SystemFacts | None = None) -> list[Match]:
    """Every (threat, target) pair whose rule holds, sorted by threat code, target type, target id.

    Asset threats are only tested on assets whose kind is in the threat's ``asset_kinds``, so
    the cost is proportional to the candidates, not to threats x all elements.
    """
    facts = facts if facts is not None else derive_facts(snapshot)
    with gc_paused():
        return _match(library, facts)


def rematch(library: Library, facts: SystemFacts, base_facts: SystemFacts, base: Sequence[Match]) -> list[Match]:
    """``find_threats`` for ``facts`` that differ from ``base_facts`` in a few targets (a what-if
    of the advisor): a target's matches depend on its own attributes only, so a target whose
    attributes are unchanged keeps its ``base`` matches and only the others are tested again."""
    assets = {i: a for i, a in facts.assets.items() if base_facts.assets.get(i) != a}
    flows = {i: a for i, a in facts.flows.items() if base_facts.flows.get(i) != a}
    kept = [
        m
        for m in base
        if (m.target_type == "asset" and m.target_id in facts.assets and m.target_id not in assets)
        or (m.target_type == "flow" and m.target_id in facts.flows and m.target_id not in flows)
    ]
    with gc_paused():
        matches = kept + _match(library, SystemFacts(assets=assets, flows=flows))
    matches.sort(key=lambda m: (m.threat_code, m.target_type, m.target_id))
    return matches


def _match(library: Library, facts: SystemFacts) -> list[Match]:
    by_kind: dict[str, list[tuple[int, Attrs]]] = defaultdict(list)
    for asset_id, attrs in facts.assets.items():
        by_kind[attrs["kind"]].append((asset_id, attrs))
    flows = list(facts.flows.items())
    matches: list[Match] = []
    for threat in library.threats:
        candidates: Iterable[tuple[int, Attrs]]
        if threat.target == "asset":
            candidates = chain.from_iterable(by_kind.get(kind, ()) for kind in threat.asset_kinds)
        else:
            candidates = flows
        test, explain = threat.rule.test, threat.rule.explain
        for target_id, attrs in candidates:
            if test(attrs):
                matches.append(Match(threat.code, threat.target, target_id, tuple(explain(attrs))))
    matches.sort(key=lambda m: (m.threat_code, m.target_type, m.target_id))
    return matches
