"""OKB reward-feature environments (OKB App. F.2): Minecart, Highway, FetchPickAndPlace with d targets.

check_env through gym.make and the registered creator; φ and r = w·φ on rollouts; hand-computed
features (Minecart fuel and ore sales, Highway speed/lane/lane-change/off-road/crash, Fetch
−distance from the block position read from MuJoCo); the MuJoCo-4 shim against the model's own
qpos/qvel layout; config validation. Highway runs few steps (about 45 steps/s on this machine).
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the envs)
from actlab import registry
from envs import fetch_targets, highway, minecart
from envs.fetch_targets import FetchTargetsEnv, mjcompat
from envs.highway import HighwayConfig, HighwayFeaturesEnv, reward_features
from envs.minecart import MinecartEnv

ENV_IDS = {
    minecart.ENV_ID: (3, 0.98),
    highway.ENV_ID: (3, 0.99),
    fetch_targets.ENV_ID: (2, 0.95),
}
#: Rollout lengths per env, short for Highway (slow) and Fetch.
ROLLOUT_STEPS = {minecart.ENV_ID: 3000, highway.ENV_ID: 40, fetch_targets.ENV_ID: 300}


def make(env_id: str, **config: Any) -> Any:
    return gym.make(env_id, **config).unwrapped


# ---------------------------------------------------------------------------- common contract


@pytest.mark.parametrize("env_id", list(ENV_IDS))
def test_check_env_unwrapped_and_through_the_registered_creator(env_id: str) -> None:
    d, gamma = ENV_IDS[env_id]
    env = make(env_id)
    check_env(env, skip_render_check=True)
    created = registry.EnvCreator(env_id)({})
    check_env(created, skip_render_check=True)
    for e in (env, created):
        assert isinstance(e.observation_space, gym.spaces.Box) and len(e.observation_space.shape) == 1
        assert e.observation_space.dtype == np.float32
        assert isinstance(e.action_space, gym.spaces.Discrete)
        obs, _ = e.reset(seed=0)
        assert obs in e.observation_space
    assert env.discount == gamma and env.DISCOUNT == gamma
    assert env.w_D.tolist() == pytest.approx([1.0 / d] * d)  # uniform task on the simplex by default
    assert env.action_space.n == {minecart.ENV_ID: 6, highway.ENV_ID: 5, fetch_targets.ENV_ID: 8}[env_id]


def test_check_env_fetch_with_eight_targets() -> None:
    check_env(make(fetch_targets.ENV_ID, d=8), skip_render_check=True)


@pytest.mark.parametrize("env_id", list(ENV_IDS))
def test_features_and_reward_are_consistent_on_rollouts(env_id: str) -> None:
    d, _ = ENV_IDS[env_id]
    rng = np.random.default_rng(1)
    w = rng.normal(size=d).tolist()  # any signs
    env = make(env_id, w=w)
    env.reset(seed=3)
    phis = []
    for t in range(ROLLOUT_STEPS[env_id]):
        if t == ROLLOUT_STEPS[env_id] // 2:
            w = rng.dirichlet(np.ones(d)).tolist()
            env.set_w(w)
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        phi = info["features"]
        assert phi.dtype == np.float32 and phi.shape == (d,)
        assert reward == pytest.approx(float(np.dot(w, phi.astype(np.float64))), abs=1e-5)
        assert obs in env.observation_space
        phis.append(phi)
        if terminated or truncated:
            env.reset()
    assert np.ptp(np.stack(phis), axis=0).max() > 0  # the features vary
    with pytest.raises(ValueError):
        env.set_w([1.0] * (d + 1))


@pytest.mark.parametrize("env_id", list(ENV_IDS))
def test_config_validation_rejects_unknown_keys_and_bad_weights(env_id: str) -> None:
    d, _ = ENV_IDS[env_id]
    entry = registry.get_env(env_id)
    assert entry.config_model(w=[0.5] * d).weights == [0.5] * d
    for bad in ({"unknown_key": 1}, {"w": [1.0] * (d + 1)}):
        with pytest.raises(ValueError):
            entry.config_model(**bad)
        with pytest.raises(ValueError):
            make(env_id, **bad)


def test_registration_is_idempotent() -> None:
    for module in (minecart, highway, fetch_targets):
        module.register()
        module.register()
        assert registry.get_env(module.ENV_ID) is module.ENV_ENTRY
    assert gym.spec(minecart.ENV_ID).entry_point == "envs.minecart.env:MinecartEnv"
    assert gym.spec(highway.ENV_ID).entry_point == "envs.highway.env:HighwayFeaturesEnv"
    assert gym.spec(fetch_targets.ENV_ID).entry_point == "envs.fetch_targets.env:FetchTargetsEnv"


# ---------------------------------------------------------------------------- Minecart


@pytest.mark.parametrize("fuel_feature, scale", [("mo_gymnasium", 4.0), ("per_frame", 1.0)])
def test_minecart_features_by_hand(fuel_feature: str, scale: float) -> None:
    """φ3 is App. F.2's fuel cost (times the frame skip by default); ore is paid only on the
    return to base and equals the cart's content just before (observation × capacity 1.5)."""
    env: MinecartEnv = make(minecart.ENV_ID, fuel_feature=fuel_feature)
    fuel = {0: -0.055, 3: -0.030}  # MINE, ACCELERATE; every other action costs −0.005
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    sales = 0
    for _ in range(3000):
        a = int(rng.integers(6))
        prev_obs = obs
        obs, _, terminated, truncated, info = env.step(a)
        phi = info["features"]
        assert phi[2] == pytest.approx(scale * fuel.get(a, -0.005), abs=1e-6)
        if terminated:
            np.testing.assert_allclose(phi[:2], prev_obs[5:7] * 1.5, rtol=1e-5, atol=1e-6)
            sales += bool(phi[:2].sum() > 0)
            assert np.linalg.norm(env.cart_position) < 0.15  # back inside the base
        else:
            assert phi[0] == 0.0 and phi[1] == 0.0
        if terminated or truncated:
            obs, _ = env.reset()
    assert sales >= 3


