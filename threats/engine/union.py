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
    """
    n = len(reach)
    log_s = np.zeros((n, categories))
    live = (reach[node] > 0) & (node_p > 0)
    if live.any():
        np.add.at(log_s, (node[live], node_cat[live]), np.log1p(-np.minimum(node_p[live], 1.0 - _EPS)))
    parent = np.where(pred >= 0, pred, -1)
    reached = reach > 0
    depth = tree_depths(parent)
    for d in range(int(depth[reached].max()) if reached.any() else 0, 0, -1):
        level = np.nonzero(reached & (depth == d) & (parent >= 0))[0]
        if not len(level):
            continue
        up = parent[level]
        step = np.minimum(reach[level] / np.maximum(reach[up], _EPS), 1.0)
        q = -np.expm1(log_s[level])
        np.add.at(log_s, up, np.log1p(-np.minimum(step[:, None] * q, 1.0 - _EPS)))
    roots = np.nonzero(reached & (parent < 0))[0]
    total = log_s[roots].sum(axis=0) if len(roots) else np.zeros(categories)
    if len(special_cat):
        np.add.at(total, special_cat, np.log1p(-np.minimum(special_p, 1.0 - _EPS)))
    return -np.expm1(total)
