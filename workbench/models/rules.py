"""Rules of the v2 domain fields (risk method v2, DESIGN.md §4) as plain functions over values.

Why plain functions: the model's ``clean()``, the asset form, the API's input serializer and
inventory sync must refuse exactly the same things, and the sync checks merged column values of
thousands of rows without building model objects. So each rule reads a mapping of column values
(attnames) or a pair of kinds and returns the errors, keyed by the field to show them on.
``asset_field_problems`` is the one entry point for an asset's cross-field rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.choices import DATA_KINDS, SERVING_KINDS, WEIGHT_KINDS, Authentication

REPLICATION_FIELDS = ("replication_value_min", "replication_value_likely", "replication_value_max")
COMPUTE_COST_FIELDS = ("compute_cost_min", "compute_cost_likely", "compute_cost_max")
VALUE_FIELDS = ("value_min", "value_likely", "value_max")
MONEY_FIELDS = (*REPLICATION_FIELDS, *COMPUTE_COST_FIELDS)
# The columns (attnames) ``asset_field_problems`` reads: what a caller must hand it.
ASSET_RULE_COLUMNS = (
    "kind",
    "hosted_on_id",
    *VALUE_FIELDS,
    "rate_limited",
    "rate_limit_per_minute",
    "mfa",
    "authentication",
    *MONEY_FIELDS,
)
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


VALUES_ORDERED = "Values must satisfy minimum ≤ most likely ≤ maximum."
RATE_LIMIT_NEEDS_FLAG = "Set 'rate limited' when giving a rate limit."
MFA_NEEDS_AUTHENTICATION = "MFA needs an authentication method."
DATA_NOT_HOSTED = "A data asset is not hosted: say where its copies are (stored on, loaded on)."
HOST_IS_DATA = "The host must be a machine, store or service, not a data asset."


def asset_field_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """Every cross-field problem of one asset, keyed by the field to show it on (empty: none).

    ``values`` are the asset's column values after the change (attnames: ``hosted_on_id``), as
    the model, the form's cleaned data, the serializer's merged input and the sync's merged row
    all have them; a missing key or None means "not given" (a form field that failed its own
    check), and a rule that needs it is skipped. Why one function: these four callers used to
    keep their own copies of these rules, and the copies had started to disagree.
    """
    problems: dict[str, str] = {}
    low, likely, high = (values.get(name) for name in VALUE_FIELDS)
    if low is not None and likely is not None and high is not None and not low <= likely <= high:
        problems["value_likely"] = VALUES_ORDERED
    if values.get("rate_limit_per_minute") is not None and not values.get("rate_limited"):
        problems["rate_limit_per_minute"] = RATE_LIMIT_NEEDS_FLAG
    if values.get("mfa") and values.get("authentication") == Authentication.NONE:
        problems["mfa"] = MFA_NEEDS_AUTHENTICATION
    if any(values.get(name) is not None for name in MONEY_FIELDS):  # the common case: none given
        for name, message in asset_money_errors(values).items():
            problems.setdefault(name, message)
    if values.get("kind") in DATA_KIND_VALUES and values.get("hosted_on_id") is not None:
        problems["hosted_on"] = DATA_NOT_HOSTED
    return problems


def host_kind_error(host_kind: Any) -> str | None:
    """``hosted_on`` is the machine a service or agent runs on, never a data asset."""
    return HOST_IS_DATA if host_kind in DATA_KIND_VALUES else None


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
