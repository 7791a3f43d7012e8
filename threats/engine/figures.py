"""From rates to the figures shown: per finding, per jewel, per endpoint and per system.

Per finding (docs/risk-method.md §5): ``loss`` is the expected yearly loss of the routes through
it, a jewel counted at most once a year; ``exposure`` its share of each jewel's loss in
proportion to its rate (shares of one jewel add up to the jewel's loss); ``frequency`` the
successful tries a year. Every figure comes with an explanation whose parts add up to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import gammaincc

from threats.engine.attackers import AttackerData
from threats.engine.results import (
    ComputeRisk,
    ComputeView,
    FindingRisk,
    JewelRisk,
    JewelView,
    Magnitude,
    SystemView,
    heat_map,
    impact_band,
    likelihood_band,
    risk_level,
)
from threats.engine.simulate import (
    DAYS_PER_YEAR,
    EndpointRates,
    JewelRates,
    dominant_p90,
    endpoint_expected,
    jewel_expected,
    simulate,
)
from threats.engine.values import pert_mean

if TYPE_CHECKING:
    from threats.engine.attribution import ViewRun

TOP_JEWELS_EXPLAINED = 10


def finding_losses(view: ViewRun) -> np.ndarray:
    """Expected yearly loss through each finding of the view (graph order)."""
    return _losses(view)[0]


class Parts:
    """Finding -> [(jewel index, share, rate, loss)] of its jewels, kept as arrays sorted by
    finding and expanded for one finding when asked (most findings are never asked)."""

    __slots__ = ("_finding", "_jewel", "_loss", "_rate", "_share")

    def __init__(self, finding: np.ndarray, jewel: np.ndarray, share: np.ndarray, rate: np.ndarray, loss: np.ndarray):
        order = np.argsort(finding, kind="stable")
        self._finding, self._jewel = finding[order], jewel[order]
        self._share, self._rate, self._loss = share[order], rate[order], loss[order]

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(finding, jewel, share, rate) of every part, sorted by finding."""
        return self._finding, self._jewel, self._share, self._rate

    def losses(self) -> np.ndarray:
        return self._loss

    def get(self, f: int, default: list[tuple[int, float, float, float]]) -> list[tuple[int, float, float, float]]:
        lo = int(np.searchsorted(self._finding, f, side="left"))
        hi = int(np.searchsorted(self._finding, f, side="right"))
        if lo == hi:
            return default
        return list(
            zip(
                self._jewel[lo:hi].tolist(),
                self._share[lo:hi].tolist(),
                self._rate[lo:hi].tolist(),
                self._loss[lo:hi].tolist(),
                strict=True,
            )
        )


def _losses(view: ViewRun) -> tuple[np.ndarray, Parts]:
    """(loss per finding, finding -> [(jewel index, share, rate, loss)] of its jewels)."""
    graph, rates = view.graph, view.rates
    t = graph.thefts
    means = np.asarray(t.jewels.means, dtype=float)
    n = len(graph.findings)
    tg_jewel = rates.tg_jewel.astype(np.int64)
    tg_value = means[tg_jewel] * rates.tg_share * -np.expm1(-rates.tg_rate) if len(tg_jewel) else np.zeros(0)
    rows, cols = np.nonzero(rates.acc_rate.T > 0) if rates.acc_rate.size else (np.zeros(0, int), np.zeros(0, int))
    # acc_rate is (jewels, findings): walk it finding by finding (column-major), as parts are read.
    acc_f = rates.acc_findings[rows].astype(np.int64) if len(rows) else np.zeros(0, dtype=np.int64)
    acc_j = rates.acc_jewels[cols].astype(np.int64) if len(cols) else np.zeros(0, dtype=np.int64)
    acc_rate = rates.acc_rate[cols, rows] if len(rows) else np.zeros(0)
    acc_value = means[acc_j] * -np.expm1(-acc_rate) if len(acc_j) else np.zeros(0)
    finding = np.concatenate([rates.tg_finding.astype(np.int64), acc_f])
    value = np.concatenate([tg_value, acc_value])
    loss = np.bincount(finding, weights=value, minlength=n)[:n] if len(finding) else np.zeros(n)
    parts = Parts(
        finding,
        np.concatenate([tg_jewel, acc_j]),
        np.concatenate([rates.tg_share, np.ones(len(acc_j))]),
        np.concatenate([rates.tg_rate, acc_rate]),
        value,
    )
    endpoint_of = {int(f): int(e) for f, e in zip(t.c_finding, t.c_endpoint, strict=True)}
    for f, e in endpoint_of.items():
        loss[f] = endpoint_expected(t.endpoint_cost[e], float(t.endpoint_days[e]), float(rates.c_rate[f]))
    for f, spec in enumerate(graph.findings):
        if spec.threat.role != "enabler":
            continue
        loss[f] = sum(loss[g] * share for g, share in _boosted(view, f))
    return loss, parts


