"""Linear-support geometry of OKB and SFOLS (OKB App. F.1 Def. F.1, §4, App. B; ALGORITHMS.md §5.6-5.8).

Everything here works on **SF vectors** ``psi_ND`` (one row per policy: its expected discounted
sum of reward features, ψ^π = E_{S0∼μ}[ψ^π(S0, π(S0))], OKB Eq. 2) and **task weights** ``w`` on
the probability simplex 𝒲 = {w : Σ_i w_i = 1, w_i ≥ 0} (OKB §2). The value of policy i on task w
is ψ_i·w; the set's value is the upper surface ``V(w) = max_i ψ_i·w``, a convex piecewise-linear
function of w.

- :func:`corner_weights` (Def. F.1, Eq. 22): the vertices of
  ``P = {x = (w, v) ∈ R^{d+1} | ψ_i·w − v ≤ 0 ∀i, Σ_j w_j = 1, w ≥ 0}``, i.e. the w at which the
  upper surface breaks, the simplex extrema included, by vertex enumeration with pycddlib
  (double description method), as in the paper. :func:`upper_surface_vertices` also returns v.
- :func:`remove_dominated` / :func:`non_dominated_indices` (Alg. 1/2 "RemoveDominated"; the
  paper leaves the test open, ALGORITHMS.md §5.7): keep ψ_j iff it is the **exclusive** maximiser
  for some w ∈ 𝒲, decided by one LP per vector (implementation choice, see the function).
- :func:`convex_features`, :func:`convex_weights`, :func:`linear_weights` (App. B, Eq. 18): any
  linear task w ∈ R^d becomes a convex task on the features φ̃ = [φ; −φ] ∈ R^{2d}.
- :func:`uniform_simplex_weights`: uniformly spaced test tasks via pymoo's reference directions
  (App. F; the paper cites Takagi et al. 2020, pymoo's ``"incremental"`` method).
- :func:`max_value`, :func:`optimistic_upper_bound`, :func:`corner_priority`: what SFOLS (Alegre
  et al. 2022, after OLS, Roijers 2016 §3.3) uses to score a corner weight: the LP upper bound on
  the optimal value at w given the values found at the visited weights, minus the current value.

Tolerances are explicit keyword arguments (defaults below) so that callers can match them to the
scale of their SF vectors. Functions are pure numpy/scipy/pycddlib (no torch, no Ray).
"""

from __future__ import annotations

from typing import Literal

import cdd
import numpy as np
from scipy.optimize import linprog
from scipy.spatial import cKDTree

__all__ = [
    "DEFAULT_MARGIN_ATOL",
    "DEFAULT_VALUE_ATOL",
    "DEFAULT_WEIGHT_ATOL",
    "convex_features",
    "convex_weights",
    "corner_priority",
    "corner_weights",
    "linear_weights",
    "max_value",
    "non_dominated_indices",
    "optimistic_upper_bound",
    "remove_dominated",
    "unique_rows",
    "uniform_simplex_weights",
    "upper_surface_vertices",
]

#: Two weights (or weight coordinates) closer than this (max-norm) are the same corner; a vertex
#: coordinate in [-atol, 0) is snapped to 0 before the vertex is renormalised onto the simplex.
DEFAULT_WEIGHT_ATOL: float = 1e-8
#: Two SF vectors closer than this (max-norm, value units) are duplicates.
DEFAULT_VALUE_ATOL: float = 1e-9
#: RemoveDominated keeps ψ_j iff its best exclusive margin exceeds this, times max(1, max|ψ|).
#: It sits above the LP solver's (HiGHS) feasibility tolerance, 1e-7, so that exact ties
#: (e.g. ψ_j on the segment between two others) are not kept by round-off.
DEFAULT_MARGIN_ATOL: float = 1e-6


def _as_sf_matrix(sf_vectors: np.ndarray) -> np.ndarray:
    psi_ND = np.asarray(sf_vectors, dtype=np.float64)
    if psi_ND.ndim != 2 or psi_ND.shape[1] < 1:
        raise ValueError(f"sf_vectors must be an (n, d) array with d >= 1, got shape {psi_ND.shape}")
    if not np.all(np.isfinite(psi_ND)):
        raise ValueError("sf_vectors must be finite")
    return psi_ND


