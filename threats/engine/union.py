"""The chance that one attempt takes at least one copy of a jewel, over the profile's route tree.

Why not the best route alone: a second copy on another host is a second target, and the jewel is
lost if any copy is (DESIGN.md §4.2), so copies must add up. Why not "at least one of the
per-copy routes" as if they were independent: the routes to the weights bucket, to its replica
and to the serving hosts usually share their first steps (the same phished engineer, the same
foothold), and counting that shared prefix once per copy inflates the odds with every copy.

The search (``evaluate._forward``) leaves a best-route tree: every reached node has the
predecessor on its best route. Over that tree, with the steps independent, "at least one theft
in the subtree of v, given v is held" is exact:

    Q(v) = 1 - (1 - theft(v)) * prod over children c of (1 - step(v, c) * Q(c))

so a shared prefix is paid once and each copy adds what its own branch adds. The result lies
between the best single route and the independent union; routes off the tree are not counted
(a small under-count where two good routes reach the same copy).
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-15


def tree_depths(pred: np.ndarray) -> np.ndarray:
    """Number of tree edges from each node up to its root (pointer jumping, log depth rounds);
    a node without predecessor has depth 0."""
    jump = np.where(pred >= 0, pred, -1).astype(np.int64)
    depth = (jump >= 0).astype(np.int64)  # invariant: depth[v] = edges from v to jump[v]
    live = jump >= 0
    while live.any():
        up = jump[live]
        depth_next = depth.copy()
        depth_next[live] += depth[up]
        jump_next = jump.copy()
        jump_next[live] = jump[up]
        depth, jump = depth_next, jump_next
        live = jump >= 0
    return depth


def union_by_category(
    reach: np.ndarray,
    pred: np.ndarray,
    node_cat: np.ndarray,
    node: np.ndarray,
    node_p: np.ndarray,
    special_cat: np.ndarray,
    special_p: np.ndarray,
    categories: int,
) -> np.ndarray:
    """Per category: the chance that one attempt takes at least one copy.

    ``node_cat``, ``node``, ``node_p``: thefts tried from graph nodes (their odds once the node
    is held, one row per distinct copy at that node); ``special_cat``, ``special_p``: thefts from
    positions the profile holds outright (authorised, held, physical), each its own branch from
    the start.

    Sparse: Q is carried only for the (node, category) pairs on the way from a theft up to its
    root, a few per copy, rather than for every node times every category (which made this the
    slowest step of a recompute on big systems).
    """
    total = np.zeros(categories)
    parent = np.where(pred >= 0, pred, -1).astype(np.int64)
    reached = reach > 0
    live = reached[node] & (node_p > 0)
    if live.any():
        width = np.int64(max(categories, 1))
        base = node[live].astype(np.int64) * width + node_cat[live].astype(np.int64)
        keys = _ancestor_pairs(base, parent, width)
        pair_node, pair_cat = keys // width, keys % width
        log_s = np.bincount(
            np.searchsorted(keys, base),
            weights=np.log1p(-np.minimum(node_p[live], 1.0 - _EPS)),
            minlength=len(keys),
        )
        up_node = parent[pair_node]
        has_up = up_node >= 0
        up_pair = np.full(len(keys), -1, dtype=np.int64)
        up_pair[has_up] = np.searchsorted(keys, up_node[has_up] * width + pair_cat[has_up])
        depth = tree_depths(parent)[pair_node]
        for d in range(int(depth.max()) if len(depth) else 0, 0, -1):
            level = np.nonzero((depth == d) & has_up)[0]
            if not len(level):
                continue
            up = up_node[level]
            step = np.minimum(reach[pair_node[level]] / np.maximum(reach[up], _EPS), 1.0)
            q = -np.expm1(log_s[level])
            log_s += np.bincount(
                up_pair[level], weights=np.log1p(-np.minimum(step * q, 1.0 - _EPS)), minlength=len(keys)
            )
        roots = np.nonzero(~has_up & reached[pair_node])[0]
        total += np.bincount(pair_cat[roots], weights=log_s[roots], minlength=categories)[:categories]
    if len(special_cat):
        np.add.at(total, special_cat, np.log1p(-np.minimum(special_p, 1.0 - _EPS)))
    return -np.expm1(total)


def _ancestor_pairs(base: np.ndarray, parent: np.ndarray, width: np.int64) -> np.ndarray:
    """Sorted distinct (node, category) keys of ``base`` and of every ancestor of their nodes.

    Climbs one level per round and carries up only keys not found before (their ancestors are
    already on the way): without that, a key reached from thefts at several depths was climbed
    once per depth, which on deep route trees (5,000 assets) was most of a recompute.
    """
    current = np.unique(base)
    found = [current]
    while len(current):
        up = parent[current // width]
        keep = up >= 0
        current = _unseen(np.unique(up[keep] * width + current[keep] % width), found)
        if len(found) > 8:  # keep the membership checks few: merge the sorted chunks
            found[:] = [np.unique(np.concatenate(found))]
        if len(current):
            found.append(current)
    return np.unique(np.concatenate(found))


def _unseen(keys: np.ndarray, found: list[np.ndarray]) -> np.ndarray:
    """The sorted ``keys`` that none of the sorted, non-empty arrays of ``found`` holds."""
    for chunk in found:
        if not len(keys):
            break
        at = np.minimum(np.searchsorted(chunk, keys), len(chunk) - 1)
        keys = keys[chunk[at] != keys]
    return keys
