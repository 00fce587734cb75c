"""``actlab/Recommender-v0``: RecoGym-style product recommendation (thesis Ch.2, App. A.2).

Every episode a new user arrives with a ``dim``-d (16) preference vector ``v ~ N(0, I)``,
and ``m`` (500) products are sampled without replacement from the configured split of the
catalog (:mod:`.catalog`, 10,000 products split 2:1:1); the set is kept, in shuffled slot
order, for the whole episode. At each step (a *bandit session*) the agent recommends one
available product ``i``; the user clicks with probability ``p_click(v, c_i) = f(c_i·v + μ_i)``
(Eq. A.2, :mod:`.click_model`) and the reward is 1 per click, 0 otherwise (click drawn from
the env's seeded RNG).

Session dynamics (the thesis: "the user transitions stochastically between organic and
bandit sessions ... every transition updates the user vector ... the episode terminates after
100 recommendations or stochastically in between the session transitions"; the probabilities
are unspecified, RecoGym defaults being implied). Choices here, all config fields:

- After each session the user transitions to an *organic* session (browsing alone, which the
  agent does not observe) with probability ``p_organic`` (default 0.5), else to the next
  *bandit* session, where the agent recommends again. So between two recommendations there
  are ``N ~ Geometric`` organic sessions, ``P(N = k) = (1 − p_organic)·p_organic^k`` (mean 1),
  i.e. ``N + 1`` transitions.
- Every transition perturbs the user: ``v ← v + σ_1·|σ_2|·ε`` with ``σ_2 ~ N(0, 1)`` (a scalar
  per transition) and ``ε ~ N(0, I)``. The thesis writes ``v ~ N(v, σ_1σ_2 I)`` with
  ``σ_1 = 0.1`` (``sigma1``), ambiguous on variance vs. standard deviation and on the sign of
  ``σ_2``; ``σ_1·|σ_2|`` is taken as the standard deviation, which is exactly RecoGym's
  ``omega ~ N(omega, sigma_omega · Δt)`` with its normal time generator ``Δt = |N(0, 1)|``.
- At every transition the user leaves with probability ``p_stop`` (default 0.001): the
  episode *terminates* (``terminated=True``; the user vector is perturbed by the transitions
  taken up to and including the one on which the user leaves). With the defaults about 82%
  of the episodes reach the 100 recommendations. RecoGym's own leave probability (0.01 per
  event) is not used: with several events per recommendation, few episodes would reach 100.
- After ``max_steps`` (100) recommendations without the user leaving, the episode is
  *truncated*.
- ``c_i ~ N(0, I)`` as the thesis text says; ``unit_norm_reprs=True`` rescales them to unit
  length as the thesis' released code does (see :mod:`.catalog` for why it matters).
- RecoGym's extras (organic page views, a click forcing an organic session, flips between
  organic and bandit item vectors, the released code's normalised user state) are not
  modelled: the thesis describes none of them.

Observation (layout of :mod:`envs.common.action_set`):

- ``state``: ``float32 (dim,)``, the current user vector ``v`` (the thesis' state);
- ``action_reprs``: ``float32 (max_actions, d)``; slot i holds the representation of the
  i-th available product: ``c_i`` (``representation="given"``, d = 16, μ_i hidden: partially
  observable) or ``[c_i, μ_i]`` (``"fully_observable"``, d = 17, T-AppA §C.5); padded slots
  (``m=None``) are zero;
- ``action_mask``: ``float32 (max_actions,)``; available slots are the first ones.

``info`` of every step: ``click`` (bool), ``click_probability`` (p of the recommended
product for the user the recommendation was made to), ``best_click_probability`` (the
largest p among the available set for that user, for regret diagnostics), ``item_id`` (the
catalog id recommended), ``n_organic_sessions`` (organic sessions before the next
recommendation or the user leaving) and ``user_left`` (bool).

There is no notion of success (``success_key`` is None in the registry entry).
"""

from __future__ import annotations

from typing import Any, SupportsInt

import gymnasium as gym
import numpy as np

