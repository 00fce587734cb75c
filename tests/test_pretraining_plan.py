"""The sweep's pretraining plan: which trials share one representation stage, which are cached,
and the hint when the stage's seed follows each RL seed (one HVAE per seed, ~1 CPU-hour each at
thesis size). Computed from the specs alone, before Ray starts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from actlab import registry
from actlab.runner.sweep import describe_pretraining
from actlab.runner.trial import build_context
from actlab.spec import load_sweep
from actlab.spec.models import sweep_spec_model
from envs.gridworld_skills import generate_action_observations
from rllib_modules.hvae import HVAEConfig, cache_key, cached_representation
from rllib_modules.utility.pretraining import stage_inputs
from tests.conftest import SPECS

TINY_STAGE = [
    "algorithm.config.representation.model.train_steps=2",
    "algorithm.config.representation.model.batch_size=8",
    "algorithm.config.representation.model.obs_per_action=4",
    "algorithm.config.representation.model.latent_dim=4",
]


def planned(tmp_path: Path, *sets: str) -> tuple[list, list[int], str | None]:
    sweep = load_sweep(str(SPECS / "quickstart.yaml"),
                       [f"algorithm.config.representation.cache_dir={tmp_path}", *TINY_STAGE, *sets])
    trial_specs = [sweep_spec_model().model_validate(t.spec) for t in sweep.trials]
    seeds = [t.seed for t in sweep.trials]
    return trial_specs, seeds, describe_pretraining(trial_specs, seeds)


def test_trials_without_a_pretraining_stage_plan_nothing(tmp_path: Path) -> None:
    assert planned(tmp_path)[2] is None  # quickstart: source env


def test_stage_seed_follows_the_trial_seed_unless_fixed(tmp_path: Path) -> None:
    # 2 entropy coefficients x 3 seeds; the grid over PPO settings shares a stage per seed.
    _, _, line = planned(tmp_path, "algorithm.config.representation.source=hvae", "seeds=[0, 1, 2]")
    assert "6 trial(s) use 3 distinct stage(s); 0 in this machine's cache, 3 to train: 3 x hvae (2 steps)" in line
    assert "--set algorithm.config.representation.seed=0" in line

    _, _, line = planned(tmp_path, "algorithm.config.representation.source=hvae", "seeds=[0, 1, 2]",
                         "algorithm.config.representation.seed=0")
    assert "6 trial(s) use 1 distinct stage(s); 0 in this machine's cache, 1 to train: 1 x hvae (2 steps)" in line
    assert "representation.seed=0" not in line


def test_plan_counts_kinds_apart_and_sees_the_cache(tmp_path: Path) -> None:
    specs, seeds, line = planned(tmp_path, "seeds=[0]", "algorithm.config.representation.seed=0",
                                 "grid={algorithm.config.representation.source: [hvae, vae, oracle-hvae]}")
    assert "3 trial(s) use 3 distinct stage(s); 0 in this machine's cache, 3 to train: " in line
    assert "1 x hvae (2 steps); 1 x oracle-hvae (2 steps); 1 x vae (2 steps)" in line

    # Train the hvae trial's stage for real into the spec's cache dir: the plan then finds it.
    hvae_spec = next(s for s in specs if s.algorithm.config.representation.source == "hvae")
    rep = hvae_spec.algorithm.config.representation
    stage = stage_inputs(rep, hvae_spec.env.name, hvae_spec.env.config.model_dump(), trial_seed=0)
    dataset = registry.get_env(hvae_spec.env.name).action_dataset(hvae_spec.env.config.model_dump())
    # The key is the cache's own, of the env's train split, with the fixed seed (not the trial's).
    assert stage.key == cache_key("hvae", rep.model, dataset.data_spec, dataset.split_ids["train"], 0)
    assert stage.seed == 0 and Path(stage.cache_dir) == tmp_path
    cached_representation(stage.kind, stage.model, stage.data_spec, stage.train_ids, stage.seed, stage.cache_dir,
                          observations=generate_action_observations(n_obs=4, grid_size=80, seed=0))
    entry = registry.get_algorithm(hvae_spec.algorithm.name)
    assert entry.pretraining_stage(hvae_spec.algorithm.config, build_context(hvae_spec, 0)).cached

    _, _, line = planned(tmp_path, "seeds=[0]", "algorithm.config.representation.seed=0",
                         "grid={algorithm.config.representation.source: [hvae, vae, oracle-hvae]}")
    assert "1 in this machine's cache, 2 to train: 1 x oracle-hvae (2 steps); 1 x vae (2 steps)" in line


def test_oracle_stage_trains_on_train_and_test_actions(tmp_path: Path) -> None:
    specs, _, _ = planned(tmp_path, "seeds=[0]", "algorithm.config.representation.source=oracle-hvae")
    spec = specs[0]
    env_config = spec.env.config.model_dump()
    splits = registry.get_env(spec.env.name).action_dataset(env_config).split_ids
    stage = stage_inputs(spec.algorithm.config.representation, spec.env.name, env_config, trial_seed=7)
    np.testing.assert_array_equal(stage.train_ids, np.sort(np.concatenate([splits["train"], splits["test"]])))
    assert stage.seed == 7 and not set(splits["validation"]) & set(stage.train_ids)


def test_env_without_action_observations_is_rejected() -> None:
    from rllib_modules.utility.representation import RepresentationConfig

    with pytest.raises(ValueError, match="no action observations"):
        stage_inputs(RepresentationConfig(source="hvae", model=HVAEConfig()), "actlab/Recommender-v0", {}, 0)


def test_ch2_baselines_plan_the_same_stage_as_the_utility_policy(tmp_path: Path) -> None:
    """The baselines' Learner is utility-ppo's, so an HVAE trained for one serves the others."""
    specs, seeds, line = planned(
        tmp_path, "seeds=[0]", "algorithm.config.representation.source=hvae",
        "grid={algorithm.name: [utility-ppo, nearest-neighbor, continuous-output]}",
    )
    keys = {
        registry.get_algorithm(s.algorithm.name).pretraining_stage(s.algorithm.config, build_context(s, seed)).key
        for s, seed in zip(specs, seeds)
    }
    assert len(keys) == 1
    assert "3 trial(s) use 1 distinct stage(s)" in line


def test_validate_reports_a_representation_the_env_cannot_provide(tmp_path: Path) -> None:
    from tests.test_integration_sweep import actlab

    result = actlab("validate", str(SPECS / "ch2_recommender.yaml"),
                    "--set", "algorithm.config.representation.source=hvae", cwd=tmp_path)
    assert result.returncode != 0
    assert "algorithm.name: 'utility-ppo' cannot run on env 'actlab/Recommender-v0'" in result.stdout + result.stderr
    assert "no action observations" in result.stdout + result.stderr
