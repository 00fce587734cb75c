"""The OKB family's algorithms (``okb``, ``okb-uniform``, ``sfols``, ``gpi``): settings, the
basis-construction loop (Alg. 1, Alg. 2, SFOLS, fixed GPI) on a real environment, acting, the
checkpointed loop state, and one real tiny sweep of every method through MLflow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from actlab.registry import BuildContext, get_algorithm
from rllib_modules.okb.basis import normalised_returns
from rllib_modules.okb.config import BasisSettings
from rllib_modules.okb.gpi import base_policy_sfs, gpi
from rllib_modules.okb.linear_support import corner_weights
from rllib_modules.okb.option_keyboard import TaskMetaPolicy
from rllib_modules.okb.replay import FeatureReplay

ENV_ID = "actlab/ItemCollection-v0"
#: Small enough that one outer iteration takes about a second on one CPU.
TINY = dict(
    iteration_env_steps=200,
    sf_hidden=[32, 32],
    sf_members=2,
    meta_hidden=[32, 32],
    batch_size=32,
    learning_starts=32,
    mpa_samples=64,
    sf_vector_states=4,
    ok_ls_iterations=2,
    test_partitions=2,
)


def _build(name: str, seed: int = 0, env_task: str = "linear", **overrides: object):
    entry = get_algorithm(name)
    settings = entry.config_model.model_validate({**TINY, **overrides})
    return entry.build(settings, BuildContext(env_id=ENV_ID, env_config={"task": env_task}, seed=seed)).build_algo()


# --- settings -----------------------------------------------------------------------------------
def test_each_algorithm_is_the_loop_with_its_own_variant_switches() -> None:
    expected = {
        "okb": ("mpa", True, 0.5),
        "okb-uniform": ("uniform", True, 0.5),
        "sfols": ("sfols", False, 1.0),
        "gpi": ("fixed", False, 1.0),
    }
    for name, (selection, keyboard, fraction) in expected.items():
        cfg = get_algorithm(name).config_model.model_validate({})
        assert (cfg.task_selection, cfg.option_keyboard, cfg.base_budget_fraction) == (selection, keyboard, fraction)
        assert all(f.description for f in type(cfg).model_fields.values())
    okb = BasisSettings()
    assert (okb.sf_members, okb.sf_hidden, okb.meta_hidden, okb.batch_size, okb.ok_ls_iterations) == (
        10, [256] * 4, [256] * 3, 256, 5
    )  # OKB App. F
    assert (okb.base_steps, okb.ok_steps_per_call) == (12_500, 2_500)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"task_selection": "mpa", "option_keyboard": False}, "needs the meta-critic"),
        ({"base_budget_fraction": 1.0}, "needs budget for OK-LS"),
        ({"sf_members": 2, "sf_target_members": 3}, "exceeds sf_members"),
        ({"iteration_env_step": 10}, "Extra inputs are not permitted"),
    ],
)
def test_impossible_settings_are_refused(overrides: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BasisSettings.model_validate(overrides)


def test_a_non_feature_env_is_refused_before_ray_starts() -> None:
    entry = get_algorithm("okb")
    with pytest.raises(ValueError, match="has no reward features"):
        entry.build(entry.config_model.model_validate({}), BuildContext(env_id="CartPole-v1", env_config={}, seed=0))


# --- pieces ---------------------------------------------------------------------------------------
def test_normalised_return_by_hand() -> None:
    reference_ND = np.array([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]])
    w_MD = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    # w=(1,0): values 1, 0, .5 -> (0.5-0)/(1-0); w=(.5,.5): 0.5, 1, 0.5 -> (0.75-0.5)/(1-0.5); w=(0,1): 0, 2, .5 -> 1/2
    returns_M = np.array([0.5, 0.75, 1.0])
    np.testing.assert_allclose(normalised_returns(returns_M, w_MD, reference_ND), [0.5, 0.5, 0.5])
    flat = normalised_returns(np.array([1.0, 0.9]), np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[1.0, 0.0], [1.0, 3.0]]))
    np.testing.assert_array_equal(flat, [1.0, 0.0])  # every reference equal: 1 iff the return reaches it


def test_feature_replay_keeps_the_newest_rows_and_samples_them() -> None:
    buffer = FeatureReplay(4, obs_dim=2, feature_dim=3, z_dim=3, seed=0)
    for i in range(6):
        buffer.add(np.full(2, i), i % 3, np.full(3, i), np.full(2, i + 1), i == 5, z=np.full(3, -i))
    assert len(buffer) == 4
    batch = buffer.sample(64)
    assert set(batch["obs"][:, 0].tolist()) == {2.0, 3.0, 4.0, 5.0}
    torch.testing.assert_close(batch["next_obs"][:, 0], batch["obs"][:, 0] + 1)
    torch.testing.assert_close(batch["z"][:, 0], -batch["phi"][:, 0])
    assert batch["terminated"][batch["obs"][:, 0] == 5].eq(1).all()


# --- the loop on a real environment ----------------------------------------------------------------
def test_okb_iteration_follows_algorithms_1_and_2(local_ray) -> None:
    algo = _build("okb")
    try:
        loop = algo.basis_loop
        result = algo.train()
        metrics = result["actlab_metrics"]
        st = loop.state
        # Budget: exactly one iteration's interactions, half on the base policy.
        assert result["num_env_steps_sampled_lifetime"] == 200 and loop.env_steps == 200
        # Alg. 1: the first base policy is the uniform task.
        np.testing.assert_allclose(st.base_weights, [[0.5, 0.5]])
        np.testing.assert_allclose(algo.get_module().base_weights_JD.numpy(), [[0.5, 0.5]])
        # Alg. 2 from Ψ^OK = {}: CornerW(∅) = the simplex extrema are in the support set.
        for e in np.eye(2):
            assert np.abs(st.support - e).max(axis=1).min() < 1e-9
        # Alg. 1 lines 8-14: the next task is one of the corner weights of Ψ^base ∪ Ψ^OK, not a learned task.
        corners = np.concatenate([corner_weights(st.base_sf), corner_weights(st.ok_sf)])
        assert np.abs(corners - st.next_task).max(axis=1).min() < 1e-9
        assert np.abs(st.next_task - np.array([0.5, 0.5])).max() > 0.01
        assert metrics["basis/num_base_policies"] == 1.0 and metrics["basis/num_candidates"] >= 1
        assert np.isfinite(metrics["basis/mean_return"])
        assert bool(algo.get_module().ok_ready)

        algo.train()
        assert loop.env_steps == 400 and len(st.visited) == 2
        assert len(st.base_weights) in (1, 2)  # RemoveDominated may prune the first, never the newest
        np.testing.assert_allclose(st.base_weights[-1], st.visited[-1])
    finally:
        algo.stop()


def test_gpi_learns_its_fixed_tasks_in_order_then_refines_with_equal_budget(local_ray) -> None:
    tasks = [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
    algo = _build("gpi", fixed_tasks=tasks, remove_dominated=False)
    try:
        for _ in range(3):
            algo.train()
        loop = algo.basis_loop
        # the fixed tasks in order (the first replaces initial_task); after them the basis is complete
        np.testing.assert_allclose(loop.state.visited, tasks)
        np.testing.assert_allclose(loop.state.base_weights, tasks)
        assert loop.state.converged and loop.env_steps == 600
        algo.train()  # a complete basis still spends the iteration's budget (refinement)
        assert loop.env_steps == 800 and len(loop.state.base_weights) == 3
    finally:
        algo.stop()


def test_epsilon_decays_once_over_the_run_or_restarts_per_policy(local_ray) -> None:
    algo = _build("gpi", epsilon_decay_steps=400, epsilon_start=1.0, epsilon_end=0.2)
    try:
        loop = algo.basis_loop
        assert loop.base_epsilon(0, 200) == pytest.approx(1.0)
        algo.train()  # 200 interactions: halfway through the global decay, whatever the policy
        assert loop.base_epsilon(0, 200) == pytest.approx(0.6)
        algo.train()
        assert loop.base_epsilon(0, 200) == pytest.approx(0.2) and loop.base_epsilon(150, 200) == pytest.approx(0.2)
        loop.cfg = loop.cfg.model_copy(update={"epsilon_schedule": "per_policy", "epsilon_decay_fraction": 0.5})
        # per policy: restarts at ε_start, reaches ε_end after half of the call's budget
        assert [loop.base_epsilon(t, 200) for t in (0, 50, 100, 150)] == pytest.approx([1.0, 0.6, 0.2, 0.2])
    finally:
        algo.stop()


@pytest.mark.parametrize("behavior", ["task", "gpi"])
def test_new_policy_acts_greedily_on_its_task_or_by_gpi_over_the_basis_and_its_task(local_ray, behavior: str) -> None:
    # ε = 0 and no updates (learning_starts beyond the budget): every stored action is the behaviour's greedy one.
    algo = _build("gpi", new_policy_behavior=behavior, epsilon_start=0.0, epsilon_end=0.0, learning_starts=5000)
    try:
        loop, module = algo.basis_loop, algo.get_module()
        algo.train()  # π_(1,0)
        tasks = np.array([[1.0, 0.0], [0.0, 1.0]])
        before = len(loop.base_replay)
        loop.new_policy(tasks[1], 60, tasks)
        rows = slice(before, before + 60)
        obs = torch.as_tensor(loop.base_replay.obs_S[rows])
        w = torch.tensor([[0.0, 1.0]]).expand(len(obs), -1)
        stored = torch.as_tensor(loop.base_replay.action[rows])
        own = module.base_actions(obs, w)
        by_gpi = gpi(base_policy_sfs(module.usfa.act_sfs, obs, torch.as_tensor(tasks, dtype=torch.float32)), w).actions_B
        expected = by_gpi if behavior == "gpi" else own
        assert torch.equal(stored, expected)
        assert not torch.equal(own, by_gpi)  # the two behaviours differ on these states
    finally:
        algo.stop()


def test_rollout_sf_vectors_equal_a_step_by_step_greedy_rollout(local_ray) -> None:
    """The measured SF vector of π_w is Σ_t γ^t φ_t of its greedy episode, seed for seed; more base
    policies than evaluation envs run in several chunks."""
    import gymnasium as gym

    entry = get_algorithm("gpi")
    settings = entry.config_model.model_validate({**TINY, "iteration_env_steps": 100})
    env_config = {"task": "linear", "max_steps": 40}
    algo = entry.build(settings, BuildContext(env_id=ENV_ID, env_config=env_config, seed=0)).build_algo()
    try:
        loop, module = algo.basis_loop, algo.get_module()
        algo.train()
        tasks_KD = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.2, 0.8], [0.9, 0.1]])
        assert len(tasks_KD) > len(loop.eval_envs)
        sf_KD, length_K = loop.rollout_sf_vectors(tasks_KD, episodes=2)
        env = gym.make(ENV_ID, **env_config)
        for k, w_D in enumerate(tasks_KD):
            expected_D, steps = np.zeros(2), 0
            for episode in range(2):
                obs, _ = env.reset(seed=3_000_017 * (loop.seed + 1) + 1000 * episode + k)
                discount, done = 1.0, False
                while not done:
                    action = int(module.base_actions(module.flat_obs(obs), torch.as_tensor(w_D, dtype=torch.float32)[None])[0])
                    obs, _, terminated, truncated, info = env.step(action)
                    expected_D += discount * np.asarray(info["features"]) / 2
                    discount *= loop.gamma
                    steps += 1
                    done = terminated or truncated
            np.testing.assert_allclose(sf_KD[k], expected_D, atol=1e-6)
            assert length_K[k] == steps / 2
    finally:
        algo.stop()


def test_sfols_picks_the_corner_with_the_largest_optimistic_improvement(local_ray) -> None:
    from rllib_modules.okb.linear_support import corner_priority

    algo = _build("sfols")
    try:
        algo.train()
        st = algo.basis_loop.state
        assert algo.get_module().keyboard is None
        corners = [w for w in corner_weights(st.base_sf) if np.abs(st.visited - w).max(axis=1).min() > 0.01]
        priorities = [corner_priority(w, st.base_sf, st.visited) for w in corners]
        if st.next_task is not None:
            np.testing.assert_allclose(st.next_task, corners[int(np.argmax(priorities))])
        else:
            assert max(priorities, default=0.0) <= BasisSettings().sfols_min_priority
    finally:
        algo.stop()


def test_module_acts_by_gpi_until_omega_is_trained_and_ok_with_identity_omega_is_gpi(local_ray) -> None:
    algo = _build("okb")
    try:
        algo.train()
        module = algo.basis_loop.module
        obs_BS = algo.basis_loop.initial_obs_XS.repeat(4, 1)
        obs_BS = obs_BS + 0.3 * torch.rand(obs_BS.shape, generator=torch.Generator().manual_seed(0))
        w_BD = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.9, 0.1]]).repeat_interleave(4, 0)
        psi_BJAD = base_policy_sfs(module.usfa.act_sfs, obs_BS, module.base_weights_JD)
        expected = gpi(psi_BJAD, w_BD).actions_B
        module.ok_ready.fill_(False)
        torch.testing.assert_close(module.act(obs_BS, w_BD), expected)
        module.ok_ready.fill_(True)
        trained_meta = module.keyboard.meta_policy
        module.keyboard.meta_policy = TaskMetaPolicy()  # ω(s, w) = w / ||w||: the OK is GPI (Eq. 7)
        torch.testing.assert_close(module.act(obs_BS, w_BD), expected)
        module.keyboard.meta_policy = trained_meta
    finally:
        algo.stop()


def test_twin_critic_and_delayed_actor_in_the_learner(local_ray) -> None:
    algo = _build("okb", meta_critics=2, meta_policy_delay=3)
    try:
        algo.train()
        loop = algo.basis_loop
        keyboard = loop.module.keyboard
        assert keyboard.critic.num_members == 2
        batch, support = loop.ok_replay.sample(32), torch.as_tensor(loop.state.support, dtype=torch.float32)
        loop.learner._ok_critic_updates = 0
        moved = []
        for _ in range(6):
            before = [p.clone() for p in keyboard.meta_policy.parameters()]
            critic_loss, actor_loss = loop.learner.ok_update(batch, support, loop.gamma)
            assert np.isfinite(critic_loss)
            changed = any(not torch.equal(a, b) for a, b in zip(before, keyboard.meta_policy.parameters()))
            assert changed == np.isfinite(actor_loss)
            moved.append(changed)
        assert moved == [False, False, True, False, False, True]  # ω steps on every third critic step
    finally:
        algo.stop()


def test_okb_evaluates_gpi_over_the_same_basis_beside_the_ok(local_ray) -> None:
    """The diagnostic that tells a drop caused by ω from one caused by the base policies: with
    ω(s, w) = w the two evaluations are the same policy and must agree exactly."""
    algo = _build("okb")
    try:
        metrics = algo.train()["actlab_metrics"]
        assert {"basis/mean_return", "basis/gpi_mean_return"} <= set(metrics)
        assert "basis/guarded_mean_return" not in metrics  # ok_gpi_guard is off by default
        loop = algo.basis_loop
        # the basis' own values: the USFA's estimates the geometry uses, and greedy rollouts'
        st = loop.state
        measured_KD, length_K = loop.rollout_sf_vectors(st.base_weights, episodes=1)
        assert metrics["basis/base_measured_value"] == pytest.approx(float((st.base_weights * measured_KD).sum(1).mean()), abs=1e-12)
        assert metrics["basis/base_estimated_value"] == pytest.approx(float((st.base_weights * st.base_sf).sum(1).mean()), abs=1e-6)
        assert metrics["basis/base_episode_length"] == float(length_K.mean()) > 0
        compared = loop.evaluate(compare_gpi_guard=True)
        assert compared["omega_mean_return"] == compared["mean_return"] == loop.evaluate()["mean_return"]
        loop.module.keyboard.meta_policy = TaskMetaPolicy()
        out = loop.evaluate()
        assert out["gpi_mean_return"] == out["mean_return"]
        np.testing.assert_allclose(loop.test_task_returns(loop.module.gpi_actions), loop.test_task_returns(loop.module.act))
    finally:
        algo.stop()
    algo = _build("sfols", base_rollout_episodes=0)
    try:
        metrics = algo.train()["actlab_metrics"]
        assert "basis/mean_return" in metrics and "basis/gpi_mean_return" not in metrics  # GPI is its policy
        assert "basis/base_measured_value" not in metrics  # the check is off
    finally:
        algo.stop()
    algo = _build("okb", ok_gpi_guard=True)
    try:
        metrics = algo.train()["actlab_metrics"]
        assert metrics["basis/mean_return"] == metrics["basis/guarded_mean_return"]
        assert "basis/omega_mean_return" in metrics
        loop = algo.basis_loop
        guarded = loop.test_task_returns(lambda obs_BS, w_BD: loop.module.ok_actions(obs_BS, w_BD, gpi_guard=True)[0])
        assert metrics["basis/mean_return"] == pytest.approx(float(guarded.mean()), abs=1e-12)
    finally:
        algo.stop()


def test_checkpoint_restores_the_basis_and_the_networks(local_ray, tmp_path: Path) -> None:
    algo = _build("okb")
    try:
        algo.train()
        algo.save_to_path(str(tmp_path / "ckpt"))
        state = algo.basis_loop.state
        psi = algo.basis_loop.base_sf_vectors(state.base_weights)
    finally:
        algo.stop()
    restored = _build("okb")
    try:
        restored.restore_from_path(str(tmp_path / "ckpt"))
        loop = restored.basis_loop
        np.testing.assert_allclose(loop.state.base_weights, state.base_weights)
        np.testing.assert_allclose(loop.state.next_task, state.next_task)
        np.testing.assert_allclose(loop.state.support, state.support)
        assert loop.env_steps == 200
        np.testing.assert_allclose(loop.base_sf_vectors(loop.state.base_weights), psi, rtol=1e-6)
        restored.train()
        assert loop.env_steps == 400
    finally:
        restored.stop()


# --- a real tiny sweep of every method ----------------------------------------------------------------
SWEEP_SPEC = """
name: okb_tiny
algorithm:
  name: okb
  config: {config}
