"""Load the threat and control library (``docs/library-format.md``) and match it to a system.

The library is curated data, but it is still input: it is parsed with a safe loader only
(libyaml's ``CSafeLoader`` when present, else ``yaml.SafeLoader``: no object construction),
under a byte cap and a node budget (an alias "bomb" expands to billions of nodes when walked),
and every field is checked, so a typo fails the load with a message that names the entry and
field instead of silently disabling a threat. Each entry is checked independently and all
errors are reported together, so a library author fixes a file in one round.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any, Literal, TypeVar

import yaml

from threats.engine.facts import Attrs, SystemFacts, derive_facts, gc_paused
from threats.engine.rules import Rule, RuleError, Target, compile_condition
from threats.engine.snapshot import SystemSnapshot
from threats.engine.vocab import ASSET_KINDS, CONTROL_TYPES, OC_LEVELS, RAND_VECTORS, STRIDE_LETTERS, TARGET_TYPES

SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_BYTES = 1024 * 1024  # the curated files are ~100 kB; pure-Python YAML parses ~1 MB/s
MAX_NODES = 200_000
MAX_FLOW_DEPTH = 64
_FLOW_BRACKETS = re.compile(r"[\[\]{}]")
THREAT_CODE = re.compile(r"T-[A-Z0-9-]+")
CONTROL_CODE = re.compile(r"M-[A-Z0-9-]+")
ATLAS_TECHNIQUE = re.compile(r"AML\.T\d{4}(\.\d{3})?")
ATLAS_MITIGATION = re.compile(r"AML\.M\d{4}")
OWASP_ID = re.compile(r"(ML|LLM)\d{2}:20\d{2}")


class LibraryError(ValueError):
    """The library is invalid; ``errors`` holds one message per problem, each with its path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


# -- v2 dataclasses: the contract between the library files and the risk engine ----------------
# (docs/library-format.md describes the files; docs/risk-method.md what the engine does with them)

Role = Literal["access", "theft", "enabler"]
# Where the attacker must stand to try a technique, by role (docs/library-format.md, Positions).
ACCESS_POSITIONS: frozenset[str] = frozenset(
    {"exposed", "network", "credentials", "content", "payload", "escape", "approach", "physical"}
)
FLOW_ACCESS_POSITIONS: frozenset[str] = frozenset({"network", "credentials", "content", "payload"})
THEFT_POSITIONS: frozenset[str] = frozenset({"control", "authorised", "held", "query", "physical", "cotenant"})
FLOW_THEFT_POSITIONS: frozenset[str] = frozenset({"intercept"})
YIELDS: frozenset[str] = frozenset({"stored", "loaded", "copies", "served", "retrievable", "carried"})
LOSS_VALUES: frozenset[str] = frozenset({"value", "replication", "fraction"})
QUERY_GOALS: frozenset[str] = frozenset({"clone", "parameters", "prompt", "data"})
DEFAULT_CAPABILITY_DECAY = 0.7


@dataclass(frozen=True, slots=True)
class ControlDef:
    """A control of the catalogue. ``pricing``: cost per covered element or once per system;
    ``capability_decay``: multiplier on its effectiveness per OC level above ``rand_sl`` (a
    measure RAND expects at SLn is designed against operators up to OCn); ``flows``: whether it
    can be put in force on a flow."""

    code: str
    name: str
    description: str
    type: str
    cost_one_off: tuple[float, float]
    cost_yearly: tuple[float, float]
    atlas_mitigations: tuple[str, ...]
    rand_sl: int
    asset_kinds: frozenset[str]  # empty: organisation-wide
    pricing: str = "per_system"  # "per_element" | "per_system"
    capability_decay: float = DEFAULT_CAPABILITY_DECAY
    flows: bool = False


