"""Mine World (thesis T-AppC §C.1, Eq. C.1): dynamics, reward by hand, 1-NN action mapping, solvability."""

from __future__ import annotations

from collections import deque

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pydantic import ValidationError

import envs  # noqa: F401
from actlab.registry import EnvCreator, get_env
from envs.mineworld import (
    BREAK,
    EMPTY,
    ENV_ID,
    N_NAVIGATION,
    MineWorldConfig,
    MineWorldEnv,
    oracle_action,
    register,
    shortest_plan,
    tools_to_break,
    transformation_graph,
)

RIGHT, DOWN, LEFT, UP = 0, 1, 2, 3


def act(env: MineWorldEnv, index: int) -> tuple[np.ndarray, float, bool, bool, dict]:
    """Execute real action ``index`` by sending its own representation as the proto-action."""
    out = env.step(env.action_embeddings[index])
    assert out[4]["action_index"] == index
    return out


def tool(mine_type: int) -> int:
    return N_NAVIGATION + mine_type


@pytest.mark.filterwarnings("ignore:.*is different from the unwrapped version")
def test_check_env_unwrapped_and_through_gym_make() -> None:
    check_env(MineWorldEnv(), skip_render_check=True)
    check_env(gym.make(ENV_ID, render_mode="ansi").unwrapped)
    env = gym.make(ENV_ID)
    check_env(env.unwrapped, skip_render_check=True)
    check_env(env, skip_render_check=True)
    assert isinstance(env.unwrapped, MineWorldEnv)
    assert env.observation_space.shape == (8 + 50,)
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    assert env.unwrapped.num_actions == 54
    assert env.unwrapped.action_embeddings.shape == (54, 4)
    assert env.unwrapped.action_embeddings.dtype == np.float32


def test_config_forbids_unknown_keys_and_registration_is_idempotent() -> None:
    with pytest.raises(ValidationError):
        gym.make(ENV_ID, mine_densty=0.3)
    with pytest.raises(ValidationError):
        MineWorldConfig(grid_size=2)
    entry = get_env(ENV_ID)
    register()
    register()
    assert get_env(ENV_ID) is entry and entry.config_model is MineWorldConfig and entry.success_key == "success"
    env = EnvCreator(ENV_ID)({"grid_size": 6, "n_mine_types": 7})
    assert env.unwrapped.num_actions == 11 and env.observation_space.shape == (15,)


def test_transformation_graph_is_one_to_one_chains_that_all_break() -> None:
    for seed in range(5):
        successor = transformation_graph(50, 3, seed)
        targets = successor[successor != BREAK]
        assert len(np.unique(targets)) == len(targets)  # each type is reached from at most one type
        depth = tools_to_break(successor)
        assert depth.min() == 1 and depth.max() <= 3
        for k in range(50):  # naive walk: depth = number of tools until BREAK
            m, n = k, 0
            while m != BREAK:
                m, n = int(successor[m]), n + 1
            assert n == depth[k]
    assert (transformation_graph(20, 1, 0) == BREAK).all()
    np.testing.assert_array_equal(transformation_graph(50, 3, 4), transformation_graph(50, 3, 4))


def test_action_embeddings_follow_the_4d_representation_and_are_fixed() -> None:
    env = MineWorldEnv()
    emb = env.action_embeddings
    K = env.n_types
    assert np.all(emb >= -1) and np.all(emb <= 1)
    assert len(np.unique(emb, axis=0)) == len(emb)
    # navigation d: [0, d/3, 0, 0] in [0, 1] -> 2x - 1
    np.testing.assert_allclose(emb[DOWN], [-1, 2 / 3 - 1, -1, -1], atol=1e-6)
    np.testing.assert_allclose(emb[UP], [-1, 1, -1, -1], atol=1e-6)
    for k in (0, 17, K - 1):
        nxt = env.successor[k]
        outcome = 1.0 if nxt == BREAK else nxt / K
        np.testing.assert_allclose(emb[tool(k)], 2 * np.array([1, 0, k / (K - 1), outcome]) - 1, atol=1e-6)
    before = emb.copy()
    env.reset(seed=123)
    np.testing.assert_array_equal(MineWorldEnv().action_embeddings, before)
    np.testing.assert_array_equal(env.action_embeddings, before)
    extra = MineWorldEnv(extra_action_dim=5, representation_seed=3)
    assert extra.action_space.shape == (9,) and extra.action_embeddings.shape == (54, 9)
    np.testing.assert_array_equal(extra.action_embeddings[:, :4], before)
    np.testing.assert_array_equal(extra.action_embeddings, MineWorldEnv(extra_action_dim=5, representation_seed=3).action_embeddings)