env:
  name: actlab/ItemCollection-v0
  config: {{}}
seeds: [0]
grid:
  algorithm.name: [okb, okb-uniform, sfols, sip, gpi]
stop:
  iterations: 2
evaluation:
  interval: 0
resources:
  envs_per_env_runner: 1
  concurrent_trials: 2
checkpoint:
  interval: 1
"""


def test_tiny_sweep_of_every_method_through_mlflow(tmp_path: Path, local_ray) -> None:
    import json

    from tests.test_integration_sweep import actlab, history, runs_of

    spec = tmp_path / "okb_tiny.yaml"
    spec.write_text(SWEEP_SPEC.format(config=json.dumps(TINY)))
    uri = f"sqlite:///{tmp_path}/mlruns.db"
    proc = actlab("run", str(spec), "--tracking-uri", uri, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = {r.data.tags["actlab.algorithm"]: r for r in runs_of(uri, "okb_tiny")}
    assert set(runs) == {"okb", "okb-uniform", "sfols", "sip", "gpi"}
    for name, run in runs.items():
        assert run.info.status == "FINISHED", name
        steps = [s for s, _ in history(uri, run.info.run_id, "basis/mean_return")]
        assert steps == [200, 400], (name, steps)
        bases = [v for _, v in history(uri, run.info.run_id, "basis/num_base_policies")]
        assert bases[0] == 1.0 and 1.0 <= bases[1] <= 2.0
        assert run.data.params["algorithm.name"] == name
    assert "basis/support_size" in runs["okb"].data.metrics
    assert "basis/support_size" not in runs["sfols"].data.metrics
    assert "basis/gpi_mean_return" in runs["okb"].data.metrics

    # The trial's last checkpoint, rebuilt outside Tune from its params.json, evaluates to what the
    # run logged (the OKB checkpoint benchmarks rely on this).
    from rllib_modules.okb.build import restore_trial_checkpoint

    (checkpoint,) = [
        c
        for c in tmp_path.glob("actlab_results/okb_tiny*/*/checkpoint_000001")
        if json.loads((c.parent / "params.json").read_text())["trial"]["spec"]["algorithm"]["name"] == "okb"
    ]
    algo, trial = restore_trial_checkpoint(checkpoint)
    try:
        assert trial["spec"]["algorithm"]["name"] == "okb" and algo.basis_loop.state.iteration == 2
        out = algo.basis_loop.evaluate(compare_gpi_guard=True)
    finally:
        algo.stop()
    logged = runs["okb"].data.metrics
    for key in ("mean_return", "gpi_mean_return"):
        assert out[key] == pytest.approx(logged[f"basis/{key}"], abs=1e-9), key
    assert out["omega_mean_return"] == out["mean_return"]


# --- meta-policies for the env's own reward (OKB §5 Q3) -------------------------------------------
def _weight_choice_loss_by_loop(q, q_target, obs, choice, reward, next_obs, terminated, gamma: float, *,
                                double_q: bool, continues=None) -> torch.Tensor:
    """The (double) DQN loss over weight choices, one row at a time; ``continues`` marks rows whose
    option runs on past s' (intra-option: bootstrap from the held choice)."""
    with torch.no_grad():
        expected = 0.0
        n = len(obs)
        for b in range(n):
            q_next = q_target(next_obs[b : b + 1])[0].tolist()
            online_next = q(next_obs[b : b + 1])[0].tolist()
            k = online_next.index(max(online_next)) if double_q else q_next.index(max(q_next))
            if continues is not None and continues[b]:
                k = int(choice[b])
            target = reward[b] + gamma * (1 - terminated[b]) * q_next[k]
            expected += (q(obs[b : b + 1])[0, choice[b]] - target) ** 2 / n
    return torch.as_tensor(expected)


