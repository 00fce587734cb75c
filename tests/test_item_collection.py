"""Item Collection (OKB App. F.2, §5 Q3): toroidal moves, egocentric observation, indicator
features, linear and sequential rewards, placement and respawn rules, against hand-worked cases."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the env)
from actlab import registry
from envs.item_collection import DISCOUNT, ENV_ID, ItemCollectionEnv

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3


def make(**config: object) -> ItemCollectionEnv:
    env = gym.make(ENV_ID, **config).unwrapped
    assert isinstance(env, ItemCollectionEnv)
    return env


@pytest.mark.parametrize(
    "config",
    [{}, {"task": "sequential"}, {"observation": "absolute"}, {"respawn": True, "w": [1.0, -0.5]}],
    ids=["linear", "sequential", "absolute", "respawn"],
)
def test_check_env(config: dict) -> None:
    env = make(**config)
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    expected = 300 if config.get("observation") == "absolute" else 200
    assert obs.shape == (expected,) and obs.dtype == np.float32


def test_registry_and_config_validation() -> None:
    entry = registry.get_env(ENV_ID)
    assert entry.config_model(w=[0.2, 0.8]).weights == [0.2, 0.8]
    assert make().w_D.tolist() == [0.5, 0.5]  # OKB's initial (uniform) task by default
    assert DISCOUNT == 0.95 and make().discount == 0.95
    for bad in ({"unknown_key": 1}, {"w": [1.0]}, {"task": "sequential", "respawn": True},
                {"first_type": 2}, {"items_per_type": 50}):
        with pytest.raises(ValueError):
            make(**bad)


def test_registration_is_idempotent() -> None:
    from envs import item_collection

    item_collection.register()  # already registered by ``import envs``
    item_collection.register()
    assert registry.get_env(ENV_ID) is item_collection.ENV_ENTRY
    assert gym.spec(ENV_ID).entry_point == "envs.item_collection.env:ItemCollectionEnv"


def _obs_index(k: int, i: int, j: int, n: int = 10) -> int:
    return k * n * n + i * n + j


def test_toroidal_moves_and_egocentric_observation_by_hand() -> None:
    env = make()
    obs, _ = env.reset(seed=0, options={"agent_pos": (0, 0), "item_positions": [[(0, 1)], [(9, 9)]]})
    # Agent drawn at the centre (5, 5): the type-0 item is one cell right, the type-1 item up-left.
    assert np.flatnonzero(obs).tolist() == [_obs_index(0, 5, 6), _obs_index(1, 4, 4)]
    obs, *_ = env.step(UP)  # wraps to the bottom row
    assert env.agent_pos == (9, 0)
    assert np.flatnonzero(obs).tolist() == [_obs_index(0, 6, 6), _obs_index(1, 5, 4)]
    env.step(LEFT)  # wraps to the last column: onto the type-1 item
    assert env.agent_pos == (9, 9)
    env.step(DOWN)
    assert env.agent_pos == (0, 9)
    env.step(RIGHT)
    assert env.agent_pos == (0, 0)
    # Ten moves in one direction come back to the start.
    for action in (UP, DOWN, LEFT, RIGHT):
        for _ in range(10):
            env.step(action)
        assert env.agent_pos == (0, 0)


def test_egocentric_view_is_the_rolled_absolute_view() -> None:
    ego, absolute = make(), make(observation="absolute")
    rng = np.random.default_rng(0)
    for seed in range(20):
        o_ego, _ = ego.reset(seed=seed)
        o_abs, _ = absolute.reset(seed=seed)
        for _ in range(15):
            items = o_abs[:200].reshape(2, 10, 10)
            r, c = np.argwhere(o_abs[200:].reshape(10, 10) == 1)[0]
            assert (r, c) == ego.agent_pos
            expected = np.roll(items, shift=(5 - r, 5 - c), axis=(1, 2)).ravel()
            np.testing.assert_array_equal(o_ego, expected)
            a = int(rng.integers(4))
            o_ego, *_ = ego.step(a)
            o_abs, *_ = absolute.step(a)


def test_features_and_linear_reward_by_hand() -> None:
    env = make(w=[0.3, -2.0])
    env.reset(seed=1, options={"agent_pos": (4, 4), "item_positions": [[(4, 5)], [(4, 6)]]})
    obs, reward, terminated, truncated, info = env.step(UP)
    np.testing.assert_array_equal(info["features"], [0.0, 0.0])
    assert reward == 0.0 and not terminated and not truncated
    env.step(DOWN)
    _, reward, terminated, _, info = env.step(RIGHT)
    np.testing.assert_array_equal(info["features"], [1.0, 0.0])
    assert reward == pytest.approx(0.3) and not terminated
    assert info["features"].dtype == np.float32
    env.set_w([1.0, 4.0])
    _, reward, terminated, _, info = env.step(RIGHT)
    np.testing.assert_array_equal(info["features"], [0.0, 1.0])
    assert reward == pytest.approx(4.0)
    assert terminated  # no item left
    assert info["collected"].tolist() == [1, 1]
    with pytest.raises(ValueError):
        env.set_w([1.0, 2.0, 3.0])


def test_random_placement_rules() -> None:
    env = make()
    seen = np.zeros((10, 10))
    for seed in range(300):
        env.reset(seed=seed)
        items = env.item_map()
        assert (items == 0).sum() == 5 and (items == 1).sum() == 5
        assert items[env.agent_pos] == -1
        seen += items >= 0
    assert np.all(seen > 0)  # every cell hosts an item in some episode
    # Seeded episodes are reproducible and differ across seeds.
    env.reset(seed=3)
    first = env.item_map()
    env.reset(seed=3)
    np.testing.assert_array_equal(env.item_map(), first)
    env.reset(seed=4)
    assert not np.array_equal(env.item_map(), first)


def test_items_disappear_without_respawn_and_reappear_elsewhere_with_it() -> None:
    env = make()
    env.reset(seed=0, options={"agent_pos": (0, 0), "item_positions": [[(0, 1), (5, 5)], [(7, 7)]]})
    env.step(RIGHT)
    assert env.item_map()[0, 1] == -1 and (env.item_map() == 0).sum() == 1

    env = make(respawn=True)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    collected = 0
    for _ in range(2000):
        _, _, terminated, truncated, info = env.step(int(rng.integers(4)))
        items = env.item_map()
        assert (items == 0).sum() == 5 and (items == 1).sum() == 5  # counts are kept
        if info["features"].any():
            collected += 1
            assert items[env.agent_pos] == -1  # the new item never lands under the agent
        assert not terminated
        if truncated:
            env.reset()
    assert collected > 20


def test_truncation_after_max_steps() -> None:
    env = make(max_steps=7)
    env.reset(seed=0, options={"agent_pos": (0, 0), "item_positions": [[(5, 5)], [(6, 6)]]})
    for t in range(1, 8):
        _, _, terminated, truncated, _ = env.step(LEFT if t % 2 else RIGHT)  # never reaches an item
        assert not terminated and truncated == (t == 7)


def test_sequential_task_in_order_by_hand() -> None:
    env = make(task="sequential")
    env.reset(seed=0, options={"agent_pos": (0, 0), "item_positions": [[(0, 1), (0, 2)], [(0, 3)]]})
    rewards, infos, terminated = [], [], False
    for _ in range(3):
        _, reward, terminated, _, info = env.step(RIGHT)
        rewards.append(reward)
        infos.append(info)
    assert rewards == [1.0, 1.0, 1.0]
    assert [i["violation"] for i in infos] == [False, False, False]
    assert terminated and infos[-1]["success"] and not infos[0]["success"]


def test_sequential_task_violations_by_hand() -> None:
    layout = {"agent_pos": (0, 0), "item_positions": [[(0, 1), (0, 3)], [(0, 2)]]}
    env = make(task="sequential")
    env.reset(seed=0, options=layout)
    steps = [env.step(RIGHT) for _ in range(3)]
    # type 0 (first type, +1), type 1 while a type-0 item is left (−1), type 0 (+1).
    assert [s[1] for s in steps] == [1.0, -1.0, 1.0]
    assert [s[4]["violation"] for s in steps] == [False, True, False]
    assert steps[-1][2] and not steps[-1][4]["success"]

    # Fixed first type: starting with type 0 is already a violation; custom rewards apply.
    env = make(task="sequential", first_type=1, item_reward=2.0, violation_reward=-5.0)
    env.reset(seed=0, options=layout)
    assert [env.step(RIGHT)[1] for _ in range(3)] == [-5.0, 2.0, 2.0]

    # terminate_on_violation ends the episode at the first violation.
    env = make(task="sequential", terminate_on_violation=True)
    env.reset(seed=0, options=layout)
    assert env.step(RIGHT)[2] is False
    _, reward, terminated, _, info = env.step(RIGHT)
    assert reward == -1.0 and terminated and info["violation"]


def test_speed_report() -> None:
    """Reports random-action steps per second (no assertion on time)."""
    env = make()
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(4, size=20000)
    started = time.perf_counter()
    for a in actions:
        *_, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            env.reset()
    rate = len(actions) / (time.perf_counter() - started)
    print(f"\nItemCollection-v0: {rate:,.0f} steps/s (random actions, resets included)")
    assert rate > 0
