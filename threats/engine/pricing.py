"""Pricing a view frame with the controls in force (docs/risk-method.md §2): every finding's
success and every theft's odds.

A frame (``attack_graph.ViewFrame``) does not depend on controls, so callers price one frame for
many control sets: the current and projected views, plan effects, the advisor's what-ifs. Two
things keep repeated pricing cheap, and neither changes a figure: a memo of success per
(technique, controls on the target, boost), and ``base``: a graph already priced on the same
frame with fewer controls. When the new controls only add scoped placements to it (a control on
a few assets or flows), only the findings on those targets are priced again; the controls on a
target are a union, so every other finding's codes, boost and success are the base's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields

import numpy as np

from threats.engine.attack_graph import Codes, ViewFrame, ViewGraph
from threats.engine.controls import ControlsInForce, codes_by_element, coverage
from threats.engine.finding_spec import FindingSpec
from threats.engine.graph_parts import Flows
from threats.engine.library import Match, ThreatDef
from threats.engine.success import finding_success, jewel_factor
from threats.engine.thefts import price_thefts

# (threat code, codes in force, boost bytes or None) -> (success by OC, reductions)
SuccessMemo = dict[tuple[str, frozenset[str], bytes | None], tuple[np.ndarray, tuple]]
Priced = tuple[ControlsInForce, ViewGraph]  # (controls, the graph priced with them)
Growth = list[tuple[str, frozenset[int], frozenset[int]]]  # (code, assets added, flows added)


def price_view(
    frame: ViewFrame, controls: ControlsInForce, memo: SuccessMemo | None = None, base: Priced | None = None
) -> ViewGraph:
    """The view's graph with ``controls`` (normalised: code -> Coverage or None) in force on
    ``frame``. ``memo``: success already computed for a (technique, controls, boost), kept by
    callers that price one frame many times; ``base``: see the module docstring."""
    memo = {} if memo is None else memo
    grown = _growth(base[0], controls) if base is not None and base[1].matches is frame.matches else None
    codes: Codes
    if base is None or grown is None:
        codes = codes_by_element(controls)
        todo: Sequence[int] = range(len(frame.matches))
        specs: list[FindingSpec] = [None] * len(frame.matches)  # type: ignore[list-item]
    else:
        codes, todo = _grow(frame, base[1].codes, grown)
        specs = list(base[1].findings)
    everywhere, on_asset, on_flow = codes
    flows = frame.topo.flows
    boosts = _boosts([frame.matches[i] for i in todo], frame.threats, flows, everywhere, on_asset, on_flow)
    for i in todo:
        match, is_active = frame.matches[i]
        threat = frame.threats[match.threat_code]
        on = _codes_on(match.target_type, match.target_id, flows, everywhere, on_asset, on_flow)
        key = (match.threat_code, match.target_type, match.target_id)
        boost = boosts.get(key, _ONES)
        token = (threat.code, on, None if boost is _ONES else boost.tobytes())
        priced = memo.get(token)
        if priced is None:
            priced = memo[token] = finding_success(threat, on, boost)
        specs[i] = FindingSpec(key, threat, is_active, priced[0], priced[1], boost)
    if base is None or grown is None:
        success = np.asarray([spec.success for spec in specs], dtype=np.float64).reshape(len(specs), 5)
    else:
        success = base[1].success.copy()
        for i in todo:
            success[i] = specs[i].success
    return ViewGraph(
        **{f.name: getattr(frame, f.name) for f in fields(ViewFrame)},
        findings=tuple(specs),
        thefts=price_thefts(frame.places, specs=specs, controls=codes, jewel_factor=jewel_factor),
        success=success,  # read by every profile run (and every what-if of the savings and the advisor)
        codes=codes,
    )


def _growth(old: ControlsInForce, new: ControlsInForce) -> Growth | None:
    """What ``new`` adds to ``old`` when it only adds scoped placements; None otherwise (a code
    removed or narrowed, or one in force everywhere that was not before)."""
    result: Growth = []
    before = {code: coverage(v) for code, v in old.items()}
    after = {code: coverage(v) for code, v in new.items()}
    for code, was in before.items():
        if code not in after:
            return None
        now = after[code]
        if now == was:
            continue
        if now is None or was is None or not (was.assets <= now.assets and was.flows <= now.flows):
            return None
        result.append((code, now.assets - was.assets, now.flows - was.flows))
    for code, now in after.items():
        if code not in before:
            if now is None:
                return None
            result.append((code, now.assets, now.flows))
    return result


def _grow(frame: ViewFrame, codes: Codes, grown: Growth) -> tuple[Codes, list[int]]:
    """The codes by element with ``grown`` added, and the findings whose targets it touches (a
    flow's controls include its ends')."""
    everywhere, base_assets, base_flows = codes
    on_asset, on_flow = dict(base_assets), dict(base_flows)
    assets: set[int] = set()
    flow_ids: set[int] = set()
    for code, added_assets, added_flows in grown:
        for a in added_assets:
            on_asset[a] = on_asset.get(a, everywhere) | {code}
        for f in added_flows:
            on_flow[f] = on_flow.get(f, everywhere) | {code}
        assets |= added_assets
        flow_ids |= added_flows
    for a in assets:
        flow_ids.update(frame.flows_at.get(a, ()))
    targets = [("asset", a) for a in assets] + [("flow", f) for f in flow_ids]
    todo = sorted(i for t in targets for i in frame.targets.get(t, ()))
    return (everywhere, on_asset, on_flow), todo


_ONES = np.ones(5)


def _codes_on(
    target_type: str,
    target_id: int,
    flows: Flows,
    everywhere: frozenset[str],
    on_asset: Mapping[int, frozenset[str]],
    on_flow: Mapping[int, frozenset[str]],
) -> frozenset[str]:
    """Control codes in force on a target: the asset, or a flow and both its ends."""
    if target_type == "asset":
        return on_asset.get(target_id, everywhere)
    flow = flows.by_id.get(target_id)
    codes = on_flow.get(target_id, everywhere)
    if flow is not None:
        codes = codes | on_asset.get(flow.source_id, everywhere) | on_asset.get(flow.target_id, everywhere)
    return codes


def _boosts(
    matches: Sequence[tuple[Match, bool]],
    threats: Mapping[str, ThreatDef],
    flows: Flows,
    everywhere: frozenset[str],
    on_asset: Mapping[int, frozenset[str]],
    on_flow: Mapping[int, frozenset[str]],
) -> dict[tuple[str, str, int], np.ndarray]:
    """(boosted code, target) -> success multiplier by OC from the enablers on that target."""
    result: dict[tuple[str, str, int], np.ndarray] = {}
    for match, is_active in matches:
        threat = threats[match.threat_code]
        if threat.role != "enabler" or not is_active:
            continue
        codes = _codes_on(match.target_type, match.target_id, flows, everywhere, on_asset, on_flow)
        survive = np.ones(5)
        for tc in threat.controls:
            if tc.control in codes:
                survive *= 1.0 - np.asarray(tc.effectiveness)
        factor = 1.0 + threat.boost * survive
        for code in threat.boosts:
            key = (code, match.target_type, match.target_id)
            result[key] = result.get(key, _ONES) * factor
    return result
