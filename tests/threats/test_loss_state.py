"""Incremental Monte Carlo: reusing a previous state gives exactly what a clean run gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threats.engine.loss_state import ENGINE_VERSION, LossState, simulate_with_state
from threats.engine.montecarlo import simulate_annual_loss

DRAWS = 2_000

rate = st.one_of(st.just(0.0), st.floats(1e-4, 0.05), st.floats(0.05, 2.5), st.floats(2.5, 40.0))
value = st.floats(0.0, 1e6)


@st.composite
def finding(draw: st.DrawFn) -> tuple[str, tuple[float, float, float], tuple[float, float, float]]:
    inherent = draw(rate)
    current = draw(st.sampled_from([inherent, inherent / 2, 0.0]))
    projected = draw(st.sampled_from([current, current / 3]))
    low, likely, high = sorted(draw(st.tuples(value, value, value)))
    return draw(st.sampled_from("ABCDEFGHIJ")), (inherent, current, projected), (low, likely, high)


def _arrays(items: list[tuple[str, tuple[float, ...], tuple[float, ...]]]) -> tuple[list[str], np.ndarray, ...]:
    keys = [f"T-{code}|asset|{i}" for i, (code, _, _) in enumerate(items)]
    rates = np.array([r for _, r, _ in items], dtype=float).T.reshape(3, -1)
    sizes = np.array([m for _, _, m in items], dtype=float).reshape(-1, 3)
    return keys, rates, sizes[:, 0], sizes[:, 1], sizes[:, 2]


def _run(items: list, previous: LossState | None = None, seed: int = 11):  # type: ignore[no-untyped-def]
    keys, rates, low, likely, high = _arrays(items)
    return simulate_with_state(rates, low, likely, high, keys, seed=seed, draws=DRAWS, previous=previous)


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    for x, y in zip(a.summaries, b.summaries, strict=True):
        np.testing.assert_array_equal(x.finding_mean, y.finding_mean)
        np.testing.assert_array_equal(x.finding_p90, y.finding_p90)
        assert x.system_mean == y.system_mean
        assert x.system_p90 == y.system_p90
    np.testing.assert_array_equal(a.state.totals, b.state.totals)


@settings(max_examples=40, deadline=None)
@given(
    before=st.lists(finding(), min_size=0, max_size=12),
    edits=st.lists(st.tuples(st.integers(0, 11), finding()), max_size=4),
    added=st.lists(finding(), max_size=3),
    dropped=st.sets(st.integers(0, 11), max_size=3),
)
def test_incremental_run_equals_a_clean_run_bit_for_bit(before, edits, added, dropped) -> None:  # type: ignore[no-untyped-def]
    """Change, add and drop findings: the reused state gives the totals of a clean simulation."""
    first = _run(before)
    after = list(before)
    for index, replacement in edits:
        if index < len(after):
            after[index] = replacement
    after = [f for i, f in enumerate(after) if i not in dropped] + added
    # keys are positional in _arrays, so re-key the survivors by their original position
    keys_before, *_ = _arrays(before)
    survivors = [keys_before[i] for i in range(len(before)) if i not in dropped]
    keys = survivors + [f"T-NEW|flow|{i}" for i in range(len(added))]
    _, rates, low, likely, high = _arrays(after)
    clean = simulate_with_state(rates, low, likely, high, keys, seed=11, draws=DRAWS)
    reused = simulate_with_state(rates, low, likely, high, keys, seed=11, draws=DRAWS, previous=first.state)
    _same(clean, reused)
    changed = len(after) - sum(1 for i, k in enumerate(survivors) if before[keys_before.index(k)][1:] == after[i][1:])
    assert reused.simulated == changed


def test_unchanged_inputs_simulate_nothing_and_match() -> None:
    items = [("A", (0.3, 0.2, 0.1), (1e3, 5e3, 9e4)), ("B", (4.0, 4.0, 1.0), (10.0, 20.0, 30.0))]
    first = _run(items)
    again = _run(items, previous=first.state)
    assert again.simulated == 0 and again.withdrawn == 0
    _same(first, again)


def test_a_findings_years_do_not_depend_on_its_neighbours() -> None:
    """Its own stream: adding another finding leaves the first one's figures as they were."""
    one = simulate_annual_loss([[0.7]], [0.0], [1e3], [1e4], seed=3, keys=["T-A|asset|1"])
    two = simulate_annual_loss([[0.7, 2.0]], [0.0, 5.0], [1e3, 9.0], [1e4, 20.0], seed=3, keys=["T-A|asset|1", "x"])
    assert one[0].finding_mean[0] == two[0].finding_mean[0]
    assert one[0].finding_p90[0] == two[0].finding_p90[0]


def test_state_round_trips_through_bytes() -> None:
    result = _run([("A", (0.3, 0.2, 0.1), (1e3, 5e3, 9e4)), ("B", (4.0, 4.0, 1.0), (10.0, 20.0, 30.0))])
    back = LossState.from_bytes(result.state.to_bytes())
    assert back is not None
    assert back.keys == result.state.keys and back.seed == 11 and back.draws == DRAWS
    np.testing.assert_array_equal(back.totals, result.state.totals)
    np.testing.assert_array_equal(back.inputs, result.state.inputs)


@pytest.mark.parametrize(
    "data",
    [None, b"", b"not a zip", b"PK\x03\x04garbage", memoryview(b"\x00" * 64)],
)
def test_unreadable_state_is_ignored(data: bytes | None) -> None:
    assert LossState.from_bytes(data) is None


def test_state_of_another_seed_or_engine_version_is_not_reused() -> None:
    items = [("A", (0.3, 0.2, 0.1), (1e3, 5e3, 9e4))]
    other_seed = _run(items, seed=5)
    reused = _run(items, previous=other_seed.state)
    assert reused.simulated == 1
    _same(reused, _run(items))
    import io

    buffer = io.BytesIO(other_seed.state.to_bytes())
    archive = dict(np.load(buffer))
    archive["header"] = np.array([ENGINE_VERSION + 1, 11, DRAWS])
    out = io.BytesIO()
    np.savez(out, **archive)
    assert LossState.from_bytes(out.getvalue()) is None


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="distinct key"):
        simulate_with_state([[0.1, 0.2]], [0, 0], [1, 1], [2, 2], ["k", "k"], seed=1, draws=10)