def _boosted(view: ViewRun, enabler: int) -> list[tuple[int, float]]:
    """(finding index, share of its loss due to this enabler) for the findings it boosts."""
    graph = view.graph
    spec = graph.findings[enabler]
    _, target_type, target_id = spec.key
    survive = np.ones(5)
    for _, eff in spec.reductions:
        survive = survive * (1.0 - np.asarray(eff))
    factor = 1.0 + spec.threat.boost * survive
    weights = np.asarray([r.attacker.attempts_per_year for r in view.runs])
    ocs = [r.oc for r in view.runs]
    share = float(np.average([1.0 - 1.0 / factor[oc] for oc in ocs], weights=weights)) if weights.sum() > 0 else 0.0
    result = []
    for code in spec.threat.boosts:
        g = graph.finding_index.get((code, target_type, target_id))
        if g is not None:
            result.append((g, share))
    return result


def _exposure(view: ViewRun, jewel_loss: np.ndarray, endpoint_loss: np.ndarray) -> np.ndarray:
    """Each jewel's (and endpoint's) loss shared among the active findings on its routes."""
    graph, rates = view.graph, view.rates
    t = graph.thefts
    n = len(graph.findings)
    active = np.asarray([s.active for s in graph.findings], dtype=bool)
    width = np.int64(max(n, 1))
    exposure = np.zeros(n)
    # Weights per (jewel, finding): a theft's share x rate summed over its groups; an access
    # finding's value-weighted rate (which stands for that pair when both exist).
    tg_f = rates.tg_finding.astype(np.int64)
    keep = active[tg_f] if len(tg_f) else np.zeros(0, dtype=bool)
    tg_keys, tg_inv = np.unique(rates.tg_jewel.astype(np.int64)[keep] * width + tg_f[keep], return_inverse=True)
    tg_w = np.bincount(tg_inv.reshape(-1), weights=(rates.tg_share * rates.tg_rate)[keep], minlength=len(tg_keys))
    if rates.acc_rate.size:
        rows, cols = np.nonzero(rates.acc_rate > 0)
        acc_f = rates.acc_findings[cols].astype(np.int64)
        on = active[acc_f]
        acc_keys = rates.acc_jewels[rows].astype(np.int64)[on] * width + acc_f[on]
        acc_w = rates.acc_rate[rows, cols][on]
    else:
        acc_keys, acc_w = np.zeros(0, dtype=np.int64), np.zeros(0)
    other = ~np.isin(tg_keys, acc_keys)
    keys = np.concatenate([tg_keys[other], acc_keys])
    weight = np.concatenate([tg_w[other], acc_w])
    if len(keys):
        jewel, finding = keys // width, keys % width
        total = np.bincount(jewel, weights=weight, minlength=len(jewel_loss))
        part = np.where(total[jewel] > 0, jewel_loss[jewel] * weight / np.maximum(total[jewel], 1e-300), 0.0)
        exposure += np.bincount(finding, weights=part, minlength=n)[:n]
    by_endpoint: dict[int, dict[int, float]] = {}
    for f, e in zip(t.c_finding, t.c_endpoint, strict=True):
        if active[int(f)]:
            by_endpoint.setdefault(int(e), {})[int(f)] = float(rates.c_rate[int(f)])
    for e, per in by_endpoint.items():
        endpoint_total = sum(per.values())
        for f, w in per.items():
            exposure[f] += endpoint_loss[e] * w / endpoint_total if endpoint_total > 0 else 0.0
    return exposure


