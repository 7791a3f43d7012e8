"""Incremental Monte Carlo: re-simulate only the findings whose inputs changed.

A recompute after one edit changes the frequency of a handful of findings; simulating all of
them again was most of the recompute's time. Because every finding draws from its own stream
(``montecarlo.stream_for``) and system totals are whole cents, a finding's contribution to the
per-year totals is a pure function of (seed, key, inputs) and can be taken out and put back
exactly. ``LossState`` keeps what the next run needs: each finding's key and exact inputs, its
figures per view, and the per-year system totals. The next run

    totals = previous totals - years of the findings that changed or went, as they were
                             + years of the findings that changed or came, as they are now

which equals a clean simulation of the new inputs bit for bit (a property test checks it).
A state from another seed, draw count, view count or engine version is ignored (full run).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from threats.engine.montecarlo import (
    FloatArray,
    IntArray,
    LossSummary,
    Simulated,
    check_inputs,
    simulate,
    stream_for,
    summarise,
)

ENGINE_VERSION = 1  # bump whenever a stream's simulated years change for the same inputs


@dataclass(frozen=True)
class LossState:
    """Everything a later run needs; arrays are views x findings unless said otherwise."""

    seed: int
    draws: int
    keys: tuple[str, ...]
    inputs: FloatArray  # findings x (views + 3): frequency per view, then low, likely, high
    sums: FloatArray
    p90: FloatArray
    totals: IntArray  # views x draws, cents

    @property
    def views(self) -> int:
        return int(self.totals.shape[0])

    def to_bytes(self) -> bytes:
        """An ``.npz`` archive (no pickles), for a binary database column."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            header=np.array([ENGINE_VERSION, self.seed, self.draws], dtype=np.int64),
            keys=np.frombuffer("\n".join(self.keys).encode(), dtype=np.uint8),
            inputs=self.inputs,
            sums=self.sums,
            p90=self.p90,
            totals=self.totals,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes | memoryview | None) -> LossState | None:
        """The stored state, or None when absent, unreadable or from another engine version."""
        if not data:
            return None
        try:
            with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as archive:
                header = archive["header"]
                raw_keys = archive["keys"].tobytes().decode()
                state = cls(
                    seed=int(header[1]),
                    draws=int(header[2]),
                    keys=tuple(raw_keys.split("\n")) if raw_keys else (),
                    inputs=archive["inputs"].astype(np.float64),
                    sums=archive["sums"].astype(np.float64),
                    p90=archive["p90"].astype(np.float64),
                    totals=archive["totals"].astype(np.int64),
                )
                version = int(header[0])
        except (OSError, ValueError, KeyError, IndexError, UnicodeDecodeError, zipfile.BadZipFile):
            return None
        n, views = len(state.keys), state.totals.shape[0] if state.totals.ndim == 2 else -1
        consistent = (
            version == ENGINE_VERSION
            and state.inputs.shape == (n, views + 3)
            and state.sums.shape == state.p90.shape == (views, n)
            and state.totals.shape == (views, state.draws)
        )
        return state if consistent else None


@dataclass(frozen=True)
class IncrementalResult:
    summaries: tuple[LossSummary, ...]
    state: LossState
    simulated: int  # findings simulated this run (new inputs), the rest reused
    withdrawn: int  # old findings simulated to take their years out


def simulate_with_state(
    frequencies: ArrayLike,
    low: ArrayLike,
    likely: ArrayLike,
    high: ArrayLike,
    keys: Sequence[str],
    *,
    seed: int,
    draws: int,
    previous: LossState | None = None,
) -> IncrementalResult:
    """``montecarlo.simulate_annual_loss`` with keys, reusing ``previous`` where inputs are equal."""
    rates = np.atleast_2d(np.asarray(frequencies, dtype=np.float64))
    lo, ml, hi = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (low, likely, high))
    check_inputs(rates, lo, ml, hi, draws)
    keys = tuple(keys)
    if len(keys) != lo.size or len(set(keys)) != len(keys):
        raise ValueError("one distinct key per finding")
    inputs = np.column_stack((rates.T, lo, ml, hi)) if keys else np.zeros((0, rates.shape[0] + 3))
    n_views = rates.shape[0]
    usable = previous is not None and (previous.seed, previous.draws, previous.views) == (seed, draws, n_views)
    if not usable or previous is None:
        fresh = _run(inputs, keys, np.arange(len(keys)), seed, draws)
        state = LossState(seed, draws, keys, inputs, fresh.sums, fresh.p90, fresh.totals)
        return IncrementalResult(summarise(fresh, draws), state, len(keys), 0)

    position = {k: j for j, k in enumerate(previous.keys)}
    old = np.array([position.get(k, -1) for k in keys], dtype=np.int64)
    found = old >= 0
    same = found.copy()
    same[found] = np.all(inputs[found] == previous.inputs[old[found]], axis=1)
    redo = np.flatnonzero(~same)
    kept_old = np.zeros(len(previous.keys), dtype=bool)
    kept_old[old[same]] = True
    gone = np.flatnonzero(~kept_old)

    added = _run(inputs, keys, redo, seed, draws)
    removed = _run(previous.inputs, previous.keys, gone, seed, draws)
    sums = np.zeros((n_views, len(keys)))
    p90 = np.zeros((n_views, len(keys)))
    sums[:, same], p90[:, same] = previous.sums[:, old[same]], previous.p90[:, old[same]]
    sums[:, redo], p90[:, redo] = added.sums, added.p90
    totals = previous.totals - removed.totals + added.totals
    state = LossState(seed, draws, keys, inputs, sums, p90, totals)
    return IncrementalResult(summarise(Simulated(sums, p90, totals), draws), state, int(redo.size), int(gone.size))


def _run(inputs: FloatArray, keys: Sequence[str], which: IntArray, seed: int, draws: int) -> Simulated:
    """Simulate the findings ``which`` (rows of ``inputs``) with their own streams."""
    n_views = inputs.shape[1] - 3
    part = inputs[which]
    streams = [stream_for(seed, keys[i]) for i in which.tolist()]
    return simulate(part[:, :n_views].T.copy(), part[:, -3], part[:, -2], part[:, -1], streams, draws)
