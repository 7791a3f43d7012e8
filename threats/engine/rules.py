"""Validate, compile and evaluate the library's applicability conditions.

A condition is data (``docs/library-format.md`` § Conditions), never code: there is no ``eval``
here, unlike pytm's string conditions. A condition is validated and compiled once into two
closures per node: ``test`` (a fast boolean, run rule x element times) and ``explain`` (the plain
English reasons, run only for the few elements that match). Every validation error names its path
in the document, e.g. ``rule.all[1].attr: unknown attribute 'foo' for asset targets``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from threats.engine.facts import ASSET_ATTRIBUTES, FLOW_ATTRIBUTES, Attrs, AttrSpec

Target = Literal["asset", "flow"]
Test = Callable[[Attrs], bool]
Explain = Callable[[Attrs, bool], list[str]]

MAX_DEPTH = 32
COMBINATORS = ("all", "any", "not")
SCALAR_OPS = frozenset({"eq", "ne", "in", "not_in"})
ORDER_OPS = frozenset({"gt", "gte", "lt", "lte"})
SET_OPS = frozenset({"contains", "intersects"})
OPERATORS = SCALAR_OPS | ORDER_OPS | SET_OPS | {"is_null"}
_OPS_BY_TYPE: Mapping[str, frozenset[str]] = {
    "bool": SCALAR_OPS,
    "enum": SCALAR_OPS,
    "str": SCALAR_OPS,
    "int": SCALAR_OPS | ORDER_OPS,
    "number": SCALAR_OPS | ORDER_OPS,
    "set": SET_OPS,
}
_ANY_TARGET: Mapping[str, AttrSpec] = {**FLOW_ATTRIBUTES, **ASSET_ATTRIBUTES}


class _Node(NamedTuple):
    """A compiled condition; ``eq`` is (attribute, value) for an ``eq`` leaf, for grouping."""

    test: Test
    explain: Explain
    eq: tuple[str, Any] | None = None


class RuleError(ValueError):
    """A condition is malformed; the message starts with the path of the offending field."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A validated, compiled condition; ``source`` is the condition as written."""

    source: Mapping[str, Any]
    target: Target | None
    test: Test
    _explain: Explain

    def explain(self, attrs: Attrs) -> list[str]:
        """The matched leaf conditions, in plain English; call only when ``test(attrs)`` holds."""
        return self._explain(attrs, False)


def compile_condition(cond: Any, target: Target | None, path: str = "rule") -> Rule:
    """Validate ``cond`` for ``target`` (``None``: any target) and compile it, or raise RuleError."""
    specs = {"asset": ASSET_ATTRIBUTES, "flow": FLOW_ATTRIBUTES, None: _ANY_TARGET}.get(target)
    if specs is None:
        raise RuleError(f"{path}: unknown target type {target!r} (asset or flow)")
    label = f"{target} targets" if target else "any target"
    node = _compile(cond, specs, label, path, 0)
    return Rule(source=cond, target=target, test=node.test, _explain=node.explain)


def validate_condition(cond: Any, target: Target | None, path: str = "rule") -> None:
    """Raise RuleError naming the first problem in ``cond``; return None when it is valid."""
    compile_condition(cond, target, path)


def evaluate(cond: Rule | Mapping[str, Any], attrs: Attrs, target: Target | None = None) -> tuple[bool, list[str]]:
    """Whether ``cond`` holds for ``attrs``, and why (the matched leaves; empty when it fails).

    Pass a compiled ``Rule`` in loops; a raw mapping is validated for ``target`` and compiled on
    each call.
    """
    rule = cond if isinstance(cond, Rule) else compile_condition(cond, target)
    if not rule.test(attrs):
        return False, []
    return True, rule.explain(attrs)


def _compile(cond: Any, specs: Mapping[str, AttrSpec], label: str, path: str, depth: int) -> _Node:
    if depth > MAX_DEPTH:
        raise RuleError(f"{path}: conditions nest deeper than {MAX_DEPTH} levels")
    if not isinstance(cond, Mapping):
        raise RuleError(f"{path}: a condition must be a mapping, got {_typename(cond)}")
    combinator = next((key for key in COMBINATORS if key in cond), None)
    if combinator is None:
        return _compile_leaf(cond, specs, label, path)
    for key in cond:
        if key != combinator:
            raise RuleError(f"{path}.{key}: unexpected key {key!r} beside {combinator!r}")
    sub = cond[combinator]
    if combinator == "not":
        inner = _compile(sub, specs, label, f"{path}.not", depth + 1)
        test, explain = inner.test, inner.explain
        return _Node(lambda a: not test(a), lambda a, negated: explain(a, not negated))
    if not isinstance(sub, list) or not sub:
        raise RuleError(f"{path}.{combinator}: must be a non-empty list of conditions")
    parts = [_compile(c, specs, label, f"{path}.{combinator}[{i}]", depth + 1) for i, c in enumerate(sub)]
    return _all(parts) if combinator == "all" else _any(parts)


