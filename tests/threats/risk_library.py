"""A small, fixed technique library for the risk engine's unit tests.

The curated library (``threats/library``) changes as its authors calibrate it; the engine's
mechanics (routes, copies, actors, views, budgets, compute) are tested against this one, whose
numbers the tests can reason about exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from threats.engine.library import ControlDef, Library, LossDef, ThreatControlDef, ThreatDef
from threats.engine.rules import compile_condition

ALL = frozenset({"external", "insider", "supplier", "physical"})
STORES = ["object_store", "model_registry", "vector_store"]
HOSTS = ["gpu_host", "training_cluster", "workstation", "ci_pipeline"]
INTERFACES = ["inference_endpoint", "api_gateway"]
ANY_SERVICE = {"attr": "kind", "ne": "human_role"}


def technique(
    code: str,
    role: str,
    position: str,
    kinds: Sequence[str],
    rule: dict[str, Any],
    base: Sequence[float],
    *,
    loss: LossDef | None = None,
    actors: Iterable[str] = ALL,
    controls: Sequence[tuple[str, float, str]] = (),
    target: str = "asset",
    goal: str = "",
    boosts: tuple[str, ...] = (),
    boost: float = 0.0,
    from_kinds: Iterable[str] = (),
) -> ThreatDef:
    return ThreatDef(
        code=code,
        name=code,
        description="",
        stride=("I",),
        atlas=(),
        owasp=(),
        rand=(),
        target=target,  # type: ignore[arg-type]
        asset_kinds=frozenset(kinds) if target == "asset" else frozenset(),
        rule=compile_condition(rule, target),  # type: ignore[arg-type]
        base_probability=dict(zip(("OC1", "OC2", "OC3", "OC4", "OC5"), base, strict=True)),
        controls=tuple(ThreatControlDef(c, (e,) * 5, on=on) for c, e, on in controls),
        role=role,  # type: ignore[arg-type]
        actors=frozenset(actors),
        position=position,
        loss=loss,
        query_goal=goal,
        boosts=boosts,
        boost=boost,
        from_kinds=frozenset(from_kinds),
    )


THREATS = (
    technique("T-OPEN", "access", "network", STORES + HOSTS, {"attr": "authentication", "eq": "none"}, [0.9] * 5),
    technique(
        "T-CREDS",
        "access",
        "credentials",
        STORES + HOSTS,
        ANY_SERVICE,
        [0.5, 0.6, 0.7, 0.8, 0.9],
        controls=[("M-LEAST", 0.5, "any")],
    ),
    technique(
        "T-SUPPLY",
        "access",
        "content",
        [],
        {"attr": "source_kind", "eq": "package_source"},
        [0.5] * 5,
        actors={"supplier"},
        target="flow",
        controls=[("M-PIN", 0.8, "any")],
    ),
    technique(
        "T-EXFIL",
        "theft",
        "control",
        STORES + HOSTS,
        {"attr": "holds_copies", "eq": True},
        [0.8] * 5,
        loss=LossDef("theft", "copies"),
        controls=[("M-ENCRYPT-KMS", 0.9, "jewel"), ("M-EGRESS", 0.5, "any")],
    ),
    technique(
        "T-INSIDER",
        "theft",
        "authorised",
        STORES + HOSTS,
        {"attr": "holds_copies", "eq": True},
        [0.6] * 5,
        loss=LossDef("theft", "copies"),
        actors={"insider", "supplier"},
    ),
    technique(
        "T-CLONE",
        "theft",
        "query",
        INTERFACES,
        {"attr": "model_class", "eq": "llm"},
        [0.5] * 5,
        loss=LossDef("theft", "served", "replication"),
        goal="clone",
    ),
    technique(
        "T-ABUSE",
        "theft",
        "query",
        INTERFACES,
        {"attr": "authentication", "in": ["none", "api_key"]},
        [0.5] * 5,
        loss=LossDef("compute"),
        controls=[("M-API-AUTHN", 0.5, "any")],
    ),
    technique(
        "T-SNIFF",
        "theft",
        "intercept",
        [],
        {"attr": "carries_jewels", "eq": True},
        [0.5] * 5,
        loss=LossDef("theft", "carried"),
        target="flow",
        controls=[("M-ENCRYPT-TRANSIT", 0.95, "any")],
    ),
)
CODES = sorted(
    {tc.control for t in THREATS for tc in t.controls}
    | {
        "M-API-AUTHN",
        "M-MFA",
        "M-RATE-QUOTA",
        "M-EXTRACTION-MONITOR",
        "M-AI-TELEMETRY",
        "M-ENCRYPT-KMS",
        "M-OUTPUT-MINIMIZE",
        "M-ENCRYPT-TRANSIT",
    }
)
CONTROLS = tuple(
    ControlDef(c, c, "", "preventive", (1000.0, 1000.0), (1000.0, 1000.0), (), 2, frozenset(), "per_system", 1.0)
    for c in CODES
)
LIBRARY = Library("test", THREATS, CONTROLS)
