"""A flat ring buffer of reward-feature transitions ``(s, a, φ, s', terminated[, z])`` for OKB.

Both buffers of OKB hold such rows: the base policies' experience (NewPolicy trains on it for the
new and all earlier tasks, and Eq. 21's optimality check samples it) and TrainOK's (Alg. 3 stores
``(S_t, z_t, φ_t, S_{t+1})``, never w). Rows carry no reward: every task's reward is ``w·φ``, so
one transition serves every task. SIP's meta-policy stores SMDP rows: the option's discounted
reward in ``phi`` and its length in ``duration`` (1 for every other row); with intra-option
learning, one row per step with ``continues`` = 1 where the held option runs on past ``s'``.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["FeatureReplay"]


class FeatureReplay:
    """Uniform-sampling ring buffer; ``z_dim > 0`` adds a meta-action column (TrainOK)."""

    def __init__(self, capacity: int, obs_dim: int, feature_dim: int, *, z_dim: int = 0, seed: int = 0) -> None:
        self.capacity = int(capacity)
        self.obs_S = np.zeros((self.capacity, obs_dim), dtype=np.float32)
        self.next_obs_S = np.zeros((self.capacity, obs_dim), dtype=np.float32)
        self.phi_D = np.zeros((self.capacity, feature_dim), dtype=np.float32)
        self.action = np.zeros(self.capacity, dtype=np.int64)
        self.terminated = np.zeros(self.capacity, dtype=np.float32)
        self.duration = np.ones(self.capacity, dtype=np.float32)
        self.continues = np.zeros(self.capacity, dtype=np.float32)
        self.z_D = np.zeros((self.capacity, z_dim), dtype=np.float32) if z_dim else None
        self.size = 0
        self._next = 0
        self._rng = np.random.default_rng(seed)

    def clear(self) -> None:
        """Forget every row (the arrays are kept)."""
        self.size = 0
        self._next = 0

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        obs: np.ndarray,
        action: int,
        phi: np.ndarray,
        next_obs: np.ndarray,
        terminated: bool,
        z: np.ndarray | None = None,
        *,
        duration: int = 1,
        continues: bool = False,
    ) -> None:
        i = self._next
        self.obs_S[i], self.action[i], self.phi_D[i] = obs, action, phi
        self.next_obs_S[i], self.terminated[i] = next_obs, float(terminated)
        self.duration[i] = float(duration)
        self.continues[i] = float(continues)
        if self.z_D is not None:
            if z is None:
                raise ValueError("this buffer stores meta-actions: pass z")
            self.z_D[i] = z
        self._next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> dict[str, torch.Tensor]:
        """``batch_size`` rows drawn uniformly with replacement, as tensors."""
        if self.size == 0:
            raise RuntimeError("cannot sample an empty replay buffer")
        idx = self._rng.integers(0, self.size, size=batch_size)
        batch = {
            "obs": torch.from_numpy(self.obs_S[idx]),
            "actions": torch.from_numpy(self.action[idx]),
            "phi": torch.from_numpy(self.phi_D[idx]),
            "next_obs": torch.from_numpy(self.next_obs_S[idx]),
            "terminated": torch.from_numpy(self.terminated[idx]),
            "duration": torch.from_numpy(self.duration[idx]),
            "continues": torch.from_numpy(self.continues[idx]),
        }
        if self.z_D is not None:
            batch["z"] = torch.from_numpy(self.z_D[idx])
        return batch