def test_weight_choice_td_loss_by_hand() -> None:
    from rllib_modules.okb.reward_meta import WeightChoiceQ, weight_choice_td_loss

    q, q_target = WeightChoiceQ(3, 2, [4]), WeightChoiceQ(3, 2, [4])
    obs, next_obs = torch.randn(5, 3), torch.randn(5, 3)
    choice, reward = torch.tensor([0, 1, 1, 0, 1]), torch.randn(5)
    terminated = torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0])
    for double_q in (False, True):
        loss = weight_choice_td_loss(q, q_target, obs, choice, reward, next_obs, terminated, 0.9, double_q=double_q)
        expected = _weight_choice_loss_by_loop(q, q_target, obs, choice, reward, next_obs, terminated, 0.9, double_q=double_q)
        torch.testing.assert_close(loss, expected.to(loss.dtype))


def test_weight_choice_td_loss_discounts_each_smdp_row_by_its_own_duration() -> None:
    """SMDP Q-learning: target R + γ^τ max q(s'), τ per row; τ = 1 everywhere is the one-step loss."""
    from rllib_modules.okb.reward_meta import WeightChoiceQ, weight_choice_td_loss

    torch.manual_seed(1)
    q, q_target = WeightChoiceQ(3, 3, [4]), WeightChoiceQ(3, 3, [4])
    obs, next_obs = torch.randn(4, 3), torch.randn(4, 3)
    choice, reward = torch.tensor([0, 2, 1, 0]), torch.randn(4)
    terminated, duration = torch.tensor([0.0, 0.0, 1.0, 0.0]), torch.tensor([1.0, 3.0, 7.0, 12.0])
    loss = weight_choice_td_loss(q, q_target, obs, choice, reward, next_obs, terminated, 0.9, duration_B=duration, double_q=False)
    with torch.no_grad():
        expected = 0.0
        for b in range(4):
            bootstrap = max(q_target(next_obs[b : b + 1])[0].tolist())
            target = reward[b] + 0.9 ** int(duration[b]) * (1 - terminated[b]) * bootstrap
            expected += (q(obs[b : b + 1])[0, choice[b]] - target) ** 2 / 4
    torch.testing.assert_close(loss, torch.as_tensor(expected, dtype=loss.dtype))
    one_step = weight_choice_td_loss(q, q_target, obs, choice, reward, next_obs, terminated, 0.9, duration_B=torch.ones(4))
    torch.testing.assert_close(one_step, weight_choice_td_loss(q, q_target, obs, choice, reward, next_obs, terminated, 0.9))


