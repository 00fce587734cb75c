"""Learning tests: small fixed budgets, fixed seeds, the method must beat a baseline.

Marked ``learning`` (minutes each); not in the default CI path: ``make test-learning``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import SPECS

pytestmark = pytest.mark.learning

#: Env steps of the Grid World learning test (about 4-6 minutes on 2 CPUs). At 3e5 the
#: test success sits at the very start of the curve (0.14 in one run, 0.39 in another);
#: at 5e5 the measured runs are past 0.4.
GRIDWORLD_BUDGET = 500_000
#: Env steps of the SAVO vs TD3 test (about 15 min for SAVO, 4 for TD3, on 2 CPUs).
RESTRICTED_PENDULUM_BUDGET = 20_000


def random_policy_success(split: str, episodes: int = 400, seed: int = 0) -> float:
    """Success rate of a uniformly random choice among the available skills."""
    import envs  # noqa: F401

    env = gym.make("actlab/GridWorldSkills-v0", split=split)
    rng = np.random.default_rng(seed)
    wins = 0
    for episode in range(episodes):
        obs, info = env.reset(seed=10_000 + episode)
        done = False
        while not done:
            action = int(rng.choice(np.flatnonzero(obs["action_mask"])))
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        wins += bool(info["success"])
    return wins / episodes


def test_utility_policy_beats_random_on_unseen_test_skills(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/mlruns.db"
    proc = subprocess.run(
        [sys.executable, "-m", "actlab", "run", str(SPECS / "ch2_gridworld.yaml"),
         "--set", "seeds=[0]", "--set", "grid={}", "--set", f"stop.env_steps={GRIDWORLD_BUDGET}",
         "--set", "evaluation.interval=5", "--tracking-uri", uri],
        cwd=tmp_path, capture_output=True, text=True, timeout=3000, env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("ch2_gridworld").experiment_id])
    metrics = run.data.metrics
    random_test = random_policy_success("test")
    # Zero-shot on skills never seen in training, selected on validation (thesis §2.4.3).
    assert metrics["best/test/success_rate"] >= random_test + 0.15, (metrics, random_test)
    assert metrics["best/validation/success_rate"] >= random_test + 0.15


def test_savo_beats_td3_on_restricted_inverted_pendulum(tmp_path: Path) -> None:
    """Thesis §4.6 (Fig. 4.6): on a restricted (non-convex) action space TD3's single actor stalls
    in a local optimum of Q while SAVO's successive actors keep finding better actions.
    Measured at 2e4 steps (seeds 0/1/2, final greedy return): SAVO 83 / 117 / 97, TD3 38 / 31 / 38."""
    uri = f"sqlite:///{tmp_path}/mlruns.db"
    proc = subprocess.run(
        [sys.executable, "-m", "actlab", "run", str(SPECS / "ch4_restricted_mujoco.yaml"),
         "--set", "seeds=[0]", "--set", "grid={algorithm.name: [savo, td3], env.name: [actlab/RestrictedInvertedPendulum-v0]}",
         "--set", f"stop.env_steps={RESTRICTED_PENDULUM_BUDGET}", "--set", "algorithm.config.updates_per_step=0.5",
         "--set", "algorithm.config.actor_hidden=[64, 64]", "--set", "algorithm.config.critic_hidden=[64, 64]",
         "--tracking-uri", uri],
        cwd=tmp_path, capture_output=True, text=True, timeout=3600, env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("ch4_restricted_mujoco").experiment_id],
                              filter_string="tags.`actlab.kind` = 'trial'")
    final = {r.data.tags["actlab.algorithm"]: r.data.metrics["eval/eval/return_mean"] for r in runs}
    assert final["savo"] >= final["td3"] + 25, final
