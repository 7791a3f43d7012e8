"""Monte Carlo annual loss: compound Poisson frequency x Beta-PERT magnitude (DESIGN.md §4.5).

Per finding and draw (one simulated year) the number of loss events is Poisson(frequency) and
each event loses Beta-PERT(min, likely, max), lambda = 4. Per view the result is each finding's
mean and 90th percentile, and the same for the system total (the sum over findings per year).
``docs/risk-method.md`` explains the choices; the ones that shape this code:

* **One random stream per finding.** A finding's years come from its own PCG64 stream, seeded
  from ``SeedSequence(seed)`` and the finding's key (``stream_for``). Its simulated years are
  thus a pure function of (seed, key, its own inputs): they do not move when another finding is
  added, changed or dropped, which is what lets ``loss_state`` re-simulate only what changed.
* **Work follows the loss years, not findings x draws.** A finding with P(N > 0) < 10 % gets its
  few non-zero years drawn directly (how many, then which); busier findings get one uniform per
  year. Everything after is per non-zero year, in chunks of bounded size, so no findings x draws
  matrix exists beyond a chunk and a year costs the same whatever its event count.
* **A year's loss in one draw.** The sum of n PERT events is drawn by inverse CDF from a table of
  the quantiles of the sum of n Beta(a, 6 - a) (``pert_tables``). Busier years add a normal with
  the exact mean and variance for the rest, its lower tail cut so a year's loss grows with its count.
* **Views share random numbers.** One uniform per year gives each view's count by the Poisson
  inverse CDF, one more picks the quantile of the sum. Counts fall with the frequency and the
  quantile of a sum rises with n, so a view with a lower frequency never loses more in any year:
  a control can lower a mean or a percentile, never raise it by sampling noise.
* **System totals in whole cents.** Each finding-year adds its loss rounded to a cent to the
  per-year system total, as integers: sums are exact and order-free, so subtracting a finding's
  old years and adding its new ones gives the very totals a clean run would.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from threats.engine.pert_tables import PERT_LAMBDA, TABLE_EVENTS, U_POINTS, normal_ppf, tables_for

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

DEFAULT_DRAWS = 10_000
PERCENTILE = 0.9
LARGE_RATE = 30.0  # above this frequency the Poisson count uses its normal approximation
SPARSE_BELOW = 0.1  # P(at least one event per year) below which years are drawn sparsely
FULL_ABOVE = 0.8  # P(at least one event per year) above which every year is kept
CELL_BUDGET = 1 << 18  # finding-years held at once per chunk
CHUNK_FINDINGS = 256  # findings per chunk at most
CENTS = 100.0  # system totals are kept in integer hundredths of the currency unit
_PICK_BITS = 20


@dataclass(frozen=True, slots=True)
class LossSummary:
    """One view's simulated annual loss: per finding (arrays in input order) and system total."""

    finding_mean: FloatArray
    finding_p90: FloatArray
    system_mean: float
    system_p90: float
    draws: int


@dataclass(frozen=True, slots=True)
class Simulated:
    """Raw result for a set of findings: views x findings figures and views x draws totals (cents)."""

    sums: FloatArray
    p90: FloatArray
    totals: IntArray


def pert_mean(low: float, likely: float, high: float) -> float:
    """Mean of Beta-PERT(low, likely, high) with lambda 4: (low + 4 likely + high) / 6."""
    return (low + PERT_LAMBDA * likely + high) / (PERT_LAMBDA + 2)


def stream_for(seed: int, key: str) -> np.random.SeedSequence:
    """The finding's own random stream: the run's seed plus 128 bits of the key's hash."""
    digest = hashlib.blake2b(key.encode(), digest_size=16).digest()
    return np.random.SeedSequence(
        seed, spawn_key=tuple(int.from_bytes(digest[i : i + 4], "little") for i in (0, 4, 8, 12))
    )


def summarise(sim: Simulated, draws: int) -> tuple[LossSummary, ...]:
    """Per-view summaries from raw figures (system figures from the cent totals)."""
    out = []
    for v in range(sim.totals.shape[0]):
        total = sim.totals[v] / CENTS
        out.append(
            LossSummary(
                finding_mean=sim.sums[v] / draws,
                finding_p90=sim.p90[v],
                system_mean=float(total.mean()),
                system_p90=float(np.quantile(total, PERCENTILE)),
                draws=draws,
            )
        )
    return tuple(out)