def test_intra_option_loss_bootstraps_from_the_held_choice_until_the_option_ends() -> None:
    """Intra-option Q-learning (Sutton, Precup & Singh 1999): the target is r + γ q_t(s', k) while the
    option runs on, r + γ q_t(s', argmax q(s')) (double DQN) where it ended; checked row by row."""
    from rllib_modules.okb.reward_meta import WeightChoiceQ, weight_choice_td_loss

    torch.manual_seed(2)
    q, q_target = WeightChoiceQ(3, 3, [4]), WeightChoiceQ(3, 3, [4])
    obs, next_obs = torch.randn(5, 3), torch.randn(5, 3)
    choice, reward = torch.tensor([0, 2, 1, 0, 2]), torch.randn(5)
    terminated, continues = torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0]), torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0])
    loss = weight_choice_td_loss(q, q_target, obs, choice, reward, next_obs, terminated, 0.9, continues_B=continues)
    expected = _weight_choice_loss_by_loop(q, q_target, obs, choice, reward, next_obs, terminated, 0.9, double_q=True,
                                           continues=continues)
    torch.testing.assert_close(loss, expected.to(loss.dtype))
    ended_everywhere = weight_choice_td_loss(q, q_target, obs, choice, reward, next_obs, terminated, 0.9, continues_B=torch.zeros(5))
    torch.testing.assert_close(ended_everywhere, weight_choice_td_loss(q, q_target, obs, choice, reward, next_obs, terminated, 0.9))