def _all(parts: list[_Node]) -> _Node:
    # Equality leaves are checked together: one itemgetter call and one tuple comparison replace
    # a closure call per leaf, the commonest shape in the library ("x is true and y is false").
    eqs = [p.eq for p in parts if p.eq is not None]
    tests = [p.test for p in parts]
    if len(eqs) > 1:
        getter, expected = itemgetter(*(name for name, _ in eqs)), tuple(value for _, value in eqs)
        tests = [lambda a: getter(a) == expected, *(p.test for p in parts if p.eq is None)]

    def explain(a: Attrs, negated: bool) -> list[str]:
        # all holds: every part is a reason. not-all holds: the parts that failed are.
        return [line for p in parts if not negated or not p.test(a) for line in p.explain(a, negated)]

    return _Node(_conjunction(tests), explain)


def _any(parts: list[_Node]) -> _Node:
    def explain(a: Attrs, negated: bool) -> list[str]:
        # any holds: the parts that hold are reasons. not-any holds: every part failed.
        return [line for p in parts if negated or p.test(a) for line in p.explain(a, negated)]

    return _Node(_disjunction([p.test for p in parts]), explain)


def _conjunction(tests: list[Test]) -> Test:
    """``t0(a) and t1(a) and ...`` as one closure; small fixed arities avoid a Python loop."""
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        t0, t1 = tests
        return lambda a: t0(a) and t1(a)
    if len(tests) == 3:
        t0, t1, t2 = tests
        return lambda a: t0(a) and t1(a) and t2(a)
    many = tuple(tests)

    def test(a: Attrs) -> bool:
        for t in many:  # noqa: SIM110 - a plain loop is faster than all() over a generator
            if not t(a):
                return False
        return True

    return test


def _disjunction(tests: list[Test]) -> Test:
    """``t0(a) or t1(a) or ...`` as one closure, like ``_conjunction``."""
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        t0, t1 = tests
        return lambda a: t0(a) or t1(a)
    if len(tests) == 3:
        t0, t1, t2 = tests
        return lambda a: t0(a) or t1(a) or t2(a)
    many = tuple(tests)

    def test(a: Attrs) -> bool:
        for t in many:  # noqa: SIM110 - a plain loop is faster than any() over a generator
            if t(a):
                return True
        return False

    return test


def _compile_leaf(cond: Mapping[str, Any], specs: Mapping[str, AttrSpec], label: str, path: str) -> _Node:
    for key in cond:
        if key != "attr" and key not in OPERATORS:
            raise RuleError(f"{path}.{key}: unknown key {key!r} (a leaf is attr plus one of {_names(OPERATORS)})")
    ops = [key for key in cond if key != "attr"]
    if "attr" not in cond:
        raise RuleError(f"{path}: a leaf needs 'attr' (or use all, any, not)")
    if len(ops) != 1:
        raise RuleError(f"{path}: a leaf needs exactly one operator, got {', '.join(ops) or 'none'}")
    name, op = cond["attr"], ops[0]
    if not isinstance(name, str):
        raise RuleError(f"{path}.attr: must be an attribute name, got {_typename(name)}")
    spec = specs.get(name)
    if spec is None:
        raise RuleError(f"{path}.attr: unknown attribute {name!r} for {label}")
    allowed = _OPS_BY_TYPE[spec.type] | ({"is_null"} if spec.nullable else set())
    if op not in allowed:
        kind = f"nullable {spec.type}" if spec.nullable else spec.type
        raise RuleError(
            f"{path}.{op}: operator {op!r} does not apply to {kind} attribute {name!r} (use {_names(allowed)})"
        )
    value = _check_value(op, cond[op], spec, name, f"{path}.{op}")
    eq = (name, value) if op == "eq" else None
    if spec.type == "bool" and op in ("eq", "ne"):
        said = {True: [f"{name} is true"], False: [f"{name} is false"]}
        return _Node(_TESTS[op](name, value), lambda a, negated: list(said[a[name]]), eq)
    return _Node(_TESTS[op](name, value), _leaf_explain(name, op, value), eq)


def _check_value(op: str, value: Any, spec: AttrSpec, name: str, path: str) -> Any:
    """Check the operand's type against the attribute's and return it normalised."""
    if op == "is_null":
        if not isinstance(value, bool):
            raise RuleError(f"{path}: must be true or false, got {_typename(value)}")
        return value
    if op in ORDER_OPS:
        return _check_scalar(value, AttrSpec("number"), name, path)
    if op in ("eq", "ne"):
        return _check_scalar(value, spec, name, path)
    if op == "contains":
        return _check_scalar(value, _element_spec(spec), name, path)
    if not isinstance(value, list) or not value:
        raise RuleError(f"{path}: must be a non-empty list, got {_typename(value)}")
    element = _element_spec(spec) if op == "intersects" else spec
    checked = [_check_scalar(v, element, name, f"{path}[{i}]") for i, v in enumerate(value)]
    return tuple(dict.fromkeys(checked))  # de-duplicated, in the order written