@dataclass(frozen=True, slots=True)
class ThreatControlDef:
    """A control's effect on one threat: ``effectiveness[i]`` is the probability reduction against
    an attacker of OC level i+1 (already decayed above the control's SL). ``on``: "any" counts
    the control in force on the target (or either flow end) or system-wide; "jewel" only when it
    is in force on the stolen jewel itself (a file's own encryption)."""

    control: str
    effectiveness: tuple[float, float, float, float, float]
    evidence_source: str = ""
    evidence_figure: str = ""
    on: str = "any"


@dataclass(frozen=True, slots=True)
class LossDef:
    """What a theft technique takes. ``form``: "theft" or "compute". For theft, ``yields`` says
    which jewels (see YIELDS), ``value`` how they are priced (full value, the model's
    replication value, or ``fraction`` of value); ``jewel_kinds`` optionally filters them."""

    form: str
    yields: str = ""
    value: str = "value"
    fraction: float = 1.0
    jewel_kinds: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ThreatDef:
    code: str
    name: str
    description: str
    stride: tuple[str, ...]
    atlas: tuple[str, ...]
    owasp: tuple[str, ...]
    rand: tuple[tuple[str, str], ...]  # (category, vector) pairs; may be empty
    target: Target
    asset_kinds: frozenset[str]  # empty for flow threats
    rule: Rule
    base_probability: Mapping[str, float]  # OC1..OC5
    controls: tuple[ThreatControlDef, ...]
    role: Role = "access"
    actors: frozenset[str] = frozenset({"external", "insider", "supplier", "physical"})
    position: str = "network"
    loss: LossDef | None = None
    query_goal: str = ""
    boosts: tuple[str, ...] = ()
    boost: float = 0.0

    @property
    def rand_category(self) -> str:
        """The first RAND category (for summaries that show one); "" when none."""
        return self.rand[0][0] if self.rand else ""

    @property
    def rand_vector(self) -> str:
        return self.rand[0][1] if self.rand else ""


@dataclass(frozen=True, slots=True)
class Library:
    version: str
    threats: tuple[ThreatDef, ...]
    controls: tuple[ControlDef, ...]


_Entry = TypeVar("_Entry", ControlDef, ThreatDef)


@dataclass(frozen=True, slots=True)
class Match:
    """A threat applies to a target; ``explanation`` lists the rule's matched conditions."""

    threat_code: str
    target_type: Literal["asset", "flow"]
    target_id: int
    explanation: tuple[str, ...]


def load_library(threats_yaml: bytes | str, controls_yaml: bytes | str) -> Library:
    """Parse and validate both library files; raise LibraryError listing every problem found."""
    threats_doc = _document(threats_yaml, "threats.yaml", "threats")
    controls_doc = _document(controls_yaml, "controls.yaml", "controls")
    version = _str(threats_doc["version"], "threats.yaml: version")
    other = _str(controls_doc["version"], "controls.yaml: version")
    if other != version:
        raise LibraryError([f"controls.yaml: version {other!r} differs from threats.yaml version {version!r}"])
    errors: list[str] = []
    controls = _entries(controls_doc["controls"], "controls", _parse_control, errors)
    codes = {c.code for c in controls}
    threats = _entries(threats_doc["threats"], "threats", lambda raw, where: _parse_threat(raw, where, codes), errors)
    if errors:
        raise LibraryError(errors)
    return Library(version=version, threats=tuple(threats), controls=tuple(controls))


def find_threats(library: Library, snapshot: SystemSnapshot, facts: SystemFacts | None = None) -> list[Match]:
    """Every (threat, target) pair whose rule holds, sorted by threat code, target type, target id.

    Asset threats are only tested on assets whose kind is in the threat's ``asset_kinds``, so
    the cost is proportional to the candidates, not to threats x all elements.
    """
    facts = facts if facts is not None else derive_facts(snapshot)
    with gc_paused():
        return _match(library, facts)


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