def test_minecart_ore_draws_follow_the_seed() -> None:
    def rollout(seed: int) -> np.ndarray:
        env = make(minecart.ENV_ID)
        env.reset(seed=seed)
        rng = np.random.default_rng(7)
        feats = []
        for _ in range(1500):
            *_, terminated, truncated, info = env.step(int(rng.integers(6)))
            feats.append(info["features"])
            if terminated or truncated:
                env.reset()
        return np.stack(feats)

    first = rollout(5)
    np.random.seed(123)  # upstream would draw ores from this global state
    np.testing.assert_array_equal(rollout(5), first)
    assert not np.array_equal(rollout(6), first)


# ---------------------------------------------------------------------------- Highway


def test_highway_features_by_hand() -> None:
    env: HighwayFeaturesEnv = make(highway.ENV_ID)
    env.reset(seed=0)
    road, ego = env.highway.road, env.highway.vehicle
    lane_ids = sorted(index[2] for index in road.network.all_side_lanes(ego.lane_index))
    right, left = (*ego.lane_index[:2], lane_ids[-1]), (*ego.lane_index[:2], lane_ids[0])
    cfg = HighwayConfig()

    def phi(action: int, **state: Any) -> list[float]:
        vehicle = SimpleNamespace(**{"on_road": True, "crashed": False, "speed": 25.0, "heading": 0.0,
                                     "lane_index": right, **state})
        return reward_features(vehicle, road, action, cfg).tolist()

    assert phi(1) == pytest.approx([0.5, 0.5, 0.0])  # 25 m/s in [20, 30] → 0.5; rightmost lane → 0.5
    assert phi(0, lane_index=left, speed=30.0) == pytest.approx([1.0, 0.0, -1.0])  # LANE_LEFT
    assert phi(2, speed=40.0) == pytest.approx([1.0, 0.5, -1.0])  # clipped at 1; LANE_RIGHT
    assert phi(3, speed=28.0, heading=np.pi / 3) == pytest.approx([0.0, 0.5, 0.0])  # forward 14 m/s → 0
    assert phi(4, speed=28.0, heading=0.2) == pytest.approx([(28 * np.cos(0.2) - 20) / 10, 0.5, 0.0])
    assert phi(0, on_road=False) == [0.0, 0.0, 0.0]  # zeroed off-road
    assert phi(0, crashed=True) == [-10.0, -10.0, -10.0]
    add = HighwayConfig(crash_mode="add")
    crashed = SimpleNamespace(on_road=True, crashed=True, speed=25.0, heading=0.0, lane_index=right)
    assert reward_features(crashed, road, 0, add).tolist() == pytest.approx([-9.5, -9.5, -11.0])