def unique_rows(x_ND: np.ndarray, atol: float) -> np.ndarray:
    """Indices of the rows of ``x_ND`` to keep so that no two kept rows are within ``atol``
    (max-norm): row j is kept iff no earlier **kept** row lies within ``atol`` of it, so the first
    row of each group of near-duplicates survives (indices sorted, input order).

    Greedy in input order, so "near" is not transitive: a chain of rows each within ``atol`` of the
    next but spanning more than ``atol`` keeps more than one row; ``atol`` should be far below the
    spacing of genuinely different rows. Close pairs come from a k-d tree (O(n log n)).
    """
    x_ND = np.asarray(x_ND, dtype=np.float64)
    n = len(x_ND)
    if n <= 1:
        return np.arange(n, dtype=np.int64)
    pairs_P2 = cKDTree(x_ND).query_pairs(r=atol, p=np.inf, output_type="ndarray")
    keep_N = np.ones(n, dtype=bool)
    if len(pairs_P2):
        pairs_P2 = np.sort(pairs_P2, axis=1)  # (earlier, later)
        pairs_P2 = pairs_P2[np.argsort(pairs_P2[:, 1], kind="stable")]
        for earlier, later in pairs_P2.tolist():
            if keep_N[earlier]:
                keep_N[later] = False
    return np.flatnonzero(keep_N).astype(np.int64)


def _sorted_unique_weights(w_MD: np.ndarray, v_M: np.ndarray, atol: float) -> tuple[np.ndarray, np.ndarray]:
    """Deduplicate (within ``atol``) and sort lexicographically (first coordinate first, ascending),
    on keys rounded to the ``atol`` grid so that round-off cannot reorder equal coordinates."""
    keys_MD = np.round(w_MD / atol)
    order = np.lexsort(keys_MD.T[::-1])
    w_MD, v_M = w_MD[order], v_M[order]
    keep = unique_rows(w_MD, atol)
    return w_MD[keep], v_M[keep]


