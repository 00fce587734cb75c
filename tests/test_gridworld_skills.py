"""Tests of ``actlab/GridWorldSkills-v0`` (thesis Ch.2, App. A.1)."""

from __future__ import annotations

import hashlib
import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from actlab import registry
from envs.common.action_set import ACTION_MASK_KEY, ACTION_REPRS_KEY, STATE_KEY
from envs.gridworld_skills import (
    AGENT,
    EMPTY,
    ENV_ENTRY,
    ENV_ID,
    GOAL,
    LAVA,
    N_CELL_CODES,
    SUBGOAL,
    GridWorldSkillsConfig,
    GridWorldSkillsEnv,
    action_observations,
    load_action_observations,
    load_action_observations_one_hot,
    representation_table,
    skill_id,
    skill_moves,
    skill_name,
    skill_split,
    split_pool,
    to_one_hot,
)
from envs.gridworld_skills.action_observations import cache_path, generate_action_observations

REPO_ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- helpers
def make_env(**kwargs: object) -> GridWorldSkillsEnv:
    return GridWorldSkillsEnv(**kwargs)


def run_skills(
    env: GridWorldSkillsEnv, skills: list[str], wall: tuple[str, int], opening: int, seed: int = 0
) -> list[tuple[float, bool, bool, dict]]:
    """Force the layout and put ``skills`` in slots 0..k-1, then execute them in order."""
    unique = list(dict.fromkeys(skills))
    env.reset(seed=seed, options={"wall": wall, "opening": opening, "skill_ids": [skill_id(s) for s in unique]})
    out = []
    for s in skills:
        _, reward, terminated, truncated, info = env.step(unique.index(s))
        out.append((reward, terminated, truncated, info))
    return out


def eq_a1(subgoal: bool, goal: bool, n_total: int, lam_sub: float = 0.1, lam_goal: float = 0.9, n_max: int = 50) -> float:
    """Eq. A.1 written out independently of the env."""
    return lam_sub * float(subgoal) + (1.0 - lam_goal * n_total / n_max) * float(goal)


# ----------------------------------------------------------------------------- skills
def test_skill_index_order() -> None:
    moves = skill_moves()
    assert moves.shape == (1024, 5)
    assert skill_name(0) == "UUUUU" and skill_name(1) == "UUUUD" and skill_name(3) == "UUUUR"
    assert skill_name(4) == "UUUDU" and skill_name(1023) == "RRRRR"
    assert skill_id("DLRUU") == 1 * 256 + 2 * 64 + 3 * 16
    # Round trip and uniqueness over all ids.
    names = [skill_name(i) for i in range(1024)]
    assert len(set(names)) == 1024
    assert all(skill_id(n) == i for i, n in enumerate(names))
    assert all(skill_id(list(moves[i])) == i for i in (0, 77, 1023))
    with pytest.raises(ValueError):
        skill_id("UUUU")
    with pytest.raises(ValueError):
        skill_id("UUUUX")


# ----------------------------------------------------------------------------- split
def test_split_disjoint_and_covering() -> None:
    split = skill_split(0)
    assert {k: len(v) for k, v in split.items()} == {"train": 512, "validation": 256, "test": 256}
    all_ids = np.concatenate(list(split.values()))
    assert np.array_equal(np.sort(all_ids), np.arange(1024))  # disjoint + covering
    for ids in split.values():
        assert np.all(np.diff(ids) > 0)
    # Pinned: a silent change of the split would invalidate HVAEs trained on "train".
    assert split["train"][:6].tolist() == [2, 5, 8, 12, 13, 15]
    assert split["validation"][:6].tolist() == [0, 6, 10, 14, 17, 32]
    assert split["test"][:6].tolist() == [1, 3, 4, 7, 9, 11]
    other = skill_split(1)
    assert not np.array_equal(other["train"], split["train"])
    assert np.array_equal(split_pool("test", 1), other["test"])
    with pytest.raises(ValueError, match="unknown split"):
        split_pool("dev")


def _split_digest(seed: int) -> str:
    split = skill_split(seed)
    return hashlib.sha256(b"".join(split[k].astype(np.int64).tobytes() for k in ("train", "validation", "test"))).hexdigest()


