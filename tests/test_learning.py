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

#: Env steps of the Grid World learning test (about 4-6 minutes on 2 CPUs).
GRIDWORLD_BUDGET = 300_000


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
