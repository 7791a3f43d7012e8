"""The (node, category) keys a copy-union climbs: the base keys and all their tree ancestors.

``union._ancestor_pairs`` prunes keys already found as it climbs (deep route trees on big
systems reached one key from many depths); pruning must not lose an ancestor. Checked against
the plain definition on random forests.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from threats.engine.union import _ancestor_pairs


@st.composite
def forests(draw: st.DrawFn) -> tuple[np.ndarray, list[tuple[int, int]], int]:
    """A parent array (each node's parent has a lower index, or -1) and (node, category) pairs."""
    n = draw(st.integers(1, 40))
    parent = [-1] + [draw(st.integers(-1, i - 1)) for i in range(1, n)]
    categories = draw(st.integers(1, 5))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, categories - 1)), min_size=1, max_size=30))
    return np.asarray(parent, dtype=np.int64), pairs, categories


@settings(max_examples=150, deadline=None)
@given(forests())
def test_every_ancestor_of_every_base_key_once(forest: tuple[np.ndarray, list[tuple[int, int]], int]) -> None:
    parent, pairs, categories = forest
    width = np.int64(categories)
    expected = set()
    for node, cat in pairs:
        while node >= 0:
            expected.add(node * categories + cat)
            node = int(parent[node])

    keys = _ancestor_pairs(np.asarray([n * categories + c for n, c in pairs], dtype=np.int64), parent, width)

    assert keys.tolist() == sorted(expected)
