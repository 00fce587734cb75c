"""Learning-curve figures for reports (matplotlib, Agg canvas, no pyplot state).

Figures are built with the object-oriented API on an Agg canvas instead of ``pyplot`` so
that a report never switches the backend of, or leaks figures into, the process that
calls it (a notebook, a Ray driver).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter


@dataclass(frozen=True)
class Curve:
    """One configuration's learning curve: mean over seeds with a CI band on a step grid."""

    label: str
    steps: np.ndarray
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    n_seeds: int


def plot_curves(
    curves: Sequence[Curve],
    metric: str,
    path: Path,
    title: str,
    confidence: float = 0.95,
) -> Path:
    """Write one PNG with a line (mean) and shaded band (CI) per configuration.

    Curves with a single grid point (all seeds logged the metric once, or their step ranges
    only touch) are drawn as a marker with an error bar so they stay visible.
    """
    # Wider figure when the legend is long: it goes to the right of the axes so it never
    # hides the curves.
    many = len(curves) > 6
    fig = Figure(figsize=(10.5 if many else 8.0, 5.0), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    colors = _colors(len(curves))
    for curve, color in zip(curves, colors):
        label = f"{curve.label} (n={curve.n_seeds})"
        if curve.steps.size == 1:
            ax.errorbar(
                curve.steps,
                curve.mean,
                yerr=[curve.mean - curve.lo, curve.hi - curve.mean],
                fmt="o",
                color=color,
                capsize=3,
                label=label,
            )
            continue
        ax.plot(curve.steps, curve.mean, color=color, linewidth=1.6, label=label)
        # Fainter bands when many overlap, so lines stay readable through them.
        ax.fill_between(curve.steps, curve.lo, curve.hi, color=color, alpha=0.12 if many else 0.2, linewidth=0)
    ax.set_xlabel("environment steps")
    ax.set_ylabel(metric)
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.set_title(f"{title}\nmean over seeds, shaded: {confidence:.0%} bootstrap CI", fontsize=10)
    ax.grid(True, alpha=0.3)
    if many:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    else:
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def _colors(n: int) -> list[tuple[float, float, float, float]]:
    """Distinct colours: tab10 up to 10 configurations, tab20 up to 20, then a continuous map."""
    if n <= 10:
        cmap = colormaps["tab10"]
        return [cmap(i) for i in range(n)]
    if n <= 20:
        cmap = colormaps["tab20"]
        return [cmap(i) for i in range(n)]
    cmap = colormaps["viridis"]
    return [cmap(x) for x in np.linspace(0.0, 0.95, n)]