def _document(text: bytes | str, label: str, list_key: str) -> dict[str, Any]:
    """Size-capped safe_load, then check the top level: a mapping with version and the list."""
    if len(text) > MAX_BYTES:  # checked on characters first, so a huge str is never encoded
        raise LibraryError([f"{label}: larger than {MAX_BYTES} bytes"])
    try:
        raw = text.encode("utf-8") if isinstance(text, str) else text
        decoded = raw.decode("utf-8")
    except UnicodeError as exc:
        raise LibraryError([f"{label}: not UTF-8 ({exc})"]) from exc
    if len(raw) > MAX_BYTES:
        raise LibraryError([f"{label}: larger than {MAX_BYTES} bytes"])
    _check_flow_depth(decoded, label)
    try:
        # libyaml's safe loader when available: same safety as safe_load, ~10x faster.
        data = yaml.load(decoded, Loader=SAFE_LOADER)  # noqa: S506 - a SafeLoader, never a full one
    except yaml.YAMLError as exc:
        raise LibraryError([f"{label}: not valid YAML: {exc}"]) from exc
    except RecursionError as exc:
        raise LibraryError([f"{label}: nested too deeply"]) from exc
    _check_budget(data, label)
    if not isinstance(data, dict):
        raise LibraryError([f"{label}: the top level must be a mapping, got {_typename(data)}"])
    _keys(data, label, required=("version", list_key), optional=())
    if not isinstance(data[list_key], list):
        raise LibraryError([f"{label}: {list_key} must be a list, got {_typename(data[list_key])}"])
    return data


def _check_flow_depth(text: str, label: str) -> None:
    """Refuse deep ``[``/``{`` nesting before parsing: PyYAML's pure-Python scanner slows down
    with every open flow level, so a small file of brackets can take seconds, then exhaust the
    recursion limit. Brackets inside quoted text are counted too, which only makes this stricter.
    """
    depth = 0
    for bracket in _FLOW_BRACKETS.findall(text):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        if depth > MAX_FLOW_DEPTH:
            raise LibraryError([f"{label}: brackets nest deeper than {MAX_FLOW_DEPTH} levels"])


def _check_budget(data: Any, label: str) -> None:
    """Count nodes as a walk would see them; aliases make a small file expand exponentially."""
    seen, stack = 0, [data]
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise LibraryError([f"{label}: more than {MAX_NODES} nodes once aliases are expanded"])
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _entries(raw: list[Any], section: str, parse: Callable[[Any, str], _Entry], errors: list[str]) -> list[_Entry]:
    """Parse each entry independently, collecting errors; refuse duplicate codes."""
    parsed: list[_Entry] = []
    codes: set[str] = set()
    for i, entry in enumerate(raw):
        code = entry.get("code") if isinstance(entry, dict) else None
        where = f"{section}[{code}]" if isinstance(code, str) and code else f"{section}[{i}]"
        try:
            item = parse(entry, where)
        except LibraryError as exc:
            errors.extend(exc.errors)
            continue
        if item.code in codes:
            errors.append(f"{where}.code: duplicate code {item.code!r}")
            continue
        codes.add(item.code)
        parsed.append(item)
    return parsed


def _parse_control(raw: Any, where: str) -> ControlDef:
    m = _mapping(raw, where)
    _keys(m, where, ("code", "name", "type", "cost", "rand_sl"), ("description", "atlas_mitigations", "asset_kinds"))
    cost = _mapping(m["cost"], f"{where}.cost")
    _keys(cost, f"{where}.cost", ("one_off", "yearly"), ())
    return ControlDef(
        code=_str(m["code"], f"{where}.code", CONTROL_CODE),
        name=_str(m["name"], f"{where}.name"),
        description=_str(m.get("description", ""), f"{where}.description", allow_empty=True),
        type=_choice(m["type"], f"{where}.type", CONTROL_TYPES),
        cost_one_off=_range(cost["one_off"], f"{where}.cost.one_off"),
        cost_yearly=_range(cost["yearly"], f"{where}.cost.yearly"),
        atlas_mitigations=_str_list(m.get("atlas_mitigations", []), f"{where}.atlas_mitigations", ATLAS_MITIGATION),
        rand_sl=_int(m["rand_sl"], f"{where}.rand_sl", 1, 5),
        asset_kinds=frozenset(_kinds(m.get("asset_kinds", []), f"{where}.asset_kinds")),
    )


