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


Money = tuple[float, float, float]  # (min, most likely, max) in the system's currency


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetData:
    """An asset with the theft-relevant properties and relations the engines read.

    Relations (risk method v2, ``docs/risk-method.md``):
    ``hosted_on_id``: the machine a service or agent runs on (for a data asset it is read as a
    stored copy when ``stored_on`` is empty, the v1 meaning). ``stored_on``: stores or hosts that
    each hold a persistent copy of this data asset, the first being the system of record.
    ``loaded_on``: hosts that hold it in memory while in use (decrypted). ``serves``: models whose
    answers this endpoint, gateway or agent returns. ``replication_value``: what a functional
    clone of this model is worth (None: the engine's estimate, below ``value``).
    ``compute_cost_per_day``: what an abuser can burn through this endpoint per day (None: the
    library default). ``instances``: identical instances (each holds its own copy).
    """

    id: int
    name: str = ""
    kind: str = "object_store"
    zone_id: int | None = None
    hosted_on_id: int | None = None
    stored_on: tuple[int, ...] = ()
    loaded_on: tuple[int, ...] = ()
    serves: tuple[int, ...] = ()
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
    runs_untrusted_code: bool = False
    prompt_cache_shared: bool = False
    streaming: bool = False
    instances: int = 1
    personnel: str = ""
    criticality: int = 3
    size_gb: float | None = None
    tags: tuple[str, ...] = ()
    value_min: float = 0.0
    value_likely: float = 0.0
    value_max: float = 0.0
    replication_value: Money | None = None
    compute_cost_per_day: Money | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowData:
    """A flow from ``source_id`` to ``target_id``, the way its main payload moves.

    ``initiator`` says which side opens the connection ("source" or "target"): CI pulling
    packages from an index is a flow index -> CI initiated by the target. ``carries`` names the
    data assets whose content travels on it; ``bidirectional`` means payload moves both ways.
    """

    id: int
    name: str = ""
    source_id: int
    target_id: int
    protocol: str = ""
    authenticated: bool = True
    encrypted: bool = True
    bidirectional: bool = False
    carries: tuple[int, ...] = ()
    initiator: str = "source"


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemSnapshot:
    """Everything the engines need about one system version."""

    zones: tuple[ZoneData, ...] = ()
    assets: tuple[AssetData, ...] = ()
    flows: tuple[FlowData, ...] = ()