def check_inputs(rates: FloatArray, lo: FloatArray, ml: FloatArray, hi: FloatArray, draws: int) -> None:
    if draws < 1:
        raise ValueError("draws must be at least 1")
    if not (lo.size == ml.size == hi.size == rates.shape[1]):
        raise ValueError("frequencies and magnitudes must describe the same findings")
    if not np.all(np.isfinite(rates)) or np.any(rates < 0):
        raise ValueError("frequencies must be finite and >= 0")
    if not (np.all(lo >= 0) and np.all(lo <= ml) and np.all(ml <= hi) and np.all(np.isfinite(hi))):
        raise ValueError("magnitudes must satisfy 0 <= low <= likely <= high < inf")


def simulate_annual_loss(
    frequencies: ArrayLike,
    low: ArrayLike,
    likely: ArrayLike,
    high: ArrayLike,
    *,
    seed: int = 0,
    draws: int = DEFAULT_DRAWS,
    keys: Sequence[str] | None = None,
) -> tuple[LossSummary, ...]:
    """Simulate every view at once; ``frequencies`` is views x findings (or one row of findings).

    Magnitudes must satisfy 0 <= low <= likely <= high (``risk.magnitude`` ensures it); a
    finding with low == high loses exactly that per event, one with frequency 0 never loses.
    ``keys`` name the findings' streams (default: their positions). Same seed, keys and inputs,
    identical results.
    """
    rates = np.atleast_2d(np.asarray(frequencies, dtype=np.float64))
    lo, ml, hi = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (low, likely, high))
    check_inputs(rates, lo, ml, hi, draws)
    names = [str(i) for i in range(lo.size)] if keys is None else list(keys)
    if len(names) != lo.size:
        raise ValueError("one key per finding")
    return summarise(simulate(rates, lo, ml, hi, [stream_for(seed, k) for k in names], draws), draws)


def simulate(
    rates: FloatArray, lo: FloatArray, ml: FloatArray, hi: FloatArray, streams: list[np.random.SeedSequence], draws: int
) -> Simulated:
    """Run the simulation for validated inputs, one stream per finding."""
    sim = _Simulation(rates, lo, ml, hi, draws, streams)
    sim.run()
    return Simulated(sim.sums, sim.p90, sim.total)