def test_held_choices_keep_a_weight_until_a_feature_fires_the_episode_ends_or_time_runs_out() -> None:
    from rllib_modules.okb.reward_meta import HeldChoices

    held = HeldChoices(3, max_steps=3)
    assert held.pick([0, 1, 2], np.array([2, 1, 0])).tolist() == [2, 1, 0]  # first step: the proposals
    held.observe(0, np.array([0.0, 1.0]), episode_ended=False)  # env 0 picked an item up
    held.observe(1, np.zeros(2), episode_ended=True)  # env 1's episode ended
    held.observe(2, np.zeros(2), episode_ended=False)  # env 2's option runs on
    assert [held.needs_choice(i) for i in range(3)] == [True, True, False]
    assert held.pick([0, 1, 2], np.array([0, 0, 2])).tolist() == [0, 0, 0]  # env 2 keeps its 0
    assert held.pick([2], np.array([1])).tolist() == [0]  # env 2's third step, still held
    assert held.needs_choice(2) and held.pick([2], np.array([1])).tolist() == [1]  # max_steps reached
    per_step = HeldChoices(1, max_steps=1)  # choice_termination 'step'
    assert [int(per_step.pick([0], np.array([k]))[0]) for k in (0, 2, 1)] == [0, 2, 1]


def test_sip_stores_one_smdp_row_per_option_ended_by_an_item_or_its_time_limit(local_ray) -> None:
    """On the real Item Collection env: every SIP meta row is an option whose return is γ^(τ−1) times the
    reward of the pick-up that ended it (±1 on the sequential task), or 0 when time or the episode ran out."""
    algo = _build("sip", target="env_reward", basis_iterations=2, task_eval_episodes=2, env_task="sequential",
                  choice_max_steps=6, learning_starts=10_000, choice_learning="smdp")
    try:
        loop = algo.basis_loop
        for _ in range(3):  # two basis iterations (e1, e2), then 200 meta steps
            algo.train()
        replay, gamma = loop.reward_replay, loop.gamma
        n = len(replay)
        duration, ret = replay.duration[:n], replay.phi_D[:n, 0]
        assert 200 / 6 <= n < 200 and (duration >= 1).all() and (duration <= 6).all()
        assert duration.sum() <= 200  # the option still running when the call ended is not stored
        picked = ret != 0
        assert picked.any() and (duration[~picked] == 6).sum() >= 1
        np.testing.assert_allclose(np.abs(ret[picked]), gamma ** (duration[picked] - 1), rtol=1e-5)
        per_step = _build("sip", target="env_reward", basis_iterations=2, env_task="sequential",
                          choice_termination="step", learning_starts=10_000)
        try:
            for _ in range(3):
                per_step.train()
            assert len(per_step.basis_loop.reward_replay) == 200  # one row per env step
        finally:
            per_step.stop()
    finally:
        algo.stop()


