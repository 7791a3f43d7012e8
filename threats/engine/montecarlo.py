"""Monte Carlo annual loss: compound Poisson frequency x Beta-PERT magnitude (DESIGN.md §4.5).

Per finding and draw (one simulated year) the number of loss events is Poisson(frequency) and
each event loses Beta-PERT(min, likely, max), lambda = 4. Per view the result is each finding's
mean and 90th percentile, and the same for the system total (the sum over findings per year).
``docs/risk-method.md`` explains the choices; the ones that shape this code:

* **Work follows the loss years, not findings x draws.** A finding with P(N > 0) < 10 % gets its
  few non-zero years drawn directly (how many, then which); busier findings get one uniform per
  year. Everything after is per non-zero year, in chunks of bounded size, so no findings x draws
  matrix exists beyond a chunk and a year costs the same whatever its event count.
* **A year's loss in one draw.** The sum of n PERT events is drawn by inverse CDF from a table of
  the quantiles of the sum of n Beta(a, 6 - a) (n up to ``TABLE_EVENTS``, computed once by FFT
  convolution, mean corrected to exact). Busier years add a normal with the exact mean and
  variance for the rest, its lower tail cut so that a year's loss still grows with its count.
* **Views share random numbers.** One uniform per year gives each view's count by the Poisson
  inverse CDF, one more picks the quantile of the sum. Counts fall with the frequency and the
  quantile of a sum rises with n, so a view with a lower frequency never loses more in any year:
  a control can lower a mean or a percentile, never raise it by sampling noise. Findings whose
  frequency is the same in two views are simulated once.
* **Seeded per chunk.** Each chunk draws from its own PCG64 stream spawned from
  ``SeedSequence(seed)``: same seed and inputs, identical results, and a chunk's years do not
  shift when an earlier chunk needs more or fewer random numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

DEFAULT_DRAWS = 10_000
PERCENTILE = 0.9
PERT_LAMBDA = 4.0  # classic PERT weight of the most likely value
TABLE_EVENTS = 16  # sums of up to this many events come from the table; beyond, a normal for the rest
LARGE_RATE = 30.0  # above this frequency the Poisson count uses its normal approximation
SPARSE_BELOW = 0.1  # P(at least one event per year) below which years are drawn sparsely
FULL_ABOVE = 0.8  # P(at least one event per year) above which every year is kept
CELL_BUDGET = 1 << 18  # finding-years held at once per chunk
CHUNK_FINDINGS = 256  # findings per chunk at most
ALPHA_STEP = 0.05  # PERT alpha = 1 + 4 (likely - min) / (max - min) lies in [1, 5]
_ALPHA_ROWS = 81
_U_POINTS = 1024  # quantiles per (alpha, n), at the midpoints u = (j + 0.5) / 1024
_PICK_BITS = 20
_BINS = 1024  # resolution of one beta for the convolution


@dataclass(frozen=True, slots=True)
class LossSummary:
    """One view's simulated annual loss: per finding (arrays in input order) and system total."""

    finding_mean: FloatArray
    finding_p90: FloatArray
    system_mean: float
    system_p90: float
    draws: int


def pert_mean(low: float, likely: float, high: float) -> float:
    """Mean of Beta-PERT(low, likely, high) with lambda 4: (low + 4 likely + high) / 6."""
    return (low + PERT_LAMBDA * likely + high) / (PERT_LAMBDA + 2)


