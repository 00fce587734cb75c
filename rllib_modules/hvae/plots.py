"""Plots of learned action representations: t-SNE (thesis Fig. A.4) and training curves.

- :func:`tsne`: a small exact t-SNE in numpy (van der Maaten & Hinton 2008: perplexity
  calibration by bisection, early exaggeration, momentum + adaptive gains; PCA
  initialisation). O(n^2) memory and time per iteration: meant for <= ~1000 points
  (256 held-out skills take a few seconds).
- :func:`tsne_plot`: one panel per representation table, points coloured by a label
  (Fig. A.4 colours held-out skills by the quadrant of their net displacement:
  :func:`net_displacement`, :func:`displacement_quadrant`).
- :func:`curves_plot`: ELBO / reconstruction / KL curves from ``TrainedRepresentation.curves``.

Figures are drawn on ``matplotlib.figure.Figure`` with the Agg canvas; pyplot (and its
global figure registry and backend state) is never touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "QUADRANT_NAMES",
    "net_displacement",
    "displacement_quadrant",
    "tsne",
    "tsne_plot",
    "curves_plot",
]

#: Quadrant names in the order of :func:`displacement_quadrant`'s labels.
QUADRANT_NAMES: tuple[str, ...] = ("up-right", "up-left", "down-left", "down-right")


# ---------------------------------------------------------------------------------------
# Grid World labels


def net_displacement(skill_ids: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """``int64 (n, 2)`` net ``(dx, dy)`` of each skill's 5 moves on an empty grid (y downwards)."""
    from envs.gridworld_skills.skills import skill_deltas_xy

    d = skill_deltas_xy().sum(axis=1)
    return d if skill_ids is None else d[np.asarray(skill_ids, dtype=np.int64)]


