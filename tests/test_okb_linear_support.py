"""OKB linear-support geometry (OKB App. F.1 Def. F.1, §4, App. B) against independent computations.

References used here, none of which calls the code under test:

- corner weights: brute-force vertex enumeration in x = (w, v): every choice of d hyperplanes
  among {ψ_i·w = v} ∪ {w_j = 0}, plus Σ w = 1, solved with numpy and kept when feasible
  (w >= 0, v >= max_i ψ_i·w);
- RemoveDominated: ψ_j is exclusively optimal somewhere iff the brute-force corners at which it
  attains the maximum span the simplex's hyperplane (d affinely independent corners), plus a
  check on a dense sample of weights;
- SFOLS' optimistic bound in 2-D: the lower convex envelope of the visited (w, V) points (LP duality).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rllib_modules.okb.linear_support import (
    convex_features,
    convex_weights,
    corner_priority,
    corner_weights,
    linear_weights,
    max_value,
    non_dominated_indices,
    optimistic_upper_bound,
    remove_dominated,
    uniform_simplex_weights,
    unique_rows,
    upper_surface_vertices,
)

TOL = 1e-7


def _sort_rows(x_MD: np.ndarray) -> np.ndarray:
    x_MD = np.asarray(x_MD, dtype=np.float64)
    return x_MD[np.lexsort(np.round(x_MD, 6).T[::-1])]


def _dedupe(x_MD: list[np.ndarray], tol: float) -> np.ndarray:
    kept: list[np.ndarray] = []
    for x in x_MD:
        if all(np.abs(x - k).max() > tol for k in kept):
            kept.append(x)
    return np.asarray(kept)


def brute_force_corners(psi_ND: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Vertices of {(w, v): v >= ψ_i·w, Σ w = 1, w >= 0} by enumerating every basis."""
    n, d = psi_ND.shape
    planes = [np.append(psi_ND[i], -1.0) for i in range(n)] + [np.append(np.eye(d)[j], 0.0) for j in range(d)]
    simplex = np.append(np.ones(d), 0.0)
    found: list[np.ndarray] = []
    for combo in itertools.combinations(range(len(planes)), d):
        a = np.stack([simplex] + [planes[k] for k in combo])
        if np.linalg.matrix_rank(a, tol=1e-10) < d + 1:
            continue
        x = np.linalg.solve(a, np.append(1.0, np.zeros(d)))
        w, v = x[:d], x[d]
        if np.all(w >= -tol) and v >= (psi_ND @ w).max() - tol:
            found.append(np.clip(w, 0.0, None) / np.clip(w, 0.0, None).sum())
    return _sort_rows(_dedupe(found, 1e-7))


def brute_force_non_dominated(psi_ND: np.ndarray) -> list[int]:
    """First occurrences j whose region of optimality {w: ψ_j·w = max} is (d−1)-dimensional."""
    n, d = psi_ND.shape
    first = [j for j in range(n) if not any(np.abs(psi_ND[j] - psi_ND[i]).max() <= 1e-9 for i in range(j))]
    corners = brute_force_corners(psi_ND)
    values = (corners @ psi_ND.T).max(axis=1)
    kept = []
    for j in first:
        tight = corners[np.abs(corners @ psi_ND[j] - values) <= 1e-9]
        if len(tight) and np.linalg.matrix_rank(np.c_[tight, np.ones(len(tight))], tol=1e-8) == d:
            kept.append(j)
    return kept


def assert_same_rows(actual: np.ndarray, expected: np.ndarray, tol: float = TOL) -> None:
    assert actual.shape == expected.shape, f"{actual} vs {expected}"
    np.testing.assert_allclose(_sort_rows(actual), _sort_rows(expected), atol=tol)


# ---------------------------------------------------------------- corner weights


def test_hand_made_2d() -> None:
    np.testing.assert_allclose(corner_weights(np.eye(2)), [[0, 1], [0.5, 0.5], [1, 0]], atol=1e-12)
    w, v = upper_surface_vertices(np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.6]]))
    # ψ3 = 0.6 meets w0 at w0 = 0.6 and w1 at w0 = 0.4.
    np.testing.assert_allclose(w, [[0, 1], [0.4, 0.6], [0.6, 0.4], [1, 0]], atol=1e-12)
    np.testing.assert_allclose(v, [1.0, 0.6, 0.6, 1.0], atol=1e-12)


def test_hand_made_3d_eye_gives_extrema_edge_midpoints_and_centre() -> None:
    expected = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5], [1 / 3] * 3])
    w = corner_weights(np.eye(3))
    assert_same_rows(w, expected)
    # Output contract: sorted lexicographically ascending, on the simplex.
    np.testing.assert_array_equal(w, w[np.lexsort(w.T[::-1])])
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(w >= 0)