from envs.common.action_set import (
    ACTION_IDS_KEY,
    ACTION_MASK_KEY,
    ACTION_REPRS_KEY,
    STATE_KEY,
    action_set_observation_space,
    validated_slot,
)
from envs.recommender.catalog import Catalog, get_catalog, split_pool
from envs.recommender.click_model import click_curve
from envs.recommender.config import RecommenderConfig


class RecommenderEnv(gym.Env[dict[str, np.ndarray], np.int64]):
    """Recommender System with an action set of products (thesis Ch.2, App. A.2).

    Construct with the keyword arguments of :class:`RecommenderConfig` (validated by it; an
    unknown key or an inconsistent value raises a ``ValueError``).

    ``reset(options=...)`` accepts, for tests and analysis:

    - ``"user": (dim,) vector`` -- force the initial user vector;
    - ``"item_ids": sequence of catalog ids`` -- force the available products (in slot order;
      any of the ``n_items`` ids, at most ``max_actions``, no duplicates).

    Anything not forced is drawn from the env's RNG in the same order as without options.
    """

    metadata = {"render_modes": []}

    def __init__(self, **kwargs: Any) -> None:
        cfg = RecommenderConfig.model_validate(kwargs)
        self.config = cfg
        self.render_mode = None
        self.dim: int = cfg.dim
        self.max_actions: int = cfg.max_actions
        self.repr_dim: int = cfg.repr_dim
        self._catalog: Catalog = get_catalog(cfg.catalog_seed, cfg.n_items, cfg.dim, cfg.mu_scale, cfg.unit_norm_reprs)
        self._pool = split_pool(cfg.split, cfg.split_seed, cfg.n_items)
        self._click_params = cfg.click_params
        self._sigma1 = float(cfg.sigma1)
        self._p_organic = float(cfg.p_organic)
        self._p_stop = float(cfg.p_stop)

        state_space = gym.spaces.Box(-np.inf, np.inf, shape=(self.dim,), dtype=np.float32)
        # Catalog ids of the slots too: a discrete policy over the training items (the
        # nearest-neighbour baseline, thesis §2.5.3) addresses its outputs by them.
        self.observation_space = action_set_observation_space(
            state_space, self.max_actions, self.repr_dim, n_action_ids=cfg.n_items
        )
        self.action_space = gym.spaces.Discrete(self.max_actions)

        # Episode state (set in reset).
        self._user = np.zeros(self.dim, dtype=np.float64)
        self._item_ids = np.zeros(0, dtype=np.int64)
        self._n_available = 0
        self._avail_c = np.zeros((0, self.dim), dtype=np.float64)
        self._avail_mu = np.zeros(0, dtype=np.float64)
        self._reprs = np.zeros((self.max_actions, self.repr_dim), dtype=np.float32)
        self._mask = np.zeros(self.max_actions, dtype=np.float32)
        self._slot_ids = np.full(self.max_actions, -1.0, dtype=np.float32)
        self._steps = 0
        self._done = True

    # ------------------------------------------------------------------ public helpers
    @property
    def catalog(self) -> Catalog:
        """The (shared, read-only) product catalog."""
        return self._catalog

    @property
    def available_item_ids(self) -> np.ndarray:
        """Catalog id in each slot (``int64 (max_actions,)``), ``-1`` for padded slots."""
        out = np.full(self.max_actions, -1, dtype=np.int64)
        out[: self._n_available] = self._item_ids
        return out

    @property
    def user_vector(self) -> np.ndarray:
        """Current user vector (float64 copy)."""
        return self._user.copy()

    @property
    def steps(self) -> int:
        """Recommendations made in the current episode."""
        return self._steps

    def representation_table(self) -> np.ndarray:
        """``float32 (n_items, repr_dim)``: the rows ``action_reprs`` are taken from."""
        cat = self._catalog
        table = cat.fully_observable_reprs() if self.config.representation == "fully_observable" else cat.reprs
        return table.astype(np.float32)

    def click_probabilities(self) -> np.ndarray:
        """``float64 (n_available,)``: p_click of every available product for the current user."""
        return click_curve(self._avail_c @ self._user + self._avail_mu, **self._click_params)

    # ------------------------------------------------------------------ gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - {"user", "item_ids"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; known: user, item_ids")
        rng = self.np_random
        cfg = self.config

        # Draw everything unconditionally so that forcing one part leaves the others as
        # they would have been for the same seed.
        user = rng.standard_normal(self.dim)
        if cfg.m is None:
            ids = rng.permutation(self._pool)
        else:
            ids = rng.choice(self._pool, size=cfg.m, replace=False)  # random order already

        if "user" in options:
            user = np.asarray(options["user"], dtype=np.float64).reshape(-1)
            if user.shape != (self.dim,) or not np.all(np.isfinite(user)):
                raise ValueError(f"options['user'] must be a finite vector of {self.dim} numbers")
        if "item_ids" in options:
            ids = np.asarray(options["item_ids"], dtype=np.int64).reshape(-1)
            if (
                not 1 <= ids.size <= self.max_actions
                or np.unique(ids).size != ids.size
                or ids.min() < 0
                or ids.max() >= cfg.n_items
            ):
                raise ValueError(
                    f"options['item_ids'] must be 1..{self.max_actions} distinct ids in [0, {cfg.n_items})"
                )

        self._user = user.astype(np.float64, copy=True)
        ids = ids.astype(np.int64)
        self._item_ids = ids
        self._n_available = n = int(ids.size)
        cat = self._catalog
        self._avail_c = np.ascontiguousarray(cat.reprs[ids])
        self._avail_mu = np.ascontiguousarray(cat.mu[ids])
        # Fresh arrays per episode: they are handed out in every observation of the episode,
        # so reusing them across episodes would alias stored observations.
        reprs = np.zeros((self.max_actions, self.repr_dim), dtype=np.float32)
        reprs[:n, : self.dim] = self._avail_c
        if self.config.representation == "fully_observable":
            reprs[:n, self.dim] = self._avail_mu
        self._reprs = reprs
        mask = np.zeros(self.max_actions, dtype=np.float32)
        mask[:n] = 1.0
        self._mask = mask
        self._slot_ids = self.available_item_ids.astype(np.float32)
        self._steps = 0
        self._done = False
        return self._obs(), {}

    def step(self, action: SupportsInt) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        slot = validated_slot(action, self._n_available, self._done)
        rng = self.np_random

        # Bandit session: the recommendation and the click (Eq. A.2).
        probs = self.click_probabilities()
        p = float(probs[slot])
        click = bool(rng.random() < p)

        # Session transitions until the next bandit session (or the user leaving).
        n_trans = int(rng.geometric(1.0 - self._p_organic)) if self._p_organic > 0.0 else 1
        user_left = False
        if self._p_stop > 0.0:
            leave_at = int(rng.geometric(self._p_stop))
            if leave_at <= n_trans:
                user_left = True
                n_trans = leave_at
        # v <- v + σ1·|σ2|·ε at each transition, summed in one go (same distribution and
        # the same result as applying them one by one).
        sigma2 = rng.standard_normal(n_trans)
        eps = rng.standard_normal((n_trans, self.dim))
        self._user = self._user + self._sigma1 * (np.abs(sigma2) @ eps)

        self._steps += 1
        terminated = user_left
        truncated = not terminated and self._steps >= self.config.max_steps
        self._done = terminated or truncated
        info = {
            "click": click,
            "click_probability": p,
            "best_click_probability": float(probs.max()),
            "item_id": int(self._item_ids[slot]),
            "n_organic_sessions": n_trans - 1,
            "user_left": user_left,
        }
        return self._obs(), float(click), terminated, truncated, info

    def _obs(self) -> dict[str, np.ndarray]:
        return {
            STATE_KEY: self._user.astype(np.float32),
            ACTION_REPRS_KEY: self._reprs,
            ACTION_MASK_KEY: self._mask,
            ACTION_IDS_KEY: self._slot_ids,
        }