def _force_crash(env: HighwayFeaturesEnv) -> None:
    """Park another vehicle 8 m ahead of the ego vehicle in its lane."""
    road, ego = env.highway.road, env.highway.vehicle
    lane = road.network.get_lane(ego.lane_index)
    s, _ = lane.local_coordinates(ego.position)
    other = next(v for v in road.vehicles if v is not ego)
    other.position = lane.position(s + 8.0, 0.0)
    other.heading = lane.heading_at(s + 8.0)
    other.lane_index = other.target_lane_index = ego.lane_index
    other.lane = lane
    other.speed = other.target_speed = 0.0


def test_highway_forced_crash_gives_minus_ten() -> None:
    w = [0.2, 0.3, 0.5]
    env: HighwayFeaturesEnv = make(highway.ENV_ID, w=w)
    env.reset(seed=0)
    _force_crash(env)
    _, reward, terminated, _, info = env.step(1)  # IDLE into the parked vehicle
    assert info["crashed"] and terminated
    np.testing.assert_array_equal(info["features"], [-10.0, -10.0, -10.0])
    assert reward == pytest.approx(-10.0)  # any w on the simplex


def test_highway_rollout_features_match_the_vehicle_state() -> None:
    env: HighwayFeaturesEnv = make(highway.ENV_ID)
    env.reset(seed=2)
    n_lanes = env.config.lanes_count
    for a in [1, 2, 3, 2, 0, 4, 1, 0, 3, 1]:
        _, _, terminated, truncated, info = env.step(a)
        phi = info["features"]
        if info["crashed"]:
            assert phi.tolist() == [-10.0, -10.0, -10.0]
            break
        assert phi[0] == pytest.approx(np.clip((info["speed"] - 20.0) / 10.0, 0.0, 1.0), abs=0.02)  # heading ≈ 0
        assert phi[1] == (0.5 if info["lane"] == n_lanes - 1 else 0.0)
        assert phi[2] == (-1.0 if a in (0, 2) else 0.0)
        assert not truncated


# ---------------------------------------------------------------------------- Fetch


def _block_body_pos(env: FetchTargetsEnv) -> np.ndarray:
    body = mujoco.mj_name2id(env.fetch.model, mujoco.mjtObj.mjOBJ_BODY, "object0")
    return env.fetch.data.xpos[body].copy()


