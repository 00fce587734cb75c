"""Linear reward tasks over reward features, shared by the OKB environments (OKB §2, App. F.2).

A reward-feature environment returns φ(s, a, s') ∈ R^d in ``info["features"]`` (float32, shape
``(d,)``) and the scalar reward of the task ``w``: r_w(s, a, s') = w·φ(s, a, s') (OKB Eq. 1). The
task defaults to the uniform weights [1/d, ..., 1/d] on the simplex 𝒲 (OKB's first task).
:class:`LinearTaskMixin` holds ``w`` and the discount γ of the domain; the configs carry ``w``
with :func:`check_weights` validating its length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

__all__ = ["LinearTaskMixin", "check_weights", "uniform_weights"]


def uniform_weights(d: int) -> list[float]:
    """The uniform task on the simplex, [1/d, ..., 1/d]."""
    return [1.0 / d] * d


def check_weights(w: Sequence[float] | None, d: int) -> list[float]:
    """``w`` as a list of d floats (the uniform task when None); raises ValueError on a wrong length."""
    if w is None:
        return uniform_weights(d)
    if len(w) != d:
        raise ValueError(f"w has {len(w)} entries for {d} reward features")
    return [float(x) for x in w]


class LinearTaskMixin:
    """The task ``w`` (any signs) of a reward-feature env and its γ (``DISCOUNT`` of the subclass).

    The discount is the learner's: these environments do not use it themselves.
    """

    DISCOUNT: ClassVar[float]
    d: int
    w_D: np.ndarray

    def _init_task(self, d: int, w: Sequence[float] | None) -> None:
        self.d = d
        self.w_D = np.asarray(check_weights(w, d), dtype=np.float64)

    @property
    def discount(self) -> float:
        return self.DISCOUNT

    def set_w(self, w: Any) -> None:
        """Switch the task's weights in place (length d, any signs)."""
        w_D = np.asarray(w, dtype=np.float64).reshape(-1)
        if w_D.shape != (self.d,):
            raise ValueError(f"w must have {self.d} entries, got {w_D.shape}")
        self.w_D = w_D

    def task_reward(self, phi_D: np.ndarray) -> float:
        """r_w = w·φ."""
        return float(self.w_D @ phi_D)