def test_split_deterministic_across_processes() -> None:
    code = (
        "import hashlib, numpy as np\n"
        "from envs.gridworld_skills import skill_split\n"
        "for seed in (0, 5):\n"
        "    s = skill_split(seed)\n"
        "    print(hashlib.sha256(b''.join(s[k].astype(np.int64).tobytes() for k in ('train', 'validation', 'test'))).hexdigest())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [_split_digest(0), _split_digest(5)]
    assert out[0] != out[1]


# ----------------------------------------------------------------------------- API / registration
@pytest.mark.filterwarnings("ignore:.*infinity.*")
@pytest.mark.parametrize("split", ["train", "validation", "test"])
@pytest.mark.parametrize("grid_encoding", ["ids", "one_hot"])
def test_check_env(split: str, grid_encoding: str) -> None:
    check_env(gym.make(ENV_ID, split=split, grid_encoding=grid_encoding).unwrapped)


@pytest.mark.filterwarnings("ignore:.*infinity.*")
@pytest.mark.parametrize("grid_encoding", ["ids", "one_hot"])
def test_check_env_whole_pool(grid_encoding: str) -> None:
    # m=None on "train" fills all 512 slots, so check_env's random actions are all valid.
    check_env(gym.make(ENV_ID, m=None, grid_encoding=grid_encoding).unwrapped)


def test_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = gym.spec(ENV_ID)
    assert spec.max_episode_steps is None
    env = gym.make(ENV_ID, **GridWorldSkillsConfig().model_dump())
    assert not any(isinstance(w, gym.wrappers.TimeLimit) for w in _wrappers(env))
    assert isinstance(env.unwrapped, GridWorldSkillsEnv)
    # Importing twice is harmless.
    importlib.reload(envs)
    # Look the entry up through the public registry, with only the env plugins loaded.
    monkeypatch.setattr(registry, "PLUGIN_PACKAGES", ("envs",))
    monkeypatch.setattr(registry, "_loaded", False)
    entry = registry.get_env(ENV_ID)
    assert entry is ENV_ENTRY
    assert entry.config_model is GridWorldSkillsConfig
    assert entry.eval_sets == {"train": {"split": "train"}, "validation": {"split": "validation"}, "test": {"split": "test"}}
    assert entry.select_on == "validation" and entry.success_key == "success"
    for overrides in entry.eval_sets.values():
        assert gym.make(ENV_ID, **{**GridWorldSkillsConfig().model_dump(), **overrides}).unwrapped.config.split == overrides["split"]


def _wrappers(env: gym.Env) -> list[gym.Env]:
    out = []
    while isinstance(env, gym.Wrapper):
        out.append(env)
        env = env.env
    return out


def test_default_observation_shapes() -> None:
    env = make_env()
    obs, info = env.reset(seed=0)
    assert obs[STATE_KEY].shape == (81 * N_CELL_CODES,) and obs[STATE_KEY].dtype == np.float32
    assert obs[ACTION_REPRS_KEY].shape == (50, 10) and obs[ACTION_REPRS_KEY].dtype == np.float32
    assert obs[ACTION_MASK_KEY].shape == (50,) and obs[ACTION_MASK_KEY].dtype == np.float32
    assert env.action_space == gym.spaces.Discrete(50)
    assert info == {"success": False, "moves": 0, "hit_lava": False, "subgoal_passed": False}
    ids_env = make_env(grid_encoding="ids")
    assert ids_env.observation_space[STATE_KEY].shape == (81,)


# ----------------------------------------------------------------------------- config errors
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"no_such_key": 1}, "no_such_key"),
        ({"split": "test", "m": 257}, "m=257 exceeds the 256 skills of the 'test' split"),
        ({"m": 513}, "m=513 exceeds the 512 skills of the 'train' split"),
        ({"m": 0}, "greater than or equal to 1"),
        ({"split": "dev"}, "split"),
        ({"grid_encoding": "rgb"}, "grid_encoding"),
        ({"representation": "nope"}, "unknown representation 'nope'"),
        ({"wall_index_min": 5, "wall_index_max": 3}, "wall_index_min"),
        ({"wall_index_max": 8}, "wall_index_max"),
    ],
)
def test_invalid_config(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_env(**kwargs)
    with pytest.raises(ValueError):
        gym.make(ENV_ID, **kwargs)


def test_m_equal_to_pool_is_valid() -> None:
    env = make_env(split="validation", m=256)
    env.reset(seed=0)
    assert sorted(env.available_skill_ids.tolist()) == split_pool("validation").tolist()


# ----------------------------------------------------------------------------- layout
def test_layout_and_cell_codes() -> None:
    env = make_env(grid_encoding="ids")
    obs, _ = env.reset(seed=0, options={"wall": ("row", 4), "opening": 3})
    grid = obs[STATE_KEY].reshape(9, 9)
    expected = np.full((9, 9), EMPTY)
    expected[4, :] = LAVA
    expected[4, 3] = SUBGOAL
    expected[8, 8] = GOAL
    expected[0, 0] = AGENT
    assert np.array_equal(grid, expected)
    obs, _ = env.reset(seed=0, options={"wall": ("col", 2), "opening": 8})
    grid = obs[STATE_KEY].reshape(9, 9)
    assert np.all(grid[:8, 2] == LAVA) and grid[8, 2] == SUBGOAL and np.sum(grid == LAVA) == 8


def test_one_hot_matches_ids() -> None:
    ids_env, oh_env = make_env(grid_encoding="ids"), make_env(grid_encoding="one_hot")
    for seed in range(5):
        ids_obs, _ = ids_env.reset(seed=seed)
        oh_obs, _ = oh_env.reset(seed=seed)
        for _ in range(3):
            oh = oh_obs[STATE_KEY].reshape(81, N_CELL_CODES)
            assert np.all(oh.sum(axis=1) == 1.0)
            assert np.array_equal(oh.argmax(axis=1), ids_obs[STATE_KEY].astype(int))
            ids_obs, _, term, trunc, _ = ids_env.step(seed)
            oh_obs, _, term2, trunc2, _ = oh_env.step(seed)
            assert (term, trunc) == (term2, trunc2)
            if term or trunc:
                break


def test_random_layouts_respect_config() -> None:
    env = make_env(wall_index_min=3, wall_index_max=5)
    seen = set()
    for seed in range(300):
        env.reset(seed=seed)
        orientation, index = env.wall
        assert orientation in ("row", "col") and 3 <= index <= 5 and 0 <= env.opening < 9
        seen.add((orientation, index))
    assert seen == {(o, i) for o in ("row", "col") for i in (3, 4, 5)}


def test_reset_seed_reproducible() -> None:
    env_a, env_b = make_env(), make_env()
    obs_a, _ = env_a.reset(seed=42)
    obs_b, _ = env_b.reset(seed=42)
    assert env_a.wall == env_b.wall and env_a.opening == env_b.opening
    assert np.array_equal(env_a.available_skill_ids, env_b.available_skill_ids)
    for key in obs_a:
        assert np.array_equal(obs_a[key], obs_b[key])
    env_a.reset(seed=43)
    assert not np.array_equal(env_a.available_skill_ids, env_b.available_skill_ids)
    # Forcing the layout does not change the sampled set for the same seed.
    env_a.reset(seed=42, options={"wall": ("col", 6), "opening": 0})
    assert np.array_equal(env_a.available_skill_ids, env_b.available_skill_ids)


# ----------------------------------------------------------------------------- reward (Eq. A.1)
def test_reward_subgoal_once_and_goal_mid_skill() -> None:
    # Wall = row 4, opening (subgoal) at (4, 3).
    env = make_env(grid_encoding="ids")
    skills = ["RRRDD", "DDDDD", "UUUUU", "DDDDD", "RRRRR", "DDDDD"]
    steps = run_skills(env, skills, wall=("row", 4), opening=3)
    rewards = [s[0] for s in steps]
    # RRRDD: (0,0)->(2,3), nothing.                              moves 5
    # DDDDD: (3,3),(4,3)=subgoal,(5,3),(6,3),(7,3): +λ_sub.      moves 10
    # UUUUU: back up through the subgoal to (2,3): no 2nd bonus. moves 15
    # DDDDD: through it again to (7,3): no bonus.                moves 20
    # RRRRR: (7,4)..(7,8).                                       moves 25
    # DDDDD: (8,8)=goal on the 1st move; the other 4 not run.    N_total = 26
    expected = [0.0, eq_a1(True, False, 0), 0.0, 0.0, 0.0, eq_a1(False, True, 26)]
    assert rewards == pytest.approx(expected, abs=1e-12)
    assert expected[-1] == pytest.approx(1 - 0.9 * 26 / 50)
    assert [s[1] for s in steps] == [False] * 5 + [True]
    assert not any(s[2] for s in steps)
    assert [s[3]["moves"] for s in steps] == [5, 10, 15, 20, 25, 26]
    assert [s[3]["success"] for s in steps] == [False] * 5 + [True]
    assert [s[3]["subgoal_passed"] for s in steps] == [False] + [True] * 5
    assert env.agent_position == (8, 8)
    with pytest.raises(RuntimeError):
        env.step(0)


def test_reward_boundary_noop_and_subgoal_goal_same_skill() -> None:
    # Wall = column 6, opening at its bottom cell (8, 6).
    env = make_env(grid_encoding="ids")
    steps = run_skills(env, ["UUUUU", "LLLLL", "DDDDD", "DDDDD", "RRRRR", "RRRRR"], wall=("col", 6), opening=8)
    # UUUUU, LLLLL at (0,0): 10 boundary no-ops, still counted as executed moves.
    # DDDDD: (5,0), moves 15; DDDDD: (8,0) after 3 moves + 2 no-ops, moves 20;
    # RRRRR: (8,5), moves 25; RRRRR: (8,6)=subgoal at move 26, (8,7), (8,8)=goal at move 28
    # (the 2 remaining moves are not run): both terms of Eq. A.1 in one step.
    rewards = [s[0] for s in steps]
    assert rewards == pytest.approx([0, 0, 0, 0, 0, eq_a1(True, True, 28)], abs=1e-12)
    assert rewards[-1] == pytest.approx(0.1 + 1 - 0.9 * 28 / 50)
    assert [s[3]["moves"] for s in steps] == [5, 10, 15, 20, 25, 28]
    assert steps[1][3]["moves"] == 10 and steps[-1][3]["success"] and steps[-1][1]


def test_reward_lava_termination() -> None:
    env = make_env(grid_encoding="ids")
    (reward, terminated, truncated, info), = run_skills(env, ["DDDDD"], wall=("row", 4), opening=3)
    # (1,0),(2,0),(3,0),(4,0)=lava: terminated on the 4th move, no reward.
    assert (reward, terminated, truncated) == (0.0, True, False)
    assert info == {"success": False, "moves": 4, "hit_lava": True, "subgoal_passed": False}
    assert env.agent_position == (4, 0)
    # Subgoal then lava inside one skill: the subgoal bonus of that skill is still paid.
    steps = run_skills(env, ["RRRDD", "DDRDD"], wall=("row", 4), opening=3)
    # RRRDD -> (2,3); DDRDD: (3,3),(4,3)=subgoal,(4,4)=lava.
    assert steps[1][0] == pytest.approx(eq_a1(True, False, 0))
    assert steps[1][1] and steps[1][3]["hit_lava"] and steps[1][3]["moves"] == 8
    assert not steps[1][3]["success"]


def test_reward_constants_configurable() -> None:
    env = make_env(lambda_subgoal=0.5, lambda_goal=0.5, n_max=100)
    steps = run_skills(env, ["UUUUU", "LLLLL", "DDDDD", "DDDDD", "RRRRR", "RRRRR"], wall=("col", 6), opening=8)
    assert steps[-1][0] == pytest.approx(eq_a1(True, True, 28, lam_sub=0.5, lam_goal=0.5, n_max=100))
    assert steps[-1][0] == pytest.approx(0.5 + 1 - 0.5 * 28 / 100)


def test_truncation_after_max_skills() -> None:
    env = make_env()
    steps = run_skills(env, ["UUUUU"] * 10, wall=("row", 4), opening=3)
    assert [s[2] for s in steps] == [False] * 9 + [True]
    assert not any(s[1] for s in steps) and all(s[0] == 0.0 for s in steps)
    assert steps[-1][3]["success"] is False and steps[-1][3]["moves"] == 50
    env = make_env(max_skills=3)
    steps = run_skills(env, ["LLLLL"] * 3, wall=("row", 4), opening=3)
    assert [s[2] for s in steps] == [False, False, True]


def test_success_flag_on_every_step() -> None:
    env = make_env()
    rng = np.random.default_rng(0)
    n_success = 0
    for seed in range(50):
        env.reset(seed=seed)
        done = False
        while not done:
            _, reward, terminated, truncated, info = env.step(int(rng.integers(50)))
            assert isinstance(info["success"], bool)
            assert info["success"] == (terminated and not info["hit_lava"])
            if info["success"]:
                n_success += 1
                assert reward >= 1 - 0.9 * info["moves"] / 50 - 1e-9
            done = terminated or truncated
    assert n_success < 50  # random skills rarely succeed; the flag is not constantly True


# ----------------------------------------------------------------------------- action set
@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_set_sampling(split: str) -> None:
    env = make_env(split=split, m=50, grid_encoding="ids")
    pool = set(split_pool(split).tolist())
    table = representation_table("hand")
    seen: set[int] = set()
    for seed in range(120):
        obs, _ = env.reset(seed=seed)
        ids = env.available_skill_ids
        assert ids.shape == (50,) and len(set(ids.tolist())) == 50 and set(ids.tolist()) <= pool
        assert np.array_equal(obs[ACTION_MASK_KEY], np.ones(50, dtype=np.float32))
        assert np.array_equal(obs[ACTION_REPRS_KEY], table[ids])
        seen |= set(ids.tolist())
        # The set is kept for the whole episode.
        obs2, *_ = env.step(0)
        assert np.array_equal(env.available_skill_ids, ids) and np.array_equal(obs2[ACTION_REPRS_KEY], table[ids])
    assert seen == pool  # 6000 draws: every skill of the pool shows up


def test_whole_pool_padding_and_mask() -> None:
    env = make_env(split="validation", m=None)
    assert env.max_actions == 512 and env.action_space == gym.spaces.Discrete(512)
    obs, _ = env.reset(seed=3)
    ids = env.available_skill_ids
    assert sorted(ids[:256].tolist()) == split_pool("validation").tolist()
    assert not np.all(np.diff(ids[:256]) > 0)  # shuffled, not in sorted pool order
    assert np.all(ids[256:] == -1)
    mask = obs[ACTION_MASK_KEY]
    assert np.array_equal(mask, np.r_[np.ones(256), np.zeros(256)].astype(np.float32))
    assert np.array_equal(obs[ACTION_REPRS_KEY][:256], representation_table("hand")[ids[:256]])
    assert np.all(obs[ACTION_REPRS_KEY][256:] == 0.0)
    with pytest.raises(ValueError, match="not an available slot"):
        env.step(300)
    env.step(255)  # the last real slot is fine
    train_env = make_env(split="train", m=None)
    train_env.reset(seed=0)
    assert sorted(train_env.available_skill_ids.tolist()) == split_pool("train").tolist()


def test_forced_skill_ids_padding() -> None:
    env = make_env(m=10)
    obs, _ = env.reset(seed=0, options={"skill_ids": [skill_id("RRRRR"), skill_id("DDDDD")]})
    assert env.available_skill_ids.tolist() == [1023, skill_id("DDDDD")] + [-1] * 8
    assert obs[ACTION_MASK_KEY].tolist() == [1.0, 1.0] + [0.0] * 8
    assert np.all(obs[ACTION_REPRS_KEY][2:] == 0.0)
    with pytest.raises(ValueError):
        env.reset(options={"skill_ids": [1, 1]})
    with pytest.raises(ValueError):
        env.reset(options={"wall": ("row", 0)})
    with pytest.raises(ValueError):
        env.reset(options={"bogus": 1})


# ----------------------------------------------------------------------------- representations
def test_representation_tables() -> None:
    hand, moves5 = representation_table("hand"), representation_table("moves5")
    assert hand.shape == (1024, 10) and moves5.shape == (1024, 5)
    assert hand.dtype == moves5.dtype == np.float32
    # U=(0,-1), R=(1,0), D=(0,1), L=(-1,0) as (dx, dy) per move.
    assert hand[skill_id("URDLL")].tolist() == [0, -1, 1, 0, 0, 1, -1, 0, -1, 0]
    assert moves5[skill_id("URDLL")] == pytest.approx([-1, 1, -1 / 3, 1 / 3, 1 / 3])
    assert len({tuple(r) for r in hand}) == 1024 and len({tuple(r) for r in moves5}) == 1024
    env = make_env(representation="moves5")
    obs, _ = env.reset(seed=1)
    assert np.array_equal(obs[ACTION_REPRS_KEY], moves5[env.available_skill_ids])


def test_representation_table_path(tmp_path: Path) -> None:
    table = np.random.default_rng(0).normal(size=(1024, 16)).astype(np.float32)
    path = tmp_path / "hvae.npy"
    np.save(path, table)
    env = gym.make(ENV_ID, representation_table_path=str(path)).unwrapped
    assert env.observation_space[ACTION_REPRS_KEY].shape == (50, 16)
    obs, _ = env.reset(seed=0)
    assert np.array_equal(obs[ACTION_REPRS_KEY], table[env.available_skill_ids])
    np.save(tmp_path / "bad.npy", table[:100])
    with pytest.raises(ValueError, match=r"\(1024, d\)"):
        make_env(representation_table_path=str(tmp_path / "bad.npy"))
    with pytest.raises(FileNotFoundError):
        make_env(representation_table_path=str(tmp_path / "missing.npy"))


# ----------------------------------------------------------------------------- action observations
def test_action_observations_content() -> None:
    obs = generate_action_observations(n_obs=64, grid_size=80, seed=0)
    assert obs.shape == (1024, 64, 6, 2)
    assert obs.min() >= 0 and obs.max() <= 79
    steps = np.diff(obs.astype(np.int64), axis=2)  # (1024, 64, 5, 2)
    deltas = np.array([[0, -1], [0, 1], [-1, 0], [1, 0]])[skill_moves()]  # (1024, 5, 2)
    moved = np.all(steps == deltas[:, None], axis=-1)
    stayed = np.all(steps == 0, axis=-1)
    assert np.all(moved | stayed)
    # A move is a no-op only when it would leave the grid.
    target = obs[:, :, :-1].astype(np.int64) + deltas[:, None]
    outside = np.any((target < 0) | (target > 79), axis=-1)
    assert np.array_equal(stayed, outside)
    assert np.array_equal(obs, generate_action_observations(n_obs=64, grid_size=80, seed=0))
    assert not np.array_equal(obs, generate_action_observations(n_obs=64, grid_size=80, seed=1))
    # Start cells spread over the whole grid.
    assert len(np.unique(obs[:, :, 0, 0])) == 80 and len(np.unique(obs[:, :, 0, 1])) == 80


def test_action_observations_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTLAB_CACHE_DIR", str(tmp_path))
    first = load_action_observations()  # thesis size: 1024 skills x 1024 trajectories
    assert first.shape == (1024, 1024, 6, 2)
    path = cache_path()
    assert path.is_file() and path.is_relative_to(tmp_path)
    assert cache_path(seed=1) != path and cache_path(n_obs=8) != path

    def fail(**_: object) -> np.ndarray:
        raise AssertionError("regenerated despite the cache")

    monkeypatch.setattr(action_observations, "generate_action_observations", fail)
    second = load_action_observations()
    assert np.array_equal(first, second)
    with pytest.raises(AssertionError, match="regenerated"):
        load_action_observations(n_obs=8)  # a different key is a miss


def test_action_observations_one_hot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTLAB_CACHE_DIR", str(tmp_path))
    coords = load_action_observations(n_obs=8, seed=3)
    oh = load_action_observations_one_hot(n_obs=8, seed=3, skills=np.array([0, 1023]))
    assert oh.shape == (2, 8, 6, 160) and oh.dtype == np.float32
    assert np.all(oh.sum(axis=-1) == 2.0)
    assert np.array_equal(oh[..., :80].argmax(-1), coords[[0, 1023], ..., 0])
    assert np.array_equal(oh[..., 80:].argmax(-1), coords[[0, 1023], ..., 1])
    assert to_one_hot(np.array([[1, 2]]), grid_size=4).tolist() == [[0, 1, 0, 0, 0, 0, 1, 0]]
    with pytest.raises(ValueError):
        to_one_hot(np.array([[1, 80]]))


def test_render_ansi() -> None:
    env = make_env(render_mode="ansi")
    env.reset(seed=0, options={"wall": ("row", 4), "opening": 3})
    text = env.render()
    assert text is not None
    lines = text.splitlines()
    assert lines[0] == "A........" and lines[4] == "~~~o~~~~~" and lines[8] == "........G"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert make_env().render() is None


def test_observation_carries_the_skill_ids_of_the_slots() -> None:
    from envs.common.action_set import ACTION_IDS_KEY

    env = make_env(split="test", m=20)
    obs, _ = env.reset(seed=4)
    ids = obs[ACTION_IDS_KEY]
    assert env.observation_space.contains(obs)
    assert np.array_equal(ids.astype(np.int64), env.available_skill_ids)
    table = env.representation_table
    assert np.array_equal(obs[ACTION_REPRS_KEY][:20], table[ids[:20].astype(np.int64)])
