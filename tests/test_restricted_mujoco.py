"""Restricted MuJoCo (thesis T-AppC §C.3.1): validity = inside a ball; invalid actions have the null effect."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401
from envs.mujoco_tasks import ADROIT_TASKS, MUJOCO_TASKS
from envs.restricted_mujoco import ENV_IDS, RestrictedActions


@pytest.mark.parametrize("env_id", sorted(ENV_IDS))
def test_check_env_and_a_substantial_valid_fraction(env_id: str) -> None:
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    space = env.action_space
    actions = np.random.default_rng(0).uniform(space.low, space.high, size=(20000, *space.shape))
    valid = env.get_wrapper_attr("is_valid")(actions)
    assert 0.15 < valid.mean() < 0.6  # several pieces, enough to solve the task
    env.reset(seed=0)
    _, _, _, _, info = env.step(actions[np.argmax(valid)])
    assert info["action_valid"] is True


def test_validity_against_a_direct_distance_check() -> None:
    env = gym.make("actlab/RestrictedHopper-v0", n_spheres=4, radius=0.3, layout_seed=3)
    wrapper = env.get_wrapper_attr("centres")
    centres, low, high = wrapper, env.action_space.low, env.action_space.high
    rng = np.random.default_rng(1)
    for _ in range(500):
        a = rng.uniform(low, high)
        u = 2 * (a - low) / (high - low) - 1
        expected = any(np.sqrt(((u - c) ** 2).sum()) <= 0.3 for c in centres)
        assert bool(env.get_wrapper_attr("is_valid")(a)) == expected


@pytest.mark.parametrize("env_id,null", [("actlab/RestrictedInvertedPendulum-v0", -1.0), ("actlab/RestrictedHopper-v0", 0.0)])
def test_invalid_action_has_the_null_effect(env_id: str, null: float) -> None:
    """An invalid action moves the simulation exactly as the null action does."""
    restricted, base = gym.make(env_id), gym.make(ENV_IDS[env_id])
    space = restricted.action_space
    rng = np.random.default_rng(0)
    invalid = next(a for a in rng.uniform(space.low, space.high, size=(1000, *space.shape))
                   if not restricted.get_wrapper_attr("is_valid")(a))
    o1, _ = restricted.reset(seed=7)
    o2, _ = base.reset(seed=7)
    np.testing.assert_array_equal(o1, o2)
    o1, r1, *_, info = restricted.step(invalid)
    o2, r2, *_ = base.step(np.full(space.shape, null, dtype=space.dtype))
    assert info["action_valid"] is False
    np.testing.assert_allclose(o1, o2)
    assert r1 == r2
    assert isinstance(restricted.unwrapped, gym.Env) and any(
        isinstance(w, RestrictedActions) for w in _wrappers(restricted))


def _wrappers(env: gym.Env):
    while isinstance(env, gym.Wrapper):
        yield env
        env = env.env


@pytest.mark.parametrize("env_id", [*MUJOCO_TASKS, *ADROIT_TASKS])
def test_unrestricted_mujoco_tasks_pass_check_env(env_id: str) -> None:
    """gymnasium's own tasks and gymnasium-robotics' Adroit as registered with actlab (Ch.4)."""
    from actlab.registry import EnvCreator, get_env

    assert get_env(env_id).config_model.model_fields == {}
    check_env(EnvCreator(env_id)({}).unwrapped, skip_render_check=True)
