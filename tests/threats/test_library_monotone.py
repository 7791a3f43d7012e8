"""Theft and enabler rules are monotone in the control-like properties.

The engine matches rules on the system with every control off for the inherent view
(``threats/engine/normalise.py``) and puts in force the controls those properties imply. A theft
or enabler rule that stopped matching when a property got weaker (authentication removed, MFA,
encryption, rate limit, monitoring or logging off, more revealing output) would make a finding
vanish from the inherent view and inherent risk fall below current (docs/library-format.md,
"Monotone rules"). Access rules may test these properties freely (password cracking needs a
password), so they are not checked.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.threats.attr_strategies import asset_attrs, flow_attrs, random_attrs
from threats.engine.facts import ASSET_ATTRIBUTES, FLOW_ATTRIBUTES
from threats.engine.library import ThreatDef, load_library
from threats.engine.rules import compile_condition

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = load_library(
    (ROOT / "threats" / "library" / "threats.yaml").read_bytes(),
    (ROOT / "threats" / "library" / "controls.yaml").read_bytes(),
)
CHECKED = [t for t in LIBRARY.threats if t.role in ("theft", "enabler")]
Attrs = dict[str, Any]
Weakening = tuple[str, Callable[[Attrs], Attrs]]

# Authentication from strong to weak: federated or mutual, static credentials, none.
_STRONG, _STATIC = ("sso", "mtls", "iam"), ("password", "api_key", "token")
# What one answer reveals, from least to most; "" (not an interface) and embeddings stay as they are.
_OUTPUTS = ("text", "label", "score", "logits")


def _set(**changes: Any) -> Callable[[Attrs], Attrs]:
    return lambda attrs: {**attrs, **changes}


def asset_weakenings(attrs: Attrs) -> Iterator[Weakening]:
    """Every single step that makes one control-like property of the asset weaker."""
    auth = attrs["authentication"]
    weaker = [*_STATIC, "none"] if auth in _STRONG else ["none"] if auth in _STATIC else []
    for value in weaker:
        yield f"authentication {auth} -> {value}", _set(authentication=value, authenticated=value != "none")
    for name in ("mfa", "encrypted_at_rest", "monitored", "logging"):
        if attrs[name]:
            yield f"{name} off", _set(**{name: False})
    if attrs["rate_limited"] or attrs["rate_limit_per_minute"] is not None:
        yield "no rate limit", _set(rate_limited=False, rate_limit_per_minute=None)
    granularity = attrs["output_granularity"]
    if granularity in _OUTPUTS:
        for value in _OUTPUTS[_OUTPUTS.index(granularity) + 1 :]:
            yield f"output {granularity} -> {value}", _set(output_granularity=value)


def flow_weakenings(attrs: Attrs) -> Iterator[Weakening]:
    for name in ("authenticated", "encrypted"):
        if attrs[name]:
            yield f"{name} off", _set(**{name: False})


def violations(threat: ThreatDef, attrs: Attrs) -> list[str]:
    """The weakenings after which ``threat``'s rule no longer holds although it held before."""
    if not threat.rule.test(attrs):
        return []
    steps = asset_weakenings(attrs) if threat.target == "asset" else flow_weakenings(attrs)
    return [label for label, weaken in steps if not threat.rule.test(weaken(attrs))]


def _threat_and_attrs() -> st.SearchStrategy[tuple[ThreatDef, Attrs]]:
    def attrs_of(threat: ThreatDef) -> st.SearchStrategy[tuple[ThreatDef, Attrs]]:
        if threat.target == "flow":
            return st.tuples(st.just(threat), flow_attrs())
        kind = st.sampled_from(sorted(threat.asset_kinds))
        return st.tuples(st.just(threat), kind.flatmap(lambda k: asset_attrs(kind=k)))

    return st.sampled_from(CHECKED).flatmap(attrs_of)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_threat_and_attrs())
def test_weakening_a_control_like_property_never_unmatches_a_theft_or_enabler(case: tuple[ThreatDef, Attrs]) -> None:
    threat, attrs = case
    assert violations(threat, attrs) == [], threat.code


def _matching_samples(threat: ThreatDef, wanted: int, rng: random.Random) -> list[Attrs]:
    """Seeded random attribute dicts on which the rule holds (the property test above draws
    few of them for narrow rules)."""
    specs = FLOW_ATTRIBUTES if threat.target == "flow" else ASSET_ATTRIBUTES
    found: list[Attrs] = []
    for _ in range(5000):
        attrs = random_attrs(specs, rng)
        if threat.target == "asset":
            attrs["kind"] = rng.choice(sorted(threat.asset_kinds))
        if threat.rule.test(attrs):
            found.append(attrs)
            if len(found) == wanted:
                break
    return found


@pytest.mark.parametrize("threat", CHECKED, ids=[t.code for t in CHECKED])
def test_every_theft_and_enabler_rule_matches_somewhere_and_stays_matched(threat: ThreatDef) -> None:
    samples = _matching_samples(threat, 25, random.Random(threat.code))
    assert samples, f"{threat.code}: no random attribute dict matched; the monotone check would be vacuous"
    for attrs in samples:
        assert violations(threat, attrs) == [], threat.code


def test_the_check_catches_a_rule_that_needs_a_control() -> None:
    """A rule that asks for strong authentication (a control expressed as a condition) is caught."""
    shadow = next(t for t in LIBRARY.threats if t.code == "T-SHADOW-COPY")
    needs_sso = compile_condition({"attr": "authentication", "eq": "sso"}, "asset")
    bad = dataclasses.replace(shadow, rule=needs_sso)
    attrs = {**random_attrs(ASSET_ATTRIBUTES, random.Random(1)), "authentication": "sso", "authenticated": True}
    assert violations(bad, attrs) == [
        "authentication sso -> password",
        "authentication sso -> api_key",
        "authentication sso -> token",
        "authentication sso -> none",
    ]
