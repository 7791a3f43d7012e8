"""What can be lost, and where it lives: jewels, their copies and the models interfaces serve.

A *jewel* is an asset with a value (risk method v2, ``docs/risk-method.md`` §1): weights,
checkpoints, adapters, data sets, embeddings, system prompts, or anything else a team gave a
value. A data jewel lives on its copy holders: the stores or hosts that keep a persistent copy
(``stored_on``, first = system of record) and the hosts that hold it in memory while in use
(``loaded_on``). A data asset that names no copy but is ``hosted_on`` something is stored there
(the v1 meaning); one that names nothing but is drawn with flows to or from other assets is kept
where those flows end (an older model drew the data as a node wired to its store); one with
neither lives at its own node. A non-data asset with a value is its own copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot
from threats.engine.vocab import DATA_KINDS, WEIGHT_KINDS

TRAINING_KINDS = frozenset({"training_data", "eval_data"})
TRAINER_KINDS = frozenset({"training_cluster", "gpu_host", "notebook", "mlops_service"})


def is_jewel(asset: AssetData) -> bool:
    """Whether the asset is worth stealing: any of its value figures is above zero."""
    return max(asset.value_min, asset.value_likely, asset.value_max) > 0


def stored_copies(asset: AssetData) -> tuple[int, ...]:
    """Persistent copy holders in order (first = system of record); see the module docstring."""
    if asset.stored_on:
        return asset.stored_on
    if asset.kind in DATA_KINDS and asset.hosted_on_id is not None and not asset.loaded_on:
        return (asset.hosted_on_id,)
    return ()


@dataclass(frozen=True, slots=True)
class Placement:
    """Where every jewel lives, computed once per snapshot.

    ``stored[h]`` / ``loaded[h]``: jewel ids with a persistent / in-memory copy on holder ``h``;
    ``secondary[h]``: jewel ids whose copy on ``h`` is not the system of record; ``own``: jewels
    that live at their own node (no copy holder known); ``served[e]``: model ids endpoint ``e``
    serves; ``trained_on[m]``: training or eval data sets model ``m`` was built from (data carried
    into a trainer that the model is carried out of or loaded on).
    """

    stored: Mapping[int, tuple[int, ...]]
    loaded: Mapping[int, tuple[int, ...]]
    secondary: Mapping[int, frozenset[int]]
    own: frozenset[int]
    served: Mapping[int, tuple[int, ...]]
    trained_on: Mapping[int, tuple[int, ...]]


def placement(snapshot: SystemSnapshot) -> Placement:
    """Index copies, serving and training relations; ids outside the snapshot are ignored."""
    ids = {a.id for a in snapshot.assets}
    kinds = {a.id: a.kind for a in snapshot.assets}
    wired: dict[int, list[int]] = {}
    for flow in snapshot.flows:
        for data, other in ((flow.source_id, flow.target_id), (flow.target_id, flow.source_id)):
            if kinds.get(data) in DATA_KINDS and other in ids and kinds.get(other) not in DATA_KINDS:
                wired.setdefault(data, []).append(other)
    stored: dict[int, list[int]] = {}
    loaded: dict[int, list[int]] = {}
    secondary: dict[int, set[int]] = {}
    own: set[int] = set()
    served: dict[int, tuple[int, ...]] = {}
    for asset in snapshot.assets:
        holders = [h for h in stored_copies(asset) if h in ids and h != asset.id]
        in_memory = [h for h in asset.loaded_on if h in ids and h != asset.id]
        if not holders and not in_memory and asset.id in wired:
            holders = sorted(set(wired[asset.id]))
        for position, holder in enumerate(holders):
            stored.setdefault(holder, []).append(asset.id)
            if position > 0:
                secondary.setdefault(holder, set()).add(asset.id)
        for holder in in_memory:
            loaded.setdefault(holder, []).append(asset.id)
        if is_jewel(asset) and not holders and not in_memory:
            own.add(asset.id)
        models = tuple(m for m in asset.serves if m in ids and m != asset.id)
        if models:
            served[asset.id] = models
    return Placement(
        stored={h: tuple(v) for h, v in stored.items()},
        loaded={h: tuple(v) for h, v in loaded.items()},
        secondary={h: frozenset(v) for h, v in secondary.items()},
        own=frozenset(own),
        served=served,
        trained_on=_trained_on(snapshot, loaded),
    )


def _trained_on(snapshot: SystemSnapshot, loaded: Mapping[int, list[int]]) -> dict[int, tuple[int, ...]]:
    """Model -> data sets it was trained on: data that reaches a trainer (carried into it, or
    loaded on it) from which the model leaves (carried out of it) or on which it is loaded."""
    assets = {a.id: a for a in snapshot.assets}
    data_in: dict[int, set[int]] = {}
    models_at: dict[int, set[int]] = {}
    for holder, jewels in loaded.items():
        for j in jewels:
            kind = assets[j].kind
            if kind in TRAINING_KINDS:
                data_in.setdefault(holder, set()).add(j)
            elif kind in WEIGHT_KINDS:
                models_at.setdefault(holder, set()).add(j)
    for flow in snapshot.flows:
        for c in flow.carries:
            kind = assets[c].kind if c in assets else ""
            if kind in TRAINING_KINDS:
                data_in.setdefault(flow.target_id, set()).add(c)
            elif kind in WEIGHT_KINDS:
                models_at.setdefault(flow.source_id, set()).add(c)
    result: dict[int, set[int]] = {}
    for trainer, data in data_in.items():
        if trainer not in assets or assets[trainer].kind not in TRAINER_KINDS:
            continue
        for model in models_at.get(trainer, ()):
            result.setdefault(model, set()).update(data)
    return {m: tuple(sorted(d)) for m, d in result.items()}


def initiator_of(flow: FlowData) -> tuple[int, int]:
    """(initiator, responder) asset ids of a flow."""
    if flow.initiator == "target":
        return flow.target_id, flow.source_id
    return flow.source_id, flow.target_id