def upper_surface_vertices(
    sf_vectors: np.ndarray,
    *,
    weight_atol: float = DEFAULT_WEIGHT_ATOL,
    value_atol: float = DEFAULT_VALUE_ATOL,
    round_decimals: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices ``(w_MD, v_M)`` of the polyhedron P of OKB Eq. 22: corner weights and their values
    ``v = max_i ψ_i·w``. See :func:`corner_weights` for the conventions.

    The H-representation handed to pycddlib (rows ``[b, A]`` meaning ``0 <= b + A x``) is, for
    ``x = (w_1..w_d, v)``: ``0 <= −ψ_i·w + v`` per SF vector, ``0 = −1 + Σ_j w_j`` (a linearity
    row) and ``0 <= w_j``. P is unbounded upwards in v, so cdd also returns the ray ``(0, .., 0, 1)``
    (a generator with leading 0), which is dropped; with at least one SF vector there is no
    lineality (v is bounded below on the compact simplex).
    """
    psi_ND = _as_sf_matrix(sf_vectors)
    n, d = psi_ND.shape
    if n == 0:
        # SFOLS/OLS convention: with no solution yet, the corners are the simplex extrema; the
        # value of the empty set is max over nothing = −inf.
        return _sorted_unique_weights(np.eye(d), np.full(d, -np.inf), weight_atol)
    if round_decimals is not None:
        # SFOLS rounds to 4 decimals before enumerating, which merges near-parallel facets.
        psi_ND = np.round(psi_ND, round_decimals)
    psi_ND = psi_ND[unique_rows(psi_ND, value_atol)]
    n = len(psi_ND)

    rows = np.zeros((n + 1 + d, d + 2))
    rows[:n, 1 : d + 1] = -psi_ND
    rows[:n, d + 1] = 1.0
    rows[n, 0] = -1.0
    rows[n, 1 : d + 1] = 1.0
    rows[n + 1 :, 1 : d + 1] = np.eye(d)
    matrix = cdd.matrix_from_array(rows.tolist(), lin_set=[n], rep_type=cdd.RepType.INEQUALITY)
    generators = cdd.copy_generators(cdd.polyhedron_from_matrix(matrix))
    if generators.lin_set:
        raise RuntimeError("corner-weight polyhedron has a lineality space; the input is degenerate")
    g_GX = np.asarray(generators.array, dtype=np.float64).reshape(-1, d + 2)
    x_MX = g_GX[g_GX[:, 0] == 1.0, 1:]
    w_MD = x_MX[:, :d]
    # Round-off of the double description method is ~1e-12 on sane inputs; far larger deviations
    # mean an ill-conditioned input, which must not pass silently as a wrong corner.
    sanity_atol = max(weight_atol, 1e-6)
    if np.any(w_MD < -sanity_atol) or np.any(np.abs(w_MD.sum(axis=1) - 1.0) > sanity_atol):
        raise RuntimeError("pycddlib returned a vertex off the simplex; are the SF vectors ill-conditioned?")
    w_MD = np.clip(w_MD, 0.0, None)
    w_MD = w_MD / w_MD.sum(axis=1, keepdims=True)
    # Recompute v from the cleaned weights instead of trusting cdd's floating-point v.
    v_M = max_value(w_MD, psi_ND)
    return _sorted_unique_weights(w_MD, v_M, weight_atol)


def corner_weights(
    sf_vectors: np.ndarray,
    *,
    weight_atol: float = DEFAULT_WEIGHT_ATOL,
    value_atol: float = DEFAULT_VALUE_ATOL,
    round_decimals: int | None = None,
) -> np.ndarray:
    """Corner weights ``(m, d)`` of a set of SF vectors ``(n, d)`` (OKB Def. F.1, Eq. 22).

    The corner weights are the weight parts of the vertices of the region on or above the upper
    surface ``max_i ψ_i·w`` over the simplex: the d extrema (unit vectors) and every w where the
    pieces of the surface and the simplex's facets meet in a point (its breakpoints). They contain the maximiser of
    ``v*_w − max_i ψ_i·w`` over 𝒲 (OKB §4; Roijers 2016), which is why OLS/SFOLS/OKB query them.

    Conventions:

    - **Empty set** (n = 0): returns the d unit vectors (the simplex extrema, sorted like any
      output: ``e_d`` first, ``e_1`` last), as SFOLS' queue starts (ALGORITHMS.md §5.3
      "unspecified"; our documented assumption).
    - **Duplicates**: SF vectors within ``value_atol`` (max-norm) of an earlier one are dropped
      before enumeration; dominated or all-equal vectors need no special case (their hyperplanes
      never form a vertex of their own). One vector, or n equal vectors, gives the d extrema.
    - **Output**: float64 weights with ``w >= 0`` and ``Σ w = 1`` exactly up to round-off
      (coordinates in ``[−weight_atol, 0)`` are snapped to 0 and rows renormalised), deduplicated
      within ``weight_atol`` (max-norm) and sorted lexicographically ascending (first coordinate
      first). ``round_decimals`` optionally rounds the SF vectors first, as SFOLS does (4).
    """
    w_MD, _ = upper_surface_vertices(
        sf_vectors, weight_atol=weight_atol, value_atol=value_atol, round_decimals=round_decimals
    )
    return w_MD


def max_value(w: np.ndarray, sf_vectors: np.ndarray) -> np.ndarray:
    """``max_i ψ_i·w`` for one weight ``(d,)`` (a 0-d array) or a batch ``(..., d)`` (shape ``(...)``).

    The empty set's value is −inf.
    """
    psi_ND = _as_sf_matrix(sf_vectors)
    w_BD = np.asarray(w, dtype=np.float64)
    if w_BD.shape[-1] != psi_ND.shape[1]:
        raise ValueError(f"weights of dimension {w_BD.shape[-1]} for SF vectors of dimension {psi_ND.shape[1]}")
    if len(psi_ND) == 0:
        return np.full(w_BD.shape[:-1], -np.inf)
    return (w_BD @ psi_ND.T).max(axis=-1)


def non_dominated_indices(
    sf_vectors: np.ndarray,
    *,
    value_atol: float = DEFAULT_VALUE_ATOL,
    margin_atol: float = DEFAULT_MARGIN_ATOL,
) -> np.ndarray:
    """Sorted indices of the SF vectors that RemoveDominated keeps (OKB Alg. 1 and 2, App. A.3).

    ψ_j is kept iff it is the **exclusive** maximiser of ψ·w for some w on the simplex: the LP

        maximise t  over (w, t)  s.t.  (ψ_i − ψ_j)·w + t <= 0  for every other distinct ψ_i,
                                       Σ w = 1, w >= 0,

    has optimum ``t* > margin_atol · max(1, max|ψ|)``. Dropped are vectors that are never optimal,
    and also vectors that are optimal only where they tie with others (e.g. ψ_j on the segment
    between two others, or any point inside the CCS's convex hull face): the minimal CCS of OKB
    Eq. 6 needs neither, and this keeps |Π_k| <= |CCS| (OKB §4). This LP test is our realisation;
    the paper does not spell one out (ALGORITHMS.md §5.7). Duplicates (within ``value_atol``) keep
    their first occurrence. n = 0 gives an empty array, n = 1 keeps the vector.
    """
    psi_ND = _as_sf_matrix(sf_vectors)
    candidates = unique_rows(psi_ND, value_atol)
    if len(candidates) <= 1:
        return candidates
    psi_CD = psi_ND[candidates]
    n_c, d = psi_CD.shape
    threshold = margin_atol * max(1.0, float(np.abs(psi_CD).max()))
    # Variables (w_1..w_d, t); linprog minimises, so the objective is −t.
    cost = np.zeros(d + 1)
    cost[-1] = -1.0
    a_eq = np.concatenate([np.ones(d), [0.0]])[None, :]
    bounds = [(0.0, None)] * d + [(None, None)]
    kept: list[int] = []
    for j in range(n_c):
        others_OD = np.delete(psi_CD, j, axis=0)
        a_ub = np.concatenate([others_OD - psi_CD[j], np.ones((n_c - 1, 1))], axis=1)
        result = linprog(cost, A_ub=a_ub, b_ub=np.zeros(n_c - 1), A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs")
        if result.status != 0:
            raise RuntimeError(f"RemoveDominated LP failed for vector {j}: {result.message}")
        if -result.fun > threshold:
            kept.append(j)
    return candidates[np.asarray(kept, dtype=np.int64)]


def remove_dominated(
    sf_vectors: np.ndarray,
    *,
    value_atol: float = DEFAULT_VALUE_ATOL,
    margin_atol: float = DEFAULT_MARGIN_ATOL,
) -> np.ndarray:
    """The SF vectors kept by :func:`non_dominated_indices`, in input order (shape ``(k, d)``).

    Use :func:`non_dominated_indices` when the policies attached to the vectors must be pruned too.
    """
    psi_ND = _as_sf_matrix(sf_vectors)
    return psi_ND[non_dominated_indices(psi_ND, value_atol=value_atol, margin_atol=margin_atol)]


def convex_features(phi: np.ndarray) -> np.ndarray:
    """OKB App. B, Eq. 18: φ̃ = [φ; −φ] along the last axis, ``(..., d) -> (..., 2d)``.

    Linear in φ, so it maps SF vectors the same way: ψ̃ = [ψ; −ψ].
    """
    phi = np.asarray(phi)
    return np.concatenate([phi, -phi], axis=-1)


def convex_weights(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OKB App. B: a linear task ``w ∈ R^d`` (any signs) as a convex task on φ̃ = [φ; −φ].

    Returns ``(w_tilde, scale)`` with ``w_tilde = [w⁺; w⁻] / scale ∈ Δ^{2d}``, ``w⁺ = max(w, 0)``,
    ``w⁻ = max(−w, 0)`` and ``scale = ||w||_1 > 0``, so that ``w·φ = scale · w_tilde·φ̃``: the
    reward is scaled by a positive constant, which keeps every optimal policy (App. B; the paper
    says "e.g., by dividing by their norm"; the L1 norm is the one that lands on the simplex).
    Batched over leading axes; ``scale`` has the leading shape. ``w = 0`` has no convex
    counterpart (every policy is optimal) and raises ``ValueError``.
    """
    w = np.asarray(w, dtype=np.float64)
    w_tilde = np.concatenate([np.maximum(w, 0.0), np.maximum(-w, 0.0)], axis=-1)
    scale = w_tilde.sum(axis=-1)
    if np.any(scale <= 0.0):
        raise ValueError("the zero weight vector has no convex counterpart (every policy is optimal for it)")
    return w_tilde / scale[..., None], scale


def linear_weights(w_tilde: np.ndarray) -> np.ndarray:
    """Inverse map of App. B: a convex weight on [φ; −φ] ``(..., 2d)`` as the linear weight
    ``w⁺ − w⁻`` on φ ``(..., d)`` (exact inverse of :func:`convex_weights` up to its ``scale``)."""
    w_tilde = np.asarray(w_tilde, dtype=np.float64)
    if w_tilde.shape[-1] % 2:
        raise ValueError(f"convex weights have an even dimension 2d, got {w_tilde.shape[-1]}")
    d = w_tilde.shape[-1] // 2
    return w_tilde[..., :d] - w_tilde[..., d:]


def uniform_simplex_weights(
    d: int,
    *,
    n_partitions: int | None = None,
    n_points: int | None = None,
    method: Literal["das-dennis", "energy", "incremental"] = "das-dennis",
    seed: int = 0,
) -> np.ndarray:
    """Uniformly spaced test tasks ``(m, d)`` on the simplex via pymoo's reference directions.

    - ``"das-dennis"`` (default): the simplex lattice with step ``1 / n_partitions``;
      ``m = C(n_partitions + d − 1, d − 1)``. Needs ``n_partitions`` (or an ``n_points`` equal to
      such a count; pymoo raises otherwise).
    - ``"energy"``: ``n_points`` points spread by minimising Riesz s-energy (Blank et al. 2020);
      ``seed`` seeds its random start, so the set is reproducible per seed.
    - ``"incremental"``: Takagi et al. 2020's incremental lattice, the method OKB App. F cites
      ("produces uniformly-spaced weight vectors"); ``n_partitions`` or a matching ``n_points``.

    The paper does not give the number of test tasks (ENVIRONMENTS.md Part E). Rows are float64,
    non-negative, sum to 1, in pymoo's (lexicographic) order. d = 1 gives ``[[1.0]]``.
    """
    if d < 1:
        raise ValueError(f"d must be >= 1, got {d}")
    if d == 1:
        return np.ones((1, 1))
    if method == "energy":
        if n_points is None:
            raise ValueError("method='energy' needs n_points")
        from pymoo.util.ref_dirs.energy import RieszEnergyReferenceDirectionFactory

        w_MD = RieszEnergyReferenceDirectionFactory(d, n_points).do(seed=seed)
    elif method in ("das-dennis", "incremental"):
        if n_partitions is None and n_points is None:
            raise ValueError(f"method='{method}' needs n_partitions or n_points")
        from pymoo.util.ref_dirs import get_reference_directions

        kwargs = {"n_partitions": n_partitions} if n_partitions is not None else {"n_points": n_points}
        w_MD = get_reference_directions(method, d, **kwargs)
    else:
        raise ValueError(f"unknown method '{method}'; known: das-dennis, energy, incremental")
    w_MD = np.clip(np.asarray(w_MD, dtype=np.float64), 0.0, None)
    return w_MD / w_MD.sum(axis=1, keepdims=True)


def optimistic_upper_bound(
    w: np.ndarray,
    visited_weights: np.ndarray,
    visited_values: np.ndarray,
    *,
    value_bounds: tuple[float | None, float | None] = (None, None),
) -> float:
    """OLS/SFOLS' optimistic bound on the optimal value at ``w`` (Roijers 2016 §3.3; SFOLS):

        max_x  w·x   s.t.  w_j·x <= V_j  for every visited weight w_j,   lo <= x <= hi,

    where ``V_j`` is the best value known at ``w_j``. If each ``V_j`` is the optimal value v*_{w_j},
    the optimal SF vector at w is feasible, so the LP optimum bounds v*_w from above. Returns
    ``+inf`` with no visited weights or an unbounded LP (w outside the cone of the visited
    weights and no ``value_bounds``); ``value_bounds`` (per-feature ``(lo, hi)``, None = free) are
    SFOLS' optional ``min_value``/``max_value`` caps.
    """
    w_D = np.asarray(w, dtype=np.float64)
    W_VD = np.asarray(visited_weights, dtype=np.float64).reshape(-1, w_D.shape[-1])
    V_V = np.asarray(visited_values, dtype=np.float64).reshape(-1)
    if len(W_VD) != len(V_V):
        raise ValueError(f"{len(W_VD)} visited weights but {len(V_V)} values")
    if len(W_VD) == 0:
        return float("inf")
    result = linprog(-w_D, A_ub=W_VD, b_ub=V_V, bounds=[value_bounds] * len(w_D), method="highs")
    if result.status == 3:  # unbounded
        return float("inf")
    if result.status != 0:
        raise RuntimeError(f"optimistic upper bound LP failed: {result.message}")
    return float(-result.fun)


def corner_priority(
    w: np.ndarray,
    sf_vectors: np.ndarray,
    visited_weights: np.ndarray,
    *,
    value_bounds: tuple[float | None, float | None] = (None, None),
) -> float:
    """SFOLS' priority of a corner weight: the optimistic bound minus the current value,

        Δ̄(w) = optimistic_upper_bound(w, W_visited, V(W_visited)) − max_i ψ_i·w,

    with ``V(w_j) = max_i ψ_i·w_j`` the current set's value at each visited weight (as SFOLS'
    ``max_value_lp``). SFOLS queues a corner iff its priority exceeds its ε and visits the largest
    first. +inf for an empty SF set or no visited weights.
    """
    psi_ND = _as_sf_matrix(sf_vectors)
    if len(psi_ND) == 0:
        return float("inf")
    W_VD = np.asarray(visited_weights, dtype=np.float64).reshape(-1, psi_ND.shape[1])
    bound = optimistic_upper_bound(w, W_VD, max_value(W_VD, psi_ND), value_bounds=value_bounds)
    return bound - float(max_value(w, psi_ND))
