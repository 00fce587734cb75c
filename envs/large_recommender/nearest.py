"""Exact nearest item of one action, as the environment executes it (thesis Ch.4 §4.3.2:
``f_NN(a) = argmin_i ||e_i − a||_2``; ties to the lowest index).

Distances are those of the float64 computation ``((e_i − a)²).sum()`` on the float32 table, the
reference a brute-force ``np.argmin`` would use. Computing them for 500k × 30 items per step
would cost ~100 ms, so a float32 screen comes first: ``||e_i||² − 2 e_i·a`` by one matrix-vector
product (~5 ms at 500k items), then the exact float64 distances of the items within a
rounding-error bound of the screen's minimum (a handful), whose argmin is the answer. The bound
(a generous multiple of float32's rounding of a D-term dot product) guarantees that the true
nearest item, and every item tied with it, is in the shortlist.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nearest_item"]

_EPS32 = float(np.finfo(np.float32).eps)


def nearest_item(vectors_ND: np.ndarray, sq_norms_N: np.ndarray, action_D: np.ndarray) -> int:
    """Index of the row of ``vectors_ND`` nearest to ``action_D`` (Euclidean; ties: lowest index)."""
    query_D = np.asarray(action_D, dtype=np.float64).reshape(-1)
    if query_D.shape[0] != vectors_ND.shape[1]:
        raise ValueError(f"action has {query_D.shape[0]} dims, the items {vectors_ND.shape[1]}")
    if not np.all(np.isfinite(query_D)):
        raise ValueError(f"action must be finite, got {action_D}")
    screen_N = sq_norms_N - 2.0 * (vectors_ND @ query_D.astype(np.float32))
    max_norm = float(np.sqrt(sq_norms_N.max(initial=0.0)))
    q_norm = float(np.linalg.norm(query_D))
    bound = 8.0 * vectors_ND.shape[1] * _EPS32 * (max_norm**2 + 2.0 * max_norm * q_norm + q_norm**2) + 1e-30
    shortlist = np.flatnonzero(screen_N <= screen_N.min() + 2.0 * bound)
    exact = ((vectors_ND[shortlist].astype(np.float64) - query_D) ** 2).sum(axis=1)
    return int(shortlist[np.argmin(exact)])