@pytest.mark.parametrize("extra_action_dim", [0, 5])
def test_one_nn_executes_the_brute_force_nearest_action(extra_action_dim: int) -> None:
    env = MineWorldEnv(extra_action_dim=extra_action_dim)
    emb = env.action_embeddings.astype(np.float64)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    checked = 0
    for proto in rng.uniform(-1.3, 1.3, size=(2000, emb.shape[1])).astype(np.float32):
        dist = np.sqrt(((emb - proto.astype(np.float64)) ** 2).sum(axis=1))
        order = np.argsort(dist)
        _, _, terminated, truncated, info = env.step(proto)
        if dist[order[1]] - dist[order[0]] > 1e-5:  # skip float32 near-ties
            assert info["action_index"] == order[0]
            checked += 1
        if terminated or truncated:
            env.reset()
    assert checked > 1900
    for index in range(env.num_actions):
        assert env.nearest_action(env.action_embeddings[index]) == index
    with pytest.raises(ValueError):
        env.step(np.full(emb.shape[1], np.nan, dtype=np.float32))


def test_one_nn_ties_go_to_the_lowest_index() -> None:
    """[-1, 0, -1, -1] is exactly halfway between "down" (-1/3) and "left" (+1/3)."""
    env = MineWorldEnv()
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([-1, 0, -1, -1], dtype=np.float32))
    assert info["action_index"] == DOWN and env.agent[2] == DOWN


def _two_step_mine(env: MineWorldEnv) -> tuple[int, int]:
    """A mine type that one tool transforms and a second tool breaks."""
    for m in range(env.n_types):
        nxt = int(env.successor[m])
        if nxt != BREAK and env.successor[nxt] == BREAK:
            return m, nxt
    raise AssertionError("no chain of length 2 in this graph")


@pytest.mark.parametrize(
    "constants",
    [{}, {"r_goal": 5.0, "lambda_goal": 0.5, "r_step": 0.3, "r_tool": 0.7, "r_bonus": 2.0, "max_steps": 20}],
)
def test_reward_eq_c1_by_hand_on_a_hand_made_layout(constants: dict[str, float]) -> None:
    env = MineWorldEnv(grid_size=4, n_mine_types=6, max_chain_length=2, **constants)
    c = env.config
    m, m2 = _two_step_mine(env)
    other = next(k for k in range(env.n_types) if k not in (m, m2))
    grid = np.full((4, 4), EMPTY, dtype=np.int16)
    grid[0, 1] = m  # right of the start (x=1, y=0)
    grid[2, 0] = other  # (x=0, y=2): off the path, only blocks
    obs, _ = env.reset(seed=0, options={"grid": grid})
    K = env.n_types
    # start (0,0) facing right: mine in front, path free only downwards (left/up are the border)
    np.testing.assert_array_equal(obs[:3], [0, 0, 0])
    np.testing.assert_array_equal(obs[3:7], [0, 1, 0, 0])
    assert obs[7 + m] == 1 and obs[7:].sum() == 1

    steps = [  # (action, expected reward, expected (x, y, dir) after)
        (RIGHT, 0.0, (0, 0, RIGHT)),  # into the mine: only turns (already facing it)
        (tool(other), 0.0, (0, 0, RIGHT)),  # wrong tool: nothing
        (tool(m), c.r_tool, (0, 0, RIGHT)),  # correct tool: m -> m2
        (tool(m2), c.r_tool + c.r_bonus, (0, 0, RIGHT)),  # correct tool that breaks it
        (RIGHT, c.r_step, (1, 0, RIGHT)),  # moves: Manhattan 6 -> 5
        (UP, 0.0, (1, 0, UP)),  # into the border: only turns
        (LEFT, -c.r_step, (0, 0, LEFT)),  # away from the goal: 5 -> 6
        (DOWN, c.r_step, (0, 1, DOWN)),
        (DOWN, 0.0, (0, 1, DOWN)),  # into the `other` mine: stays
        (RIGHT, c.r_step, (1, 1, RIGHT)),
        (RIGHT, c.r_step, (2, 1, RIGHT)),
        (RIGHT, c.r_step, (3, 1, RIGHT)),
        (DOWN, c.r_step, (3, 2, DOWN)),
    ]
    for n, (action, reward, agent) in enumerate(steps, start=1):
        obs, r, terminated, truncated, info = act(env, action)
        assert r == pytest.approx(reward), (n, action)
        assert env.agent == agent and not terminated and not truncated
    assert env.grid[0, 1] == EMPTY and env.grid[2, 0] == other
    # (3,2) facing down: the goal is in front (last one-hot dim), path free down and up
    np.testing.assert_allclose(obs[:3], [1, 2 / 3, 1 / 3], atol=1e-6)
    np.testing.assert_array_equal(obs[3:7], [0, 1, 1, 1])
    assert obs[7 + K] == 1 and obs[7:].sum() == 1
    obs, r, terminated, truncated, info = act(env, DOWN)
    n_steps = len(steps) + 1
    expected = c.r_goal * (1 - c.lambda_goal * n_steps / c.max_steps) + c.r_step
    assert r == pytest.approx(expected) and terminated and not truncated and info["success"]
    with pytest.raises(RuntimeError):
        act(env, DOWN)


