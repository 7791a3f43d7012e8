"""Rules of the v2 domain fields (risk method v2, DESIGN.md §4) as plain functions over values.

Why plain functions: the model's ``clean()``, the element services and inventory sync must
refuse exactly the same things, and the sync checks merged column values of thousands of rows
without building model objects. So each rule reads a mapping of column values (attnames) or a
pair of kinds and returns the errors, keyed by the field to show them on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.choices import DATA_KINDS, SERVING_KINDS, WEIGHT_KINDS

REPLICATION_FIELDS = ("replication_value_min", "replication_value_likely", "replication_value_max")
COMPUTE_COST_FIELDS = ("compute_cost_min", "compute_cost_likely", "compute_cost_max")
VALUE_FIELDS = ("value_min", "value_likely", "value_max")
# Stored and loaded copies, and served models, an asset may list (a fleet is ``instances``).
MAX_RELATED = 200

DATA_KIND_VALUES = frozenset(str(kind) for kind in DATA_KINDS)
MODEL_KIND_VALUES = frozenset(str(kind) for kind in WEIGHT_KINDS)
SERVING_KIND_VALUES = frozenset(str(kind) for kind in SERVING_KINDS)


def _triple_errors(values: Mapping[str, Any], names: tuple[str, str, str], what: str) -> dict[str, str]:
    """All three or none, and minimum <= most likely <= maximum."""
    triple = [values.get(name) for name in names]
    if all(value is None for value in triple):
        return {}
    if any(value is None for value in triple):
        missing = next(name for name, value in zip(names, triple, strict=True) if value is None)
        return {missing: f"Give the {what} as minimum, most likely and maximum, or none of them."}
    low, likely, high = triple
    if not low <= likely <= high:  # type: ignore[operator]  # none is None here
        return {names[1]: f"The {what} must satisfy minimum ≤ most likely ≤ maximum."}
    return {}


def asset_money_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Errors of an asset's replication value and compute cost per day, from its column values.

    A replication value is what a functional clone of a model is worth (distillation, learning-
    based extraction): only model kinds have one, and a clone is never worth more than the
    weights, so each figure is at most the matching value figure. A compute cost per day is what
    an abuser burns through an interface that runs a model: endpoints, gateways and agents only.
    """
    kind = values.get("kind")
    errors = _triple_errors(values, REPLICATION_FIELDS, "replication value")
    if not errors and values.get(REPLICATION_FIELDS[0]) is not None:
        if kind not in MODEL_KIND_VALUES:
            errors[REPLICATION_FIELDS[0]] = "Only models (weights, checkpoints, adapters) have a replication value."
        else:
            for name, value_name in zip(REPLICATION_FIELDS, VALUE_FIELDS, strict=True):
                value = values.get(value_name)
                if value is not None and values[name] > value:
                    errors[name] = "A functional clone is worth at most the model itself: keep it ≤ the value."
                    break
    cost_errors = _triple_errors(values, COMPUTE_COST_FIELDS, "compute cost per day")
    if not cost_errors and values.get(COMPUTE_COST_FIELDS[0]) is not None and kind not in SERVING_KIND_VALUES:
        cost_errors[COMPUTE_COST_FIELDS[0]] = (
            "Only inference endpoints, API gateways and AI agents have a compute cost per day."
        )
    return errors | cost_errors


def hosted_on_error(kind: Any, host_kind: Any) -> str | None:
    """``hosted_on`` is the machine a service or agent runs on; data lives in copies instead."""
    if kind in DATA_KIND_VALUES:
        return "A data asset is not hosted: say where its copies are (stored on, loaded on)."
    if host_kind in DATA_KIND_VALUES:
        return "The host must be a machine, store or service, not a data asset."
    return None


def copy_error(asset_kind: Any, holder_kind: Any) -> str | None:
    """Why a copy of an ``asset_kind`` asset cannot live on a ``holder_kind`` asset, or None."""
    if asset_kind not in DATA_KIND_VALUES:
        return "Only data assets (weights, checkpoints, adapters, data, prompts) have copies."
    if holder_kind in DATA_KIND_VALUES:
        return "A copy lives on a store, host, device or person, not on another data asset."
    return None


def serves_error(endpoint_kind: Any, model_kind: Any) -> str | None:
    """Why an ``endpoint_kind`` asset cannot serve a ``model_kind`` asset, or None."""
    if endpoint_kind not in SERVING_KIND_VALUES:
        return "Only inference endpoints, API gateways and AI agents serve models."
    if model_kind not in MODEL_KIND_VALUES:
        return "An endpoint serves models: weights, checkpoints or adapters."
    return None
