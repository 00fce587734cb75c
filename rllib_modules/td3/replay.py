"""A flat transition replay buffer for the TD3 family (one row per env step, NumPy ring arrays).

RLlib's ``EpisodeReplayBuffer`` samples single-step *episode objects* and runs the Learner
connector pipeline over each of them: on a CPU that costs ~0.2 ms per replayed transition,
about 50 ms per TD3 gradient step of 256 (measured with ``benchmarks/throughput_td3.py``),
which no batching of Learner calls removes. TD3 (n-step 1) needs only ``(s, a, r, s', done)``
rows, so the Algorithm keeps them in preallocated arrays and hands the Learner a ready
``MultiAgentBatch``; uniform sampling, FIFO eviction.

``terminated`` is True only for a true terminal state; a time-limit truncation keeps
bootstrapping (its row has ``terminated = False`` and the real next observation).
The buffer is not part of checkpoints (as RLlib's default ``store_buffer_in_checkpoints=False``):
a restored trial refills it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ray.rllib.core.columns import Columns

__all__ = ["TransitionReplay"]


class TransitionReplay:
    """Uniform replay of ``(obs, action, reward, next_obs, terminated)`` rows.

    Args:
        capacity: Rows kept (the oldest are overwritten).
        seed: Seed of the sampling RNG.
    """

    def __init__(self, capacity: int, seed: int | None = None) -> None:
        self.capacity = int(capacity)
        self.size = 0
        self._next = 0
        self._rng = np.random.default_rng(seed)
        self._arrays: dict[str, np.ndarray] | None = None

    def __len__(self) -> int:
        return self.size

    def _allocate(self, obs: np.ndarray, actions: np.ndarray) -> dict[str, np.ndarray]:
        n = self.capacity
        return {
            Columns.OBS: np.zeros((n, *obs.shape[1:]), dtype=np.float32),
            Columns.NEXT_OBS: np.zeros((n, *obs.shape[1:]), dtype=np.float32),
            Columns.ACTIONS: np.zeros((n, *actions.shape[1:]), dtype=np.float32),
            Columns.REWARDS: np.zeros(n, dtype=np.float32),
            Columns.TERMINATEDS: np.zeros(n, dtype=bool),
        }

    def add_rows(self, rows: dict[str, np.ndarray]) -> None:
        """Append rows (same keys as :meth:`sample` returns)."""
        count = len(rows[Columns.REWARDS])
        if count == 0:
            return
        if self._arrays is None:
            self._arrays = self._allocate(rows[Columns.OBS], rows[Columns.ACTIONS])
        index = (self._next + np.arange(count)) % self.capacity
        for key, array in self._arrays.items():
            array[index] = rows[key]
        self._next = int((self._next + count) % self.capacity)
        self.size = min(self.size + count, self.capacity)

    def add_episodes(self, episodes: list[Any]) -> int:
        """Append every step of RLlib ``SingleAgentEpisode`` chunks; returns the number of rows."""
        parts = [rows for rows in (episode_rows(ep) for ep in episodes) if rows is not None]
        if not parts:
            return 0
        rows = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
        self.add_rows(rows)
        return len(rows[Columns.REWARDS])

    def sample(self, num_rows: int) -> dict[str, np.ndarray]:
        """``num_rows`` rows drawn uniformly with replacement."""
        if self._arrays is None or self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        index = self._rng.integers(0, self.size, size=num_rows)
        return {key: array[index] for key, array in self._arrays.items()}


def episode_rows(episode: Any) -> dict[str, np.ndarray] | None:
    """The transitions of one episode chunk: its ``len`` steps with the following observation."""
    steps = len(episode)
    if steps == 0:
        return None
    observations = np.asarray(episode.get_observations(slice(0, steps + 1)), dtype=np.float32)
    terminateds = np.zeros(steps, dtype=bool)
    terminateds[-1] = bool(episode.is_terminated)
    return {
        Columns.OBS: observations[:-1],
        Columns.NEXT_OBS: observations[1:],
        Columns.ACTIONS: np.asarray(episode.get_actions(slice(0, steps)), dtype=np.float32),
        Columns.REWARDS: np.asarray(episode.get_rewards(slice(0, steps)), dtype=np.float32),
        Columns.TERMINATEDS: terminateds,
    }
