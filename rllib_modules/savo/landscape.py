"""Q-landscape plots of a SAVO agent (thesis Fig. 4.9 style): why successive actors help.

For one state ``s`` and a 1-D slice of the action space through μ(s) (along action dimension
``dim``; the whole space for 1-D tasks), plot ``Q_1(s, a)`` and every surrogate
``Ψ̂_i(s, a; a_<i)``, and mark each actor's proposal ``a_i`` and the maximizer's choice.
A multi-modal Q with μ stuck on a lower mode and a later ν_i on a higher one is the
situation SAVO is built for.

Use :func:`landscape_data` for the numbers (tests) and :func:`plot_landscape` for a PNG;
``benchmarks/savo_q_landscape.py`` loads a run's module from MLflow, plots a few states of
its environment and logs the PNGs as artifacts of that run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["landscape_data", "plot_landscape"]


@torch.no_grad()
def landscape_data(module: Any, obs: np.ndarray, dim: int = 0, points: int = 201) -> dict[str, np.ndarray]:
    """Q_1 and Ψ̂_i along ``a = μ(s) + t·e_dim``, ``t`` spanning [-1, 1] on that coordinate.

    Returns ``grid`` (points,), ``q`` (points,), ``surrogates`` (k, points) (empty without
    surrogates, e.g. on an inference-only copy), ``candidates`` (k+1, D), ``candidate_q``
    (k+1,), and ``chosen`` (index of the maximizer's pick).
    """
    obs_1S = module.flat_obs(torch.as_tensor(np.asarray(obs))[None])
    cands_1ND = module.candidates(obs_1S)
    cands = cands_1ND[0]
    base = cands[0].clone()
    grid = torch.linspace(-1.0, 1.0, points)
    actions = base.repeat(points, 1)
    actions[:, dim] = grid
    obs_rep = obs_1S.expand(points, -1)
    q = module.q_value(module.q1, obs_rep, actions)
    surrogates = []
    if hasattr(module, "surrogates"):
        prev = [cands[0].expand(points, -1)]
        for i in range(len(module.surrogates)):
            surrogates.append(module.surrogate_value(i, obs_rep, actions, prev).numpy())
            prev.append(cands[i + 1].expand(points, -1))
    cand_q = module.q_value(module.q1, obs_1S.expand(cands.shape[0], -1), cands)
    return {
        "grid": grid.numpy(),
        "q": q.numpy(),
        "surrogates": np.asarray(surrogates).reshape(len(surrogates), points),
        "candidates": cands.numpy(),
        "candidate_q": cand_q.numpy(),
        "chosen": np.asarray(int(cand_q.argmax())),
    }


def plot_landscape(data: dict[str, np.ndarray], path: str | Path, dim: int = 0, title: str = "") -> Path:
    """Write the landscape of :func:`landscape_data` as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(data["grid"], data["q"], color="black", lw=2, label="Q₁(s, a)")
    for i, values in enumerate(data["surrogates"], start=1):
        ax.plot(data["grid"], values, lw=1, ls="--", label=f"Ψ̂_{i}")
    for i, (action, q) in enumerate(zip(data["candidates"], data["candidate_q"])):
        marker = "*" if i == int(data["chosen"]) else "o"
        ax.scatter([action[dim]], [q], marker=marker, s=120 if marker == "*" else 40, zorder=3,
                   label=("μ" if i == 0 else f"ν_{i}") + (" (μ_M)" if marker == "*" else ""))
    ax.set_xlabel(f"action dimension {dim} (normalised)")
    ax.set_ylabel("value")
    ax.set_title(title or "Q-landscape along one action dimension", fontsize=9, wrap=True)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
