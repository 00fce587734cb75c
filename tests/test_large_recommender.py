"""``actlab/LargeRecommender-v0`` (thesis Ch.4, T-AppC §C.2, §D.4) and the TD3 family's 1-NN path.

- the env: gymnasium's ``check_env``; the click model and the interest update by hand (also
  through ``step``); the item table is fixed per config, clustered, in the action box, shared;
- the discrete contract: ``step`` executes the brute-force nearest item, reported in
  ``info["action_index"]``, ties to the lowest index;
- the agent: the module's candidate mapping equals brute-force 1-NN; acting, exploring, the
  TD target, SAVO's candidates and Wolpertinger's k nearest items are real items; continuous
  envs are unaffected; a real tiny savo sweep through Tune and MLflow.
"""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from ray.rllib.core.columns import Columns

import envs  # noqa: F401  (registers the env ids)
from envs.large_recommender import (
    ENV_ID,
    LargeRecommenderConfig,
    LargeRecommenderEnv,
    click_probability,
    generate_items,
    get_item_table,
    nearest_item,
    positive_update_probability,
    update_interest,
)


def _brute_nearest(table: np.ndarray, action: np.ndarray) -> int:
    """Reference 1-NN: float64 squared distances, numpy's argmin (ties: the lowest index)."""
    return int(np.argmin(((table.astype(np.float64) - np.asarray(action, np.float64)) ** 2).sum(axis=1)))


# -- the environment ----------------------------------------------------------------------


def test_check_env_and_spaces() -> None:
    env = LargeRecommenderEnv(num_items=500)
    check_env(env, skip_render_check=True)
    made = gym.make(ENV_ID, num_items=500, extra_action_dim=15)
    check_env(made.unwrapped, skip_render_check=True)
    assert made.observation_space == gym.spaces.Box(-1, 1, (30,), np.float32)
    assert made.action_space == gym.spaces.Box(-1, 1, (45,), np.float32)
    with pytest.raises(ValueError):
        LargeRecommenderEnv(num_items=500, n_items=3)  # unknown key


def test_click_probability_by_hand() -> None:
    # softmax over the item and the skip item: e^s / (e^s + e^skip)
    for s, skip in [(0.0, 0.0), (1.5, 3.0), (-2.0, 1.0), (40.0, 3.0), (-800.0, 3.0)]:
        assert click_probability(s, skip) == pytest.approx(np.exp(s - np.logaddexp(s, skip)), abs=1e-12)
    assert click_probability(2.0, 2.0) == 0.5
    np.testing.assert_allclose(click_probability(np.array([0.0, np.log(3.0)]), 0.0), [0.5, 0.75])


def test_step_click_probability_by_hand() -> None:
    env = LargeRecommenderEnv(num_items=300, score_scale=0.7, skip_score=1.2)
    user = np.linspace(-0.9, 0.9, 30)
    env.reset(seed=0, options={"user": user})
    item = 17
    _, reward, terminated, truncated, info = env.step(env.action_embeddings[item])
    score = 0.7 * float(user @ env.action_embeddings[item].astype(np.float64))
    assert info["action_index"] == item
    assert info["click_probability"] == pytest.approx(np.exp(score) / (np.exp(score) + np.exp(1.2)), rel=1e-9)
    assert reward == float(info["click"]) and not terminated and not truncated