def simulate_annual_loss(
    frequencies: ArrayLike,
    low: ArrayLike,
    likely: ArrayLike,
    high: ArrayLike,
    *,
    seed: int = 0,
    draws: int = DEFAULT_DRAWS,
) -> tuple[LossSummary, ...]:
    """Simulate every view at once; ``frequencies`` is views x findings (or one row of findings).

    Magnitudes must satisfy 0 <= low <= likely <= high (``risk.magnitude`` ensures it); a
    finding with low == high loses exactly that per event, one with frequency 0 never loses.
    Same seed and inputs, identical results.
    """
    if draws < 1:
        raise ValueError("draws must be at least 1")
    rates = np.atleast_2d(np.asarray(frequencies, dtype=np.float64))
    lo, ml, hi = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (low, likely, high))
    if not (lo.size == ml.size == hi.size == rates.shape[1]):
        raise ValueError("frequencies and magnitudes must describe the same findings")
    if not np.all(np.isfinite(rates)) or np.any(rates < 0):
        raise ValueError("frequencies must be finite and >= 0")
    if not (np.all(lo >= 0) and np.all(lo <= ml) and np.all(ml <= hi) and np.all(np.isfinite(hi))):
        raise ValueError("magnitudes must satisfy 0 <= low <= likely <= high < inf")
    sim = _Simulation(rates, lo, ml, hi, draws, np.random.SeedSequence(seed))
    sim.run()
    return tuple(
        LossSummary(
            finding_mean=sim.sums[v] / draws,
            finding_p90=sim.p90[v],
            system_mean=float(sim.total[v].mean()),
            system_p90=float(np.quantile(sim.total[v], PERCENTILE)),
            draws=draws,
        )
        for v in range(rates.shape[0])
    )