def displacement_quadrant(dxy: np.ndarray) -> np.ndarray:
    """Quadrant label 0..3 (:data:`QUADRANT_NAMES`) of displacements ``(n, 2)`` (y downwards).

    The angle of ``(dx, -dy)`` (y flipped to point up) falls in
    ``[k * 90deg, (k+1) * 90deg)`` for label k, so a displacement on an axis belongs to the
    quadrant counter-clockwise of it (e.g. straight right -> up-right). Five moves never
    return to the origin (the parity of |dx| + |dy| is odd), so every skill has a quadrant.
    """
    dxy = np.asarray(dxy)
    angle = np.arctan2(-dxy[:, 1], dxy[:, 0]) % (2 * np.pi)
    return np.minimum((angle // (np.pi / 2)).astype(np.int64), 3)


# ---------------------------------------------------------------------------------------
# t-SNE


def _conditional_p(d2: np.ndarray, perplexity: float, tol: float = 1e-5, max_iter: int = 100) -> np.ndarray:
    """Row-wise Gaussian affinities with the given perplexity (bisection on the precision)."""
    n = d2.shape[0]
    target = np.log(perplexity)
    beta = np.ones(n)
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    mask = ~np.eye(n, dtype=bool)
    d2 = d2 - np.where(mask, d2, np.inf).min(axis=1, keepdims=True)  # stabilise exp
    for _ in range(max_iter):
        p = np.exp(-d2 * beta[:, None]) * mask
        sum_p = np.maximum(p.sum(axis=1), 1e-300)
        entropy = np.log(sum_p) + beta * (d2 * p).sum(axis=1) / sum_p
        diff = entropy - target
        if np.all(np.abs(diff) < tol):
            break
        up = diff > 0  # entropy too high: increase precision
        lo = np.where(up, beta, lo)
        hi = np.where(up, hi, beta)
        beta = np.where(up, np.where(np.isinf(hi), beta * 2, (beta + hi) / 2), np.where(np.isinf(lo), beta / 2, (beta + lo) / 2))
    return p / sum_p[:, None]


def tsne(
    x: np.ndarray,
    n_components: int = 2,
    perplexity: float = 30.0,
    n_iter: int = 1000,
    seed: int = 0,
    early_exaggeration: float = 12.0,
    exaggeration_iters: int = 250,
) -> np.ndarray:
    """Exact t-SNE embedding ``(n, n_components)`` of ``x (n, d)``; deterministic in ``seed``."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n < 3:
        raise ValueError("t-SNE needs at least 3 points")
    perplexity = min(perplexity, (n - 1) / 3.0)
    sq = (x**2).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    p = _conditional_p(d2, perplexity)
    p = (p + p.T) / (2 * n)
    p = np.maximum(p, 1e-12)

    # PCA initialisation scaled to std 1e-4 (plus tiny seeded noise to break ties).
    xc = x - x.mean(0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    y = xc @ vt[:n_components].T if vt.shape[0] >= n_components else np.zeros((n, n_components))
    y = y / (y[:, 0].std() + 1e-12) * 1e-4
    y = y + np.random.default_rng(seed).normal(scale=1e-6, size=y.shape)

    lr = max(n / early_exaggeration / 4.0, 50.0)
    update = np.zeros_like(y)
    gains = np.ones_like(y)
    for it in range(n_iter):
        exag = early_exaggeration if it < exaggeration_iters else 1.0
        momentum = 0.5 if it < exaggeration_iters else 0.8
        sy = (y**2).sum(1)
        num = 1.0 / (1.0 + np.maximum(sy[:, None] + sy[None, :] - 2 * y @ y.T, 0.0))
        np.fill_diagonal(num, 0.0)
        q = np.maximum(num / num.sum(), 1e-12)
        pq = (exag * p - q) * num
        grad = 4.0 * (np.diag(pq.sum(1)) - pq) @ y
        same = np.sign(grad) == np.sign(update)
        gains = np.maximum(np.where(same, gains * 0.8, gains + 0.2), 0.01)
        update = momentum * update - lr * gains * grad
        y = y + update
        y = y - y.mean(0)
    return y


# ---------------------------------------------------------------------------------------
# figures


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def tsne_plot(
    table: np.ndarray | Mapping[str, np.ndarray],
    ids: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    path: str | Path,
    label_names: Sequence[str] | None = QUADRANT_NAMES,
    title: str | None = None,
    seed: int = 0,
    perplexity: float = 30.0,
) -> Path:
    """Write a t-SNE scatter of rows ``ids`` of ``table`` coloured by ``labels`` to ``path`` (PNG).

    ``table`` may be one ``(A, C)`` array or ``{name: table}`` for side-by-side panels
    (e.g. HVAE / flat VAE / hand-engineered, as in Fig. A.4). ``labels`` are ints aligned
    with ``ids``; ``label_names[k]`` names label k in the legend (None: numeric legend).
    """
    tables = {"": table} if isinstance(table, np.ndarray) else dict(table)
    ids = np.asarray(ids, dtype=np.int64)
    labels = np.asarray(labels)
    classes = np.unique(labels)
    cmap = "tab10" if len(classes) <= 10 else "tab20" if len(classes) <= 20 else "viridis"
    fig = Figure(figsize=(4.2 * len(tables), 4.4))
    for i, (name, tab) in enumerate(tables.items()):
        ax = fig.add_subplot(1, len(tables), i + 1)
        emb = tsne(np.asarray(tab)[ids], seed=seed, perplexity=perplexity)
        palette = matplotlib.colormaps[cmap]
        for k, cls in enumerate(classes):
            sel = labels == cls
            colour = palette(k / max(len(classes) - 1, 1)) if cmap == "viridis" else palette(k)
            name_k = label_names[int(cls)] if label_names is not None and 0 <= int(cls) < len(label_names) else str(cls)
            ax.scatter(emb[sel, 0], emb[sel, 1], s=10, color=colour, label=name_k, alpha=0.85, linewidths=0)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(name or (title or "t-SNE"), fontsize=10)
        if i == len(tables) - 1 and len(classes) <= 20:
            ax.legend(fontsize=7, markerscale=1.5, loc="best", frameon=True)
    if title and len(tables) > 1:
        fig.suptitle(title, fontsize=11)
    return _save(fig, path)


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or values.size < window:
        return values
    kernel = np.ones(window) / window
    head = np.cumsum(values[: window - 1]) / np.arange(1, window)
    return np.concatenate([head, np.convolve(values, kernel, mode="valid")])


def curves_plot(
    curves: Mapping[str, Sequence[float]] | Mapping[str, Mapping[str, Sequence[float]]],
    path: str | Path,
    keys: Sequence[str] = ("elbo", "recon_ll", "kl_z", "kl_c"),
    smooth: int = 20,
) -> Path:
    """Training curves (one panel per key, x = ``step``), optionally for several runs.

    ``curves`` is one ``TrainedRepresentation.curves`` dict or ``{run name: curves}``.
    Values are smoothed with a trailing moving average of ``smooth`` steps.
    """
    runs = {"": curves} if "step" in curves else dict(curves)  # type: ignore[arg-type]
    present = [k for k in keys if any(k in c for c in runs.values())]
    fig = Figure(figsize=(3.6 * max(len(present), 1), 3.2))
    titles = {
        "elbo": "ELBO per observation",
        "recon_ll": "reconstruction log p(o|z,c)",
        "kl_z": "KL(q(z|o,c) || p(z|c))",
        "kl_c": "KL(q(c|O) || p(c)) per action",
        "loss": "loss",
    }
    for i, key in enumerate(present):
        ax = fig.add_subplot(1, len(present), i + 1)
        for name, c in runs.items():
            if key not in c:
                continue
            y = _smooth(np.asarray(c[key], dtype=np.float64), smooth)
            x = np.asarray(c.get("step", np.arange(1, y.size + 1)), dtype=np.float64)
            ax.plot(x, y, label=name or None, linewidth=1.2)
        ax.set_title(titles.get(key, key), fontsize=9)
        ax.set_xlabel("gradient step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if len(runs) > 1 and i == 0:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)