def test_interest_update_by_hand() -> None:
    user, item = np.array([0.5, -0.2, 0.0]), np.array([1.0, 0.5, -0.5])
    # Δ = y (1 - |e_u|) (e_i - e_u) with y = 0.3
    delta = np.array([0.3 * 0.5 * 0.5, 0.3 * 0.8 * 0.7, 0.3 * 1.0 * -0.5])
    p_plus = (np.dot(user, item) / (np.linalg.norm(user) * np.linalg.norm(item)) + 1) / 2
    assert positive_update_probability(user, item) == pytest.approx(p_plus)
    np.testing.assert_allclose(update_interest(user, item, 0.3, "toward_item", p_plus - 1e-6), user + delta)
    np.testing.assert_allclose(update_interest(user, item, 0.3, "toward_item", p_plus + 1e-6), user - delta)
    # as printed (T-AppB §A.3): Δ = y (1 - |e_u|) (1 - e_u)
    printed = np.array([0.3 * 0.5 * 0.5, 0.3 * 0.8 * 1.2, 0.3 * 1.0 * 1.0])
    np.testing.assert_allclose(update_interest(user, item, 0.3, "as_printed", 0.0), user + printed)
    # the result is clipped to [-1, 1]: 0.5 - 1.0 * 0.5 * (-1 - 0.5) = 1.25 -> 1
    np.testing.assert_allclose(update_interest(np.array([0.5]), np.array([-1.0]), 1.0, "toward_item", 0.999), [1.0])
    assert positive_update_probability(np.zeros(3), item) == 0.5


def test_step_applies_the_update_on_a_click_only() -> None:
    """Through ``step``: the env's two draws (click, then the sign) replayed by hand."""
    clicking = LargeRecommenderEnv(num_items=200, skip_score=-1e3, interest_step=0.4)  # p_click = 1
    user = np.full(30, 0.2)
    clicking.reset(seed=5, options={"user": user})
    rng = copy.deepcopy(clicking.np_random)
    item = 3
    obs, reward, *_ = clicking.step(clicking.action_embeddings[item])
    rng.random()  # the click draw
    expected = update_interest(user, clicking.action_embeddings[item].astype(np.float64), 0.4, "toward_item", rng.random())
    assert reward == 1.0
    np.testing.assert_allclose(obs, expected.astype(np.float32))
    skipping = LargeRecommenderEnv(num_items=200, skip_score=1e3)  # p_click = 0
    skipping.reset(seed=5, options={"user": user})
    obs, reward, *_ = skipping.step(skipping.action_embeddings[item])
    assert reward == 0.0 and np.array_equal(obs, user.astype(np.float32))


def test_episode_is_truncated_after_the_horizon() -> None:
    env = gym.make(ENV_ID, num_items=100, horizon=7)
    env.reset(seed=1)
    flags = [env.step(env.action_space.sample())[2:4] for _ in range(7)]
    assert flags == [(False, False)] * 6 + [(False, True)]


def test_item_table_is_fixed_per_config_clustered_and_shared() -> None:
    cfg = LargeRecommenderConfig(num_items=3000, item_seed=4)
    a, b = LargeRecommenderEnv(**cfg.model_dump()), LargeRecommenderEnv(**cfg.model_dump())
    a.reset(seed=0)
    b.reset(seed=123)
    assert a.action_embeddings is b.action_embeddings  # one read-only copy per process
    assert not a.action_embeddings.flags.writeable
    fresh = generate_items(3000, 30, 0, 10, 2, 0.5, 0.2, 0.1, 4)  # uncached, same parameters
    assert np.array_equal(fresh.vectors, a.action_embeddings) and a.num_actions == 3000
    assert a.action_embeddings.dtype == np.float32 and a.action_embeddings.shape == (3000, 30)
    assert np.abs(a.action_embeddings).max() <= 1.0
    other = get_item_table(LargeRecommenderConfig(num_items=3000, item_seed=5)).vectors
    assert not np.array_equal(other, a.action_embeddings)
    # GMM structure: items are closer to their own sub-category than to other categories
    table = get_item_table(cfg)
    same = (table.categories == table.categories[0]) & (table.subcategories == table.subcategories[0])
    other_cat = table.categories != table.categories[0]
    d = np.linalg.norm(table.vectors - table.vectors[0], axis=1)
    assert np.median(d[same][1:]) < 0.5 * np.median(d[other_cat])