def _parse_threat(raw: Any, where: str, control_codes: set[str]) -> ThreatDef:
    m = _mapping(raw, where)
    _keys(
        m,
        where,
        ("code", "name", "stride", "rand", "target", "rule", "base_probability"),
        ("description", "atlas", "owasp", "asset_kinds", "controls"),
    )
    code = _str(m["code"], f"{where}.code", THREAT_CODE)
    target: Target = "asset" if _choice(m["target"], f"{where}.target", TARGET_TYPES) == "asset" else "flow"
    kinds = _kinds(m.get("asset_kinds", []), f"{where}.asset_kinds")
    if target == "asset" and not kinds:
        raise LibraryError([f"{where}.asset_kinds: required (non-empty) for asset threats"])
    if target == "flow" and kinds:
        raise LibraryError([f"{where}.asset_kinds: flow threats take no asset_kinds (the rule alone decides)"])
    stride = _str_list(m["stride"], f"{where}.stride")
    if not stride or any(letter not in STRIDE_LETTERS for letter in stride):
        raise LibraryError([f"{where}.stride: must be a non-empty list of the letters S, T, R, I, D, E"])
    rand = _mapping(m["rand"], f"{where}.rand")
    _keys(rand, f"{where}.rand", ("category", "vector"), ())
    category = _choice(rand["category"], f"{where}.rand.category", frozenset(RAND_VECTORS))
    try:
        rule = compile_condition(m["rule"], target, f"{where}.rule")
    except RuleError as exc:
        raise LibraryError([str(exc)]) from exc
    return ThreatDef(
        code=code,
        name=_str(m["name"], f"{where}.name"),
        description=_str(m.get("description", ""), f"{where}.description", allow_empty=True),
        stride=stride,
        atlas=_str_list(m.get("atlas", []), f"{where}.atlas", ATLAS_TECHNIQUE),
        owasp=_str_list(m.get("owasp", []), f"{where}.owasp", OWASP_ID),
        rand=((category, _choice(rand["vector"], f"{where}.rand.vector", RAND_VECTORS[category])),),
        target=target,
        asset_kinds=frozenset(kinds),
        rule=rule,
        base_probability=_probabilities(m["base_probability"], f"{where}.base_probability"),
        controls=_threat_controls(m.get("controls", []), f"{where}.controls", control_codes),
    )


def _probabilities(raw: Any, path: str) -> dict[str, float]:
    m = _mapping(raw, path)
    _keys(m, path, OC_LEVELS, ())
    result: dict[str, float] = {}
    previous: tuple[str, float] | None = None
    for level in OC_LEVELS:
        p = _number(m[level], f"{path}.{level}", 0.0, 1.0)
        if previous is not None and p < previous[1]:
            below = f"{p} is lower than {previous[0]} ({previous[1]})"
            raise LibraryError([f"{path}.{level}: {below}; it must not decrease with capability"])
        result[level] = p
        previous = (level, p)
    return result


def _threat_controls(raw: Any, path: str, control_codes: set[str]) -> tuple[ThreatControlDef, ...]:
    if not isinstance(raw, list):
        raise LibraryError([f"{path}: must be a list, got {_typename(raw)}"])
    result: list[ThreatControlDef] = []
    for i, entry in enumerate(raw):
        where = f"{path}[{i}]"
        m = _mapping(entry, where)
        _keys(m, where, ("control", "effectiveness"), ("evidence",))
        code = _str(m["control"], f"{where}.control", CONTROL_CODE)
        if code not in control_codes:
            raise LibraryError([f"{where}.control: unknown control {code!r} (not in controls.yaml)"])
        if any(c.control == code for c in result):
            raise LibraryError([f"{where}.control: {code!r} is listed twice"])
        source = figure = ""
        if "evidence" in m:
            evidence = _mapping(m["evidence"], f"{where}.evidence")
            _keys(evidence, f"{where}.evidence", ("source",), ("figure",))
            source = _str(evidence["source"], f"{where}.evidence.source")
            figure = _str(evidence.get("figure", ""), f"{where}.evidence.figure", allow_empty=True)
        effectiveness = _number(m["effectiveness"], f"{where}.effectiveness", 0.0, 1.0)
        result.append(ThreatControlDef(code, (effectiveness,) * 5, source, figure))
    return tuple(result)


