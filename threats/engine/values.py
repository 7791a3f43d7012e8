"""Money figures of the risk method: values, clone values and compute costs (PERT triples).

Inconsistent figures are repaired rather than refused (negatives count as 0; min and max are
the smallest and largest of the three), so a model mid-edit still prices. PERT uses the classic
weight 4: mean = (min + 4 x likely + max) / 6.
"""

from __future__ import annotations

from threats.engine.snapshot import AssetData

Money = tuple[float, float, float]
# A functional clone's share of the model's value when the model gives no replication value:
# a distilled or extracted copy reproduces some capabilities, not the weights (Alpaca cloned a
# narrow skill set from 52K outputs; AML.CS0056 needed ~16M queries for frontier-grade
# distillation). Our estimate, shown with the figure.
DEFAULT_REPLICATION_SHARE = 0.1
# What an abuser can burn per day through an endpoint that states no compute cost, by model
# class (order-of-magnitude estimates; AML.CS0030 LLMjacking: up to US$46,000/day for one model).
DEFAULT_COMPUTE_COST: dict[str, Money] = {
    "llm": (500.0, 3_000.0, 20_000.0),
    "embedding": (50.0, 300.0, 2_000.0),
}
DEFAULT_OTHER_COMPUTE_COST: Money = (20.0, 200.0, 2_000.0)


def pert_mean(low: float, likely: float, high: float) -> float:
    return (low + 4.0 * likely + high) / 6.0


def repair(low: float, likely: float, high: float) -> Money:
    a, b, c = (max(float(v), 0.0) for v in (low, likely, high))
    lo, hi = min(a, b, c), max(a, b, c)
    return (lo, min(max(b, lo), hi), hi)


def value_of(asset: AssetData) -> Money:
    """The asset's own value (loss when it ends in an attacker's hands)."""
    return repair(asset.value_min, asset.value_likely, asset.value_max)


def replication_of(asset: AssetData) -> Money:
    """What a functional clone of the model is worth: its replication value, kept at or below its
    value figure by figure, or DEFAULT_REPLICATION_SHARE of its value."""
    value = value_of(asset)
    if asset.replication_value is None:
        share = DEFAULT_REPLICATION_SHARE
        return (value[0] * share, value[1] * share, value[2] * share)
    clone = repair(*asset.replication_value)
    return (min(clone[0], value[0]), min(clone[1], value[1]), min(clone[2], value[2]))


def replication_share(asset: AssetData, value: Money) -> float:
    """A clone's loss as a share of the jewel's value (means); 0 when the jewel is worth nothing."""
    mean = pert_mean(*value)
    if mean <= 0:
        return 0.0
    return min(pert_mean(*replication_of(asset)) / mean, 1.0)


def compute_cost(endpoint: AssetData) -> Money:
    """Compute cost per day an abuser can burn through the endpoint (quota-bounded)."""
    if endpoint.compute_cost_per_day is not None:
        return repair(*endpoint.compute_cost_per_day)
    return DEFAULT_COMPUTE_COST.get(endpoint.model_class, DEFAULT_OTHER_COMPUTE_COST)
