"""Parse and validate the library files (format v2, ``docs/library-format.md``) into the v2 records.

Each entry is checked field by field and every problem of every entry is reported at once, each
with its path (``threats[T-X].loss.fraction: ...``), so a library author fixes a file in one
round. Beyond the types, the checks are the ones the risk engine relies on: keys that belong to
one role only, positions valid for the role and target, a loss form consistent with what it
yields, boosts naming threats of the file, and controls known to the catalogue. A control's
effectiveness given as one number is decayed (``library_links``), per OC level above the control's RAND level,
so the engine reads five ready figures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from threats.engine.library_defs import (
    DEFAULT_CAPABILITY_DECAY,
    LOSS_FORMS,
    LOSS_VALUES,
    PRICINGS,
    QUERY_GOALS,
    ROLES,
    YIELDS,
    ControlDef,
    Library,
    LibraryError,
    LossDef,
    ThreatDef,
    positions_for,
)
from threats.engine.library_fields import (
    Collect,
    boolean,
    by_level,
    check_keys,
    choice,
    document,
    entries,
    integer,
    kinds,
    mapping,
    money_range,
    open_unit,
    positive_unit,
    str_list,
    string,
    typename,
)
from threats.engine.library_links import CONTROL_CODE, threat_controls
from threats.engine.rules import Rule, RuleError, Target, compile_condition
from threats.engine.vocab import (
    ACTOR_TYPES,
    CONTROL_TYPES,
    HUMAN_ROLE,
    OC_LEVELS,
    RAND_VECTORS,
    STRIDE_LETTERS,
    TARGET_TYPES,
)

THREAT_CODE = re.compile(r"T-[A-Z0-9-]+")
ATLAS_TECHNIQUE = re.compile(r"AML\.T\d{4}(\.\d{3})?")
ATLAS_MITIGATION = re.compile(r"AML\.M\d{4}")
OWASP_ID = re.compile(r"(ML|LLM)\d{2}:20\d{2}")
_THREAT_REQUIRED = ("code", "name", "stride", "rand", "role", "actors", "position", "target", "rule")
_THREAT_OPTIONAL = (
    "description",
    "atlas",
    "owasp",
    "asset_kinds",
    "loss",
    "query_goal",
    "boosts",
    "boost",
    "controls",
    "from_kinds",
)
_CONTROL_REQUIRED = ("code", "name", "type", "cost", "rand_sl")
_CONTROL_OPTIONAL = ("description", "atlas_mitigations", "asset_kinds", "pricing", "capability_decay", "flows")
_LOSS_DETAILS = ("yields", "value", "fraction", "jewel_kinds")


def parse_library(threats_yaml: bytes | str, controls_yaml: bytes | str) -> Library:
    """Both files, validated completely; raise LibraryError listing every problem found."""
    threats_doc = document(threats_yaml, "threats.yaml", "threats")
    controls_doc = document(controls_yaml, "controls.yaml", "controls")
    version = string(threats_doc["version"], "threats.yaml: version")
    other = string(controls_doc["version"], "controls.yaml: version")
    if other != version:
        raise LibraryError([f"controls.yaml: version {other!r} differs from threats.yaml version {version!r}"])
    errors: list[str] = []
    controls = entries(controls_doc["controls"], "controls", _parse_control, errors)
    by_code = {c.code: c for c in controls}
    raw_threats = threats_doc["threats"]
    known = {e["code"] for e in raw_threats if isinstance(e, dict) and isinstance(e.get("code"), str)}
    threats = entries(raw_threats, "threats", lambda raw, where: _parse_threat(raw, where, by_code, known), errors)
    if errors:
        raise LibraryError(errors)
    return Library(version=version, threats=tuple(threats), controls=tuple(controls))


# -- controls ---------------------------------------------------------------------------------------


def _parse_control(raw: Any, where: str) -> ControlDef:
    m = mapping(raw, where)
    c = Collect()
    c(lambda: check_keys(m, where, _CONTROL_REQUIRED, _CONTROL_OPTIONAL), None)
    c.raise_any()
    one_off, yearly = c(lambda: _cost(m["cost"], f"{where}.cost"), ((0.0, 0.0), (0.0, 0.0)))
    asset_kinds = frozenset(c(lambda: kinds(m.get("asset_kinds", []), f"{where}.asset_kinds"), ()))
    flows = c(lambda: boolean(m.get("flows", False), f"{where}.flows"), False)
    default = "per_element" if asset_kinds else "per_system"
    pricing = c(lambda: choice(m.get("pricing", default), f"{where}.pricing", PRICINGS), default)
    if pricing == "per_element" and not asset_kinds and not flows:
        c.add(f"{where}.pricing: per_element needs asset_kinds or flows: true (there is no element to price)")
    decay = m.get("capability_decay", DEFAULT_CAPABILITY_DECAY)
    control = ControlDef(
        code=c(lambda: string(m["code"], f"{where}.code", CONTROL_CODE), ""),
        name=c(lambda: string(m["name"], f"{where}.name"), ""),
        description=c(lambda: string(m.get("description", ""), f"{where}.description", allow_empty=True), ""),
        type=c(lambda: choice(m["type"], f"{where}.type", CONTROL_TYPES), ""),
        cost_one_off=one_off,
        cost_yearly=yearly,
        atlas_mitigations=c(
            lambda: str_list(m.get("atlas_mitigations", []), f"{where}.atlas_mitigations", ATLAS_MITIGATION), ()
        ),
        rand_sl=c(lambda: integer(m["rand_sl"], f"{where}.rand_sl", 1, 5), 1),
        asset_kinds=asset_kinds,
        pricing=pricing,
        capability_decay=c(
            lambda: positive_unit(decay, f"{where}.capability_decay", "the control would vanish above its level"),
            DEFAULT_CAPABILITY_DECAY,
        ),
        flows=flows,
    )
    c.raise_any()
    return control


def _cost(raw: Any, path: str) -> tuple[tuple[float, float], tuple[float, float]]:
    cost = mapping(raw, path)
    check_keys(cost, path, ("one_off", "yearly"), ())
    c = Collect()
    one_off = c(lambda: money_range(cost["one_off"], f"{path}.one_off"), (0.0, 0.0))
    yearly = c(lambda: money_range(cost["yearly"], f"{path}.yearly"), (0.0, 0.0))
    c.raise_any()
    return one_off, yearly


# -- threats ----------------------------------------------------------------------------------------


def _parse_threat(raw: Any, where: str, controls: Mapping[str, ControlDef], known: set[str]) -> ThreatDef:
    m = mapping(raw, where)
    c = Collect()
    c(lambda: check_keys(m, where, (*_THREAT_REQUIRED, "base_probability"), _THREAT_OPTIONAL), None)
    c.raise_any()
    code = c(lambda: string(m["code"], f"{where}.code", THREAT_CODE), "")
    role = c(lambda: choice(m["role"], f"{where}.role", ROLES), "")
    target_name = c(lambda: choice(m["target"], f"{where}.target", TARGET_TYPES), "")
    target: Target = "flow" if target_name == "flow" else "asset"
    asset_kinds = c(lambda: _target_kinds(m.get("asset_kinds", []), target_name, f"{where}.asset_kinds"), ())
    positions = c(lambda: _positions(m["position"], role, target_name, asset_kinds, f"{where}.position"), ())
    rule = c(lambda: _rule(m["rule"], target, f"{where}.rule"), None) if target_name else None
    c(lambda: _role_keys(m, role, positions, where), None)
    loss = c(lambda: _loss(m["loss"], target_name, f"{where}.loss"), None) if role == "theft" and "loss" in m else None
    goal = c(lambda: choice(m["query_goal"], f"{where}.query_goal", QUERY_GOALS), "") if "query_goal" in m else ""
    boosts = c(lambda: _boosts(m["boosts"], code, known, f"{where}.boosts"), ()) if "boosts" in m else ()
    boost = (
        c(lambda: positive_unit(m["boost"], f"{where}.boost", "it would boost nothing"), 0.0) if "boost" in m else 0.0
    )
    from_kinds = c(lambda: _from_kinds(m, role, f"{where}.from_kinds"), ())
    threat = ThreatDef(
        code=code,
        name=c(lambda: string(m["name"], f"{where}.name"), ""),
        description=c(lambda: string(m.get("description", ""), f"{where}.description", allow_empty=True), ""),
        stride=c(lambda: _stride(m["stride"], f"{where}.stride"), ()),
        atlas=c(lambda: str_list(m.get("atlas", []), f"{where}.atlas", ATLAS_TECHNIQUE), ()),
        owasp=c(lambda: str_list(m.get("owasp", []), f"{where}.owasp", OWASP_ID), ()),
        rand=c(lambda: _rand(m["rand"], f"{where}.rand"), ()),
        target=target,
        asset_kinds=frozenset(asset_kinds),
        rule=rule,  # type: ignore[arg-type]  # None only when an error was kept (raised below)
        base_probability=c(lambda: _probabilities(m["base_probability"], f"{where}.base_probability"), {}),
        controls=c(lambda: threat_controls(m.get("controls", []), f"{where}.controls", controls), ()),
        role=role,  # type: ignore[arg-type]  # one of ROLES unless an error was kept
        actors=frozenset(c(lambda: _actors(m["actors"], f"{where}.actors"), ())),
        position=positions[0] if positions else "",
        positions=positions,
        loss=loss,
        query_goal=goal,
        boosts=boosts,
        boost=boost,
        from_kinds=frozenset(from_kinds),
    )
    c.raise_any()
    return threat


def _from_kinds(m: Mapping[str, Any], role: str, path: str) -> tuple[str, ...]:
    """Kinds a move may start from: only for access techniques, a non-empty list of kinds."""
    if "from_kinds" not in m:
        return ()
    if role and role != "access":
        raise LibraryError([f"{path}: only access techniques move from somewhere ({role} techniques do not)"])
    values = kinds(m["from_kinds"], path)
    if not values:
        raise LibraryError([f"{path}: must name at least one kind (leave it out for any)"])
    return values


def _target_kinds(raw: Any, target: str, path: str) -> tuple[str, ...]:
    values = kinds(raw, path)
    if target == "asset" and not values:
        raise LibraryError([f"{path}: required (non-empty) for asset threats"])
    if target == "flow" and values:
        raise LibraryError([f"{path}: flow threats take no asset_kinds (the rule alone decides)"])
    return values


def _positions(raw: Any, role: str, target: str, asset_kinds: Iterable[str], path: str) -> tuple[str, ...]:
    """One position or a non-empty list; each must be valid for the role and target type."""
    values = (string(raw, path),) if isinstance(raw, str) else str_list(raw, path)
    if not values:
        raise LibraryError([f"{path}: must name at least one position"])
    if not role or not target:
        return values  # the role or target error is reported already
    allowed = positions_for(role, target)
    errors = [
        f"{path}: {value!r} is not a position for {role} techniques on {target} targets "
        f"(allowed: {', '.join(sorted(allowed))})"
        for value in values
        if value not in allowed
    ]
    if "approach" in values and set(asset_kinds) - {HUMAN_ROLE}:
        errors.append(f"{path}: 'approach' reaches people only (asset_kinds must be [{HUMAN_ROLE}])")
    if errors:
        raise LibraryError(errors)
    return values


def _rule(raw: Any, target: Target, path: str) -> Rule:
    try:
        return compile_condition(raw, target, path)
    except RuleError as exc:
        raise LibraryError([str(exc)]) from exc


def _role_keys(m: Mapping[str, Any], role: str, positions: tuple[str, ...], where: str) -> None:
    """Keys that belong to one role: loss (theft), boosts and boost (enabler), query_goal (query thefts)."""
    errors: list[str] = []
    if role == "theft" and "loss" not in m:
        errors.append(f"{where}.loss: required for theft techniques")
    if role in ("access", "enabler") and "loss" in m:
        errors.append(f"{where}.loss: only theft techniques have a loss ({role} techniques have none)")
    for key in ("boosts", "boost"):
        if role == "enabler" and key not in m:
            errors.append(f"{where}.{key}: required for enablers")
        if role in ("access", "theft") and key in m:
            errors.append(f"{where}.{key}: only enablers boost other techniques")
    if "query_goal" in m and role and (role != "theft" or "query" not in positions):
        errors.append(f"{where}.query_goal: only for theft techniques at position query")
    if errors:
        raise LibraryError(errors)


def _loss(raw: Any, target: str, path: str) -> LossDef:
    m = mapping(raw, path)
    check_keys(m, path, ("form",), _LOSS_DETAILS)
    form = choice(m["form"], f"{path}.form", LOSS_FORMS)
    if form == "compute":
        extra = [key for key in _LOSS_DETAILS if key in m]
        if extra:
            raise LibraryError(
                [f"{path}.{key}: a compute loss takes no {key} (it is priced as compute)" for key in extra]
            )
        return LossDef(form="compute")
    c = Collect()
    if "yields" not in m:
        c.add(f"{path}.yields: required for a theft loss")
    yields = c(lambda: choice(m["yields"], f"{path}.yields", YIELDS), "") if "yields" in m else ""
    if yields and target and (yields == "carried") != (target == "flow"):
        c.add(f"{path}.yields: 'carried' is what flow thefts yield, and all they yield")
    value = c(lambda: choice(m.get("value", "value"), f"{path}.value", LOSS_VALUES), "value")
    fraction = 1.0
    if value == "fraction" and "fraction" not in m:
        c.add(f"{path}.fraction: required with value: fraction")
    if "fraction" in m and value != "fraction":
        c.add(f"{path}.fraction: only with value: fraction")
    elif "fraction" in m:
        fraction = c(lambda: open_unit(m["fraction"], f"{path}.fraction"), 1.0)
    jewel_kinds = frozenset(c(lambda: kinds(m.get("jewel_kinds", []), f"{path}.jewel_kinds"), ()))
    c.raise_any()
    return LossDef(form="theft", yields=yields, value=value, fraction=fraction, jewel_kinds=jewel_kinds)


def _stride(raw: Any, path: str) -> tuple[str, ...]:
    stride = str_list(raw, path)
    if not stride or any(letter not in STRIDE_LETTERS for letter in stride):
        raise LibraryError([f"{path}: must be a non-empty list of the letters S, T, R, I, D, E"])
    return stride


def _rand(raw: Any, path: str) -> tuple[tuple[str, str], ...]:
    """A list of {category, vector}; empty only for techniques RAND names no vector for."""
    if not isinstance(raw, list):
        raise LibraryError([f"{path}: must be a list of {{category, vector}}, got {typename(raw)}"])
    c = Collect()
    pairs: list[tuple[str, str]] = []
    for i, entry in enumerate(raw):
        pair = c(lambda entry=entry, i=i: _rand_pair(entry, f"{path}[{i}]"), None)  # type: ignore[misc]
        if pair is not None and pair in pairs:
            c.add(f"{path}[{i}]: {pair[0]}/{pair[1]} is listed twice")
        elif pair is not None:
            pairs.append(pair)
    c.raise_any()
    return tuple(pairs)


def _rand_pair(raw: Any, path: str) -> tuple[str, str]:
    m = mapping(raw, path)
    check_keys(m, path, ("category", "vector"), ())
    category = choice(m["category"], f"{path}.category", frozenset(RAND_VECTORS))
    return category, choice(m["vector"], f"{path}.vector", RAND_VECTORS[category])


def _actors(raw: Any, path: str) -> tuple[str, ...]:
    actors = str_list(raw, path)
    if not actors:
        raise LibraryError([f"{path}: must name at least one actor type"])
    allowed = ", ".join(sorted(ACTOR_TYPES))
    unknown = [f"{path}: {a!r} is not an actor type (allowed: {allowed})" for a in actors if a not in ACTOR_TYPES]
    if unknown:
        raise LibraryError(unknown)
    return actors


def _boosts(raw: Any, code: str, known: set[str], path: str) -> tuple[str, ...]:
    codes = str_list(raw, path, THREAT_CODE)
    if not codes:
        raise LibraryError([f"{path}: must name at least one technique"])
    errors = [f"{path}: {other!r} is not a threat of this library" for other in codes if other not in known]
    if code in codes:
        errors.append(f"{path}: an enabler cannot boost itself")
    if errors:
        raise LibraryError(errors)
    return codes


def _probabilities(raw: Any, path: str) -> dict[str, float]:
    values = by_level(raw, path)
    for low, high in zip(OC_LEVELS, OC_LEVELS[1:], strict=False):
        if values[high] < values[low]:
            below = f"{values[high]} is lower than {low} ({values[low]})"
            raise LibraryError([f"{path}.{high}: {below}; it must not decrease with capability"])
    return values