class _Simulation:
    """One run: inputs, the generator, and the accumulators per view."""

    def __init__(
        self,
        rates: FloatArray,
        lo: FloatArray,
        ml: FloatArray,
        hi: FloatArray,
        draws: int,
        seed: np.random.SeedSequence,
    ) -> None:
        self.rates, self.lo, self.draws, self.seed = rates, lo, draws, seed
        self.width = hi - lo
        safe = np.where(self.width > 0, self.width, 1.0)
        self.alpha = np.where(self.width > 0, 1.0 + PERT_LAMBDA * (ml - lo) / safe, 1.0)
        mean = (lo + PERT_LAMBDA * ml + hi) / (PERT_LAMBDA + 2)
        self.mean, self.sd = mean, np.sqrt(np.maximum((mean - lo) * (hi - mean), 0.0) / (PERT_LAMBDA + 3))
        self.top = rates.max(axis=0)
        n_views, n = rates.shape
        self.sums, self.p90 = np.zeros((n_views, n)), np.zeros((n_views, n))
        self.total = np.zeros((n_views, draws))
        highest = min(math.floor(PERCENTILE * (draws - 1)) + 1, draws - 1)
        self.min_years_for_p90 = draws - highest  # fewer non-zero years: every rank read is a zero

    def run(self) -> None:
        """Group findings by how busy they are and by which views repeat an earlier view, then chunk.

        Modes: 0 draws the few non-zero years directly, 1 keeps the non-zero years of one uniform
        per year, 2 keeps every year (almost all have an event) and reduces along matrix axes.
        """
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
        patterns, group = np.unique(key[active], axis=0, return_inverse=True)
        tasks = []
        for g, pattern in enumerate(patterns.tolist()):
            findings = active[group.reshape(-1) == g]
            years = self.draws * nonzero[findings] if pattern[0] == 0 else np.full(findings.size, float(self.draws))
            tasks += [(chunk, pattern[0], tuple(pattern[1:])) for chunk in _chunks(findings, years)]
        # Each chunk draws from its own stream (seed, chunk number): a chunk's years do not
        # depend on how many random numbers the chunks before it used.
        for stream, task in zip(self.seed.spawn(len(tasks)), tasks, strict=True):
            self.total += self._chunk(np.random.Generator(np.random.PCG64(stream)), *task)

    def _chunk(self, rng: np.random.Generator, findings: IntArray, mode: int, same: tuple[int, ...]) -> FloatArray:
        """Simulate the kept years of ``findings``; ``row`` indexes ``findings``, ``d`` is the year,
        and each finding's years are contiguous, between its ``bounds``."""
        c, draws = findings.size, self.draws
        if mode == 2:
            row, d, u = np.repeat(np.arange(c), draws), None, rng.random(c * draws)
        else:
            row, d, u = self._dense_years(rng, findings) if mode == 1 else self._sparse_years(rng, findings)
        bounds = np.concatenate(([0], np.cumsum(np.bincount(row, minlength=c)))).tolist()
        table, alpha_row = _tables_for(self.alpha[findings])
        # The quantile of the year's sum: one random integer gives the table point (high bits,
        # uniform over the table's midpoint quantiles) and rounds alpha up or down (low bits),
        # with the probability that keeps the mean exact. Every view uses the same point.
        bits = rng.integers(0, _U_POINTS << _PICK_BITS, size=row.size)
        up = (bits & ((1 << _PICK_BITS) - 1)) < alpha_row[1][row] * (1 << _PICK_BITS)
        base = (alpha_row[0][row] + up) * ((TABLE_EVENTS + 1) * _U_POINTS) + (bits >> _PICK_BITS)
        lo, width = self.lo[findings][row], self.width[findings][row]
        ranked = [i for i in range(c) if bounds[i + 1] - bounds[i] >= self.min_years_for_p90]
        computed = [v for v, source in enumerate(same) if source == v]
        counts = _counts(self.rates[:, findings], computed, bounds, row, u)
        busy = np.flatnonzero(np.max([counts[v] for v in computed], axis=0) > TABLE_EVENTS)
        z = rng.standard_normal(busy.size)
        added = np.zeros((len(same), draws))  # this chunk's loss per view and year
        for v, source in enumerate(same):
            if source != v:  # same frequency as an earlier view for every finding of the group
                self.sums[v, findings] = self.sums[source, findings]
                self.p90[v, findings] = self.p90[source, findings]
                added[v] = added[source]
                continue
            n = counts[v]
            k = np.minimum(n, TABLE_EVENTS)
            loss = table.take(base + k * _U_POINTS)  # the table's n = 0 rows are zeros
            loss *= width
            loss += k * lo
            if busy.size:
                f = findings[row[busy]]
                loss[busy] += _rest(n[busy] - k[busy], self.mean[f], self.sd[f], z, lo[busy], width[busy])
            if d is None:  # every year kept: a findings x years block of this chunk
                block = loss.reshape(c, draws)
                self.sums[v, findings] = block.sum(axis=1)
                added[v] = block.sum(axis=0)
                self.p90[v, findings] = np.quantile(block, PERCENTILE, axis=1)
            else:
                self.sums[v, findings] = np.bincount(row, weights=loss, minlength=c)
                added[v] = np.bincount(d, weights=loss, minlength=draws)
                for i in ranked:
                    self.p90[v, findings[i]] = _quantile_with_zeros(loss[bounds[i] : bounds[i + 1]], draws)
        return added

    def _dense_years(self, rng: np.random.Generator, findings: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
        """One uniform per finding-year; keep the years in which the busiest view has an event."""
        u = rng.random((findings.size, self.draws))
        keep = u >= np.exp(-self.top[findings])[:, None]
        row, d = np.nonzero(keep)
        return row, d, u[keep]

    def _sparse_years(self, rng: np.random.Generator, findings: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
        """How many years have an event (binomial), which ones, and a uniform above P(N = 0)."""
        p0 = np.exp(-self.top[findings])
        years = rng.binomial(self.draws, 1.0 - p0)
        d = np.concatenate([rng.choice(self.draws, k, replace=False, shuffle=False) for k in years.tolist()])
        row = np.repeat(np.arange(findings.size), years)
        base = p0[row]
        return row, d.astype(np.int64), base + (1.0 - base) * rng.random(row.size)


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


def _tables_for(alpha: FloatArray) -> tuple[FloatArray, tuple[IntArray, FloatArray]]:
    """The sum-quantile tables the chunk needs, stacked, and per finding (lower row, P(upper row))."""
    g = (alpha - 1.0) / ALPHA_STEP
    lower = np.minimum(np.floor(g).astype(np.int64), _ALPHA_ROWS - 2)
    needed = np.unique(np.concatenate((lower, lower + 1)))
    remap = np.zeros(_ALPHA_ROWS, dtype=np.int64)
    remap[needed] = np.arange(needed.size)
    table = np.stack([_sum_quantiles(int(r)) for r in needed])
    return table.reshape(-1), (remap[lower], g - lower)


@lru_cache(maxsize=_ALPHA_ROWS)
def _sum_quantiles(alpha_row: int) -> FloatArray:
    """Quantiles of S_n = sum of n iid Beta(a, 6 - a), n = 0..TABLE_EVENTS, a = 1 + row x step,
    at the ``_U_POINTS`` midpoint probabilities; a draw picks one point uniformly.

    n = 1 inverts a CDF integrated on a grid dense near 0 and 1; n >= 2 convolves ``_BINS`` bin
    masses by FFT. Each row is then shifted so that its points average exactly n a / 6, the
    true mean (the shift is a few 1e-4 of one event's range).
    """
    a = 1.0 + alpha_row * ALPHA_STEP
    x = (1.0 - np.cos(np.pi * np.linspace(0.0, 1.0, 4001))) / 2.0
    pdf = x ** (a - 1.0) * (1.0 - x) ** (5.0 - a)
    cdf = np.concatenate(([0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2 * np.diff(x))))
    cdf /= cdf[-1]
    u = (np.arange(_U_POINTS) + 0.5) / _U_POINTS
    rows = [np.zeros(_U_POINTS), np.interp(u, cdf, x)]  # n = 0 loses nothing: lookups need no mask
    masses = np.diff(np.interp(np.linspace(0.0, 1.0, _BINS + 1), x, cdf))
    size = 1 << math.ceil(math.log2(TABLE_EVENTS * _BINS))
    spectrum = np.fft.rfft(masses, size)
    for n in range(2, TABLE_EVENTS + 1):
        pmf = np.maximum(np.fft.irfft(spectrum**n, size)[: n * (_BINS - 1) + 1], 0.0)
        # Sum of n bin indices k: spread over [(k + (n - 1) / 2) / B, (k + (n + 1) / 2) / B].
        edges = (np.arange(pmf.size + 1) + (n - 1) / 2) / _BINS
        levels = np.concatenate(([0.0], np.cumsum(pmf)))
        rows.append(np.interp(u, levels / levels[-1], edges))
    table = np.array(rows)
    table += (np.arange(TABLE_EVENTS + 1) * a / 6 - table.mean(axis=1))[:, None]
    table[0] = 0.0
    table.setflags(write=False)
    return table


# Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02, -3.066479806614716e01)
_A5 = 2.506628277459239e00
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01, -1.328068155288572e01)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
)
_C5 = 2.938163982698783e00
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_P_LOW = 0.02425


def normal_ppf(p: FloatArray) -> FloatArray:
    """Standard normal quantile of each p (numpy has none, scipy is not a dependency).

    p is clipped to [1e-300, 1 - 2**-53] so that the ends give large finite values, not nan.
    """
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-300, 1 - 2**-53)
    out = np.empty_like(p)
    mid = (p >= _P_LOW) & (p <= 1 - _P_LOW)
    q = p[mid] - 0.5
    r = q * q
    num = ((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A5
    den = ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1
    out[mid] = num * q / den
    tail = ~mid
    lower = p[tail] < 0.5
    t = np.sqrt(-2 * np.log(np.where(lower, p[tail], 1 - p[tail])))
    num = ((((_C[0] * t + _C[1]) * t + _C[2]) * t + _C[3]) * t + _C[4]) * t + _C5
    den = (((_D[0] * t + _D[1]) * t + _D[2]) * t + _D[3]) * t + 1
    out[tail] = np.where(lower, num / den, -num / den)
    return out
