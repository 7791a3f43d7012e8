"""Reading the library files safely, and the typed field readers the v2 parser is built from.

The library is curated data, but it is still input: it is parsed with a safe loader only
(``library.SAFE_LOADER``: libyaml when present, no object construction, YAML 1.2 booleans),
under a byte cap, a bracket-depth cap and a node budget (an alias "bomb" expands to billions of
nodes when walked). Every reader raises ``LibraryError`` whose message starts with the path of
the field it read; ``Collect`` keeps those errors so that one broken field does not hide the
problems of the fields after it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import yaml

from threats.engine.library_defs import MAX_BYTES, MAX_FLOW_DEPTH, MAX_NODES, SAFE_LOADER, LibraryError
from threats.engine.vocab import ASSET_KINDS, OC_LEVELS

_FLOW_BRACKETS = re.compile(r"[\[\]{}]")
_T = TypeVar("_T")
_D = TypeVar("_D")
_Entry = TypeVar("_Entry")


class Collect:
    """Run field readers, keeping every LibraryError instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, read: Callable[[], _T], default: _D) -> _T | _D:
        """``read()``, or ``default`` after keeping its error (the entry is refused at the end)."""
        try:
            return read()
        except LibraryError as exc:
            self.errors.extend(exc.errors)
            return default

    def add(self, message: str) -> None:
        self.errors.append(message)

    def raise_any(self) -> None:
        if self.errors:
            raise LibraryError(self.errors)


def document(text: bytes | str, label: str, list_key: str) -> dict[str, Any]:
    """Size-capped safe load, then check the top level: a mapping with version and the list."""
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
        raise LibraryError([f"{label}: the top level must be a mapping, got {typename(data)}"])
    check_keys(data, label, required=("version", list_key), optional=())
    if not isinstance(data[list_key], list):
        raise LibraryError([f"{label}: {list_key} must be a list, got {typename(data[list_key])}"])
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


def entries(raw: list[Any], section: str, parse: Callable[[Any, str], _Entry], errors: list[str]) -> list[_Entry]:
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
        item_code = str(getattr(item, "code", ""))
        if item_code in codes:
            errors.append(f"{where}.code: duplicate code {item_code!r}")
            continue
        codes.add(item_code)
        parsed.append(item)
    return parsed


def mapping(raw: Any, path: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise LibraryError([f"{path}: must be a mapping, got {typename(raw)}"])
    return raw


def check_keys(m: dict[Any, Any], path: str, required: Iterable[str], optional: Iterable[str]) -> None:
    """Every unknown key and every missing required key, reported together."""
    required = tuple(required)
    allowed = set(required) | set(optional)
    sep = ": " if path.endswith(".yaml") else "."
    errors = [
        f"{path}{sep}{key}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})"
        for key in m
        if key not in allowed
    ]
    errors += [f"{path}{sep}{key}: required" for key in required if key not in m]
    if errors:
        raise LibraryError(errors)


def string(raw: Any, path: str, pattern: re.Pattern[str] | None = None, allow_empty: bool = False) -> str:
    if not isinstance(raw, str):
        raise LibraryError([f"{path}: must be a string, got {typename(raw)}"])
    if not allow_empty and not raw.strip():
        raise LibraryError([f"{path}: must not be empty"])
    if pattern is not None and not pattern.fullmatch(raw):
        raise LibraryError([f"{path}: {raw!r} does not match {pattern.pattern}"])
    return raw


def boolean(raw: Any, path: str) -> bool:
    if not isinstance(raw, bool):
        raise LibraryError([f"{path}: must be true or false, got {typename(raw)}"])
    return raw


def choice(raw: Any, path: str, choices: frozenset[str]) -> str:
    value = string(raw, path)
    if value not in choices:
        raise LibraryError([f"{path}: {value!r} is not one of {', '.join(sorted(choices))}"])
    return value


def str_list(raw: Any, path: str, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise LibraryError([f"{path}: must be a list, got {typename(raw)}"])
    values = tuple(string(v, f"{path}[{i}]", pattern) for i, v in enumerate(raw))
    if len(set(values)) != len(values):
        raise LibraryError([f"{path}: lists a value twice"])
    return values


def kinds(raw: Any, path: str) -> tuple[str, ...]:
    values = str_list(raw, path)
    for i, kind in enumerate(values):
        if kind not in ASSET_KINDS:
            raise LibraryError([f"{path}[{i}]: unknown asset kind {kind!r}"])
    return values


def number(raw: Any, path: str, low: float, high: float) -> float:
    finite = isinstance(raw, int) or (isinstance(raw, float) and math.isfinite(raw))
    if isinstance(raw, bool) or not finite:
        raise LibraryError([f"{path}: must be a number, got {typename(raw)}"])
    if not low <= raw <= high:
        raise LibraryError([f"{path}: {raw} is outside {low:g}..{high:g}"])
    return float(raw)


def positive_unit(raw: Any, path: str, why_not_zero: str) -> float:
    """A number in (0, 1]; ``why_not_zero`` says what 0 would mean."""
    value = number(raw, path, 0.0, 1.0)
    if value == 0.0:
        raise LibraryError([f"{path}: must be above 0 ({why_not_zero})"])
    return value


def open_unit(raw: Any, path: str) -> float:
    """A number strictly between 0 and 1 (a fraction of something)."""
    value = number(raw, path, 0.0, 1.0)
    if not 0.0 < value < 1.0:
        raise LibraryError([f"{path}: {raw} must be strictly between 0 and 1"])
    return value


def integer(raw: Any, path: str, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise LibraryError([f"{path}: must be an integer, got {typename(raw)}"])
    if not low <= raw <= high:
        raise LibraryError([f"{path}: {raw} is outside {low}..{high}"])
    return raw


def money_range(raw: Any, path: str) -> tuple[float, float]:
    if not isinstance(raw, list) or len(raw) != 2:
        raise LibraryError([f"{path}: must be [min, max]"])
    low = number(raw[0], f"{path}[0]", 0.0, math.inf)
    high = number(raw[1], f"{path}[1]", 0.0, math.inf)
    if low > high:
        raise LibraryError([f"{path}: min {low:g} is greater than max {high:g}"])
    return (low, high)


def by_level(raw: Any, path: str) -> dict[str, float]:
    """A probability for each of OC1..OC5 (all five, nothing else)."""
    m = mapping(raw, path)
    check_keys(m, path, OC_LEVELS, ())
    collect = Collect()
    values = {
        level: collect(lambda level=level: number(m[level], f"{path}.{level}", 0.0, 1.0), 0.0)  # type: ignore[misc]
        for level in OC_LEVELS
    }
    collect.raise_any()
    return values


def typename(value: Any) -> str:
    return "null" if value is None else type(value).__name__
