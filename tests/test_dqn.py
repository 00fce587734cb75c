"""``dqn``: RLlib's own DQN as the OKB §5 (Q3) from-scratch baseline on Item Collection.

Settings validation, the ``DQNConfig`` and module that ``build`` produces (checked against
hand-computed schedules, layer sizes and replay ratios, no Ray), and one real tiny sweep through
Tune and MLflow on the sequential (non-linear) Item-Collection task.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
import torch
from pydantic import ValidationError

from actlab.registry import BuildContext, get_algorithm

ENV_ID = "actlab/ItemCollection-v0"


def _ctx(envs_per_env_runner: int = 1) -> BuildContext:
    return BuildContext(env_id=ENV_ID, env_config={"task": "sequential"}, seed=3, envs_per_env_runner=envs_per_env_runner)


def test_settings_reject_unknown_keys_with_a_did_you_mean(write_spec) -> None:
    from actlab.spec import SpecError, load_sweep

    settings = get_algorithm("dqn").config_model
    with pytest.raises(ValidationError, match="epsilon_decay_step\n.*Extra inputs are not permitted"):
        settings.model_validate({"epsilon_decay_step": 10})
    with pytest.raises(ValidationError, match="must be >= n_step"):
        settings.model_validate({"n_step": 3, "rollout_fragment_length": 2})

    path = write_spec(
        f"name: t\nalgorithm:\n  name: dqn\n  config:\n    epsilon_decay_step: 10\n"
        f"env:\n  name: {ENV_ID}\nstop:\n  env_steps: 100\n"
    )
    with pytest.raises(SpecError) as info:
        load_sweep(path)
    (line,) = [str(p) for p in info.value.problems]
    assert line.startswith(f"{path}: algorithm.config.epsilon_decay_step: unknown field")
    assert "did you mean 'epsilon_decay_steps'?" in line


def test_every_setting_is_documented_and_empty_config_has_paper_values() -> None:
    from ray.rllib.algorithms.dqn import DQNConfig

    entry = get_algorithm("dqn")
    assert all(f.description for f in entry.config_model.model_fields.values())
    cfg = entry.build(entry.config_model.model_validate({}), _ctx())
    assert isinstance(cfg, DQNConfig)
    cfg.validate()
    assert (cfg.gamma, cfg.train_batch_size_per_learner) == (0.95, 256)  # OKB App. F.2 / App. F
    assert cfg.epsilon == [(0, 1.0), (50_000, 0.05)]
    assert cfg.double_q and not cfg.dueling and cfg.n_step == 1
    assert cfg.model_config["fcnet_hiddens"] == [256, 256]
    assert cfg.replay_buffer_config == {"type": "EpisodeReplayBuffer", "capacity": 100_000}
    assert cfg.seed == 3


def test_build_wires_the_chosen_values_into_config_and_module() -> None:
    entry = get_algorithm("dqn")
    settings = entry.config_model.model_validate({
        "gamma": 0.9, "lr": 1e-3, "hidden": [64, 32], "dueling": True, "n_step": 3, "rollout_fragment_length": 3,
        "epsilon_initial": 0.8, "epsilon_final": 0.1, "epsilon_decay_steps": 1000, "target_update_freq": 77,
        "tau": 0.5, "loss": "mse", "prioritized_replay": True, "buffer_size": 5000, "learning_starts": 12,
        "batch_size": 32, "iteration_env_steps": 90, "grad_clip": None,
    })
    cfg = entry.build(settings, _ctx())
    cfg.validate()
    assert (cfg.gamma, cfg.lr, cfg.n_step, cfg.tau, cfg.target_network_update_freq) == (0.9, 1e-3, 3, 0.5, 77)
    assert (cfg.td_error_loss_fn, cfg.grad_clip, cfg.num_steps_sampled_before_learning_starts) == ("mse", None, 12)
    assert cfg.replay_buffer_config["type"] == "PrioritizedEpisodeReplayBuffer"
    assert cfg.replay_buffer_config["capacity"] == 5000
    assert (cfg.rollout_fragment_length, cfg.min_sample_timesteps_per_iteration) == (3, 90)

    # The module RLlib builds from this config: 200 -> 64 -> 32 -> one Q per action (+ value head).
    module = cfg.get_rl_module_spec(env=gym.make(ENV_ID)).build()
    linears = [m for m in module.encoder.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(200, 64), (64, 32)]
    assert [m.out_features for m in module.af.modules() if isinstance(m, torch.nn.Linear)] == [4]
    assert module.uses_dueling and module.uses_double_q
    # ε-greedy: linear from 0.8 at step 0 to 0.1 at step 1000, then constant.
    for t, expected in [(0, 0.8), (250, 0.625), (500, 0.45), (1000, 0.1), (40_000, 0.1)]:
        module.epsilon_schedule.update(t)
        assert float(module.epsilon_schedule.get_current_value()) == pytest.approx(expected)
    torch.manual_seed(0)
    obs = torch.zeros(4000, 200)
    greedy = module.forward_inference({"obs": obs})["actions"]
    explored = module.forward_exploration({"obs": obs}, t=500)["actions"]
    # ε = 0.45, 4 actions: P(action != greedy) = 0.45 * 3/4 = 0.3375 (binomial sd 0.0075).
    assert (explored != greedy).float().mean().item() == pytest.approx(0.3375, abs=0.04)


@pytest.mark.parametrize(("updates_per_step", "fragment", "envs"), [(0.25, 4, 1), (0.25, 4, 8), (0.25, 1, 1), (1.0, 2, 4)])
def test_replay_ratio_is_updates_per_env_step(updates_per_step: float, fragment: int, envs: int) -> None:
    """RLlib alternates ``store`` sampling rounds (fragment x envs steps each) with ``train`` updates."""
    from ray.rllib.algorithms.dqn.dqn import calculate_rr_weights

    entry = get_algorithm("dqn")
    settings = entry.config_model.model_validate(
        {"updates_per_step": updates_per_step, "rollout_fragment_length": fragment, "batch_size": 64}
    )
    store, train = calculate_rr_weights(entry.build(settings, _ctx(envs_per_env_runner=envs)))
    assert train / (store * fragment * envs) == pytest.approx(updates_per_step)


TINY_SPEC = f"""
name: dqn_tiny
algorithm:
  name: dqn
  config: {{learning_starts: 100, batch_size: 32, hidden: [32], iteration_env_steps: 100,
            epsilon_decay_steps: 300, target_update_freq: 100, gamma: 0.9}}
