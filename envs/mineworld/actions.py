"""Mine World's discrete actions: the tools' transformation graph and the action representations.

Thesis T-AppC §C.1: pick-axe tool ``k`` applies to mine type ``k`` only (one-to-one) and
"either transforms that kind of mine into another type of mine or directly breaks it". The
graph itself is unspecified; here the K types are shuffled (``graph_seed``) and cut into
chains of uniform random length in ``1..max_chain_length``; in a chain ``[a, b, c]`` tool
``a`` turns an ``a`` mine into a ``b`` mine, tool ``b`` turns it into ``c``, tool ``c``
breaks it. The graph is acyclic, so every mine breaks after at most ``max_chain_length``
correct tools (:func:`tools_to_break`).

Action indices: ``0..3`` navigation (right, down, left, up, the state's direction
convention), ``4 + k`` the tool of mine type ``k``.

Representations (T-AppC §C.1, 4-d in [0, 1], then rescaled to [-1, 1] as ``2 x - 1`` for the
``Box(-1, 1)`` proto-action space of the 1-NN reformulation, T §4.3.2):

- dim 0, skill category: 0 navigation, 1 tool;
- dim 1, movement direction: ``d / 3`` for navigation ``d``; 0 for tools (not applicable);
- dim 2, applicable mine type: ``k / (K - 1)`` for tool ``k`` (0 if K = 1); 0 for navigation;
- dim 3, outcome: ``j / K`` if tool ``k`` turns the mine into type ``j``, 1 if it breaks it;
  0 for navigation.

The value 0 for "not applicable" is a choice (the source does not say). Every row is
distinct, so 1-NN of an action's own representation returns that action.
``extra_dim`` seeded uniform [-1, 1] columns may be appended (Table C.1's unexplained
"extra action dim").
"""

from __future__ import annotations

import numpy as np

__all__ = ["BREAK", "N_NAVIGATION", "action_embeddings", "tools_to_break", "transformation_graph"]

#: Outcome code of a tool that breaks its mine.
BREAK = -1
#: Navigation actions (right, down, left, up) come first.
N_NAVIGATION = 4


def transformation_graph(n_types: int, max_chain_length: int, seed: int) -> np.ndarray:
    """``int64 (K,)``: the type mine ``k`` becomes when tool ``k`` is applied, or :data:`BREAK`."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_types)
    successor = np.full(n_types, BREAK, dtype=np.int64)
    start = 0
    while start < n_types:
        length = int(rng.integers(1, max_chain_length + 1))
        chain = order[start : start + length]
        successor[chain[:-1]] = chain[1:]
        start += length
    return successor


def tools_to_break(successor: np.ndarray) -> np.ndarray:
    """``int64 (K,)``: correct tools needed to break a mine of each type (length of its chain rest)."""
    n = len(successor)
    depth = np.zeros(n, dtype=np.int64)
    for k in range(n):
        j, steps = k, 1
        while successor[j] != BREAK:
            j, steps = int(successor[j]), steps + 1
            if steps > n:
                raise ValueError("the transformation graph has a cycle")
        depth[k] = steps
    return depth


def action_embeddings(successor: np.ndarray, extra_dim: int = 0, seed: int = 0) -> np.ndarray:
    """``float32 (4 + K, 4 + extra_dim)`` in [-1, 1]: the representation of every action (module doc)."""
    n_types = len(successor)
    unit = np.zeros((N_NAVIGATION + n_types, 4), dtype=np.float64)
    unit[:N_NAVIGATION, 1] = np.arange(N_NAVIGATION) / (N_NAVIGATION - 1)
    tools = unit[N_NAVIGATION:]
    tools[:, 0] = 1.0
    tools[:, 2] = np.arange(n_types) / max(n_types - 1, 1)
    tools[:, 3] = np.where(successor == BREAK, 1.0, successor / n_types)
    emb = 2.0 * unit - 1.0
    if extra_dim:
        extra = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(len(emb), extra_dim))
        emb = np.concatenate([emb, extra], axis=1)
    return emb.astype(np.float32)
