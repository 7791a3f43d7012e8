"""Hypothesis strategies for the flat attribute dicts that rules read (``threats/engine/facts.py``).

Drawing every attribute from its declared type and members, independently, explores
combinations a real system rarely produces (an unauthenticated store that is also marked
``authenticated``), which is what a test of a rule's behaviour over all inputs wants.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from threats.engine.facts import ASSET_ATTRIBUTES, FLOW_ATTRIBUTES, AttrSpec

_TAGS = ("tools", "agent", "mcp-server", "multi-tenant", "on-prem", "remote", "x")
_PROTOCOLS = ("https", "grpc", "s3", "ssh", "smtp", "shell", "local")


def _value(name: str, spec: AttrSpec) -> st.SearchStrategy[Any]:
    if spec.type == "bool":
        base: st.SearchStrategy[Any] = st.booleans()
    elif spec.type == "enum":
        assert spec.members is not None
        base = st.sampled_from(sorted(spec.members))
    elif spec.type == "int":
        base = st.integers(min_value=0, max_value=5_000_000 if name == "instances" else 10)
    elif spec.type == "number":
        base = st.floats(min_value=0, max_value=10_000, allow_nan=False)
    elif spec.type == "str":
        base = st.sampled_from(_PROTOCOLS)
    else:
        members = sorted(spec.members) if spec.members is not None else list(_TAGS)
        base = st.frozensets(st.sampled_from(members), max_size=4)
    return st.one_of(st.none(), base) if spec.nullable else base


def random_attrs(specs: Mapping[str, AttrSpec], rng: random.Random) -> dict[str, Any]:
    """The same distribution as ``attrs_for``, drawn with a seeded ``random.Random`` (for
    deterministic sweeps that need many matching dicts of a narrow rule)."""
    attrs: dict[str, Any] = {}
    for name, spec in specs.items():
        if spec.nullable and rng.random() < 0.2:
            attrs[name] = None
        elif spec.type == "bool":
            attrs[name] = rng.random() < 0.5
        elif spec.type == "enum":
            attrs[name] = rng.choice(sorted(spec.members or ()))
        elif spec.type == "int":
            attrs[name] = rng.randint(0, 5_000_000 if name == "instances" else 10)
        elif spec.type == "number":
            attrs[name] = rng.uniform(0, 10_000)
        elif spec.type == "str":
            attrs[name] = rng.choice(_PROTOCOLS)
        else:
            members = sorted(spec.members) if spec.members is not None else list(_TAGS)
            attrs[name] = frozenset(rng.sample(members, rng.randint(0, min(4, len(members)))))
    return attrs


def attrs_for(specs: Mapping[str, AttrSpec], **fixed: Any) -> st.SearchStrategy[dict[str, Any]]:
    """A full attribute dict for ``specs``; ``fixed`` pins some attributes (e.g. ``kind``)."""
    drawn = {name: (st.just(fixed[name]) if name in fixed else _value(name, spec)) for name, spec in specs.items()}
    return st.fixed_dictionaries(drawn)


def asset_attrs(**fixed: Any) -> st.SearchStrategy[dict[str, Any]]:
    return attrs_for(ASSET_ATTRIBUTES, **fixed)


def flow_attrs(**fixed: Any) -> st.SearchStrategy[dict[str, Any]]:
    return attrs_for(FLOW_ATTRIBUTES, **fixed)
