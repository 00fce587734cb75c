"""The TD3 family base (thesis Ch.4 §4.3; Fujimoto et al. 2018): targets, module, Learner.

- the clipped double-Q target against a hand-computed example (terminal, truncated, n-step);
- target-policy smoothing stays within its clip and the action bounds;
- the module: tanh-bounded actions, noise only when exploring, no critics on EnvRunners;
- the Learner: the critics move on every update, the actor and the target networks only on
  every ``policy_delay``-th one, and the actor loss never changes the critics;
- the registered ``td3`` runs with an empty config and its greedy evaluation rescales actions.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns

from actlab.evaluation import _unsquash
from actlab.registry import BuildContext, get_algorithm
from rllib_modules.td3 import TD3RLModule
from rllib_modules.td3.noise import ExplorationNoise
from rllib_modules.td3.targets import clipped_double_q_target, smoothed_target_action


def test_clipped_double_q_target_by_hand() -> None:
    rewards = torch.tensor([1.0, 0.5, 2.0, -1.0])
    terminated = torch.tensor([False, True, False, False])
    q1 = torch.tensor([10.0, 10.0, 3.0, 4.0])
    q2 = torch.tensor([8.0, 12.0, 5.0, 4.5])
    n_step = torch.tensor([1.0, 1.0, 1.0, 3.0])
    y = clipped_double_q_target(rewards, terminated, q1, q2, gamma=0.9, n_step_B=n_step)
    # r + 0.9^n * (1 - done) * min(q1, q2)
    expected = torch.tensor([1.0 + 0.9 * 8.0, 0.5, 2.0 + 0.9 * 3.0, -1.0 + 0.9**3 * 4.0])
    torch.testing.assert_close(y, expected)


def test_target_smoothing_is_clipped_and_bounded() -> None:
    gen = torch.Generator().manual_seed(0)
    base = torch.tensor([[0.0, 0.95, -0.95]]).repeat(2000, 1)
    out = smoothed_target_action(base, noise_std=0.2, noise_clip=0.5, generator=gen)
    assert out.min() >= -1 and out.max() <= 1
    assert (out[:, 0] - base[:, 0]).abs().max() <= 0.5 + 1e-6
    assert (out[:, 0] - base[:, 0]).std() == pytest.approx(0.2, abs=0.03)  # mostly unclipped at 2.5 sigma


def test_ou_noise_is_correlated_and_gaussian_is_not() -> None:
    torch.manual_seed(0)
    ou, gauss = ExplorationNoise("ou", sigma=0.2, ou_theta=0.15), ExplorationNoise("gaussian", sigma=0.2)
    xs_ou = torch.stack([ou.sample((1, 1)) for _ in range(3000)]).flatten()
    xs_g = torch.stack([gauss.sample((1, 1)) for _ in range(3000)]).flatten()
    lag1 = lambda x: torch.corrcoef(torch.stack([x[:-1], x[1:]]))[0, 1].item()  # noqa: E731
    assert lag1(xs_ou) == pytest.approx(0.85, abs=0.05)  # 1 - theta
    assert abs(lag1(xs_g)) < 0.06
    with pytest.raises(ValueError, match="gaussian' or 'ou'"):
        ExplorationNoise("uniform")  # type: ignore[arg-type]


def _spaces() -> tuple[gym.spaces.Box, gym.spaces.Box]:
    return gym.spaces.Box(-np.inf, np.inf, (4,), np.float32), gym.spaces.Box(-3.0, 3.0, (2,), np.float32)


def test_module_acting_and_inference_only_copy() -> None:
    obs_space, act_space = _spaces()
    torch.manual_seed(0)
    module = TD3RLModule(observation_space=obs_space, action_space=act_space, model_config={"actor_hidden": [16], "critic_hidden": [16]})
    obs = {Columns.OBS: torch.randn(5, 4) * 100}
    greedy = module.forward_inference(obs)[Columns.ACTIONS]
    assert greedy.shape == (5, 2) and greedy.abs().max() <= 1.0
    torch.testing.assert_close(module.forward_inference(obs)[Columns.ACTIONS], greedy)
    explore = module.forward_exploration(obs)[Columns.ACTIONS]
    assert explore.abs().max() <= 1.0 and not torch.equal(explore, greedy)
    runner_copy = TD3RLModule(observation_space=obs_space, action_space=act_space, inference_only=True,
                              model_config={"actor_hidden": [16], "critic_hidden": [16]})
    assert not hasattr(runner_copy, "q1")
    runner_copy.set_state(module.get_state(inference_only=True))
    torch.testing.assert_close(runner_copy.forward_inference(obs)[Columns.ACTIONS], greedy)
    # the env receives low + (a + 1) / 2 * (high - low)
    np.testing.assert_allclose(_unsquash(np.array([[-1.0, 0.5]]), act_space), [[-3.0, 1.5]])


def _td3_algo(**settings):
    entry = get_algorithm("td3")
    ctx = BuildContext(env_id="InvertedPendulum-v5", env_config={}, seed=0, num_env_runners=0, envs_per_env_runner=1)
    return entry.build(entry.config_model.model_validate(settings), ctx).build_algo()


def test_delayed_actor_and_target_updates(local_ray) -> None:
    from ray.rllib.core import DEFAULT_MODULE_ID

    # few updates in train(): the test drives the updates it checks one by one below
    algo = _td3_algo(learning_starts=64, batch_size=32, policy_delay=3, actor_hidden=[32], critic_hidden=[32], updates_per_step=0.02)
    try:
        learner = algo.learner_group._learner
        module = learner.module[DEFAULT_MODULE_ID]
        snap = lambda net: [p.detach().clone() for p in net.parameters()]  # noqa: E731
        changed = lambda a, b: any(not torch.equal(x, y) for x, y in zip(a, b))  # noqa: E731
        # fill the buffer past learning_starts, then drive updates one by one
        algo.train()
        from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch

        batch = MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(algo.transitions.sample(32))}, env_steps=32)
        seen = []
        for _ in range(6):
            before = {n: snap(getattr(module, n)) for n in ("actor", "q1", "q2", "target_actor", "target_q1")}
            learner.update(batch=batch, timesteps={"num_env_steps_sampled_lifetime": 10_000})
            seen.append({n: changed(before[n], snap(getattr(module, n))) for n in before})
        updates_so_far = learner._critic_updates[DEFAULT_MODULE_ID]
        for i, moved in enumerate(seen):
            k = updates_so_far - len(seen) + i + 1  # the critic-update counter of this call
            assert moved["q1"] and moved["q2"], i
            assert moved["actor"] == (k % 3 == 0), (i, k)
            assert moved["target_actor"] == moved["target_q1"] == (k % 3 == 0), (i, k)
    finally:
        algo.stop()


def test_transition_replay_rows_from_episodes() -> None:
    """Each step becomes (s, a, r, s', terminated); only a true terminal stops bootstrapping."""
    from ray.rllib.env.single_agent_episode import SingleAgentEpisode

    from rllib_modules.td3.replay import TransitionReplay

    def episode(n: int, terminated: bool, offset: float) -> SingleAgentEpisode:
        ep = SingleAgentEpisode(observations=[np.array([offset], np.float32)])
        for t in range(n):
            ep.add_env_step(np.array([offset + t + 1], np.float32), np.array([t], np.float32), float(t),
                            terminated=terminated and t == n - 1, truncated=(not terminated) and t == n - 1)
        return ep

    replay = TransitionReplay(capacity=5, seed=0)
    assert replay.add_episodes([episode(3, True, 0.0), episode(2, False, 10.0)]) == 5
    rows = replay.sample(200)
    for obs, nxt, act, rew, term in zip(*(rows[k] for k in (Columns.OBS, Columns.NEXT_OBS, Columns.ACTIONS,
                                                             Columns.REWARDS, Columns.TERMINATEDS))):
        assert nxt[0] == obs[0] + 1 and rew == act[0]
        assert term == (obs[0] == 2.0)  # last step of the terminated episode only; the truncated one bootstraps
    replay.add_episodes([episode(2, False, 100.0)])  # FIFO: overwrites the two oldest rows
    assert len(replay) == 5 and set(replay.sample(500)[Columns.OBS][:, 0]) == {2.0, 10.0, 11.0, 100.0, 101.0}


def test_uniform_warmup_then_noisy_actor(local_ray) -> None:
    """TD3's start_timesteps: uniform actions before learning starts, the actor + noise after."""
    algo = _td3_algo(learning_starts=1000, batch_size=32, actor_hidden=[16], critic_hidden=[16], exploration_sigma=0.05,
                     updates_per_step=0.05)  # the test checks acting, not learning
    try:
        algo.train()  # 1000 steps: all warm-up
        warm = algo.transitions.sample(4000)[Columns.ACTIONS]
        assert warm.std() == pytest.approx(1 / np.sqrt(3), abs=0.05)  # U(-1, 1)
        algo.train()
        assert algo.env_runner.module.uniform_exploration is False
        obs = torch.zeros(1, 4)
        greedy = algo.env_runner.module.forward_inference({Columns.OBS: obs})[Columns.ACTIONS]
        noisy = torch.stack([algo.env_runner.module.forward_exploration({Columns.OBS: obs})[Columns.ACTIONS]
                             for _ in range(200)])
        assert (noisy - greedy).std() == pytest.approx(0.05, abs=0.02)
    finally:
        algo.stop()


def test_actor_loss_does_not_touch_critics() -> None:
    """compute_gradients takes the actor's gradient w.r.t. actor parameters only."""
    obs_space, act_space = _spaces()
    module = TD3RLModule(observation_space=obs_space, action_space=act_space, model_config={"actor_hidden": [8], "critic_hidden": [8]})
    q_pi = module.q_value(module.q1, torch.randn(6, 4), module.actor(torch.randn(6, 4)))
    actor_grads = torch.autograd.grad(-q_pi.mean(), list(module.actor.parameters()), retain_graph=True)
    assert all(g is not None for g in actor_grads)
    assert all(p.grad is None for p in module.q1.parameters())


#: Every algorithm of the TD3 family (thesis Ch.4 §4.6.1 and the joint-action ablation).
CH4_ALGORITHMS = ("td3", "wolpertinger", "ensemble", "cem", "greedy-ac", "greedy-td3", "savo", "savo-joint", "sac")
# One gradient step per 4 env steps (SAC: one Learner call per 8 env steps): this sweep checks
# the plumbing of every algorithm, not learning, and at one step per env step it took ~9 min.
# (8 divides the 1000 env steps of an iteration, so the evaluations stay at 1000 and 2000.)
_TINY = "{learning_starts: 200, batch_size: 32, actor_hidden: [32], critic_hidden: [32], updates_per_step: 0.25}"
_TINY_SAC = "{learning_starts: 200, batch_size: 32, hidden: [32], rollout_fragment_length: 8}"


@pytest.fixture(scope="module")
def ch4_family_sweep(tmp_path_factory):
    """One real sweep through Tune and MLflow whose grid is every Ch.4 algorithm (2 iterations of
    ~1000 env steps each on InvertedPendulum-v5, tiny networks, two trials at a time): one Ray
    start for all of them.
    Returns (tracking uri, {algorithm name: MLflow run})."""
    from tests.conftest import SPECS
    from tests.test_integration_sweep import actlab, runs_of

    tmp_path = tmp_path_factory.mktemp("ch4_family")
    uri = f"sqlite:///{tmp_path}/mlruns.db"
    sections = ", ".join(f"{{name: {a}, config: {_TINY_SAC if a == 'sac' else _TINY}}}" for a in CH4_ALGORITHMS)
    proc = actlab(
        "run", str(SPECS / "ch4_td3_mujoco.yaml"), "--set", "seeds=[0]", "--set", "stop.iterations=2",
        "--set", f"grid={{algorithm: [{sections}]}}", "--set", "env.name=InvertedPendulum-v5",
        "--set", "evaluation.interval=1", "--set", "evaluation.episodes=2", "--set", "checkpoint.interval=1",
        "--set", "resources.concurrent_trials=2", "--tracking-uri", uri, cwd=tmp_path, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = {run.data.tags["actlab.algorithm"]: run for run in runs_of(uri, "ch4_td3_mujoco")}
    assert sorted(runs) == sorted(CH4_ALGORITHMS)
    return uri, runs


@pytest.mark.integration
@pytest.mark.parametrize("name", CH4_ALGORITHMS)
def test_every_ch4_algorithm_in_a_tiny_sweep_through_mlflow(name: str, ch4_family_sweep) -> None:
    from tests.test_integration_sweep import history

    uri, runs = ch4_family_sweep
    run = runs[name]
    assert run.info.status == "FINISHED"
    assert [step for step, _ in history(uri, run.info.run_id, "eval/eval/return_mean")] == [1000, 2000]
    assert run.data.params["algorithm.config.batch_size"] == "32"
    if name != "sac":  # RLlib's SAC logs its own loss names
        assert f"{name}/critic_loss" in run.data.metrics
    if name == "savo":
        assert "savo/surrogate_loss" in run.data.metrics
    if name.startswith("greedy"):
        assert f"{name}/proposal_loss" in run.data.metrics


def candidates_and_choice(module, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(candidates, the acting action, Q_1 of every candidate) of a multi-candidate module, with the
    same random draws for the candidates and the choice."""
    with torch.no_grad():
        torch.manual_seed(1)
        cands = module.candidates(obs)
        torch.manual_seed(1)
        chosen = module.acting_action(obs)
        q = torch.stack([module.q_value(module.q1, obs, cands[:, i]) for i in range(cands.shape[1])], dim=1)
    return cands, chosen, q


@pytest.mark.parametrize("name", ["wolpertinger", "ensemble"])
def test_multi_candidate_baselines_pick_their_best_candidate(name: str) -> None:
    from rllib_modules.td3_variants import EnsembleRLModule, WolpertingerRLModule

    module_class = {"wolpertinger": WolpertingerRLModule, "ensemble": EnsembleRLModule}[name]
    obs_space, act_space = _spaces()
    torch.manual_seed(0)
    module = module_class(observation_space=obs_space, action_space=act_space,
                          model_config={"actor_hidden": [16], "critic_hidden": [16], "num_candidates": 4})
    obs = torch.randn(64, 4)
    cands, chosen, q = candidates_and_choice(module, obs)
    expected_n = 5 if name == "wolpertinger" else 4  # mu + k samples | k actors
    assert cands.shape == (64, expected_n, 2) and cands.abs().max() <= 1
    torch.testing.assert_close(module.q_value(module.q1, obs, chosen), q.max(dim=1).values)
    assert (q.max(dim=1).values >= q[:, 0]).all()  # never worse than mu(s)


@pytest.mark.parametrize("name", CH4_ALGORITHMS)
def test_every_ch4_algorithm_builds_with_an_empty_config(name: str, local_ray) -> None:
    entry = get_algorithm(name)
    ctx = BuildContext(env_id="actlab/RestrictedInvertedPendulum-v0", env_config={}, seed=0, num_env_runners=0, envs_per_env_runner=1)
    algo = entry.build(entry.config_model.model_validate({}), ctx).build_algo()
    try:
        from actlab.evaluation import evaluate_module

        result = evaluate_module(algo.get_module(), "actlab/RestrictedInvertedPendulum-v0", {}, episodes=2, seed=0)
        assert result.episodes == 2 and result.return_mean >= 0
        if name == "ensemble":
            learner = algo.learner_group._learner
            actor_params = {id(p) for p in learner.actor_parameters(learner.module["default_policy"])}
            assert all(id(p) in actor_params for p in learner.module["default_policy"].extra_actors.parameters())
    finally:
        algo.stop()
