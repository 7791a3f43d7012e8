"""Which controls are in force, where, for each risk view (DESIGN.md §4.5).

A view's controls map a control code to what it covers: some assets and flows (``Coverage``),
or the whole system (None: an organisation-wide programme, or a plan not tied to elements).
Three views are standard: ``inherent`` (nothing at all), ``current`` (what the elements' own
properties imply, plus implemented and verified plans) and ``projected`` (current plus approved
and proposed plans). The inherent view is also computed on the system with every control-like
property switched off (``normalise.inherent_snapshot``), so that neither a plan nor a property
that amounts to a control can move it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from threats.engine.snapshot import AssetData, SystemSnapshot


@dataclass(frozen=True, slots=True)
class Coverage:
    """The assets and flows a control is in force on."""

    assets: frozenset[int] = frozenset()
    flows: frozenset[int] = frozenset()

    def __or__(self, other: Coverage) -> Coverage:
        return Coverage(self.assets | other.assets, self.flows | other.flows)

    def __bool__(self) -> bool:
        return bool(self.assets or self.flows)


# code -> what it covers; None = system-wide. A plain frozenset of asset ids is accepted too.
ControlsInForce = Mapping[str, Coverage | frozenset[int] | None]
VIEWS: tuple[str, ...] = ("inherent", "current", "projected")
NO_CONTROLS: ControlsInForce = MappingProxyType({})

# Asset property -> the library control it amounts to (docs/risk-method.md §2).
IMPLIED_BY_PROPERTY: tuple[tuple[str, str], ...] = (
    ("M-API-AUTHN", "authenticated"),
    ("M-MFA", "mfa"),
    ("M-RATE-QUOTA", "rate_limited"),
    ("M-EXTRACTION-MONITOR", "monitored"),
    ("M-AI-TELEMETRY", "logging"),
    ("M-ENCRYPT-KMS", "encrypted_at_rest"),
    ("M-OUTPUT-MINIMIZE", "minimal_output"),
)
TRANSIT_CONTROL = "M-ENCRYPT-TRANSIT"  # implied by a flow's ``encrypted``
MINIMAL_OUTPUTS = frozenset({"text", "label"})


def _has(asset: AssetData, prop: str) -> bool:
    if prop == "authenticated":
        return asset.authentication != "none"
    if prop == "mfa":
        return asset.mfa and asset.authentication != "none"
    if prop == "minimal_output":
        return asset.output_granularity in MINIMAL_OUTPUTS
    return bool(getattr(asset, prop))


def coverage(value: Coverage | frozenset[int] | None) -> Coverage | None:
    """Normalise a mapping value: a frozenset of asset ids becomes a Coverage."""
    if value is None or isinstance(value, Coverage):
        return value
    return Coverage(assets=frozenset(value))


def implied_controls(snapshot: SystemSnapshot, known: Collection[str] | None = None) -> ControlsInForce:
    """Controls the elements' own properties put in force on them (a "current" input).

    ``known``: the library's control codes; implied codes missing from it are skipped, so a
    trimmed library never makes the engine reference a control it cannot describe.
    """
    result: dict[str, Coverage | None] = {}
    for code, prop in IMPLIED_BY_PROPERTY:
        if known is not None and code not in known:
            continue
        covered = frozenset(a.id for a in snapshot.assets if _has(a, prop))
        if covered:
            result[code] = Coverage(assets=covered)
    if known is None or TRANSIT_CONTROL in known:
        encrypted = frozenset(f.id for f in snapshot.flows if f.encrypted)
        if encrypted:
            result[TRANSIT_CONTROL] = Coverage(flows=encrypted)
    return MappingProxyType(result)


def merge(*views: ControlsInForce) -> ControlsInForce:
    """Union of several sets of controls; system-wide (None) wins over any coverage."""
    result: dict[str, Coverage | None] = {}
    for view in views:
        for code, raw in view.items():
            covered = coverage(raw)
            if code in result:
                before = result[code]
                result[code] = None if before is None or covered is None else before | covered
            else:
                result[code] = covered
    return MappingProxyType(result)


def standard_views(
    *, implied: ControlsInForce, implemented: ControlsInForce, planned: ControlsInForce
) -> dict[str, ControlsInForce]:
    """The three views, nested by construction: projected ⊇ current ⊇ inherent (= nothing).

    ``implemented``: implemented and verified plans; ``planned``: approved and proposed plans.
    """
    current = merge(implied, implemented)
    return {"inherent": NO_CONTROLS, "current": current, "projected": merge(current, planned)}


def in_force(controls: ControlsInForce, code: str, asset_ids: Iterable[int], flow_id: int | None = None) -> bool:
    """Whether ``code`` applies to a target made of ``asset_ids`` (and, for a flow, the flow)."""
    if code not in controls:
        return False
    covered = coverage(controls[code])
    if covered is None:
        return True
    return (flow_id is not None and flow_id in covered.flows) or any(a in covered.assets for a in asset_ids)


def codes_by_element(
    controls: ControlsInForce,
) -> tuple[frozenset[str], dict[int, frozenset[str]], dict[int, frozenset[str]]]:
    """(codes in force everywhere, asset id -> codes on it, flow id -> codes on it); elements
    absent from a dict have only the system-wide codes. Shared frozensets keep the per-target
    lookup a dict access instead of a scan of every control."""
    everywhere = frozenset(code for code, covered in controls.items() if covered is None)
    on_asset: dict[int, set[str]] = {}
    on_flow: dict[int, set[str]] = {}
    for code, raw in controls.items():
        covered = coverage(raw)
        if covered is None:
            continue
        for asset_id in covered.assets:
            on_asset.setdefault(asset_id, set()).add(code)
        for flow_id in covered.flows:
            on_flow.setdefault(flow_id, set()).add(code)
    return (
        everywhere,
        {a: frozenset(c) | everywhere for a, c in on_asset.items()},
        {f: frozenset(c) | everywhere for f, c in on_flow.items()},
    )


def codes_by_asset(controls: ControlsInForce) -> tuple[frozenset[str], dict[int, frozenset[str]]]:
    """(codes in force everywhere, asset id -> codes on it): the asset part of ``codes_by_element``."""
    everywhere, on_asset, _ = codes_by_element(controls)
    return everywhere, on_asset
