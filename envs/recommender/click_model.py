"""Click model of the Recommender System (thesis App. A.2, Eq. A.2).

::

    p_click(v_user, c_i) = f(c_i · v_user + μ_i)
    f(x) = σ(a · σ(b · σ(c · x) − d) − e),   a = 14, b = 2, c = 0.3, d = 2, e = 6

with σ the logistic sigmoid. ``f`` is increasing in ``x`` and maps the real line into
``(σ(a·σ(−d) − e), σ(a·σ(b − d) − e)) ≈ (0.0130, 0.7311)``; ``f(0) ≈ 0.0967``.

The constants are the thesis' (adapted from RecoGym's ``ff``, Rohde et al. 2018, whose
default is ``a = 5``). Everything here is pure, vectorised numpy in float64.
"""

from __future__ import annotations

import numpy as np

#: Default constants of Eq. A.2.
CLICK_A: float = 14.0
CLICK_B: float = 2.0
CLICK_C: float = 0.3
CLICK_D: float = 2.0
CLICK_E: float = 6.0


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    """Numerically stable logistic function, ``σ(x) = 1 / (1 + exp(−x)) = (1 + tanh(x/2)) / 2``."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def click_curve(
    x: np.ndarray | float,
    a: float = CLICK_A,
    b: float = CLICK_B,
    c: float = CLICK_C,
    d: float = CLICK_D,
    e: float = CLICK_E,
) -> np.ndarray:
    """``f(x) = σ(a·σ(b·σ(c·x) − d) − e)`` of Eq. A.2, elementwise (float64)."""
    return sigmoid(a * sigmoid(b * sigmoid(c * np.asarray(x, dtype=np.float64)) - d) - e)


def click_logit_input(user: np.ndarray, item_reprs: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``x = c_i · v + μ_i``, the argument of ``f``; shapes as in :func:`click_probability`."""
    user = np.asarray(user, dtype=np.float64)
    item_reprs = np.asarray(item_reprs, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    if user.shape[-1] != item_reprs.shape[-1]:
        raise ValueError(
            f"user and item representations must have the same last dimension; got {user.shape} and {item_reprs.shape}"
        )
    # (..., D) x (..., K, D) -> (..., K)
    dots = np.einsum("...d,...kd->...k", user, item_reprs)
    return dots + mu


def click_probability(
    user: np.ndarray,
    item_reprs: np.ndarray,
    mu: np.ndarray,
    a: float = CLICK_A,
    b: float = CLICK_B,
    c: float = CLICK_C,
    d: float = CLICK_D,
    e: float = CLICK_E,
) -> np.ndarray:
    """Click probabilities of Eq. A.2, vectorised.

    Args:
        user: ``(B, D)`` user vectors (or ``(D,)`` for a single user).
        item_reprs: ``(B, K, D)`` item representations ``c_i`` (or ``(K, D)``, shared by
            every user, with a ``(D,)`` user giving ``(K,)``).
        mu: ``(B, K)`` hidden per-item offsets ``μ_i`` (or ``(K,)``).
        a, b, c, d, e: constants of ``f``.

    Returns:
        ``p``: ``(B, K)`` (or ``(K,)``) float64 probabilities ``f(c_i · v + μ_i)``.
    """
    return click_curve(click_logit_input(user, item_reprs, mu), a=a, b=b, c=c, d=d, e=e)