def test_empty_set_is_the_simplex_extrema() -> None:
    np.testing.assert_array_equal(corner_weights(np.zeros((0, 3))), [[0, 0, 1], [0, 1, 0], [1, 0, 0]])
    w, v = upper_surface_vertices(np.zeros((0, 2)))
    assert np.all(np.isneginf(v)) and w.shape == (2, 2)


@pytest.mark.parametrize(
    "psi",
    [
        np.array([[0.3, -0.2, 1.0]]),  # a single vector
        np.full((4, 3), 2.5),  # all equal
        np.array([[1.0, 2.0], [1.0, 2.0]]),  # duplicates
    ],
    ids=["single", "all-equal", "duplicates-2d"],
)
def test_degenerate_sets_with_one_distinct_vector_give_the_extrema(psi: np.ndarray) -> None:
    d = psi.shape[1]
    assert_same_rows(corner_weights(psi), np.eye(d))


def test_degenerate_sets_match_brute_force() -> None:
    eye = np.eye(3)
    cases = {
        "duplicates": np.vstack([eye, eye, eye[:1]]),
        "dominated": np.vstack([eye, [[0.1, 0.1, 0.1], [0.2, 0.0, 0.0], [-1.0, -1.0, -1.0]]]),
        # ψ4 passes through the centre where the other three meet: four planes at one vertex.
        "four-planes-one-vertex": np.vstack([eye, [[1 / 3, 1 / 3, 1 / 3]]]),
        # 2-D: the middle vector ties exactly at the breakpoint (a degenerate vertex).
        "collinear-2d": np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]),
        "dominated-2d": np.array([[1.0, 0.0], [0.0, 1.0], [0.4, 0.4], [0.9, -0.1]]),
    }
    for psi in cases.values():
        expected = brute_force_corners(psi)
        assert_same_rows(corner_weights(psi), expected)
        # The degenerate extras never add corners to the clean set's.
        clean = psi[non_dominated_indices(psi)]
        assert_same_rows(corner_weights(clean), expected)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_random_sets_match_brute_force(d: int) -> None:
    rng = np.random.default_rng(d)
    for trial in range(25 if d < 4 else 10):
        n = int(rng.integers(1, 9 if d < 4 else 7))
        psi = rng.normal(size=(n, d)) * float(rng.choice([0.1, 1.0, 20.0]))
        w, v = upper_surface_vertices(psi)
        assert_same_rows(w, brute_force_corners(psi))
        np.testing.assert_allclose(v, (w @ psi.T).max(axis=1), atol=1e-9)


def test_random_sets_with_positive_sfs_like_returns_match_brute_force() -> None:
    """SF vectors of discounted indicator features are non-negative and share a budget
    (Σ_j ψ_j <= 1/(1-γ)); sample such "trade-off" sets, the regime OKB sees."""
    rng = np.random.default_rng(7)
    for _ in range(15):
        n, d = int(rng.integers(2, 8)), 3
        psi = rng.dirichlet(np.ones(d), size=n) * rng.uniform(5, 20, size=(n, 1))
        assert_same_rows(corner_weights(psi), brute_force_corners(psi))


def test_corners_contain_the_maximiser_of_the_gap_to_a_new_vector() -> None:
    """The w maximising max_new(w) − V(w) over the simplex is a corner weight of the old set
    when the new value is linear (OKB §4): check on a dense 2-D grid."""
    rng = np.random.default_rng(3)
    grid = np.linspace(0, 1, 20001)
    w_grid = np.stack([grid, 1 - grid], axis=1)
    for _ in range(10):
        psi = rng.normal(size=(5, 2))
        new = rng.normal(size=2)
        gap = w_grid @ new - max_value(w_grid, psi)
        corners = corner_weights(psi)
        best_corner_gap = (corners @ new - max_value(corners, psi)).max()
        assert best_corner_gap >= gap.max() - 1e-9


def test_round_decimals_merges_near_duplicates() -> None:
    # The near-duplicate crosses (0.6, 0.6) at w0 = 0.5 and adds a corner there.
    psi = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.6], [0.6 + 1e-4, 0.6 - 1e-4]])
    assert len(corner_weights(psi)) == 5
    assert len(corner_weights(psi, round_decimals=3)) == 4


def test_unique_rows_matches_the_naive_greedy_loop() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        base = rng.uniform(size=(30, 3))
        x = np.vstack([base, base[rng.integers(30, size=40)] + rng.uniform(-2e-8, 2e-8, size=(40, 3))])
        x = x[rng.permutation(len(x))]
        naive: list[int] = []
        for i in range(len(x)):
            if all(np.abs(x[i] - x[k]).max() > 1e-8 for k in naive):
                naive.append(i)
        assert unique_rows(x, 1e-8).tolist() == naive


