"""Quantile tables of sums of Beta-PERT events, and the normal quantile, for ``montecarlo``.

Split from the simulation so each file stays readable: these are computed once per process
(``lru_cache``) and are pure functions of a few constants.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

PERT_LAMBDA = 4.0  # classic PERT weight of the most likely value
TABLE_EVENTS = 16  # sums of up to this many events come from the table; beyond, a normal for the rest
ALPHA_STEP = 0.05  # PERT alpha = 1 + 4 (likely - min) / (max - min) lies in [1, 5]
_ALPHA_ROWS = 81
U_POINTS = 1024  # quantiles per (alpha, n), at the midpoints u = (j + 0.5) / 1024
_BINS = 1024  # resolution of one beta for the convolution


def tables_for(alpha: FloatArray) -> tuple[FloatArray, tuple[IntArray, FloatArray]]:
    """The sum-quantile tables the chunk needs, stacked, and per finding (lower row, P(upper row))."""
    g = (alpha - 1.0) / ALPHA_STEP
    lower = np.minimum(np.floor(g).astype(np.int64), _ALPHA_ROWS - 2)
    needed = np.unique(np.concatenate((lower, lower + 1)))
    remap = np.zeros(_ALPHA_ROWS, dtype=np.int64)
    remap[needed] = np.arange(needed.size)
    table = np.stack([sum_quantiles(int(r)) for r in needed])
    return table.reshape(-1), (remap[lower], g - lower)


@lru_cache(maxsize=_ALPHA_ROWS)
def sum_quantiles(alpha_row: int) -> FloatArray:
    """Quantiles of S_n = sum of n iid Beta(a, 6 - a), n = 0..TABLE_EVENTS, a = 1 + row x step,
    at the ``U_POINTS`` midpoint probabilities; a draw picks one point uniformly.

    n = 1 inverts a CDF integrated on a grid dense near 0 and 1; n >= 2 convolves ``_BINS`` bin
    masses by FFT. Each row is then shifted so that its points average exactly n a / 6, the
    true mean (the shift is a few 1e-4 of one event's range).
    """
    a = 1.0 + alpha_row * ALPHA_STEP
    x = (1.0 - np.cos(np.pi * np.linspace(0.0, 1.0, 4001))) / 2.0
    pdf = x ** (a - 1.0) * (1.0 - x) ** (5.0 - a)
    cdf = np.concatenate(([0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2 * np.diff(x))))
    cdf /= cdf[-1]
    u = (np.arange(U_POINTS) + 0.5) / U_POINTS
    rows = [np.zeros(U_POINTS), np.interp(u, cdf, x)]  # n = 0 loses nothing: lookups need no mask
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


def warm_tables() -> None:
    """Compute every alpha row's table now (worker start-up) rather than during a recompute."""
    for row in range(_ALPHA_ROWS):
        sum_quantiles(row)
