"""Every finding's loss per event and 90th percentile in one pass over a view's arrays.

The rules are those of docs/risk-method.md §5: a theft takes its jewels' shares; an access step
leads to the jewels its routes reach, weighted by how often a successful step goes on to them
(rate / frequency, at most 1); a functional clone is worth the jewel's replication value; abuse
costs days x cost per day; an enabler has no loss of its own. A finding's p90 is the p90 of its
dominant jewel (the part with the largest loss), or of its endpoint's yearly abuse cost.

Why arrays: one loop per finding and part (6,000 findings reaching up to 64 jewels each at
1,000 assets) was a fifth of a recompute's engine time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import betaincinv

from threats.engine.figures import Parts, compute_p90
from threats.engine.results import Magnitude
from threats.engine.values import pert_mean

if TYPE_CHECKING:
    from threats.engine.attribution import ViewRun


def magnitudes(view: ViewRun, parts: Parts) -> list[Magnitude]:
    """Loss per event (min, most likely, max) of every finding of ``view``, in graph order."""
    graph, t = view.graph, view.graph.thefts
    n = len(graph.findings)
    theft = np.asarray([s.threat.role == "theft" for s in graph.findings], dtype=bool)
    clone = np.asarray(
        [s.threat.loss is not None and s.threat.loss.value == "replication" for s in graph.findings], dtype=bool
    )
    finding, jewel, share, rate = parts.columns()
    frequency = np.asarray(view.rates.f_frequency, dtype=float)
    sizes = np.zeros((n, 3))
    if len(finding):
        freq = frequency[finding]
        access = np.where(freq > 0, np.minimum(rate / np.where(freq > 0, freq, 1.0), 1.0), 0.0)
        weight = np.where(clone[finding], 1.0, np.where(theft[finding], share, access))
        # The largest weight per (finding, jewel): a jewel reached twice counts once.
        width = np.int64(max(len(t.jewels.ids), 1))
        keys, inverse = np.unique(finding * width + jewel, return_inverse=True)
        best = np.zeros(len(keys))
        np.maximum.at(best, inverse.reshape(-1), weight)
        f_of, j_of = keys // width, keys % width
        values = np.asarray(t.jewels.values, dtype=float).reshape(-1, 3)
        clones = np.asarray(t.jewels.clones, dtype=float).reshape(-1, 3)
        money = np.where(clone[f_of][:, None], clones[j_of], values[j_of])
        for column in range(3):
            sizes[:, column] = np.bincount(f_of, weights=money[:, column] * best, minlength=n)[:n]
    result = [Magnitude(float(a), float(b), float(c)) for a, b, c in sizes.tolist()]
    compute = _compute_findings(view)
    for f, spec in enumerate(graph.findings):
        if f in compute or spec.threat.role == "enabler":
            result[f] = Magnitude(0.0, 0.0, 0.0)  # abuse without an endpoint; an enabler
    for f, e in compute.items():
        if e is not None:
            days, cost = float(t.endpoint_days[e]), t.endpoint_cost[e]
            result[f] = Magnitude(cost[0] * days, cost[1] * days, cost[2] * days)
    return result


def _compute_findings(view: ViewRun) -> dict[int, int | None]:
    """Findings priced as compute abuse -> their (first) endpoint, None when they have none."""
    graph, t = view.graph, view.graph.thefts
    result: dict[int, int | None] = {
        f: None
        for f, spec in enumerate(graph.findings)
        if spec.threat.loss is not None and spec.threat.loss.form == "compute"
    }
    for f, e in zip(t.c_finding.tolist(), t.c_endpoint.tolist(), strict=True):
        if int(f) in result and result[int(f)] is None:
            result[int(f)] = int(e)
    return result


def p90s(view: ViewRun, parts: Parts) -> np.ndarray:
    """90th percentile of each finding's yearly loss: its dominant jewel's share x value when
    that theft happens in more than one year in ten, else 0; an abuse finding's yearly cost."""
    graph, t = view.graph, view.graph.thefts
    n = len(graph.findings)
    out = np.zeros(n)
    finding, jewel, share, rate = parts.columns()
    loss = parts.losses()
    if len(finding):
        order = np.lexsort((-loss, finding))  # stable: the first of equal losses, as max() picks
        first = order[np.r_[True, finding[order][1:] != finding[order][:-1]]]
        happens = -np.expm1(-rate[first])
        first = first[(happens > 0.1) & (share[first] > 0)]  # else p90 is 0: nine years in ten lose nothing
        f, j, s, r = finding[first], jewel[first], share[first], rate[first]
        values = np.asarray(t.jewels.values, dtype=float).reshape(-1, 3)[j]
        low, likely, high = values[:, 0], values[:, 1], values[:, 2]
        spread = np.where(high > low, high - low, 1.0)
        a = 1.0 + 4.0 * (likely - low) / spread
        b = 1.0 + 4.0 * (high - likely) / spread
        quantile = np.where(high > low, low + (high - low) * betaincinv(a, b, 1.0 - 0.1 / -np.expm1(-r)), low)
        out[f] = s * quantile
    for g, e in _compute_findings(view).items():
        out[g] = 0.0
        if e is not None:
            cost = pert_mean(*t.endpoint_cost[e])
            out[g] = compute_p90(cost, float(t.endpoint_days[e]), float(view.rates.c_rate[g]))
    return out