def test_input_validation() -> None:
    with pytest.raises(ValueError):
        corner_weights(np.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        corner_weights(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError):
        max_value(np.array([0.5, 0.5]), np.ones((2, 3)))


def test_max_value_shapes_and_empty_set() -> None:
    psi = np.array([[1.0, 0.0], [0.0, 2.0]])
    assert float(max_value(np.array([0.5, 0.5]), psi)) == 1.0
    np.testing.assert_allclose(max_value(np.array([[1.0, 0.0], [0.0, 1.0]]), psi), [1.0, 2.0])
    assert np.isneginf(max_value(np.array([0.5, 0.5]), np.zeros((0, 2))))


# ---------------------------------------------------------------- RemoveDominated


def test_remove_dominated_hand_made() -> None:
    eye = np.eye(2)
    # midpoint ties only at the breakpoint; (0.6, 0.6) is exclusively optimal around w = (.5, .5);
    # (0.2, 0.1) is never optimal; the duplicate keeps its first occurrence.
    psi = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.6, 0.6], [0.2, 0.1], [1.0, 0.0]])
    np.testing.assert_array_equal(non_dominated_indices(psi), [0, 1, 3])
    np.testing.assert_array_equal(remove_dominated(psi), psi[[0, 1, 3]])
    np.testing.assert_array_equal(non_dominated_indices(np.vstack([eye, [[0.5, 0.5]]])), [0, 1])
    assert remove_dominated(np.zeros((0, 4))).shape == (0, 4)
    np.testing.assert_array_equal(non_dominated_indices(np.array([[3.0, -1.0]])), [0])
    np.testing.assert_array_equal(non_dominated_indices(np.full((3, 2), 1.5)), [0])
    # The centre vector of the 3-D eye case is weakly optimal at one point only.
    np.testing.assert_array_equal(non_dominated_indices(np.vstack([np.eye(3), [[1 / 3] * 3]])), [0, 1, 2])


@pytest.mark.parametrize("d", [2, 3])
def test_remove_dominated_matches_the_region_dimension_reference(d: int) -> None:
    rng = np.random.default_rng(10 + d)
    for _ in range(25):
        n = int(rng.integers(1, 8))
        psi = rng.normal(size=(n, d))
        if n > 2 and rng.random() < 0.4:  # add exact duplicates and ties now and then
            psi = np.vstack([psi, psi[:1], 0.5 * (psi[1] + psi[2])])
        assert non_dominated_indices(psi).tolist() == brute_force_non_dominated(psi)


def test_remove_dominated_keeps_every_sampled_exclusive_maximiser() -> None:
    rng = np.random.default_rng(5)
    w_sample = rng.dirichlet(np.ones(3), size=20000)
    for _ in range(10):
        psi = rng.normal(size=(8, 3))
        values = w_sample @ psi.T
        top2 = np.sort(values, axis=1)[:, -2:]
        winners = set(np.argmax(values[top2[:, 1] - top2[:, 0] > 1e-4], axis=1).tolist())
        kept = set(non_dominated_indices(psi).tolist())
        assert winners <= kept
        # Removing the dropped vectors never changes the value anywhere.
        np.testing.assert_allclose(max_value(w_sample, psi[sorted(kept)]), values.max(axis=1), atol=1e-12)


# ---------------------------------------------------------------- App. B transform


def test_convex_transform_hand_example() -> None:
    phi = np.array([1.0, -2.0, 0.5])
    w = np.array([0.5, -1.0, 0.0])
    phi_t = convex_features(phi)
    np.testing.assert_array_equal(phi_t, [1.0, -2.0, 0.5, -1.0, 2.0, -0.5])
    w_t, scale = convex_weights(w)
    np.testing.assert_allclose(w_t, np.array([0.5, 0, 0, 0, 1.0, 0]) / 1.5)
    assert float(scale) == 1.5
    assert w_t.sum() == pytest.approx(1.0) and np.all(w_t >= 0)
    assert float(scale * w_t @ phi_t) == pytest.approx(w @ phi) == pytest.approx(2.5)
    np.testing.assert_allclose(linear_weights(w_t) * scale, w)
    with pytest.raises(ValueError):
        convex_weights(np.zeros(3))