def test_fetch_features_are_minus_distances_from_the_block() -> None:
    env: FetchTargetsEnv = make(fetch_targets.ENV_ID, d=4)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(100):
        obs, _, terminated, _, info = env.step(int(rng.integers(8)))
        block = _block_body_pos(env)
        expected = [-np.sqrt(((block - t) ** 2).sum()) for t in env.targets]
        np.testing.assert_allclose(info["features"], expected, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(obs[3:6], block, atol=1e-6)  # the block position is in the observation
        assert not terminated


def test_fetch_d_sets_the_feature_dimension_and_targets_are_nested() -> None:
    targets = {}
    for d in (2, 4, 6, 8):
        env: FetchTargetsEnv = make(fetch_targets.ENV_ID, d=d)
        env.reset(seed=0)
        _, _, _, _, info = env.step(0)
        assert info["features"].shape == (d,) and env.w_D.shape == (d,)
        targets[d] = env.targets
        pairwise = np.linalg.norm(targets[d][:, None] - targets[d][None], axis=-1)
        assert pairwise[np.triu_indices(d, 1)].min() >= 0.1
        assert np.all(targets[d][:, 2] >= env.fetch.height_offset - 1e-9)  # none under the table
    np.testing.assert_array_equal(targets[8][:2], targets[2])
    assert not np.array_equal(make(fetch_targets.ENV_ID, target_seed=1).targets, targets[2])

    explicit = [(1.3, 0.7, 0.43), (1.4, 0.8, 0.6), (1.2, 0.75, 0.43)]
    env = make(fetch_targets.ENV_ID, d=3, targets=explicit)
    env.reset(seed=0)
    _, _, _, _, info = env.step(6)
    np.testing.assert_allclose(info["features"], -np.linalg.norm(np.array(explicit) - info["block_pos"], axis=1), rtol=1e-6)
    for bad in ({"d": 2, "targets": explicit}, {"d": 0}, {"move_scale": 2.0}):
        with pytest.raises(ValueError):
            make(fetch_targets.ENV_ID, **bad)


def test_fetch_moves_go_the_right_way_and_a_closed_gripper_carries_the_block() -> None:
    env: FetchTargetsEnv = make(fetch_targets.ENV_ID, max_steps=100)
    start = env.fetch.initial_gripper_xpos
    obs, _ = env.reset(seed=0, options={"block_xy": (start[0] + 0.1, start[1])})
    np.testing.assert_allclose(obs[3:5], [start[0] + 0.1, start[1]], atol=1e-6)
    for action, (axis, sign) in enumerate([(0, 1), (0, -1), (1, 1), (1, -1), (2, 1), (2, -1)]):
        before = obs[:3].copy()
        obs, *_ = env.step(action)
        moved = obs[:3] - before
        assert sign * moved[axis] > 0.01 and np.abs(np.delete(moved, axis)).max() < 0.005, fetch_targets.ACTION_NAMES[action]

    def run(action: int, n: int) -> np.ndarray:
        nonlocal obs
        for _ in range(n):
            obs, *_ = env.step(action)
        return obs

    run(0, 3)  # +x over the block
    run(6, 1)  # open
    run(5, 4)  # down around it
    run(7, 2)  # close
    table_z = env.fetch.height_offset
    lifted = run(4, 4)  # up: the sticky close command keeps the grip
    assert lifted[5] > table_z + 0.05
    carried = run(2, 2)  # +y while holding
    assert carried[4] > start[1] + 0.04 and carried[5] > table_z + 0.05
    _, _, _, truncated, info = env.step(7)
    np.testing.assert_allclose(info["block_pos"], _block_body_pos(env))


def test_fetch_truncates_after_max_steps() -> None:
    env = make(fetch_targets.ENV_ID, max_steps=5)
    env.reset(seed=0)
    flags = [env.step(1)[2:4] for _ in range(5)]
    assert flags == [(False, False)] * 4 + [(False, True)]


def test_mjcompat_matches_the_model_layout() -> None:
    """The shim's joint widths tile qpos and qvel exactly, and get/set address the right entries."""
    mjcompat.apply()
    mjcompat.apply()  # idempotent
    assert mjcompat.is_applied()
    env: FetchTargetsEnv = make(fetch_targets.ENV_ID)
    model, data = env.fetch.model, env.fetch.data
    names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j) for j in range(model.njnt)]
    assert sum(len(mjcompat.get_joint_qpos(model, data, n)) for n in names) == model.nq
    assert sum(len(mjcompat.get_joint_qvel(model, data, n)) for n in names) == model.nv
    for j, name in enumerate(names):
        qpos = mjcompat.get_joint_qpos(model, data, name)
        np.testing.assert_array_equal(qpos, data.qpos[model.jnt_qposadr[j]: model.jnt_qposadr[j] + len(qpos)])
        mjcompat.set_joint_qvel(model, data, name, np.arange(len(mjcompat.get_joint_qvel(model, data, name))) + 1.0)
        assert data.qvel[model.jnt_dofadr[j]] == 1.0
    block = mjcompat.get_joint_qpos(model, data, "object0:joint")
    assert block.shape == (7,)  # a free joint: position + quaternion
    with pytest.raises(AssertionError):
        mjcompat.set_joint_qpos(model, data, "object0:joint", [0.0, 0.0])


# ---------------------------------------------------------------------------- speed report


def test_speed_report() -> None:
    """Random-action steps per second, resets included (printed; no assertion on time)."""
    for env_id, n in ((minecart.ENV_ID, 5000), (fetch_targets.ENV_ID, 500), (highway.ENV_ID, 40)):
        env = make(env_id)
        env.reset(seed=0)
        started = time.perf_counter()
        for _ in range(n):
            *_, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        rate = n / (time.perf_counter() - started)
        print(f"\n{env_id}: {rate:,.0f} steps/s (random actions, resets included)")
        assert rate > 0