env:
  name: {ENV_ID}
  config: {{task: sequential}}
seeds: [0]
stop:
  env_steps: 300
evaluation:
  interval: 1
  episodes: 2
resources:
  env_runners: 0
  envs_per_env_runner: 1
  concurrent_trials: 1
checkpoint:
  interval: 3
"""


@pytest.mark.integration
def test_tiny_sweep_on_sequential_item_collection_through_mlflow(tmp_path: Path) -> None:
    from tests.test_integration_sweep import actlab, history, runs_of

    spec = tmp_path / "dqn_tiny.yaml"
    spec.write_text(TINY_SPEC)
    uri = f"sqlite:///{tmp_path}/mlruns.db"
    proc = actlab("run", str(spec), "--tracking-uri", uri, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    (run,) = runs_of(uri, "dqn_tiny")
    assert run.info.status == "FINISHED"
    assert run.data.tags["actlab.algorithm"] == "dqn"
    params = run.data.params
    assert (params["algorithm.config.gamma"], params["env.config.task"]) == ("0.9", "sequential")
    assert [step for step, _ in history(uri, run.info.run_id, "eval/eval/return_mean")] == [100, 200, 300]
    # Learning starts at 100 env steps: the Q loss is logged from the first iteration on, and the
    # target net is copied at 100, 200 and 300 (target_update_freq 100).
    assert len(history(uri, run.info.run_id, "dqn/qf_loss")) == 3
    assert [v for _, v in history(uri, run.info.run_id, "dqn/last_target_update_ts")] == [100, 200, 300]
    eval_len = run.data.metrics["eval/eval/episode_len_mean"]
    assert 1 <= eval_len <= 50
