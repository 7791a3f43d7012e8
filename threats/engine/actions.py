"""Candidate actions of the advisor (DESIGN.md §5): controls placed where they protect, and
hardening changes of properties, each with a yearly cost.

A control of the library with asset kinds is placed on one asset at a time, and only where a
finding that lists it targets that asset (or a flow touching it, or the jewel it protects): a
control is never bought for an asset it cannot help. A control priced per system (a programme)
is one action for the whole system. Hardening changes what the system *is* (remove an internet
exposure, require authentication or MFA, add a rate limit or monitoring, encrypt a jewel, destroy
a less secure copy), so they can cut routes that no control reaches.

Annual cost = yearly cost + one-off cost / AMORTISATION_YEARS, at the midpoints of the library's
ranges, times the elements covered for per-element controls: a control is bought once and then
run, and three years is a common depreciation period for security tooling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from threats.engine.controls import Coverage
from threats.engine.graph_parts import INTERFACE_KINDS
from threats.engine.library import ControlDef, Library, Match
from threats.engine.snapshot import AssetData, SystemSnapshot
from threats.engine.vocab import DATA_KINDS, HUMAN_ROLE

AMORTISATION_YEARS = 3
THIRD_PARTY_KINDS = frozenset({"package_source", "external_service", "model_hub"})
# Exposure is the purpose of these: a public API, an agent users talk to, a phone, a person.
# Taking them off the internet is not advice anyone can follow; harden them instead.
PUBLIC_BY_DESIGN = INTERFACE_KINDS | {"edge_device", HUMAN_ROLE}
# What each hardening change costs, as the library control it amounts to; removing an exposure
# is a network change (move behind a private endpoint or VPN): our estimate, in USD.
HARDENING_CONTROL = {
    "require_authentication": "M-API-AUTHN",
    "require_mfa": "M-MFA",
    "add_rate_limit": "M-RATE-QUOTA",
    "add_monitoring": "M-EXTRACTION-MONITOR",
    "encrypt_at_rest": "M-ENCRYPT-KMS",
    "destroy_copy": "M-CENTRAL-STORE",
}
REMOVE_EXPOSURE_COST = (10_000.0, 2_000.0)  # one-off, yearly
HARDENING_LABELS = {
    "remove_exposure": "Remove internet exposure",
    "require_authentication": "Require authentication",
    "require_mfa": "Require MFA",
    "add_rate_limit": "Add a per-account rate limit",
    "add_monitoring": "Monitor and alert on use",
    "encrypt_at_rest": "Encrypt the file (key in a KMS)",
    "destroy_copy": "Destroy this less secure copy",
}


@dataclass(frozen=True, slots=True)
class Action:
    """One thing to buy or change. ``control`` + ``coverage`` (None: system-wide) for a control
    placement; ``change`` + ``asset_id`` (+ ``holder_id`` for a copy) for a hardening change."""

    key: str
    label: str
    one_off_cost: float
    yearly_cost: float
    control: str = ""
    coverage: Coverage | None = None
    change: str = ""
    asset_id: int | None = None
    holder_id: int | None = None

    @property
    def annual_cost(self) -> float:
        return self.yearly_cost + self.one_off_cost / AMORTISATION_YEARS

    @property
    def element_ids(self) -> tuple[int, ...]:
        if self.asset_id is not None:
            return (self.asset_id,)
        return tuple(sorted(self.coverage.assets)) if self.coverage is not None else ()

    @property
    def flow_ids(self) -> tuple[int, ...]:
        """The flows a placement on flows covers (``flow_actions``); () for everything else."""
        return tuple(sorted(self.coverage.flows)) if self.coverage is not None else ()


def _mid(pair: tuple[float, float]) -> float:
    return (pair[0] + pair[1]) / 2


def control_actions(
    library: Library,
    snapshot: SystemSnapshot,
    matches: Sequence[Match],
    in_force: Mapping[str, Coverage | None],
) -> list[Action]:
    """Placements of library controls where a finding lists them and they are not in force."""
    threats = {t.code: t for t in library.threats}
    assets = {a.id: a for a in snapshot.assets}
    flows = {f.id: f for f in snapshot.flows}
    wanted: dict[str, set[int]] = {}
    for match in matches:
        threat = threats.get(match.threat_code)
        if threat is None:
            continue
        targets = [match.target_id] if match.target_type == "asset" else list(_ends(flows, match.target_id))
        for tc in threat.controls:
            wanted.setdefault(tc.control, set()).update(targets)
    actions: list[Action] = []
    for control in library.controls:
        if control.code not in wanted or (control.code in in_force and in_force[control.code] is None):
            continue
        covered = in_force.get(control.code)
        have = covered.assets if covered is not None else frozenset()
        if control.pricing == "per_system" or not control.asset_kinds:
            actions.append(_placement(control, None, 1))
            continue
        for asset_id in sorted(wanted[control.code] - have):
            asset = assets.get(asset_id)
            if asset is not None and asset.kind in control.asset_kinds:
                actions.append(_placement(control, Coverage(assets=frozenset({asset_id})), 1, asset.name))
    return actions


def flow_actions(
    library: Library,
    snapshot: SystemSnapshot,
    matches: Sequence[Match],
    in_force: Mapping[str, Coverage | None],
) -> list[Action]:
    """Placements on one flow of the controls that can be put in force on flows
    (``ControlDef.flows``, priced per element), where a finding on that flow lists the control
    and it is not in force there yet (on the flow, on either end, or system-wide): encryption in
    transit against interception of what the flow carries, for instance.

    The weighted cut prices flows with these (``chokepoints.weighted_cut``). The greedy advisor
    does not score them: a plan filed for a flow's findings covers the flow's two ends
    (``mitigations.selectors.covered_assets``), so a step priced on the flow alone would not be
    the plan that "Propose" files.
    """
    threats = {t.code: t for t in library.threats}
    controls = {c.code: c for c in library.controls if c.flows and c.pricing == "per_element"}
    flows = {f.id: f for f in snapshot.flows}
    wanted: dict[int, set[str]] = {}
    for match in matches:
        threat = threats.get(match.threat_code)
        if match.target_type != "flow" or threat is None or match.target_id not in flows:
            continue
        wanted.setdefault(match.target_id, set()).update(tc.control for tc in threat.controls if tc.control in controls)
    actions: list[Action] = []
    for flow_id in sorted(wanted):
        flow = flows[flow_id]
        for code in sorted(wanted[flow_id]):
            if code in in_force and _covers(in_force[code], flow_id, (flow.source_id, flow.target_id)):
                continue
            control = controls[code]
            actions.append(
                Action(
                    key=f"{code}@flow{flow_id}",
                    label=f"{control.name} on {flow.name or f'flow {flow_id}'}",
                    one_off_cost=_mid(control.cost_one_off),
                    yearly_cost=_mid(control.cost_yearly),
                    control=code,
                    coverage=Coverage(flows=frozenset({flow_id})),
                )
            )
    return actions


def _covers(covered: Coverage | None, flow_id: int, ends: tuple[int, ...]) -> bool:
    """Whether a control with this coverage already acts on the flow (as the engine reads a
    flow's controls: its own, its ends', or system-wide)."""
    return covered is None or flow_id in covered.flows or bool(covered.assets.intersection(ends))


def _ends(flows: Mapping[int, object], flow_id: int) -> tuple[int, ...]:
    flow = flows.get(flow_id)
    return (flow.source_id, flow.target_id) if flow is not None else ()  # type: ignore[attr-defined]


def _placement(control: ControlDef, coverage: Coverage | None, count: int, where: str = "") -> Action:
    scope = f" on {where}" if where else " (system-wide)"
    key = f"{control.code}@{'system' if coverage is None else ','.join(map(str, sorted(coverage.assets)))}"
    return Action(
        key=key,
        label=f"{control.name}{scope}",
        one_off_cost=_mid(control.cost_one_off) * count,
        yearly_cost=_mid(control.cost_yearly) * count,
        control=control.code,
        coverage=coverage,
    )


def hardening_actions(library: Library, snapshot: SystemSnapshot) -> list[Action]:
    """Property changes that would make an asset or copy harder to use, with their costs."""
    controls = {c.code: c for c in library.controls}
    actions: list[Action] = []

    def add(change: str, asset: AssetData, holder: AssetData | None = None) -> None:
        if change == "remove_exposure":
            one_off, yearly = REMOVE_EXPOSURE_COST
        else:
            control = controls.get(HARDENING_CONTROL[change])
            if control is None:
                return
            one_off, yearly = _mid(control.cost_one_off), _mid(control.cost_yearly)
        where = f"{asset.name} on {holder.name}" if holder is not None else asset.name
        actions.append(
            Action(
                key=f"{change}@{asset.id}" + (f"@{holder.id}" if holder is not None else ""),
                label=f"{HARDENING_LABELS[change]}: {where}",
                one_off_cost=one_off,
                yearly_cost=yearly,
                change=change,
                asset_id=asset.id,
                holder_id=holder.id if holder is not None else None,
            )
        )

    assets = {a.id: a for a in snapshot.assets}
    for asset in snapshot.assets:
        if asset.kind in DATA_KINDS:
            if max(asset.value_likely, asset.value_max) > 0 and not asset.encrypted_at_rest:
                add("encrypt_at_rest", asset)
            for holder in asset.stored_on[1:]:
                if holder in assets:
                    add("destroy_copy", asset, assets[holder])
            continue
        if asset.third_party or asset.kind in THIRD_PARTY_KINDS:
            continue  # another organisation's system: not ours to change
        if asset.internet_facing and asset.kind not in PUBLIC_BY_DESIGN:
            add("remove_exposure", asset)
        if asset.kind != HUMAN_ROLE and asset.authentication == "none":
            add("require_authentication", asset)
        if asset.authentication != "none" and not asset.mfa:
            add("require_mfa", asset)
        if asset.kind in INTERFACE_KINDS and not asset.rate_limited:
            add("add_rate_limit", asset)
        if asset.kind in INTERFACE_KINDS and not asset.monitored:
            add("add_monitoring", asset)
    return actions


def apply_hardening(snapshot: SystemSnapshot, actions: Sequence[Action]) -> SystemSnapshot:
    """The snapshot with the hardening changes of ``actions`` made."""
    changes: dict[int, dict[str, object]] = {}
    gone: dict[int, set[int]] = {}
    for action in actions:
        if not action.change or action.asset_id is None:
            continue
        patch = changes.setdefault(action.asset_id, {})
        if action.change == "remove_exposure":
            patch["internet_facing"] = False
        elif action.change == "require_authentication":
            patch["authentication"] = "sso"
        elif action.change == "require_mfa":
            patch["mfa"] = True
        elif action.change == "add_rate_limit":
            patch["rate_limited"] = True
        elif action.change == "add_monitoring":
            patch["monitored"] = True
        elif action.change == "encrypt_at_rest":
            patch["encrypted_at_rest"] = True
        elif action.change == "destroy_copy" and action.holder_id is not None:
            gone.setdefault(action.asset_id, set()).add(action.holder_id)
    if not changes and not gone:
        return snapshot
    assets = []
    for asset in snapshot.assets:
        patch = dict(changes.get(asset.id, {}))
        if asset.id in gone:
            patch["stored_on"] = tuple(h for h in asset.stored_on if h not in gone[asset.id])
        assets.append(replace(asset, **patch) if patch else asset)  # type: ignore[arg-type]
    return SystemSnapshot(zones=snapshot.zones, assets=tuple(assets), flows=snapshot.flows)