def test_500k_items_build_and_share_one_table() -> None:
    env = gym.make(ENV_ID, num_items=500_000)
    table = env.unwrapped.action_embeddings
    assert table.shape == (500_000, 30) and table.dtype == np.float32 and table.nbytes == 60_000_000
    assert gym.make(ENV_ID, num_items=500_000).unwrapped.action_embeddings is table
    env.reset(seed=0)
    _, _, _, _, info = env.step(table[123_456])
    assert info["action_index"] == 123_456


# -- the discrete contract ------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 15])
def test_step_executes_the_brute_force_nearest_item(extra: int) -> None:
    env = gym.make(ENV_ID, num_items=2000, extra_action_dim=extra)
    table = env.unwrapped.action_embeddings
    assert env.unwrapped.num_actions == 2000 and table.shape == (2000, 30 + extra)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = [env.action_space.sample() for _ in range(100)]
    actions += [table[i] + rng.normal(0, 0.05, table.shape[1]).astype(np.float32) for i in rng.integers(2000, size=100)]
    actions += [table[i] for i in rng.integers(2000, size=20)]
    for action in actions:
        *_, info = env.step(action)
        assert info["action_index"] == _brute_nearest(table, action)
        if env.unwrapped._steps >= 20:
            env.reset()


def test_nearest_item_ties_go_to_the_lowest_index() -> None:
    table = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    sq = (table**2).sum(1)
    assert nearest_item(table, sq, np.array([1.0, 0.0])) == 1  # rows 1 and 3 coincide
    assert nearest_item(table, sq, np.array([0.5, 0.5])) == 0  # rows 0, 1, 2 equidistant
    assert nearest_item(table, sq, np.array([0.0, 0.9])) == 2
    with pytest.raises(ValueError):
        nearest_item(table, sq, np.array([np.nan, 0.0]))


# -- the agent side -------------------------------------------------------------------------


def _module(cls: type, num_items: int = 1500, **options):
    from rllib_modules.td3.discrete_actions import discrete_action_reference

    env = gym.make(ENV_ID, num_items=num_items)
    ref = discrete_action_reference(ENV_ID, {"num_items": num_items})
    assert ref is not None
    config = {"actor_hidden": [32], "critic_hidden": [32], "discrete_actions": ref, **options}
    torch.manual_seed(0)
    module = cls(observation_space=env.observation_space, action_space=env.action_space, model_config=config)
    return module, env.unwrapped.action_embeddings


def _is_item(actions_MD: torch.Tensor, table: np.ndarray) -> bool:
    rows = torch.from_numpy(np.asarray(table))
    dist = torch.cdist(actions_MD.reshape(-1, rows.shape[1]).double(), rows.double(),
                       compute_mode="donot_use_mm_for_euclid_dist")
    return bool((dist.min(dim=1).values == 0).all())


def test_module_candidate_mapping_equals_brute_force() -> None:
    from rllib_modules.savo.module import SAVORLModule

    module, table = _module(SAVORLModule)
    queries = torch.rand(40, 4, 30) * 2 - 1
    mapped = module.map_candidates(queries)
    expected = np.array([_brute_nearest(table, q) for q in queries.reshape(-1, 30).numpy()])
    assert mapped.shape == queries.shape
    assert torch.equal(mapped.reshape(-1, 30), torch.from_numpy(np.asarray(table)[expected]))
    # the module's index shares the env's table (no copy of the items per module)
    assert module.item_index.items_ND.data_ptr() == table.ctypes.data