def test_a_tool_applies_only_to_its_mine_type() -> None:
    env = MineWorldEnv(grid_size=5, n_mine_types=8)
    for m in range(env.n_types):
        grid = np.full((5, 5), EMPTY, dtype=np.int16)
        grid[0, 1] = m
        env.reset(options={"grid": grid})
        for k in range(env.n_types):
            if k != m:
                _, r, *_, info = act(env, tool(k))
                assert r == 0.0 and not info["correct_tool"] and env.grid[0, 1] == m
        _, r, *_, info = act(env, tool(m))
        assert info["correct_tool"] and r > 0
        assert env.grid[0, 1] == (EMPTY if env.successor[m] == BREAK else env.successor[m])
        # a correct-type tool facing an empty cell or the border does nothing
        act(env, DOWN)
        _, r, *_, info = act(env, tool(m))
        assert r == 0.0 and not info["correct_tool"]


def test_layout_changes_with_the_reset_seed_but_start_and_goal_stay() -> None:
    env = gym.make(ENV_ID)
    grids = []
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        grid = env.unwrapped.grid.copy()
        grids.append(grid.tobytes())
        assert env.unwrapped.agent == (0, 0, 0) and np.all(obs[:3] == 0)
        assert grid[0, 0] == EMPTY and grid[9, 9] == EMPTY and env.unwrapped.goal == (9, 9)
        assert 0.35 < (grid != EMPTY).mean() < 0.65
    assert len(set(grids)) == 20
    env.reset(seed=3)
    again = env.unwrapped.grid.tobytes()
    env.reset(seed=4)
    env.reset(seed=3)
    assert env.unwrapped.grid.tobytes() == again == grids[3]


def _free_path_exists(grid: np.ndarray) -> bool:
    n = grid.shape[0]
    seen, queue = {(0, 0)}, deque([(0, 0)])
    while queue:
        x, y = queue.popleft()
        if (x, y) == (n - 1, n - 1):
            return True
        for dx, dy in ((1, 0), (0, 1), (-1, 0), (0, -1)):
            a, b = x + dx, y + dy
            if 0 <= a < n and 0 <= b < n and (a, b) not in seen and grid[b, a] == EMPTY:
                seen.add((a, b))
                queue.append((a, b))
    return False


def test_oracle_clears_mines_and_reaches_the_goal_on_random_layouts() -> None:
    """Solvable within the horizon on every layout, and tools are needed on most."""
    env = MineWorldEnv()
    needs_tools, lengths = 0, []
    for seed in range(60):
        env.reset(seed=seed)
        needs_tools += not _free_path_exists(env.grid)
        plan_length = len(shortest_plan(env.grid, env.agent, env.goal, env.successor))
        total, tools_used, broken = 0.0, 0, 0
        for n in range(1, env.config.max_steps + 1):
            action = oracle_action(env)
            _, r, terminated, truncated, info = act(env, action)
            total += r
            tools_used += info["correct_tool"]
            broken += info["mine_broken"]
            assert action < N_NAVIGATION or info["correct_tool"]  # the oracle never wastes a tool
            if terminated or truncated:
                break
        assert terminated and info["success"] and n == plan_length
        lengths.append(n)
        # Eq. C.1 summed over the episode: the shaping telescopes to the start distance (18)
        c = env.config
        expected = c.r_goal * (1 - c.lambda_goal * n / c.max_steps) + c.r_step * 18 + c.r_tool * tools_used + c.r_bonus * broken
        assert total == pytest.approx(expected)
    assert needs_tools >= 50  # ~97% of layouts at the default density
    assert max(lengths) < 60


def test_random_rollout_through_gym_make() -> None:
    env = gym.make(ENV_ID)
    env.action_space.seed(0)
    obs, _ = env.reset(seed=0)
    for episode in range(3):
        for n in range(1, 101):
            obs, r, terminated, truncated, info = env.step(env.action_space.sample())
            assert env.observation_space.contains(obs) and 0 <= info["action_index"] < 54
            if terminated or truncated:
                break
        assert terminated or (truncated and n == 100)
        obs, _ = env.reset()