def _element_spec(spec: AttrSpec) -> AttrSpec:
    return AttrSpec("enum" if spec.members is not None else "str", members=spec.members)


def _check_scalar(value: Any, spec: AttrSpec, name: str, path: str) -> Any:
    if spec.type == "bool":
        if not isinstance(value, bool):
            raise RuleError(f"{path}: {name} is a bool, expected true or false, got {_typename(value)}")
        return value
    if spec.type in ("int", "number"):
        wanted: tuple[type, ...] = (int,) if spec.type == "int" else (int, float)
        if isinstance(value, bool) or not isinstance(value, wanted) or not _finite(value):
            raise RuleError(f"{path}: {name} is a {spec.type}, got {_fmt(value)} ({_typename(value)})")
        return value
    if not isinstance(value, str):
        raise RuleError(f"{path}: {name} takes a string, got {_typename(value)}")
    if spec.members is not None and value not in spec.members:
        raise RuleError(f"{path}: {value!r} is not a valid {name} value (one of {_names(spec.members)})")
    # Protocols are derived in lower case, so "HTTPS" in a rule means what its author meant.
    return value.lower() if spec.lowercase else value


def _eq(name: str, v: Any) -> Test:
    return lambda a: a[name] == v


def _ne(name: str, v: Any) -> Test:
    return lambda a: a[name] != v


def _in(name: str, vs: tuple[Any, ...]) -> Test:
    members = frozenset(vs)
    return lambda a: a[name] in members


def _not_in(name: str, vs: tuple[Any, ...]) -> Test:
    members = frozenset(vs)
    return lambda a: (x := a[name]) is not None and x not in members


def _gt(name: str, v: float) -> Test:
    return lambda a: (x := a[name]) is not None and x > v


def _gte(name: str, v: float) -> Test:
    return lambda a: (x := a[name]) is not None and x >= v


def _lt(name: str, v: float) -> Test:
    return lambda a: (x := a[name]) is not None and x < v


def _lte(name: str, v: float) -> Test:
    return lambda a: (x := a[name]) is not None and x <= v


def _contains(name: str, v: str) -> Test:
    return lambda a: v in a[name]


def _intersects(name: str, vs: tuple[str, ...]) -> Test:
    members = frozenset(vs)
    return lambda a: not members.isdisjoint(a[name])


def _is_null(name: str, v: bool) -> Test:
    return lambda a: (a[name] is None) is v


_TESTS: Mapping[str, Callable[[str, Any], Test]] = {
    "eq": _eq,
    "ne": _ne,
    "in": _in,
    "not_in": _not_in,
    "gt": _gt,
    "gte": _gte,
    "lt": _lt,
    "lte": _lte,
    "contains": _contains,
    "intersects": _intersects,
    "is_null": _is_null,
}

# operator -> (phrase when it holds, phrase when it fails); "{n}" is the attribute, "{v}" the value.
_PHRASES: Mapping[str, tuple[str, str]] = {
    "eq": ("{n} is {v}", "{n} is not {v}"),
    "ne": ("{n} is not {v}", "{n} is {v}"),
    "in": ("{n} is one of {v}", "{n} is not one of {v}"),
    "not_in": ("{n} is not one of {v}", "{n} is one of {v}"),
    "gt": ("{n} is greater than {v}", "{n} is not greater than {v}"),
    "gte": ("{n} is at least {v}", "{n} is not at least {v}"),
    "lt": ("{n} is less than {v}", "{n} is not less than {v}"),
    "lte": ("{n} is at most {v}", "{n} is not at most {v}"),
    "contains": ("{n} includes {v}", "{n} does not include {v}"),
    "intersects": ("{n} includes one of {v}", "{n} includes none of {v}"),
}


def _leaf_explain(name: str, op: str, value: Any) -> Explain:
    """Build the leaf's explanation; the actual value is added where it is not implied."""
    if op == "is_null":
        held, failed = (f"{name} is not set", f"{name} is set")
        if not value:
            held, failed = failed, held
        return lambda a, negated: [failed if negated else held]
    held, failed = (p.format(n=name, v=_fmt(value)) for p in _PHRASES[op])
    if op == "contains":
        return lambda a, negated: [failed if negated else held]
    if op == "intersects":
        members = frozenset(value)
        return lambda a, negated: [failed if negated else f"{held} (found: {_fmt(sorted(members & a[name]))})"]

    def explain(a: Attrs, negated: bool) -> list[str]:
        # Say what the value is, except where the phrase already does (eq that held, ne that failed).
        implied = (op == "eq" and not negated) or (op == "ne" and negated)
        return [(failed if negated else held) + ("" if implied else f" (it is {_fmt(a[name])})")]

    return explain


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if value == "":
        return '""'
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def _names(values: frozenset[str] | set[str]) -> str:
    return ", ".join(repr(v) if v == "" else v for v in sorted(values))


def _finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _typename(value: Any) -> str:
    return "null" if value is None else type(value).__name__