class _Simulation:
    """One run: inputs, the findings' streams, and the accumulators per view."""

    def __init__(
        self,
        rates: FloatArray,
        lo: FloatArray,
        ml: FloatArray,
        hi: FloatArray,
        draws: int,
        streams: list[np.random.SeedSequence],
    ) -> None:
        self.rates, self.lo, self.draws, self.streams = rates, lo, draws, streams
        self.width = hi - lo
        safe = np.where(self.width > 0, self.width, 1.0)
        self.alpha = np.where(self.width > 0, 1.0 + PERT_LAMBDA * (ml - lo) / safe, 1.0)
        mean = (lo + PERT_LAMBDA * ml + hi) / (PERT_LAMBDA + 2)
        self.mean, self.sd = mean, np.sqrt(np.maximum((mean - lo) * (hi - mean), 0.0) / (PERT_LAMBDA + 3))
        self.top = rates.max(axis=0) if rates.size else np.zeros(0)
        n_views, n = rates.shape
        self.sums, self.p90 = np.zeros((n_views, n)), np.zeros((n_views, n))
        self.total = np.zeros((n_views, draws), dtype=np.int64)
        highest = min(math.floor(PERCENTILE * (draws - 1)) + 1, draws - 1)
        self.min_years_for_p90 = draws - highest  # fewer non-zero years: every rank read is a zero

    def run(self) -> None:
        """Group findings by how busy they are and by which views repeat an earlier view, then chunk.

        Modes: 0 draws the few non-zero years directly, 1 keeps the non-zero years of one uniform
        per year, 2 keeps every year (almost all have an event) and reduces along matrix axes.
        """
        if not self.top.size:
            return
        nonzero = 1.0 - np.exp(-self.top)
        mode = (nonzero >= SPARSE_BELOW).astype(np.int64) + (nonzero >= FULL_ABOVE)
        # Per finding and view, the first view with the same frequency (itself if none earlier).
        n_views = self.rates.shape[0]
        first = np.tile(np.arange(n_views)[:, None], (1, self.rates.shape[1]))
        for v in range(n_views - 1, -1, -1):
            for earlier in range(v - 1, -1, -1):
                first[v, self.rates[v] == self.rates[earlier]] = earlier
        key = np.vstack((mode[None, :], first)).T
        active = np.flatnonzero(self.top > 0)
        if not active.size:
            return
        patterns, group = np.unique(key[active], axis=0, return_inverse=True)
        for g, pattern in enumerate(patterns.tolist()):
            findings = active[group.reshape(-1) == g]
            years = self.draws * nonzero[findings] if pattern[0] == 0 else np.full(findings.size, float(self.draws))
            for chunk in _chunks(findings, years):
                self.total += self._chunk(chunk, pattern[0], tuple(pattern[1:]))

    def _chunk(self, findings: IntArray, mode: int, same: tuple[int, ...]) -> IntArray:
        """Simulate the kept years of ``findings``; ``row`` indexes ``findings``, ``d`` is the year,
        and each finding's years are contiguous, between its ``bounds``."""
        c, draws = findings.size, self.draws
        rngs = [np.random.Generator(np.random.PCG64(self.streams[f])) for f in findings.tolist()]
        if mode == 2:
            grid = np.empty((c, draws))
            for i, rng in enumerate(rngs):
                rng.random(out=grid[i])
            row, d, u = np.repeat(np.arange(c), draws), None, grid.reshape(-1)
        else:
            row, d, u = self._dense_years(rngs, findings) if mode == 1 else self._sparse_years(rngs, findings)
        per_finding = np.bincount(row, minlength=c)
        bounds = np.concatenate(([0], np.cumsum(per_finding))).tolist()
        table, alpha_row = tables_for(self.alpha[findings])
        # The quantile of the year's sum: one random integer gives the table point (high bits,
        # uniform over the table's midpoint quantiles) and rounds alpha up or down (low bits),
        # with the probability that keeps the mean exact. Every view uses the same point.
        high = U_POINTS << _PICK_BITS
        bits = np.concatenate(
            [rng.integers(0, high, size=k) for rng, k in zip(rngs, per_finding.tolist(), strict=True)]
        )
        up = (bits & ((1 << _PICK_BITS) - 1)) < alpha_row[1][row] * (1 << _PICK_BITS)
        base = (alpha_row[0][row] + up) * ((TABLE_EVENTS + 1) * U_POINTS) + (bits >> _PICK_BITS)
        lo, width = self.lo[findings][row], self.width[findings][row]
        ranked = [i for i in range(c) if bounds[i + 1] - bounds[i] >= self.min_years_for_p90]
        computed = [v for v, source in enumerate(same) if source == v]
        counts = _counts(self.rates[:, findings], computed, bounds, row, u)
        busy = np.flatnonzero(np.max([counts[v] for v in computed], axis=0) > TABLE_EVENTS)
        z = self._busy_normals(rngs, row[busy], c)
        added = np.zeros((len(same), draws), dtype=np.int64)  # this chunk's loss per view and year, cents
        for v, source in enumerate(same):
            if source != v:  # same frequency as an earlier view for every finding of the group
                self.sums[v, findings] = self.sums[source, findings]
                self.p90[v, findings] = self.p90[source, findings]
                added[v] = added[source]
                continue
            n = counts[v]
            k = np.minimum(n, TABLE_EVENTS)
            loss = table.take(base + k * U_POINTS)  # the table's n = 0 rows are zeros
            loss *= width
            loss += k * lo
            if busy.size:
                f = findings[row[busy]]
                loss[busy] += _rest(n[busy] - k[busy], self.mean[f], self.sd[f], z, lo[busy], width[busy])
            cents = np.rint(loss * CENTS)
            if d is None:  # every year kept: a findings x years block of this chunk
                block = loss.reshape(c, draws)
                self.sums[v, findings] = block.sum(axis=1)
                added[v] = cents.reshape(c, draws).sum(axis=0)
                self.p90[v, findings] = np.quantile(block, PERCENTILE, axis=1)
            else:
                self.sums[v, findings] = np.bincount(row, weights=loss, minlength=c)
                added[v] = np.bincount(d, weights=cents, minlength=draws)
                for i in ranked:
                    self.p90[v, findings[i]] = _quantile_with_zeros(loss[bounds[i] : bounds[i + 1]], draws)
        return added

    def _dense_years(
        self, rngs: list[np.random.Generator], findings: IntArray
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """One uniform per finding-year; keep the years in which the busiest view has an event."""
        u = np.empty((findings.size, self.draws))
        for i, rng in enumerate(rngs):
            rng.random(out=u[i])
        keep = u >= np.exp(-self.top[findings])[:, None]
        row, d = np.nonzero(keep)
        return row, d, u[keep]

    def _sparse_years(
        self, rngs: list[np.random.Generator], findings: IntArray
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """How many years have an event (binomial), which ones, and a uniform above P(N = 0)."""
        p0 = np.exp(-self.top[findings])
        days, uniforms, sizes = [], [], []
        for rng, p in zip(rngs, p0.tolist(), strict=True):
            k = int(rng.binomial(self.draws, 1.0 - p))
            days.append(rng.choice(self.draws, k, replace=False, shuffle=False))
            uniforms.append(p + (1.0 - p) * rng.random(k))
            sizes.append(k)
        row = np.repeat(np.arange(findings.size), sizes)
        return row, np.concatenate(days).astype(np.int64), np.concatenate(uniforms)

    @staticmethod
    def _busy_normals(rngs: list[np.random.Generator], busy_rows: IntArray, c: int) -> FloatArray:
        """One standard normal per busy year, from that year's finding's stream (rows ascend)."""
        if not busy_rows.size:
            return np.zeros(0)
        per = np.bincount(busy_rows, minlength=c).tolist()
        return np.concatenate([rngs[i].standard_normal(k) for i, k in enumerate(per) if k])


def _counts(
    rates: FloatArray, views: list[int], bounds: list[int], row: IntArray, u: FloatArray
) -> dict[int, IntArray]:
    """Event count per view and year: the Poisson inverse CDF of the year's uniform.

    ``rates`` is views x findings; within a chunk the ``views`` to compute have distinct rates
    for every finding. The CDF tables of all (view, finding) pairs are built in one go, then one
    binary search per pair; rates above LARGE_RATE use the normal approximation (where exp(-rate)
    would also start to underflow). Finally a view's count is capped by that of any view with a
    higher rate: the inverse CDF is monotone in the rate already, the cap keeps it so through
    rounding and across the normal approximation.
    """
    sub = rates[views]
    tabled = np.minimum(sub, LARGE_RATE)
    highest = float(tabled.max()) if tabled.size else 0.0
    size = int(highest + 12 * math.sqrt(highest) + 12)  # P(N > size) is negligible
    pmf = np.ones((*tabled.shape, size + 1))
    np.cumprod(tabled[..., None] / np.arange(1, size + 1), axis=-1, out=pmf[..., 1:])
    pmf *= np.exp(-tabled)[..., None]
    cdf = np.cumsum(pmf, axis=-1)
    counts = {v: np.zeros(u.size, dtype=np.int64) for v in views}
    for w, v in enumerate(views):
        n = counts[v]
        for i, rate in enumerate(sub[w].tolist()):
            a, b = bounds[i], bounds[i + 1]
            if a == b or rate == 0:
                continue
            if rate > LARGE_RATE:
                n[a:b] = np.maximum(np.floor(rate + math.sqrt(rate) * normal_ppf(u[a:b]) + 0.5), 0)
            else:
                n[a:b] = np.searchsorted(cdf[w, i], u[a:b], side="right")
    for w, v in enumerate(views):
        for x, other in enumerate(views):
            if x != w:
                below = (sub[w] <= sub[x])[row]
                np.minimum(counts[v], counts[other], out=counts[v], where=below)
    return counts


def _rest(
    extra: IntArray, mean: FloatArray, sd: FloatArray, z: FloatArray, lo: FloatArray, width: FloatArray
) -> FloatArray:
    """Sum of a busy year's events beyond the table: normal with the exact mean and sd.

    ``z`` is shared by the views, so the sum must grow with ``extra`` for any z: it does once z
    is kept above -2 (mean - lo) / sd (a cut in the lower 1 % at most, the mean moves < 0.3 % of
    one event's sd) and the result is clipped to [extra x lo, extra x max].
    """
    count = extra.astype(np.float64)
    excess = mean - lo
    floor = np.divide(-2 * excess, sd, out=np.zeros_like(sd), where=sd > 0)
    approx = count * excess + np.sqrt(count) * sd * np.maximum(z, floor)
    return count * lo + np.clip(approx, 0.0, count * width)


def _chunks(findings: IntArray, years: FloatArray) -> list[IntArray]:
    """Split ``findings`` so a chunk holds about CELL_BUDGET years and at most CHUNK_FINDINGS findings."""
    chunks: list[IntArray] = []
    begin, held = 0, 0.0
    for i, expected in enumerate(years.tolist()):
        if i > begin and (held + expected > CELL_BUDGET or i - begin >= CHUNK_FINDINGS):
            chunks.append(findings[begin:i])
            begin, held = i, 0.0
        held += expected
    if begin < findings.size:
        chunks.append(findings[begin:])
    return chunks


def _quantile_with_zeros(values: FloatArray, draws: int) -> float:
    """np.quantile(..., PERCENTILE) (linear) of ``values`` padded with zeros to ``draws`` entries,
    selecting only the order statistics it reads."""
    pos = PERCENTILE * (draws - 1)
    below = math.floor(pos)
    frac = pos - below
    zeros = draws - values.size
    wanted = [k for k in (below, below + 1) if k < draws]
    needed = sorted({k - zeros for k in wanted if k >= zeros})
    if not needed:
        return 0.0
    part = np.partition(values, needed)
    at = [0.0 if k < zeros else float(part[k - zeros]) for k in wanted]
    return at[0] + frac * (at[-1] - at[0]) if frac else at[0]