def test_sip_intra_option_stores_one_row_per_step_marking_where_the_option_runs_on(local_ray) -> None:
    """choice_learning 'intra_option' on the real sequential Item Collection: one row per meta step with
    the step's own reward; a row 'continues' exactly when no item was picked up, the episode went on
    and the option had not reached choice_max_steps."""
    algo = _build("sip", target="env_reward", basis_iterations=2, task_eval_episodes=2, env_task="sequential",
                  choice_max_steps=6, learning_starts=10_000, choice_learning="intra_option")
    try:
        for _ in range(3):  # two basis iterations (e1, e2), then 200 meta steps
            algo.train()
        replay = algo.basis_loop.reward_replay
        n = len(replay)
        assert n == 200 and (replay.duration[:n] == 1).all()
        reward, continues = replay.phi_D[:n, 0], replay.continues[:n]
        assert set(np.unique(reward)) <= {-1.0, 0.0, 1.0} and (reward != 0).any()
        assert (continues[reward != 0] == 0).all()  # a pick-up ends the option
        runs, run = [], 0  # lengths of the stretches of continuing rows: each shorter than the time limit
        for c in continues:
            run = run + 1 if c else 0
            runs.append(run)
        assert 0 < max(runs) <= 5 and 0.3 < continues.mean() < 1.0
    finally:
        algo.stop()