def test_convex_transform_preserves_the_best_policy_for_linear_tasks() -> None:
    rng = np.random.default_rng(0)
    psi = rng.normal(size=(12, 3))
    w = rng.normal(size=(200, 3))  # arbitrary signs
    w_t, scale = convex_weights(w)
    psi_t = convex_features(psi)
    np.testing.assert_allclose((w_t @ psi_t.T) * scale[:, None], w @ psi.T, atol=1e-12)
    np.testing.assert_array_equal(np.argmax(w_t @ psi_t.T, axis=1), np.argmax(w @ psi.T, axis=1))


# ---------------------------------------------------------------- uniform test weights


@pytest.mark.parametrize("d,p", [(2, 10), (3, 4), (4, 3), (6, 2)])
def test_das_dennis_count_and_simplex(d: int, p: int) -> None:
    w = uniform_simplex_weights(d, n_partitions=p)
    assert w.shape == (math.comb(p + d - 1, d - 1), d)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(w >= 0)
    np.testing.assert_allclose(w * p, np.round(w * p), atol=1e-9)  # on the 1/p lattice
    assert len(np.unique(np.round(w, 9), axis=0)) == len(w)
    for j in range(d):
        assert np.any(np.all(np.isclose(w, np.eye(d)[j]), axis=1))


def test_energy_and_incremental_weights() -> None:
    w = uniform_simplex_weights(3, n_points=12, method="energy", seed=4)
    assert w.shape == (12, 3)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(w >= 0)
    np.testing.assert_array_equal(w, uniform_simplex_weights(3, n_points=12, method="energy", seed=4))
    # Well spread: no two points closer than a third of the lattice spacing of ~12 points.
    dist = np.linalg.norm(w[:, None] - w[None], axis=-1) + np.eye(12)
    assert dist.min() > 0.1
    inc = uniform_simplex_weights(3, n_partitions=2, method="incremental")
    np.testing.assert_allclose(inc.sum(axis=1), 1.0, atol=1e-12)
    assert len(inc) == 10 and np.all(inc >= 0)
    np.testing.assert_array_equal(uniform_simplex_weights(1, n_partitions=3), [[1.0]])
    with pytest.raises(ValueError):
        uniform_simplex_weights(3, method="energy")


# ---------------------------------------------------------------- SFOLS' optimistic bound


def test_optimistic_bound_hand_made() -> None:
    psi = np.eye(2)
    # Visited extrema, each with value 1: the bound at the middle is 1, the current value 0.5.
    assert optimistic_upper_bound(np.array([0.5, 0.5]), np.eye(2), np.ones(2)) == pytest.approx(1.0)
    assert corner_priority(np.array([0.5, 0.5]), psi, np.eye(2)) == pytest.approx(0.5)
    # Visiting the middle too (value 0.5) closes the gap there.
    visited = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    assert corner_priority(np.array([0.5, 0.5]), psi, visited) == pytest.approx(0.0, abs=1e-9)
    assert corner_priority(np.array([0.25, 0.75]), psi, np.eye(2)) == pytest.approx(1.0 - 0.75)
    # ... and on the whole segment between the middle and an extremum, where V is linear.
    assert corner_priority(np.array([0.25, 0.75]), psi, visited) == pytest.approx(0.0, abs=1e-9)
    # No visited weight, an unbounded direction, and SFOLS' value caps.
    assert optimistic_upper_bound(np.array([0.5, 0.5]), np.zeros((0, 2)), np.zeros(0)) == math.inf
    assert optimistic_upper_bound(np.array([0.5, 0.5]), np.array([[1.0, 0.0]]), np.ones(1)) == math.inf
    capped = optimistic_upper_bound(np.array([0.5, 0.5]), np.array([[1.0, 0.0]]), np.ones(1), value_bounds=(None, 3.0))
    assert capped == pytest.approx(0.5 * 1.0 + 0.5 * 3.0)
    assert corner_priority(np.array([0.5, 0.5]), np.zeros((0, 2)), np.eye(2)) == math.inf


def test_optimistic_bound_2d_is_the_lower_convex_envelope() -> None:
    """LP duality in 2-D: the bound is min over pairs of visited weights bracketing w of the
    linear interpolation of their values."""
    rng = np.random.default_rng(2)
    for _ in range(20):
        a = np.concatenate([[0.0, 1.0], rng.uniform(0, 1, size=4)])
        visited = np.stack([a, 1 - a], axis=1)
        values = rng.normal(size=len(a)) + 2.0
        for t in rng.uniform(0, 1, size=5):
            w = np.array([t, 1 - t])
            envelope = min(
                values[j] if a[j] == a[k] else values[j] + (values[k] - values[j]) * (t - a[j]) / (a[k] - a[j])
                for j in range(len(a))
                for k in range(len(a))
                if a[j] <= t <= a[k]
            )
            assert optimistic_upper_bound(w, visited, values) == pytest.approx(envelope, abs=1e-7)