def jewel_and_compute(
    runs: Mapping[str, ViewRun], views: Sequence[str], attackers: Sequence[AttackerData], *, seed: int, draws: int
) -> tuple[dict[int, JewelRisk], dict[int, ComputeRisk], Any]:
    """Per jewel and endpoint: the analytic expected yearly loss and the simulated figures."""
    first = runs[views[0]].graph.thefts
    ids, values = first.jewels.ids, first.jewels.values
    shares: list[set[float]] = [set() for _ in ids]
    endpoint_ids: list[int] = []
    for view in views:
        rates = runs[view].rates
        for j, share in zip(rates.cat_jewel, rates.cat_share, strict=True):
            shares[int(j)].add(float(share))
        for e in runs[view].graph.thefts.endpoints:
            if e not in endpoint_ids:
                endpoint_ids.append(e)
    per_view_jewels: list[list[JewelRates]] = []
    per_view_endpoints: list[list[EndpointRates]] = []
    for view in views:
        rates, t = runs[view].rates, runs[view].graph.thefts
        row = []
        lookups: dict[int, dict[float, float]] = {}
        for jj, s, r in zip(rates.cat_jewel.tolist(), rates.cat_share.tolist(), rates.cat_rate.tolist(), strict=True):
            lookups.setdefault(int(jj), {})[float(s)] = float(r)
        for j, jewel_id in enumerate(ids):
            ordered = tuple(sorted(shares[j], reverse=True))
            lookup = lookups.get(j, {})
            row.append(JewelRates(str(jewel_id), values[j], ordered, tuple(lookup.get(s, 0.0) for s in ordered)))
        per_view_jewels.append(row)
        eps = []
        for e_id in endpoint_ids:
            if e_id in t.endpoints:
                e = t.endpoints.index(e_id)
                eps.append(
                    EndpointRates(
                        str(e_id), t.endpoint_cost[e], float(t.endpoint_days[e]), float(rates.endpoint_rate[e])
                    )
                )
            else:
                eps.append(EndpointRates(str(e_id), (0.0, 0.0, 0.0), 0.0, 0.0))
        per_view_endpoints.append(eps)
    simulated = simulate(per_view_jewels, per_view_endpoints, seed=seed, draws=draws)
    # Per view, (profiles, jewels): each profile's yearly rate of thefts of each jewel.
    profile_rates = []
    for view in views:
        rates = runs[view].rates
        matrix = np.zeros((len(runs[view].runs), len(ids)))
        if len(rates.cat_jewel):
            for p in range(len(runs[view].runs)):
                matrix[p] = np.bincount(rates.cat_jewel, weights=rates.cat_by_profile[p], minlength=len(ids))
        profile_rates.append((tuple(run.attacker.id for run in runs[view].runs), matrix.tolist()))
    jewels: dict[int, JewelRisk] = {}
    for j, jewel_id in enumerate(ids):
        per: dict[str, JewelView] = {}
        for v, view in enumerate(views):
            jr = per_view_jewels[v][j]
            attacker_ids, table = profile_rates[v]
            by_profile = {a: table[p][j] for p, a in enumerate(attacker_ids)}
            per[view] = JewelView(
                expected=jewel_expected(jr.value, jr.shares, jr.rates),
                mean=float(simulated.jewel_mean[v, j]),
                p90=float(simulated.jewel_p90[v, j]),
                probability=float(-np.expm1(-sum(jr.rates))),
                rates=tuple(zip(jr.shares, jr.rates, strict=True)),
                by_profile=by_profile,
            )
        jewels[jewel_id] = JewelRisk(jewel_id, values[j], pert_mean(*values[j]), per)
    compute: dict[int, ComputeRisk] = {}
    for e, e_id in enumerate(endpoint_ids):
        cviews = {}
        for v, view in enumerate(views):
            er = per_view_endpoints[v][e]
            cviews[view] = ComputeView(
                expected=endpoint_expected(er.cost, er.days, er.rate),
                mean=float(simulated.endpoint_mean[v, e]),
                rate=er.rate,
                days=er.days,
            )
        cost = next(per_view_endpoints[v][e].cost for v in range(len(views)) if per_view_endpoints[v][e].days > 0)
        compute[e_id] = ComputeRisk(e_id, cost, cviews)
    return jewels, compute, simulated


def system_view(
    view: str,
    v: int,
    jewels: Mapping[int, JewelRisk],
    compute: Mapping[int, ComputeRisk],
    simulated: Any,
    findings: Mapping[tuple[str, str, int], FindingRisk],
) -> SystemView:
    """The system in one view: simulated mean and p90, analytic expected loss (jewels plus
    compute), and the heat map of findings placed by exposure."""
    theft = sum(j.views[view].expected for j in jewels.values())
    abuse = sum(c.views[view].expected for c in compute.values())
    cells = [(f.views[view].likelihood_band, f.views[view].impact_band) for f in findings.values() if view in f.views]
    return SystemView(
        mean=float(simulated.system_mean[v]),
        p90=float(simulated.system_p90[v]),
        expected=theft + abuse,
        theft_expected=theft,
        compute_expected=abuse,
        heat_map=heat_map(cells),
    )


def compute_p90(cost_mean: float, days: float, rate: float) -> float:
    """90th percentile of a year's abuse cost: the Poisson count's 90th percentile of incidents."""
    if rate <= 0:
        return 0.0
    n = 0
    while gammaincc(n + 1, rate) < 0.9 and n < 10_000:
        n += 1
    return min(n * days, DAYS_PER_YEAR) * cost_mean


def dominant_finding_p90(value: tuple[float, float, float], share: float, rate: float) -> float:
    return dominant_p90(value, share, rate)


def bands(frequency: float, exposure: float, magnitude: Magnitude) -> tuple[int, int, str]:
    """(likelihood band, impact band, level): placed by exposure, so the cell's likelihood times
    impact is about the finding's share of the loss; a finding with no loss per event is placed
    by how often it succeeds."""
    mean = pert_mean(magnitude.low, magnitude.likely, magnitude.high)
    likelihood = likelihood_band(exposure / mean if mean > 0 else frequency)
    impact = impact_band(magnitude.likely)
    return likelihood, impact, risk_level(likelihood, impact)
