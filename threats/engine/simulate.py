"""Yearly losses, analytically and by Monte Carlo (docs/risk-method.md §4).

A jewel is lost at most once a year. Its thefts come in categories by the share of its value
they take (the jewel itself 1, a functional clone the replication value's share, a partial
recovery its declared fraction); category k happens in a year with probability 1 - exp(-λ_k),
independently, and the year's loss is the largest share that happened times one draw of the
jewel's value (PERT). So the expected yearly loss never exceeds the value's mean, and a second
route to a stolen jewel adds only the chance that the first did not happen.

Compute abuse at an endpoint is N ~ Poisson(λ) incidents a year, each running ``days`` days at
the endpoint's cost per day, capped at the 365 days a year has.

Simulated years share their random numbers across views (one uniform per jewel, category and
year; one value draw per jewel and year), so a view with lower rates never loses more in any
simulated year. Every jewel and endpoint draws from its own stream (``SeedSequence(seed,
spawn_key=blake2b(key))``), so a figure does not depend on the order or number of the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv, gammaincc

from threats.engine.values import Money, pert_mean

DEFAULT_DRAWS = 10_000
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True, slots=True)
class JewelRates:
    """One jewel in one view: its value and, per category, the share taken and the yearly rate."""

    key: str
    value: Money
    shares: tuple[float, ...]  # descending
    rates: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class EndpointRates:
    key: str
    cost: Money  # per day
    days: float  # per incident
    rate: float  # incidents per year


def jewel_expected(value: Money, shares: Sequence[float], rates: Sequence[float]) -> float:
    """E[yearly loss] = mean value x sum over categories (by descending share) of share x
    P(that category happens and no larger one does)."""
    mean = pert_mean(*value)
    total, none_above = 0.0, 1.0
    for share, rate in sorted(zip(shares, rates, strict=True), reverse=True):
        happens = -np.expm1(-rate)
        total += share * happens * none_above
        none_above *= 1.0 - happens
    return mean * total


def jewels_expected(means: np.ndarray, jewel: np.ndarray, share: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """``jewel_expected`` of every jewel at once, from category rows (jewel index, share, rate):
    within a jewel, by descending share, share x P(happens) x P(no larger share happened), where
    P(none of rates r_1..r_k) = exp(-(r_1 + ... + r_k)). One sort instead of a loop per jewel."""
    out = np.zeros(len(means))
    if not len(jewel):
        return out
    order = np.lexsort((-rate, -share, jewel))
    j, s, r = jewel[order], share[order], rate[order]
    cumulative = np.cumsum(r)
    start = np.r_[True, j[1:] != j[:-1]]
    before = cumulative - r  # rates of the larger shares of the same jewel (and of earlier jewels)
    before -= np.maximum.accumulate(np.where(start, before, 0.0))
    np.add.at(out, j, s * -np.expm1(-r) * np.exp(-before))
    return out * means


def capped_incident_days(rate: float, days: float) -> float:
    """E[min(365, N x days)] for N ~ Poisson(rate)."""
    if rate <= 0 or days <= 0:
        return 0.0
    cap = int(np.ceil(DAYS_PER_YEAR / days))
    n = np.arange(cap)
    # E[min(K, N)] = sum_{n < K} P(N > n); P(N > n) = 1 - Q(n + 1, rate) = P(n+1, rate) (regularised)
    survive = 1.0 - gammaincc(n + 1, rate)
    expected_incidents = float(survive.sum())
    return min(expected_incidents * days, DAYS_PER_YEAR)


def endpoint_expected(cost: Money, days: float, rate: float) -> float:
    return pert_mean(*cost) * capped_incident_days(rate, days)


def pert_quantile(value: Money, u: np.ndarray | float) -> np.ndarray:
    """Beta-PERT(min, likely, max) quantiles (weight 4) at ``u``."""
    low, likely, high = value
    if high <= low:
        return np.full(np.shape(u), low, dtype=np.float64)
    a = 1.0 + 4.0 * (likely - low) / (high - low)
    b = 1.0 + 4.0 * (high - likely) / (high - low)
    return low + (high - low) * betaincinv(a, b, u)


def pert_draws(value: Money, rng: np.random.Generator, draws: int) -> np.ndarray:
    """``draws`` Beta-PERT variates. numpy's beta sampler, not the inverse CDF: inverting the
    incomplete beta function cost 2 ms per jewel at 10,000 draws, most of a recompute."""
    low, likely, high = value
    if high <= low:
        return np.full(draws, low, dtype=np.float64)
    a = 1.0 + 4.0 * (likely - low) / (high - low)
    b = 1.0 + 4.0 * (high - likely) / (high - low)
    return low + (high - low) * rng.beta(a, b, draws)


def _stream(seed: int, key: str) -> np.random.Generator:
    spawn = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(spawn,))))


@dataclass(frozen=True, slots=True)
class Simulated:
    """Per view: system mean and p90 of the yearly loss; per jewel and endpoint: mean and p90."""

    system_mean: tuple[float, ...]
    system_p90: tuple[float, ...]
    jewel_mean: np.ndarray  # (views, jewels)
    jewel_p90: np.ndarray
    jewel_worst: np.ndarray  # (views, jewels): the worst simulated year (never above the value's max)
    endpoint_mean: np.ndarray  # (views, endpoints)


def simulate(
    jewels: Sequence[Sequence[JewelRates]],
    endpoints: Sequence[Sequence[EndpointRates]],
    *,
    seed: int,
    draws: int = DEFAULT_DRAWS,
) -> Simulated:
    """``jewels[v][j]`` / ``endpoints[v][e]``: rates of jewel j / endpoint e in view v (same keys
    and categories across views). Returns the simulated figures per view."""
    views = len(jewels)
    n_jewels = len(jewels[0]) if views else 0
    n_endpoints = len(endpoints[0]) if views else 0
    totals = np.zeros((views, draws))
    jewel_mean = np.zeros((views, n_jewels))
    jewel_p90 = np.zeros((views, n_jewels))
    jewel_worst = np.zeros((views, n_jewels))
    endpoint_mean = np.zeros((views, n_endpoints))
    for j in range(n_jewels):
        first = jewels[0][j]
        if not any(r > 0 for v in range(views) for r in jewels[v][j].rates) or pert_mean(*first.value) <= 0:
            continue
        rng = _stream(seed, f"jewel|{first.key}")
        value = pert_draws(first.value, rng, draws)
        uniforms = rng.random((len(first.shares), draws))
        loss = np.zeros(0)
        for v in range(views):
            same = v > 0 and jewels[v][j].rates == jewels[v - 1][j].rates  # projected = current, mostly
            if not same:
                rates = np.asarray(jewels[v][j].rates)[:, None]
                happened = uniforms < -np.expm1(-rates)
                share = np.where(happened, np.asarray(jewels[v][j].shares)[:, None], 0.0).max(axis=0)
                loss = share * value
                jewel_mean[v, j] = loss.mean()
                jewel_p90[v, j] = np.percentile(loss, 90)
                jewel_worst[v, j] = loss.max()
            else:
                jewel_mean[v, j], jewel_p90[v, j], jewel_worst[v, j] = (
                    jewel_mean[v - 1, j],
                    jewel_p90[v - 1, j],
                    jewel_worst[v - 1, j],
                )
            totals[v] += loss
    for e in range(n_endpoints):
        endpoint = endpoints[0][e]
        if not any(endpoints[v][e].rate > 0 for v in range(views)):
            continue
        rng = _stream(seed, f"endpoint|{endpoint.key}")
        cost = pert_draws(endpoint.cost, rng, draws)
        u = rng.random(draws)
        loss = np.zeros(0)
        for v in range(views):
            ep = endpoints[v][e]
            if v == 0 or (ep.rate, ep.days) != (endpoints[v - 1][e].rate, endpoints[v - 1][e].days):
                incidents = _poisson_inverse(u, ep.rate)
                loss = np.minimum(incidents * ep.days, DAYS_PER_YEAR) * cost
            totals[v] += loss
            endpoint_mean[v, e] = loss.mean()
    return Simulated(
        system_mean=tuple(float(t.mean()) for t in totals),
        system_p90=tuple(float(np.percentile(t, 90)) for t in totals),
        jewel_mean=jewel_mean,
        jewel_p90=jewel_p90,
        jewel_worst=jewel_worst,
        endpoint_mean=endpoint_mean,
    )


def _poisson_inverse(u: np.ndarray, rate: float) -> np.ndarray:
    """Poisson counts by inverse CDF of shared uniforms: monotone in the rate for each u."""
    if rate <= 0:
        return np.zeros_like(u)
    top = int(rate + 12 * np.sqrt(rate) + 12)
    cdf = gammaincc(np.arange(top) + 1, rate)  # P(N <= n) = Q(n + 1, rate)
    return np.searchsorted(cdf, u, side="right").astype(np.float64)


def dominant_p90(value: Money, share: float, rate: float) -> float:
    """90th percentile of share x value x 1(happens), P(happens) = 1 - exp(-rate)."""
    happens = float(-np.expm1(-rate))
    if happens <= 0.1 or share <= 0:
        return 0.0
    return float(share * pert_quantile(value, 1.0 - 0.1 / happens))
