"""``actlab/LargeRecommender-v0``: RecSim-style single-item recommendation from a large item
set (thesis Ch.4 §4.5, T-AppC §C.2, §D.4; ENVIRONMENTS.md C.2), written in numpy.

A user with interest ``e_u ∈ [-1, 1]^D`` (D = ``embedding_dim``, 30) is shown one item per step
for ``horizon`` (20) steps; reward 1 per click, 0 per skip (:mod:`.user_model`: click
``σ(α<e_u, e_i> − s_skip)``; on a click the interest moves towards, or away from, the item).
Items are GMM vectors with category centres (:mod:`.items`), 10,000 by default (100,000 and
500,000 in §D.4).

Discrete actions as continuous ones (thesis §4.3.2; the contract of every Ch.4 discrete task):

- ``action_space = Box(-1, 1, (D + extra_action_dim,), float32)``: a proto-action in representation
  space;
- ``action_embeddings``: ``(N, D + extra_action_dim)`` float32, the representation of every item,
  fixed for a config (``item_seed``), shared read-only by every env of the process;
  ``num_actions`` = N;
- ``step(a)`` executes the item nearest to ``a`` (Euclidean, ties to the lowest index,
  :func:`envs.large_recommender.nearest.nearest_item`); ``info["action_index"]`` is its index.

Choices where the sources are silent (all config, :class:`LargeRecommenderConfig`):

- the thesis gives ``e_u, e_i ∈ R^n`` with n "the number of categories" and item vectors of
  dimension 30 (Table C.1); score ``<e_u, e_i>`` needs one space, so the user interest lives
  in the item space (n = ``embedding_dim``), and the GMM's category count is separate;
- Table C.1's "Extra action dim 15" is unexplained. Read here as distractor coordinates
  appended to every representation and ignored by the user (``extra_action_dim``, default 0: the
  plain 30-d task). Another reading would be a wider actor output (e.g. the SAVO + Joint Action
  ablation's extra width), which is an agent setting, not the env's;
- the initial interest is ``U(-1, 1)^D`` per episode (RecSim's interest-evolution users);
- no termination: the episode is truncated after ``horizon`` recommendations.

Observation: ``e_u`` as float32 ``(D,)`` in ``[-1, 1]``. ``info`` of every step:
``action_index``, ``click`` (bool), ``click_probability``. ``reset(options={"user": e_u})``
forces the initial interest (tests, analysis).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from envs.large_recommender.config import LargeRecommenderConfig
from envs.large_recommender.items import ItemTable, get_item_table
from envs.large_recommender.nearest import nearest_item
from envs.large_recommender.user_model import click_probability, update_interest

__all__ = ["LargeRecommenderEnv"]


class LargeRecommenderEnv(gym.Env[np.ndarray, np.ndarray]):
    """Single-item recommendation among ``num_items`` items via 1-NN proto-actions (T-AppC §C.2).

    Construct with the keyword arguments of :class:`LargeRecommenderConfig` (an unknown key or
    a bad value raises a ``ValueError``).
    """

    metadata = {"render_modes": []}

    def __init__(self, **kwargs: Any) -> None:
        cfg = LargeRecommenderConfig.model_validate(kwargs)
        self.config = cfg
        self.render_mode = None
        self.items: ItemTable = get_item_table(cfg)
        #: (N, D + extra) float32, read-only: the representation of every real action.
        self.action_embeddings: np.ndarray = self.items.vectors
        self.num_actions: int = cfg.num_items
        self.dim: int = cfg.embedding_dim
        self._user_part = self.items.vectors[:, : self.dim]  # a view: what the user model sees
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(self.dim,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(self.dim + cfg.extra_action_dim,), dtype=np.float32)
        self._user = np.zeros(self.dim, dtype=np.float64)
        self._steps = 0

    def _obs(self) -> np.ndarray:
        return self._user.astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        user = self.np_random.uniform(-1.0, 1.0, self.dim)
        if options and "user" in options:
            user = np.clip(np.asarray(options["user"], dtype=np.float64).reshape(self.dim), -1.0, 1.0)
        self._user = user
        self._steps = 0
        return self._obs(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        cfg = self.config
        index = nearest_item(self.action_embeddings, self.items.sq_norms, action)
        item_D = self._user_part[index].astype(np.float64)
        p_click = click_probability(cfg.score_scale * float(self._user @ item_D), cfg.skip_score)
        click = bool(self.np_random.random() < p_click)
        if click:
            self._user = update_interest(self._user, item_D, cfg.interest_step, cfg.interest_update,
                                         float(self.np_random.random()))
        self._steps += 1
        info = {"action_index": index, "click": click, "click_probability": float(p_click)}
        return self._obs(), float(click), False, self._steps >= cfg.horizon, info
