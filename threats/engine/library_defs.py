"""The contract between the library files and the risk engine: the format v2 dataclasses, the
vocabularies of positions, yields and loss forms, the safe YAML loader and the size caps.
``library`` re-exports them with the loader and the matcher; the parser (``library_parse`` and
its parts) builds on this module alone, so nothing imports in a circle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from threats.engine.rules import Rule, Target

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LibraryLoader(_BASE_LOADER):  # type: ignore[misc,valid-type]
    """libyaml's safe loader when present (same safety as ``yaml.safe_load``, ~10x faster), with
    YAML 1.2 booleans: only true and false. YAML 1.1 also reads on, off, yes and no as booleans,
    which would turn the key ``on`` of a threat's control into ``True``."""


_LibraryLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _BASE_LOADER.yaml_implicit_resolvers.items()
}
_LibraryLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
SAFE_LOADER: Any = _LibraryLoader
MAX_BYTES = 1024 * 1024  # the curated files are ~150 kB; pure-Python YAML parses ~1 MB/s
MAX_NODES = 200_000
MAX_FLOW_DEPTH = 64
LIBRARY_VERSION = "2026.12.1"  # the first version of format v2


class LibraryError(ValueError):
    """The library is invalid; ``errors`` holds one message per problem, each with its path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


# -- v2 dataclasses: the contract between the library files and the risk engine ----------------
# (docs/library-format.md describes the files; docs/risk-method.md what the engine does with them)

Role = Literal["access", "theft", "enabler"]
ROLES: frozenset[str] = frozenset({"access", "theft", "enabler"})
# Where the attacker must stand to try a technique, by role and target (docs/library-format.md,
# Positions). ``query`` as an access position: prompt injection of an interface the attacker can
# send input to.
ACCESS_POSITIONS: frozenset[str] = frozenset(
    {"exposed", "network", "credentials", "content", "payload", "escape", "approach", "physical", "query"}
)
FLOW_ACCESS_POSITIONS: frozenset[str] = frozenset({"network", "credentials", "content", "payload"})
THEFT_POSITIONS: frozenset[str] = frozenset({"control", "authorised", "held", "query", "physical", "cotenant"})
FLOW_THEFT_POSITIONS: frozenset[str] = frozenset({"intercept"})
ENABLER_POSITIONS: frozenset[str] = frozenset({"none"})
# Which jewels a theft takes: stored / loaded copies on the target (copies: both), models the
# target serves, jewels an agent can retrieve, what a flow carries, and the data sets the served
# models were trained on.
YIELDS: frozenset[str] = frozenset({"stored", "loaded", "copies", "served", "retrievable", "carried", "trained_on"})
LOSS_FORMS: frozenset[str] = frozenset({"theft", "compute"})
LOSS_VALUES: frozenset[str] = frozenset({"value", "replication", "fraction"})
QUERY_GOALS: frozenset[str] = frozenset({"clone", "parameters", "prompt", "data"})
CONTROL_SCOPES: frozenset[str] = frozenset({"any", "jewel"})
PRICINGS: frozenset[str] = frozenset({"per_element", "per_system"})
DEFAULT_CAPABILITY_DECAY = 0.7


def positions_for(role: str, target: str) -> frozenset[str]:
    """The positions a technique of ``role`` on a ``target`` ("asset" or "flow") may declare."""
    if role == "enabler":
        return ENABLER_POSITIONS
    if role == "access":
        return ACCESS_POSITIONS if target == "asset" else FLOW_ACCESS_POSITIONS
    return THEFT_POSITIONS if target == "asset" else FLOW_THEFT_POSITIONS


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
    """One technique of the library. ``position`` is the first of ``positions`` (the places the
    technique can be tried from, in library order); ``loss`` only for thefts; ``boosts`` and
    ``boost`` only for enablers."""

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
    # Kinds of asset a move may start from (content from a package index, tools from an agent
    # tool server); empty: any. Only for access techniques.
    from_kinds: frozenset[str] = frozenset()
    positions: tuple[str, ...] = ()

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


@dataclass(frozen=True, slots=True)
class Match:
    """A threat applies to a target; ``explanation`` lists the rule's matched conditions."""

    threat_code: str
    target_type: Literal["asset", "flow"]
    target_id: int
    explanation: tuple[str, ...]