def test_savo_acts_scores_and_bootstraps_at_real_items_only() -> None:
    from rllib_modules.savo.module import SURROGATE_TARGET_KEY, SAVORLModule

    module, table = _module(SAVORLModule, num_successive=3)
    obs = torch.rand(16, 30) * 2 - 1
    with torch.no_grad():
        cands = module.mapped_candidates(obs)
        assert cands.shape == (16, 4, 30) and _is_item(cands, table)
        raw = module.candidates(obs)
        assert torch.equal(cands, module.map_candidates(raw)) and not _is_item(raw, table)
        chosen = module.acting_action(obs)
        q = torch.stack([module.q_value(module.q1, obs, cands[:, i]) for i in range(4)], dim=1)
        torch.testing.assert_close(module.q_value(module.q1, obs, chosen), q.max(dim=1).values)
        assert _is_item(module.forward_exploration({Columns.OBS: obs})[Columns.ACTIONS], table)
        assert _is_item(module.forward_inference({Columns.OBS: obs})[Columns.ACTIONS], table)
        module.uniform_exploration = True
        assert _is_item(module.forward_exploration({Columns.OBS: obs})[Columns.ACTIONS], table)
    module.make_target_networks()
    assert _is_item(module.target_action(obs), table)
    batch = {Columns.OBS: obs, Columns.NEXT_OBS: obs.flip(0), Columns.ACTIONS: torch.from_numpy(np.asarray(table)[:16])}
    out = module._forward_train(batch)
    assert out[SURROGATE_TARGET_KEY].shape == (16, 3, 2)


@pytest.mark.parametrize("smoothing", [False, True])
def test_td3_acts_and_bootstraps_at_the_nearest_items(smoothing: bool) -> None:
    from rllib_modules.td3 import TD3RLModule

    module, table = _module(TD3RLModule, target_policy_smoothing=smoothing)
    module.make_target_networks()
    obs = torch.rand(32, 30) * 2 - 1
    items = torch.from_numpy(np.asarray(table))
    with torch.no_grad():
        target = module.target_action(obs)
        greedy = module.forward_inference({Columns.OBS: obs})[Columns.ACTIONS]
        mu_nearest = [_brute_nearest(table, a) for a in module.actor(obs).numpy()]
        target_nearest = [_brute_nearest(table, a) for a in module.target_actor(obs).numpy()]
    assert torch.equal(greedy, items[mu_nearest])
    if smoothing:  # mapped, smoothed, mapped again
        assert _is_item(target, table) and not torch.equal(target, items[target_nearest])
    else:
        assert torch.equal(target, items[target_nearest])


def test_wolpertinger_discrete_candidates_are_the_k_nearest_items_of_mu() -> None:
    from rllib_modules.td3_variants import WolpertingerRLModule

    module, table = _module(WolpertingerRLModule, num_candidates=3)
    obs = torch.rand(20, 30) * 2 - 1
    with torch.no_grad():
        cands = module.mapped_candidates(obs)
        mu = module.actor(obs).double().numpy()
    d = ((mu[:, None, :] - np.asarray(table, np.float64)[None]) ** 2).sum(-1)
    nearest4 = np.argsort(d, axis=1, kind="stable")[:, :4]
    assert cands.shape == (20, 4, 30)  # μ's own nearest item + k = 3 more
    assert torch.equal(cands, torch.from_numpy(np.asarray(table)[nearest4]))
    with torch.no_grad():
        assert _is_item(module.acting_action(obs), table)
        assert _is_item(module.forward_exploration({Columns.OBS: obs})[Columns.ACTIONS], table)


def test_continuous_envs_keep_the_identity_mapping() -> None:
    from rllib_modules.td3.discrete_actions import discrete_action_reference
    from rllib_modules.td3.maximizer import MaximizerTD3RLModule

    assert discrete_action_reference("actlab/RestrictedInvertedPendulum-v0", {}) is None
    module = MaximizerTD3RLModule(observation_space=gym.spaces.Box(-np.inf, np.inf, (3,), np.float32),
                                  action_space=gym.spaces.Box(-1, 1, (2,), np.float32),
                                  model_config={"actor_hidden": [8], "critic_hidden": [8]})
    assert module.item_index is None
    x = torch.rand(5, 3, 2)
    assert module.map_candidates(x) is x
    with torch.no_grad():
        torch.testing.assert_close(module.acting_action(torch.zeros(4, 3)), module.actor(torch.zeros(4, 3)))


