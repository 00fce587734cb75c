"""User model of ``actlab/LargeRecommender-v0`` (thesis T-AppC §C.2; the update of T-AppB §A.3).

- Score and click (§C.2): ``score_item = α·<e_u, e_i>``; the user clicks with
  ``p_item = e^{score_item} / (e^{score_item} + e^{score_skip})`` -- the softmax over the
  item and a predefined skip item that the text describes (the printed
  ``e^{s_item} / e^{s_skip}`` is not a probability), i.e. ``σ(score_item - score_skip)``.
- Interest update on a click (§C.2 with Δ from T-AppB §A.3, after RecSim's interest
  evolution): ``e_u ← e_u + Δe_u`` with probability ``(cos(e_u, e_i) + 1)/2``, else
  ``e_u ← e_u − Δe_u``, where ``Δe_u = y·(1 − |e_u|)·(target − e_u)`` elementwise, then clipped
  to ``[-1, 1]``. ``target = e_i`` ("toward_item", default): RecSim's update, of which the
  printed ``(1 − e_u)`` is the one-hot-topic case, and what the thesis says it does ("pulls
  the user's preference towards the item that was clicked"); ``target = 1`` ("as_printed"):
  the formula read literally. The probability uses the cosine where the thesis prints
  ``e_u^T e_i``: the two agree for unit vectors, and only the cosine is a probability for the
  vectors here (norms up to √D).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["click_probability", "interest_delta", "positive_update_probability", "update_interest"]


def click_probability(score_item: float | np.ndarray, skip_score: float) -> float | np.ndarray:
    """``e^{s} / (e^{s} + e^{s_skip}) = σ(s − s_skip)`` (computed without overflow)."""
    x = np.asarray(score_item, dtype=np.float64) - skip_score
    out = np.where(x >= 0, 1.0 / (1.0 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1.0 + np.exp(-np.abs(x))))
    return float(out) if out.ndim == 0 else out


def positive_update_probability(user_D: np.ndarray, item_D: np.ndarray) -> float:
    """``(cos(e_u, e_i) + 1) / 2``; 1/2 when either vector is zero."""
    norms = float(np.linalg.norm(user_D) * np.linalg.norm(item_D))
    if norms == 0.0:
        return 0.5
    return float(np.clip((float(np.dot(user_D, item_D)) / norms + 1.0) / 2.0, 0.0, 1.0))


def interest_delta(user_D: np.ndarray, target_D: np.ndarray, step: float) -> np.ndarray:
    """``Δe_u = y·(1 − |e_u|)·(target − e_u)`` (elementwise)."""
    return step * (1.0 - np.abs(user_D)) * (target_D - user_D)


def update_interest(user_D: np.ndarray, item_D: np.ndarray, step: float, mode: Literal["toward_item", "as_printed"],
                    uniform: float) -> np.ndarray:
    """The user after clicking ``item_D``; ``uniform`` ∈ [0, 1) is the draw that picks the sign."""
    target_D = item_D if mode == "toward_item" else np.ones_like(user_D)
    delta_D = interest_delta(user_D, target_D, step)
    sign = 1.0 if uniform < positive_update_probability(user_D, item_D) else -1.0
    return np.clip(user_D + sign * delta_D, -1.0, 1.0)
