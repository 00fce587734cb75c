"""Statistics for reports: percentile-bootstrap CIs of a mean and curve interpolation.

Everything here is a pure function of numpy arrays; randomness only comes from the
``numpy.random.Generator`` passed in, so reports are reproducible for a given seed.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Two-sided confidence level of every interval in a report.
CONFIDENCE: float = 0.95

#: Grid columns processed at once when bootstrapping a curve; bounds memory at
#: ``n_boot * _CURVE_CHUNK`` floats (10k resamples x 256 columns = 20 MB).
_CURVE_CHUNK: int = 256


@dataclass(frozen=True)
class MeanCI:
    """Mean of per-seed values with a percentile-bootstrap confidence interval."""

    mean: float
    lo: float
    hi: float
    n: int


def derive_rng(seed: int, *labels: str) -> np.random.Generator:
    """A Generator for one ``(seed, labels…)`` stream, independent of every other stream.

    Each (configuration, metric) pair gets its own stream so that a CI does not change
    when other metrics or configurations are added to or removed from a report. crc32 is
    used instead of ``hash()`` because the latter is salted per process.
    """
    words = [zlib.crc32(label.encode("utf-8")) for label in labels]
    return np.random.default_rng(np.random.SeedSequence([seed, *words]))


def bootstrap_mean_ci(
    values: np.ndarray | Sequence[float],
    n_boot: int,
    rng: np.random.Generator,
    confidence: float = CONFIDENCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile-bootstrap CI of the mean over the first axis (the seeds).

    ``values`` has shape ``(n,)`` or ``(n, m)`` (``m`` grid points of a curve). One
    resample draws ``n`` seed indices with replacement, ``rng.integers(0, n, size=(n_boot, n))``
    (all resamples at once); the same resampled seeds are used for every grid column,
    which keeps a curve's band coherent across env steps. The interval is the
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` percentiles (numpy's default
    linear interpolation) of the ``n_boot`` resampled means.

    Returns ``(lo, hi)`` with shape ``()`` or ``(m,)``. With ``n == 1`` every resample
    equals the value, so the interval collapses to it (no random numbers are drawn).
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise ValueError(f"values must have shape (n,) or (n, m) with n >= 1, got {arr.shape}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    n = arr.shape[0]
    if n == 1:
        return arr[0].copy(), arr[0].copy()
    idx = rng.integers(0, n, size=(n_boot, n))
    q = [50.0 * (1.0 - confidence), 50.0 * (1.0 + confidence)]
    if arr.ndim == 1:
        lo, hi = np.percentile(arr[idx].mean(axis=1), q)
        return np.asarray(lo), np.asarray(hi)
    # A curve's resampled means as (counts @ values) / n, with counts[b, i] = how often
    # seed i is drawn in resample b: avoids materialising the n_boot x n x m array.
    flat = (idx + n * np.arange(n_boot)[:, None]).ravel()
    counts = np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n).astype(float)
    lo = np.empty(arr.shape[1])
    hi = np.empty(arr.shape[1])
    for start in range(0, arr.shape[1], _CURVE_CHUNK):
        stop = start + _CURVE_CHUNK
        means = counts @ arr[:, start:stop] / n
        lo[start:stop], hi[start:stop] = np.percentile(means, q, axis=0)
    return lo, hi


def mean_ci(values: Sequence[float] | np.ndarray, n_boot: int, rng: np.random.Generator) -> MeanCI:
    """Mean and 95% percentile-bootstrap CI of scalar per-seed values (see :func:`bootstrap_mean_ci`)."""
    arr = np.asarray(values, dtype=float)
    lo, hi = bootstrap_mean_ci(arr, n_boot, rng)
    mean = float(arr.mean())
    # In exact arithmetic min <= lo <= hi <= max; summation rounding can step outside by an
    # ulp (three seeds at 0.8 average to 0.8000000000000002). Clamp so that tables never show
    # an interval outside the observed values, and lo <= mean <= hi always holds.
    lo_c = min(max(float(lo), float(arr.min())), mean)
    hi_c = max(min(float(hi), float(arr.max())), mean)
    return MeanCI(mean=mean, lo=lo_c, hi=hi_c, n=int(arr.size))


def clean_history(steps: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort a metric history by step, keep the last value per step and drop non-finite values.

    Inputs must be in logging order: a trial that resumes from a checkpoint re-logs steps it
    had already logged, and the later value is the one the resumed run continued from.
    """
    s = np.asarray(steps, dtype=float)
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(s) & np.isfinite(v)
    s, v = s[ok], v[ok]
    if s.size == 0:
        return s, v
    # Stable sort on the reversed arrays puts, for each step, the last logged value first,
    # so np.unique's "first occurrence" picks it.
    order = np.argsort(s[::-1], kind="stable")
    s_rev, v_rev = s[::-1][order], v[::-1][order]
    uniq, first = np.unique(s_rev, return_index=True)
    return uniq, v_rev[first]


def interpolate_to_grid(
    histories: Sequence[tuple[np.ndarray, np.ndarray]],
    max_points: int = 400,
) -> tuple[np.ndarray, np.ndarray]:
    """Put several seeds' histories on one env-step grid by linear interpolation.

    ``histories`` holds ``(steps, values)`` per seed, sorted by step with unique steps (see
    :func:`clean_history`). The grid covers only the range that *every* seed covers,
    ``[max(first steps), min(last steps)]``: nothing is extrapolated, so the mean at each
    grid point is over all seeds rather than over whichever seeds happened to run longest.
    Grid points are the union of the seeds' logged steps inside that range (so values are
    exact wherever a seed logged), thinned to ``max_points`` evenly spaced steps when the
    union is larger.

    Returns ``(grid, matrix)`` with ``matrix.shape == (len(histories), len(grid))``. If the
    seeds' ranges do not overlap, the grid is empty.
    """
    if not histories:
        raise ValueError("interpolate_to_grid needs at least one history")
    for steps, _ in histories:
        if len(steps) == 0:
            raise ValueError("every history needs at least one point")
    start = max(float(steps[0]) for steps, _ in histories)
    end = min(float(steps[-1]) for steps, _ in histories)
    if start > end:
        return np.empty(0), np.empty((len(histories), 0))
    union = np.unique(np.concatenate([np.asarray(steps, dtype=float) for steps, _ in histories]))
    grid = union[(union >= start) & (union <= end)]
    if grid.size > max_points:
        grid = np.linspace(start, end, max_points)
    matrix = np.vstack([np.interp(grid, steps, values) for steps, values in histories])
    return grid, matrix