def test_build_passes_a_reference_not_the_table() -> None:
    from actlab.registry import BuildContext, get_algorithm
    from rllib_modules.td3.discrete_actions import DISCRETE_ACTIONS_KEY

    ctx = BuildContext(env_id=ENV_ID, env_config={"num_items": 500_000}, seed=0)
    for name in ("td3", "savo", "wolpertinger"):
        entry = get_algorithm(name)
        config = entry.build(entry.config_model.model_validate({"nearest_item": {"backend": "faiss_ivf"}}), ctx)
        spec_config = config.rl_module_spec.model_config if config.rl_module_spec else None
        model_config = spec_config or config.model_config  # td3: the config's own model_config
        ref = model_config[DISCRETE_ACTIONS_KEY]
        assert ref["env_id"] == ENV_ID and ref["env_config"] == {"num_items": 500_000}
        assert ref["nearest_item"]["backend"] == "faiss_ivf"
        assert len(repr(model_config)) < 5_000  # no 60 MB table in the config


@pytest.mark.parametrize("name", ["td3", "wolpertinger"])
def test_built_algorithms_map_on_runners_and_learners(name: str, local_ray) -> None:
    from actlab.evaluation import evaluate_module
    from actlab.registry import BuildContext, get_algorithm

    entry = get_algorithm(name)
    ctx = BuildContext(env_id=ENV_ID, env_config={"num_items": 1000}, seed=0, num_env_runners=0, envs_per_env_runner=1)
    algo = entry.build(entry.config_model.model_validate({"actor_hidden": [16], "critic_hidden": [16]}), ctx).build_algo()
    try:
        learner_module = algo.learner_group._learner.module["default_policy"]
        runner_module = algo.env_runner.module
        for module in (learner_module, runner_module):
            assert module.item_index is not None and len(module.item_index) == 1000
        table = gym.make(ENV_ID, num_items=1000).unwrapped.action_embeddings
        with torch.no_grad():
            acted = runner_module.forward_exploration({Columns.OBS: torch.rand(8, 30) * 2 - 1})[Columns.ACTIONS]
        assert _is_item(acted, table)
        result = evaluate_module(algo.get_module(), ENV_ID, {"num_items": 1000}, episodes=2, seed=0)
        assert result.episodes == 2 and result.episode_len_mean == 20
    finally:
        algo.stop()


@pytest.mark.integration
def test_savo_tiny_sweep_on_large_recommender_through_mlflow(tmp_path) -> None:
    from tests.conftest import SPECS
    from tests.test_integration_sweep import actlab, history, runs_of

    uri = f"sqlite:///{tmp_path}/mlruns.db"
    small = ("{learning_starts: 200, batch_size: 32, actor_hidden: [32], critic_hidden: [32], rollout_fragment_length: 16, "
             "updates_per_step: 0.25}")
    proc = actlab(
        "run", str(SPECS / "ch4_recsim.yaml"), "--set", "seeds=[0]", "--set", "grid={}", "--set", "stop.iterations=2",
        "--set", f"algorithm={{name: savo, config: {small}}}", "--set", "env.config={num_items: 1000}",
        "--set", "evaluation.interval=1", "--set", "evaluation.episodes=2", "--set", "checkpoint.interval=1",
        "--tracking-uri", uri, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (run,) = runs_of(uri, "ch4_recsim")
    assert run.info.status == "FINISHED" and run.data.tags["actlab.algorithm"] == "savo"
    assert run.data.tags["actlab.env"] == ENV_ID and run.data.params["env.config.num_items"] == "1000"
    evals = history(uri, run.info.run_id, "eval/eval/return_mean")
    assert len(evals) == 2 and 1000 <= evals[0][0] < evals[1][0]  # one evaluation per ~1000-step iteration
    assert all(0 <= value <= 20 for _, value in evals)  # clicks in a 20-step episode
    assert "savo/critic_loss" in run.data.metrics