# -- field readers: each raises LibraryError with the field's path --------------------------------


def _mapping(raw: Any, path: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise LibraryError([f"{path}: must be a mapping, got {_typename(raw)}"])
    return raw


def _keys(m: dict[Any, Any], path: str, required: Iterable[str], optional: Iterable[str]) -> None:
    required = tuple(required)
    allowed = set(required) | set(optional)
    sep = ": " if path.endswith(".yaml") else "."
    for key in m:
        if key not in allowed:
            raise LibraryError([f"{path}{sep}{key}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})"])
    for key in required:
        if key not in m:
            raise LibraryError([f"{path}{sep}{key}: required"])


def _str(raw: Any, path: str, pattern: re.Pattern[str] | None = None, allow_empty: bool = False) -> str:
    if not isinstance(raw, str):
        raise LibraryError([f"{path}: must be a string, got {_typename(raw)}"])
    if not allow_empty and not raw.strip():
        raise LibraryError([f"{path}: must not be empty"])
    if pattern is not None and not pattern.fullmatch(raw):
        raise LibraryError([f"{path}: {raw!r} does not match {pattern.pattern}"])
    return raw


def _choice(raw: Any, path: str, choices: frozenset[str]) -> str:
    value = _str(raw, path)
    if value not in choices:
        raise LibraryError([f"{path}: {value!r} is not one of {', '.join(sorted(choices))}"])
    return value


def _str_list(raw: Any, path: str, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise LibraryError([f"{path}: must be a list, got {_typename(raw)}"])
    values = tuple(_str(v, f"{path}[{i}]", pattern) for i, v in enumerate(raw))
    if len(set(values)) != len(values):
        raise LibraryError([f"{path}: lists a value twice"])
    return values


def _kinds(raw: Any, path: str) -> tuple[str, ...]:
    kinds = _str_list(raw, path)
    for i, kind in enumerate(kinds):
        if kind not in ASSET_KINDS:
            raise LibraryError([f"{path}[{i}]: unknown asset kind {kind!r}"])
    return kinds


def _number(raw: Any, path: str, low: float, high: float) -> float:
    finite = isinstance(raw, int) or (isinstance(raw, float) and math.isfinite(raw))
    if isinstance(raw, bool) or not finite:
        raise LibraryError([f"{path}: must be a number, got {_typename(raw)}"])
    if not low <= raw <= high:
        raise LibraryError([f"{path}: {raw} is outside {low:g}..{high:g}"])
    return float(raw)


def _int(raw: Any, path: str, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise LibraryError([f"{path}: must be an integer, got {_typename(raw)}"])
    if not low <= raw <= high:
        raise LibraryError([f"{path}: {raw} is outside {low}..{high}"])
    return raw


def _range(raw: Any, path: str) -> tuple[float, float]:
    if not isinstance(raw, list) or len(raw) != 2:
        raise LibraryError([f"{path}: must be [min, max]"])
    low = _number(raw[0], f"{path}[0]", 0.0, math.inf)
    high = _number(raw[1], f"{path}[1]", 0.0, math.inf)
    if low > high:
        raise LibraryError([f"{path}: min {low:g} is greater than max {high:g}"])
    return (low, high)


def _typename(value: Any) -> str:
    return "null" if value is None else type(value).__name__
