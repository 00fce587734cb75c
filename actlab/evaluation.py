"""Evaluation of an RLModule on named evaluation sets (action splits, tasks).

Runs ``episodes`` episodes of the env (with the set's env-config overrides) in lock-step,
one batched forward pass per step, greedy unless ``explore``. The seeds of the evaluation
episodes are fixed per (trial seed, set), so every evaluation of a trial sees the same
action sets / task instances, and model selection compares like with like (thesis §2.4.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from actlab.registry import EnvCreator


@dataclass(frozen=True)
class EvalResult:
    return_mean: float
    success_rate: float | None
    episode_len_mean: float
    episodes: int

    def as_metrics(self, prefix: str) -> dict[str, float]:
        out = {f"{prefix}/return_mean": self.return_mean, f"{prefix}/episode_len_mean": self.episode_len_mean}
        if self.success_rate is not None:
            out[f"{prefix}/success_rate"] = self.success_rate
        return out


def _stack(observations: list[Any]) -> Any:
    first = observations[0]
    if isinstance(first, dict):
        return {k: _stack([o[k] for o in observations]) for k in first}
    stacked = np.stack(observations)
    if stacked.dtype == np.float64:  # MuJoCo observations; modules compute in float32
        stacked = stacked.astype(np.float32)
    return torch.as_tensor(stacked)


def _unsquash(actions: np.ndarray, space: Any) -> np.ndarray:
    """RLlib's ``normalize_actions=True`` convention: modules act in [-1, 1] on a bounded Box,
    and the env receives ``low + (a + 1) / 2 * (high - low)``."""
    if isinstance(space, gym.spaces.Box) and np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high)):
        return (space.low + (np.clip(actions, -1.0, 1.0) + 1.0) * 0.5 * (space.high - space.low)).astype(space.dtype)
    return actions


def _actions(module: Any, obs_batch: Any, explore: bool, action_space: Any = None) -> np.ndarray:
    """Env actions of a batch: ``ACTIONS_FOR_ENV`` as is, else ``ACTIONS`` or a sample of the
    action distribution, rescaled from [-1, 1] when ``action_space`` is a bounded Box (RLlib's
    ``normalize_actions``; the SAC module's squashed Gaussian also acts in [-1, 1])."""
    from ray.rllib.core.columns import Columns

    with torch.no_grad():
        if explore:
            out = module.forward_exploration({Columns.OBS: obs_batch})
            dist_cls = module.get_exploration_action_dist_cls()
        else:
            out = module.forward_inference({Columns.OBS: obs_batch})
            dist_cls = module.get_inference_action_dist_cls()
        if Columns.ACTIONS_FOR_ENV in out:  # the module maps its own action to the env's
            return out[Columns.ACTIONS_FOR_ENV].cpu().numpy()
        if Columns.ACTIONS in out:
            actions = out[Columns.ACTIONS]
        else:
            dist = dist_cls.from_logits(out[Columns.ACTION_DIST_INPUTS])
            actions = dist.sample() if explore else dist.to_deterministic().sample()
    return _unsquash(actions.cpu().numpy(), action_space)


def evaluate_module(
    module: Any,
    env_id: str,
    env_config: dict[str, Any],
    episodes: int,
    seed: int,
    success_key: str | None = None,
    explore: bool = False,
    max_parallel: int = 64,
) -> EvalResult:
    """Run ``episodes`` episodes of ``env_id`` with ``module``; batched over up to ``max_parallel`` envs."""
    creator = EnvCreator(env_id)
    returns: list[float] = []
    lengths: list[int] = []
    successes: list[bool] = []
    n_envs = min(episodes, max_parallel)
    envs = [creator(env_config) for _ in range(n_envs)]
    try:
        started = 0
        while started < episodes:
            batch = min(n_envs, episodes - started)
            obs = [envs[i].reset(seed=seed * 100_003 + started + i)[0] for i in range(batch)]
            started += batch
            ep_return = np.zeros(batch)
            ep_len = np.zeros(batch, dtype=np.int64)
            success = np.zeros(batch, dtype=bool)
            active = list(range(batch))
            while active:
                actions = _actions(module, _stack([obs[i] for i in active]), explore, envs[0].action_space)
                still = []
                for j, i in enumerate(active):
                    o, r, terminated, truncated, info = envs[i].step(actions[j])
                    ep_return[i] += float(r)
                    ep_len[i] += 1
                    if success_key is not None and info.get(success_key):
                        success[i] = True
                    if terminated or truncated:
                        continue
                    obs[i] = o
                    still.append(i)
                active = still
            returns.extend(ep_return.tolist())
            lengths.extend(ep_len.tolist())
            successes.extend(success.tolist())
    finally:
        for env in envs:
            env.close()
    return EvalResult(
        return_mean=float(np.mean(returns)),
        success_rate=float(np.mean(successes)) if success_key is not None else None,
        episode_len_mean=float(np.mean(lengths)),
        episodes=len(returns),
    )
