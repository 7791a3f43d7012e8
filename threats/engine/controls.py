"""Which controls are in force, where, for each risk view (DESIGN.md §4.6).

A view's controls are a mapping from control code to the asset ids it covers, or to None when
it covers the whole system (an organisation-wide programme, or a plan not tied to assets).
Three views are standard: ``inherent`` (nothing), ``current`` (what the assets' own properties
imply, plus implemented and verified plans) and ``projected`` (current plus approved and
proposed plans). The service assembles the plan part from the database; ``implied_controls``
reads the rest off the snapshot, so that marking an endpoint ``rate_limited`` counts as having
``M-RATE-QUOTA`` there without anyone filing a plan for it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType

from threats.engine.snapshot import AssetData, SystemSnapshot

ControlsInForce = Mapping[str, frozenset[int] | None]  # code -> covered asset ids; None = system-wide
VIEWS: tuple[str, ...] = ("inherent", "current", "projected")
NO_CONTROLS: ControlsInForce = MappingProxyType({})


def _authn(a: AssetData) -> bool:
    return a.authentication != "none"


def _mfa(a: AssetData) -> bool:
    return a.mfa and a.authentication != "none"


def _rate(a: AssetData) -> bool:
    return a.rate_limited


def _monitored(a: AssetData) -> bool:
    return a.monitored


def _logging(a: AssetData) -> bool:
    return a.logging


def _encrypted(a: AssetData) -> bool:
    return a.encrypted_at_rest


def _label_only(a: AssetData) -> bool:
    return a.output_granularity == "label"


# Asset property -> the library control it amounts to. Every code exists in
# mitigations/library/controls.yaml; ``implied_controls`` can still filter by a known set.
IMPLIED_BY_PROPERTY = (
    ("M-API-AUTHN", _authn),
    ("M-PHISHRES-MFA", _mfa),
    ("M-RATE-QUOTA", _rate),
    ("M-EXTRACTION-MONITOR", _monitored),
    ("M-AI-TELEMETRY", _logging),
    ("M-ENCRYPT-KMS", _encrypted),
    ("M-OUTPUT-MINIMIZE", _label_only),
)


def implied_controls(snapshot: SystemSnapshot, known: Collection[str] | None = None) -> ControlsInForce:
    """Controls the assets' own properties put in force on those assets (a "current" input).

    ``known``: the library's control codes; implied codes missing from it are skipped, so a
    trimmed library never makes the engine reference a control it cannot describe.
    """
    result: dict[str, frozenset[int] | None] = {}
    for code, has in IMPLIED_BY_PROPERTY:
        if known is not None and code not in known:
            continue
        covered = frozenset(a.id for a in snapshot.assets if has(a))
        if covered:
            result[code] = covered
    return MappingProxyType(result)


def merge(*views: ControlsInForce) -> ControlsInForce:
    """Union of several sets of controls; system-wide (None) wins over any list of assets."""
    result: dict[str, frozenset[int] | None] = {}
    for view in views:
        for code, covered in view.items():
            if code in result:
                before = result[code]
                result[code] = None if before is None or covered is None else before | covered
            else:
                result[code] = covered
    return MappingProxyType(result)


def standard_views(
    *, implied: ControlsInForce, implemented: ControlsInForce, planned: ControlsInForce
) -> dict[str, ControlsInForce]:
    """The three views of DESIGN.md §4.6, nested by construction: projected ⊇ current ⊇ inherent.

    ``implemented``: implemented and verified plans; ``planned``: approved and proposed plans.
    """
    current = merge(implied, implemented)
    return {"inherent": NO_CONTROLS, "current": current, "projected": merge(current, planned)}


def in_force(controls: ControlsInForce, code: str, asset_ids: Iterable[int]) -> bool:
    """Whether ``code`` applies to a target made of ``asset_ids`` (one asset, or a flow's two ends)."""
    if code not in controls:
        return False
    covered = controls[code]
    return covered is None or any(a in covered for a in asset_ids)


def codes_by_asset(controls: ControlsInForce) -> tuple[frozenset[str], dict[int, frozenset[str]]]:
    """(codes in force everywhere, asset id -> every code in force on it); assets absent from
    the dict have only the system-wide ones. The risk engine looks a finding's controls up here:
    shared frozensets make the per-finding work a dict lookup instead of a scan of every control."""
    everywhere = frozenset(code for code, covered in controls.items() if covered is None)
    local: dict[int, set[str]] = {}
    for code, covered in controls.items():
        for asset_id in covered or ():
            local.setdefault(asset_id, set()).add(code)
    return everywhere, {asset_id: frozenset(codes) | everywhere for asset_id, codes in local.items()}