def test_reward_critic_reuses_the_ok_losses_as_a_scalar_td_target() -> None:
    from rllib_modules.okb.option_keyboard import ok_critic_loss, training_mode
    from rllib_modules.okb.reward_meta import RewardMetaCritic, RewardMetaPolicy

    torch.manual_seed(0)
    policy, critic = RewardMetaPolicy(4, 2, hidden_sizes=[8]), RewardMetaCritic(4, 2, hidden_sizes=[8], batch_norm=False)
    obs, next_obs, z = torch.randn(6, 4), torch.randn(6, 4), torch.nn.functional.normalize(torch.randn(6, 2), dim=-1)
    reward, terminated = torch.randn(6, 1), torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0, 1.0])
    out = ok_critic_loss(critic, policy, obs, z, reward, next_obs, terminated, torch.ones(6, 1), 0.95, joint_forward=False)
    with torch.no_grad(), training_mode(policy, False):
        expected_target = reward[:, 0] + 0.95 * (1 - terminated) * critic(next_obs, policy(next_obs))[:, 0]
    torch.testing.assert_close(out.target_BD[:, 0], expected_target)
    assert torch.allclose(policy(obs).norm(dim=-1), torch.ones(6))


@pytest.mark.parametrize("name", ["okb", "sip", "gpi"])
def test_env_reward_stage_learns_a_meta_policy_over_the_fixed_basis(local_ray, name: str) -> None:
    algo = _build(name, target="env_reward", basis_iterations=1, task_eval_episodes=2, env_task="sequential")
    try:
        loop = algo.basis_loop
        results = [algo.train()["actlab_metrics"] for _ in range(3 if name != "okb" else 2)]
        basis = loop.state.base_weights.copy()
        if name in ("sip", "gpi"):  # one base policy per feature (SIP's definition)
            np.testing.assert_allclose(basis, np.eye(2))
        final = results[-1]
        assert np.isfinite(final["task/return_mean"]) and loop.env_steps == 200 * len(results)
        module = loop.module
        obs = loop.initial_obs_XS
        psi = base_policy_sfs(module.usfa.act_sfs, obs, module.base_weights_JD)
        if name == "okb":  # acting is GPI(s, ω(s); Π) (Eq. 4)
            assert final["task/meta_env_steps"] == 200.0 and bool(module.reward_ready)
            module.reward_policy.eval()
            expected = gpi(psi, module.reward_policy(obs)).actions_B
            torch.testing.assert_close(module.reward_meta_actions(obs)[0], expected)
        elif name == "sip":  # acting is GPI(s, w_k; Π) with k = argmax_k q(s, k)
            assert final["task/meta_env_steps"] == 200.0
            k = module.choice_q(obs).argmax(dim=-1)
            torch.testing.assert_close(module.reward_meta_actions(obs)[0], gpi(psi, module.choice_weights[k]).actions_B)
        else:  # GPI lines: one return per fixed weight, no meta-learning
            assert final["task/meta_env_steps"] == 0.0 and not bool(module.reward_ready)
            lines = [final[f"task/gpi_return_w{k}"] for k in range(3)]
            assert final["task/return_mean"] == max(lines)
        np.testing.assert_allclose(loop.state.base_weights, basis)  # the basis stays fixed
    finally:
        algo.stop()


