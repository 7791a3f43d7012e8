"""The vectorised expected loss per jewel equals the per-jewel definition (risk method §4).

``jewels_expected`` prices every jewel of a view in one sort; ``jewel_expected`` is the
definition written out for one jewel (categories by descending share, each counted only in the
years no larger one happened). They must agree on any set of categories, ties and zero rates
included, or the system total and the findings' exposure would drift apart.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from threats.engine.simulate import jewel_expected, jewels_expected

VALUE = st.tuples(st.floats(0, 1e7), st.floats(0, 1e7), st.floats(0, 1e7)).map(lambda v: tuple(sorted(v)))
SHARE = st.sampled_from([1.0, 0.5, 0.25]) | st.floats(0.01, 1.0)
CATEGORY = st.tuples(st.integers(0, 5), SHARE, st.floats(0.0, 20.0) | st.just(0.0))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(VALUE, min_size=6, max_size=6), rows=st.lists(CATEGORY, max_size=25))
def test_every_jewel_as_its_own_definition(values: list[tuple[float, float, float]], rows: list) -> None:
    means = np.asarray([(low + 4 * likely + high) / 6 for low, likely, high in values])
    jewel = np.asarray([r[0] for r in rows], dtype=np.int64)
    share = np.asarray([r[1] for r in rows], dtype=float)
    rate = np.asarray([r[2] for r in rows], dtype=float)

    together = jewels_expected(means, jewel, share, rate)

    for j, value in enumerate(values):
        mine = jewel == j
        alone = jewel_expected(value, share[mine].tolist(), rate[mine].tolist())
        assert np.isclose(together[j], alone, rtol=1e-9, atol=1e-6)
        assert together[j] <= means[j] * (1 + 1e-12)  # at most one loss of a jewel a year
