"""Plain, immutable copies of one system's elements: the engines' only input.

A service reads the system from the database once and builds a ``SystemSnapshot``; every engine
then works on these values. They are frozen so that an engine cannot change what another engine
sees, and use ids rather than object references so that a snapshot is trivially serialisable.
Fields are keyword-only; defaults mirror the model defaults in ``workbench/models/elements.py``
so that tests can stay short.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ZoneData:
    """A trust zone; level 0 is the internet, 4 an isolated enclave."""

    id: int
    name: str = ""
    trust_level: int = 2
    parent_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetData:
    """An asset with the theft-relevant properties the rules speak about."""

    id: int
    name: str = ""
    kind: str = "object_store"
    zone_id: int | None = None
    hosted_on_id: int | None = None
    internet_facing: bool = False
    authentication: str = "sso"
    mfa: bool = False
    encrypted_at_rest: bool = False
    rate_limited: bool = False
    rate_limit_per_minute: int | None = None
    output_granularity: str = ""
    model_class: str = ""
    logging: bool = False
    monitored: bool = False
    third_party: bool = False
    personnel: str = ""
    criticality: int = 3
    size_gb: float | None = None
    tags: tuple[str, ...] = ()
    value_min: float = 0.0
    value_likely: float = 0.0
    value_max: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowData:
    """A directed flow; ``carries`` names the assets whose content travels on it."""

    id: int
    name: str = ""
    source_id: int
    target_id: int
    protocol: str = ""
    authenticated: bool = True
    encrypted: bool = True
    bidirectional: bool = False
    carries: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemSnapshot:
    """Everything the engines need about one system version."""

    zones: tuple[ZoneData, ...] = ()
    assets: tuple[AssetData, ...] = ()
    flows: tuple[FlowData, ...] = ()