def test_minecart_reference_front_trades_the_two_ores_off_against_fuel() -> None:
    import gymnasium as gym

    env = gym.make("actlab/Minecart-v0").unwrapped
    front_ND = env.reference_sf_vectors(0.98)
    assert front_ND.ndim == 2 and front_ND.shape[1] == 3 and len(front_ND) >= 3
    assert (front_ND[:, 2] < 0).all() and (front_ND[:, :2] >= 0).all()  # every trip burns fuel
    assert np.argmax(front_ND[:, 0]) != np.argmax(front_ND[:, 1])  # ore 1 and ore 2 conflict
    # the normalised return of the front's own best vector is 1 on every test task, its worst 0
    w_MD = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.4, 0.4, 0.2]])
    best_M = (w_MD @ front_ND.T).max(axis=1)
    np.testing.assert_allclose(normalised_returns(best_M, w_MD, front_ND), 1.0)


def test_weight_choices_are_the_simplex_lattice_or_its_sign_patterns() -> None:
    from rllib_modules.okb.reward_meta import weight_choices

    simplex = weight_choices(3, 2)
    assert len(simplex) == 6 and (simplex >= 0).all()
    np.testing.assert_allclose(simplex.sum(axis=1), 1.0)
    signed = weight_choices(2, 2, signed=True)
    np.testing.assert_allclose(np.abs(signed).sum(axis=1), 1.0)  # the L1 sphere
    as_set = {tuple(row) for row in signed.tolist()}
    assert len(as_set) == len(signed) == 8  # 4 axis points + 4 diagonal points, no ±0 duplicates
    assert (0.5, -0.5) in as_set and (1.0, 0.0) in as_set and (-1.0, 0.0) in as_set


# okb-uniform and gpi build the same networks as okb and sfols.
@pytest.mark.parametrize("name", ["okb", "sfols", "sip"])
def test_each_algorithm_builds_and_iterates_at_the_papers_sizes_with_an_empty_config(local_ray, name: str) -> None:
    """``config: {}`` is the paper's network sizes (App. F); one short iteration acts, evaluates, picks a task."""
    entry = get_algorithm(name)
    settings = entry.config_model.model_validate({"iteration_env_steps": 40, "test_partitions": 1, "sf_vector_states": 2,
                                                  "mpa_samples": 16, "task_eval_episodes": 1})
    algo = entry.build(settings, BuildContext(env_id=ENV_ID, env_config={"task": "sequential"}, seed=0)).build_algo()
    try:
        module = algo.basis_loop.module
        assert module.usfa.num_members == 10
        hidden = [layer.linear.out_features for layer in [module.usfa.obs_embed, *module.usfa.trunk]]
        assert hidden == [256, 256, 256, 256]
        metrics = algo.train()["actlab_metrics"]
        assert algo.basis_loop.env_steps == 40
        assert np.isfinite(metrics["basis/mean_return"]) and metrics["basis/num_base_policies"] == 1.0
    finally:
        algo.stop()


def test_same_seed_gives_the_same_basis_and_metrics(local_ray) -> None:
    """A seeded OKB run is reproducible: two runs of two iterations agree on every metric and weight."""
    runs = []
    for _ in range(2):
        algo = _build("okb", seed=3)
        try:
            metrics = [algo.train()["actlab_metrics"] for _ in range(2)]
            usfa = [p.detach().clone() for p in algo.basis_loop.module.usfa.parameters()]
            runs.append((metrics, usfa, algo.basis_loop.state.base_weights.copy()))
        finally:
            algo.stop()
    (m0, p0, b0), (m1, p1, b1) = runs
    np.testing.assert_array_equal(b0, b1)
    for a, b in zip(p0, p1):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for it0, it1 in zip(m0, m1):
        keys = [k for k in it0 if k.startswith(("basis/", "train/")) and "time" not in k]
        assert keys and {k: it0[k] for k in keys} == {k: it1[k] for k in keys}
