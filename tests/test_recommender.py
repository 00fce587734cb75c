"""Tests of ``actlab/Recommender-v0`` (thesis Ch.2, App. A.2)."""

from __future__ import annotations

import hashlib
import importlib
import math
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from actlab import registry
from envs.common.action_set import ACTION_IDS_KEY, ACTION_MASK_KEY, ACTION_REPRS_KEY, STATE_KEY
from envs.recommender import (
    ENV_ENTRY,
    ENV_ID,
    RecommenderConfig,
    RecommenderEnv,
    click_curve,
    click_probability,
    generate_catalog,
    get_catalog,
    item_split,
    split_pool,
    split_sizes,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def make_env(**kwargs: object) -> RecommenderEnv:
    return RecommenderEnv(**kwargs)


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def eq_a2(x: float, a: float = 14.0, b: float = 2.0, c: float = 0.3, d: float = 2.0, e: float = 6.0) -> float:
    """Eq. A.2 written out independently of the env: σ(a·σ(b·σ(c·x) − d) − e)."""
    return _sig(a * _sig(b * _sig(c * x) - d) - e)


# ----------------------------------------------------------------------------- click model
def test_click_model_explicit_numbers() -> None:
    # f(0): σ(0) = 1/2 -> σ(2·1/2 − 2) = σ(−1) -> σ(14·σ(−1) − 6).
    s_m1 = 1.0 / (1.0 + math.exp(1.0))
    assert float(click_curve(0.0)) == pytest.approx(1.0 / (1.0 + math.exp(-(14.0 * s_m1 - 6.0))), abs=1e-12)
    assert float(click_curve(0.0)) == pytest.approx(0.0966669, abs=1e-6)
    # Limits: x -> +inf gives σ(14·σ(0) − 6) = σ(1); x -> −inf gives σ(14·σ(−2) − 6).
    assert float(click_curve(1e4)) == pytest.approx(1.0 / (1.0 + math.exp(-1.0)), abs=1e-9)
    assert float(click_curve(-1e4)) == pytest.approx(1.0 / (1.0 + math.exp(-(14.0 / (1.0 + math.exp(2.0)) - 6.0))), abs=1e-9)

    # Vectors: v = (1, 2, 0, ...), c_1 = (0.5, −1, 3, ...), μ_1 = 0.7 -> x = 0.5 − 2 + 0.7 = −0.8.
    user = np.zeros(16)
    user[:2] = [1.0, 2.0]
    items = np.zeros((3, 16))
    items[0, :3] = [0.5, -1.0, 3.0]
    items[1, :2] = [2.0, 1.5]  # x = 2 + 3 + μ
    items[2, 15] = 9.0  # orthogonal to v: x = μ
    mu = np.array([0.7, -0.25, 4.0])
    expected = [eq_a2(-0.8), eq_a2(5.0 - 0.25), eq_a2(4.0)]
    np.testing.assert_allclose(click_probability(user, items, mu), expected, rtol=0, atol=1e-12)
    # Batched (B, K, D) / (B, K) and shared (K, D) items with (B, D) users.
    users = np.stack([user, -user])
    expected_neg = [eq_a2(1.5 + 0.7), eq_a2(-5.0 - 0.25), eq_a2(4.0)]
    batched = click_probability(users, np.stack([items, items]), np.stack([mu, mu]))
    assert batched.shape == (2, 3)
    np.testing.assert_allclose(batched, [expected, expected_neg], atol=1e-12)
    np.testing.assert_allclose(click_probability(users, items, mu), batched, atol=1e-15)
    # Configurable constants (x = 1).
    assert float(click_curve(1.0, a=5.0, b=1.0, c=2.0, d=0.5, e=3.0)) == pytest.approx(
        eq_a2(1.0, a=5.0, b=1.0, c=2.0, d=0.5, e=3.0), abs=1e-12
    )
    with pytest.raises(ValueError, match="same last dimension"):
        click_probability(np.zeros(16), np.zeros((3, 15)), np.zeros(3))


def test_click_model_monotonic() -> None:
    x = np.linspace(-60.0, 60.0, 2001)
    p = click_curve(x)
    assert np.all(np.diff(p) > 0)
    assert 0.0129 < p.min() and p.max() < 0.7311
    # Monotonic through the full formula: increasing μ or the projection on v raises p.
    rng = np.random.default_rng(0)
    user = rng.standard_normal(16)
    items = np.repeat(rng.standard_normal((1, 16)), 50, axis=0)
    mu = np.linspace(-10, 10, 50)
    assert np.all(np.diff(click_probability(user, items, mu)) > 0)
    # Users growing along the item direction: c·v increases, so does p.
    users = items[0][None, :] * np.linspace(0.1, 5.0, 50)[:, None]
    assert np.all(np.diff(click_probability(users, items[:1], np.zeros(1))[:, 0]) > 0)


# ----------------------------------------------------------------------------- catalog / split
def test_catalog_shape_determinism_and_cache() -> None:
    cat = get_catalog()
    assert cat.reprs.shape == (10_000, 16) and cat.mu.shape == (10_000,)
    assert cat.reprs.dtype == np.float64 and not cat.reprs.flags.writeable and not cat.mu.flags.writeable
    assert get_catalog() is cat  # cached per parameters
    fresh = generate_catalog(0)
    assert np.array_equal(fresh.reprs, cat.reprs) and np.array_equal(fresh.mu, cat.mu)
    # c ~ N(0, I), μ = 3·N(0, 1).
    assert abs(cat.reprs.mean()) < 0.02 and abs(cat.reprs.std() - 1.0) < 0.02
    assert abs(cat.mu.std() - 3.0) < 0.1
    # mu_scale only rescales μ; another seed gives another catalog.
    other = get_catalog(mu_scale=1.5)
    assert np.array_equal(other.reprs, cat.reprs) and np.allclose(other.mu, cat.mu / 2)
    assert not np.array_equal(get_catalog(catalog_seed=1).reprs, cat.reprs)
    # unit_norm: same directions and μ, unit length (the thesis' released code).
    unit = get_catalog(unit_norm=True)
    np.testing.assert_allclose(np.linalg.norm(unit.reprs, axis=1), 1.0)
    np.testing.assert_allclose(unit.reprs * np.linalg.norm(cat.reprs, axis=1, keepdims=True), cat.reprs)
    assert np.array_equal(unit.mu, cat.mu) and get_catalog(unit_norm=True) is unit
    env = make_env(unit_norm_reprs=True, m=20)
    obs, _ = env.reset(seed=0)
    np.testing.assert_allclose(np.linalg.norm(obs[ACTION_REPRS_KEY], axis=1), 1.0, rtol=1e-6)
    full = cat.fully_observable_reprs()
    assert full.shape == (10_000, 17) and np.array_equal(full[:, 16], cat.mu)


def test_split_disjoint_and_covering() -> None:
    split = item_split(0)
    assert {k: len(v) for k, v in split.items()} == {"train": 5000, "validation": 2500, "test": 2500}
    assert split_sizes(10_000) == {"train": 5000, "validation": 2500, "test": 2500}
    assert np.array_equal(np.sort(np.concatenate(list(split.values()))), np.arange(10_000))
    for ids in split.values():
        assert np.all(np.diff(ids) > 0)
    other = item_split(1)
    assert not np.array_equal(other["train"], split["train"])
    assert np.array_equal(split_pool("test", 1), other["test"])
    assert split_sizes(10) == {"train": 5, "validation": 2, "test": 3}
    with pytest.raises(ValueError, match="unknown split"):
        split_pool("dev")


def _digest(split_seed: int, catalog_seed: int) -> str:
    split = item_split(split_seed)
    cat = get_catalog(catalog_seed)
    h = hashlib.sha256(b"".join(split[k].tobytes() for k in ("train", "validation", "test")))
    h.update(cat.reprs.tobytes() + cat.mu.tobytes())
    return h.hexdigest()


def test_split_and_catalog_deterministic_across_processes() -> None:
    code = (
        "import hashlib\n"
        "from envs.recommender import item_split, get_catalog\n"
        "for seed in (0, 3):\n"
        "    s = item_split(seed); c = get_catalog(seed)\n"
        "    h = hashlib.sha256(b''.join(s[k].tobytes() for k in ('train', 'validation', 'test')))\n"
        "    h.update(c.reprs.tobytes() + c.mu.tobytes())\n"
        "    print(h.hexdigest())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [_digest(0, 0), _digest(3, 3)]
    assert out[0] != out[1]


def test_split_independent_of_env_seed() -> None:
    for split in ("train", "validation", "test"):
        pool = set(split_pool(split).tolist())
        for seed in (0, 1, 2):
            env = make_env(split=split, m=50)
            env.reset(seed=seed)
            assert set(env.available_item_ids.tolist()) <= pool


# ----------------------------------------------------------------------------- API / registration
@pytest.mark.filterwarnings("ignore:.*infinity.*")
@pytest.mark.parametrize("split", ["train", "validation", "test"])
@pytest.mark.parametrize("representation", ["given", "fully_observable"])
def test_check_env(split: str, representation: str) -> None:
    check_env(gym.make(ENV_ID, split=split, representation=representation).unwrapped)


@pytest.mark.filterwarnings("ignore:.*infinity.*")
def test_check_env_whole_pool() -> None:
    # m=None on "train" fills all 5000 slots, so check_env's random actions are all valid.
    check_env(gym.make(ENV_ID, m=None).unwrapped)


def test_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = gym.spec(ENV_ID)
    assert spec.max_episode_steps is None
    env = gym.make(ENV_ID, **RecommenderConfig().model_dump())
    assert isinstance(env.unwrapped, RecommenderEnv)
    importlib.reload(envs)  # importing twice is harmless
    monkeypatch.setattr(registry, "PLUGIN_PACKAGES", ("envs",))
    monkeypatch.setattr(registry, "_loaded", False)
    entry = registry.get_env(ENV_ID)
    assert entry is ENV_ENTRY and entry.config_model is RecommenderConfig
    assert entry.eval_sets == {"train": {"split": "train"}, "validation": {"split": "validation"}, "test": {"split": "test"}}
    assert entry.select_on == "validation" and entry.success_key is None
    assert "\n" not in entry.description
    for overrides in entry.eval_sets.values():
        made = gym.make(ENV_ID, **{**RecommenderConfig().model_dump(), **overrides}).unwrapped
        assert made.config.split == overrides["split"]


def test_default_observation_shapes() -> None:
    env = make_env()
    obs, info = env.reset(seed=0)
    assert obs[STATE_KEY].shape == (16,) and obs[STATE_KEY].dtype == np.float32
    assert obs[ACTION_REPRS_KEY].shape == (500, 16) and obs[ACTION_REPRS_KEY].dtype == np.float32
    assert obs[ACTION_MASK_KEY].shape == (500,) and np.all(obs[ACTION_MASK_KEY] == 1.0)
    assert env.action_space == gym.spaces.Discrete(500)
    np.testing.assert_allclose(obs[STATE_KEY], env.user_vector.astype(np.float32))
    full = make_env(representation="fully_observable")
    assert full.observation_space[ACTION_REPRS_KEY].shape == (500, 17)
    _, reward, terminated, truncated, info = env.step(0)
    assert set(info) == {"click", "click_probability", "best_click_probability", "item_id", "n_organic_sessions", "user_left"}
    assert isinstance(info["click"], bool) and reward == float(info["click"])
    assert 0.0 < info["click_probability"] <= info["best_click_probability"] < 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"no_such_key": 1}, "no_such_key"),
        ({"m": 5001}, "m=5001 exceeds the 5000 products of the 'train' split"),
        ({"split": "test", "m": 2501}, "m=2501 exceeds the 2500 products of the 'test' split"),
        ({"m": 0}, "greater than or equal to 1"),
        ({"split": "dev"}, "split"),
        ({"representation": "hvae"}, "representation"),
        ({"p_organic": 1.0}, "p_organic"),
        ({"p_stop": -0.1}, "p_stop"),
        ({"sigma1": -1.0}, "sigma1"),
    ],
)
def test_invalid_config(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_env(**kwargs)
    with pytest.raises(ValueError):
        gym.make(ENV_ID, **kwargs)


# ----------------------------------------------------------------------------- action set
@pytest.mark.parametrize("representation", ["given", "fully_observable"])
@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_set_sampling(split: str, representation: str) -> None:
    env = make_env(split=split, m=500, representation=representation)
    pool = set(split_pool(split).tolist())
    cat = get_catalog()
    for seed in range(5):
        obs, _ = env.reset(seed=seed)
        ids = env.available_item_ids
        assert ids.shape == (500,) and len(set(ids.tolist())) == 500 and set(ids.tolist()) <= pool
        assert not np.all(np.diff(ids) > 0)  # shuffled
        reprs = obs[ACTION_REPRS_KEY]
        np.testing.assert_array_equal(reprs[:, :16], cat.reprs[ids].astype(np.float32))
        if representation == "fully_observable":
            assert reprs.shape == (500, 17)
            np.testing.assert_array_equal(reprs[:, 16], cat.mu[ids].astype(np.float32))
        else:
            assert reprs.shape == (500, 16)
        np.testing.assert_array_equal(env.representation_table()[ids], reprs)
        np.testing.assert_array_equal(obs[ACTION_IDS_KEY], ids.astype(np.float32))  # what discrete policies index
        # The set is kept for the whole episode.
        obs2, *_ = env.step(3)
        assert np.array_equal(env.available_item_ids, ids) and np.array_equal(obs2[ACTION_REPRS_KEY], reprs)


def test_whole_pool_padding_and_forced_items() -> None:
    env = make_env(split="validation", m=None)
    assert env.max_actions == 5000
    obs, _ = env.reset(seed=1)
    ids = env.available_item_ids
    assert sorted(ids[:2500].tolist()) == split_pool("validation").tolist() and np.all(ids[2500:] == -1)
    assert np.array_equal(obs[ACTION_MASK_KEY], np.r_[np.ones(2500), np.zeros(2500)].astype(np.float32))
    assert np.all(obs[ACTION_REPRS_KEY][2500:] == 0.0)
    with pytest.raises(ValueError, match="not an available slot"):
        env.step(2600)
    env.step(2499)
    small = make_env(m=4)
    obs, _ = small.reset(seed=0, options={"item_ids": [7, 3]})
    assert small.available_item_ids.tolist() == [7, 3, -1, -1]
    assert obs[ACTION_MASK_KEY].tolist() == [1.0, 1.0, 0.0, 0.0]
    for bad in ({"item_ids": [1, 1]}, {"item_ids": [10_000]}, {"user": [0.0]}, {"bogus": 1}):
        with pytest.raises(ValueError):
            small.reset(options=bad)


# ----------------------------------------------------------------------------- dynamics
def _rollout(env: RecommenderEnv, seed: int) -> list:
    obs, _ = env.reset(seed=seed)
    out = [obs[STATE_KEY].copy(), env.available_item_ids.copy()]
    done, k = False, 0
    while not done:
        obs, reward, terminated, truncated, info = env.step((7 * k) % 500)
        out.append((obs[STATE_KEY].copy(), reward, terminated, truncated, info))
        done, k = terminated or truncated, k + 1
    return out


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def test_same_seed_same_episode() -> None:
    a = _rollout(make_env(), 11)
    b = _rollout(make_env(), 11)
    assert _same(a, b)
    c = _rollout(make_env(), 12)
    assert not _same(a[:2], c[:2])


def test_episode_length_and_reward_values() -> None:
    env = make_env(m=50)
    lengths, terminated_count = [], 0
    for seed in range(60):
        env.reset(seed=seed)
        done, n = False, 0
        while not done:
            _, reward, terminated, truncated, info = env.step(n % 50)
            assert reward in (0.0, 1.0) and reward == float(info["click"])
            assert info["user_left"] == terminated
            n += 1
            done = terminated or truncated
        assert n <= 100 and (terminated or n == 100)
        lengths.append(n)
        terminated_count += terminated
    # Defaults: ~82% of the episodes reach 100 recommendations; some users leave early.
    assert 0.6 < np.mean(np.array(lengths) == 100) < 0.97 and terminated_count > 0
    with pytest.raises(RuntimeError, match="finished episode"):
        env.step(0)
    # p_stop = 1: the user leaves at the first transition.
    leave = make_env(m=5, p_stop=1.0)
    leave.reset(seed=0)
    _, _, terminated, truncated, info = leave.step(0)
    assert terminated and not truncated and info["n_organic_sessions"] == 0
    # p_stop = 0, max_steps = 7: always truncated after 7.
    env = make_env(m=5, p_stop=0.0, max_steps=7)
    env.reset(seed=0)
    flags = [env.step(0)[2:4] for _ in range(7)]
    assert flags == [(False, False)] * 6 + [(False, True)]


def test_user_drift() -> None:
    # σ1 = 0: the user is fixed; otherwise each transition adds N(0, (σ1·σ2)² I) noise.
    env = make_env(m=5, sigma1=0.0, p_stop=0.0)
    obs, _ = env.reset(seed=0)
    v0 = env.user_vector
    for _ in range(20):
        env.step(0)
    assert np.array_equal(env.user_vector, v0)
    env = make_env(m=5, p_stop=0.0, p_organic=0.0, max_steps=10_000)
    env.reset(seed=0, options={"user": np.zeros(16)})
    deltas, organic = [], []
    prev = env.user_vector
    for _ in range(4000):
        _, _, _, _, info = env.step(0)
        organic.append(info["n_organic_sessions"])
        cur = env.user_vector
        deltas.append(cur - prev)
        prev = cur
    assert set(organic) == {0}
    # One transition per step: E[(σ1·|σ2|·ε)²] = σ1² per coordinate.
    assert np.var(np.asarray(deltas)) == pytest.approx(0.01, rel=0.08)
    # Default p_organic = 0.5: mean 1 organic session per recommendation.
    env = make_env(m=5, p_stop=0.0, max_steps=10_000)
    env.reset(seed=0)
    n_org = [env.step(0)[4]["n_organic_sessions"] for _ in range(4000)]
    assert np.mean(n_org) == pytest.approx(1.0, abs=0.08)


def test_empirical_click_rate_matches_p_click() -> None:
    cat = get_catalog()
    user = np.linspace(-1.0, 1.0, 16)
    for item in (11, 4242):
        env = make_env(m=5, sigma1=0.0, p_stop=0.0, max_steps=100_000)
        env.reset(seed=item, options={"user": user, "item_ids": [item]})
        p = float(click_probability(user, cat.reprs[item : item + 1], cat.mu[item : item + 1])[0])
        n = 6000
        clicks = 0.0
        for _ in range(n):
            _, reward, _, _, info = env.step(0)
            assert info["click_probability"] == pytest.approx(p, abs=1e-12)
            assert info["best_click_probability"] == pytest.approx(p, abs=1e-12)
            clicks += reward
        tol = 4.5 * math.sqrt(p * (1 - p) / n) + 1e-3
        assert abs(clicks / n - p) < tol


def test_best_click_probability_is_max_over_set() -> None:
    env = make_env(m=50, representation="fully_observable")
    obs, _ = env.reset(seed=4)
    probs = env.click_probabilities()
    # Computed from the observation's [c_i, μ_i] and state in the fully observable variant.
    reprs = obs[ACTION_REPRS_KEY].astype(np.float64)
    np.testing.assert_allclose(probs, click_curve(reprs[:, :16] @ env.user_vector + reprs[:, 16]), rtol=1e-5)
    _, _, _, _, info = env.step(int(np.argmin(probs)))
    assert info["best_click_probability"] == pytest.approx(probs.max())
    assert info["click_probability"] == pytest.approx(probs.min())
    assert info["item_id"] == env.available_item_ids[int(np.argmin(probs))]
