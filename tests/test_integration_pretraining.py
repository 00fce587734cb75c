"""The two-stage pipeline (thesis Algorithm 1) through the platform: HVAE pretraining in the
Learner, cached by content hash, logged to MLflow once and linked to every RL run using it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import SPECS
from tests.test_integration_sweep import TINY, actlab, cli_in_process

pytestmark = pytest.mark.integration

TINY_HVAE = [
    "--set", "algorithm.config.representation.source=hvae",
    "--set", "algorithm.config.representation.model.train_steps=8",
    "--set", "algorithm.config.representation.model.batch_size=8",
    "--set", "algorithm.config.representation.model.obs_per_action=4",
    "--set", "algorithm.config.representation.model.inference_obs_per_action=4",
]


def test_hvae_stage_is_cached_logged_and_linked(tmp_path: Path, monkeypatch, capsys) -> None:
    uri = f"sqlite:///{tmp_path}/mlruns.db"
    cache = str(tmp_path / "cache")
    # Two PPO settings share one pretraining config: the stage trains once.
    args = ["run", str(SPECS / "quickstart.yaml"), *TINY, *TINY_HVAE, "--set", "stop.env_steps=300",
            "--set", "seeds=[0]", "--set", "resources.concurrent_trials=1", "--tracking-uri", uri]
    first = actlab(*args, cwd=tmp_path, env={"ACTLAB_CACHE_DIR": cache})
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    # The plan, printed before Ray starts, matches what the trials then did.
    assert "pretraining: 2 trial(s) use 1 distinct stage(s); 0 in this machine's cache, 1 to train" in first.stdout
    # A later sweep with the same stage finds it in the cache (the plan `actlab run` prints is `validate`'s).
    monkeypatch.setenv("ACTLAB_CACHE_DIR", cache)
    code, out, err = cli_in_process("validate", *args[1:-2], "--set", "grid={}", capsys=capsys)
    assert code == 0, err
    assert "pretraining: 1 trial(s) use 1 distinct stage(s); 1 in this machine's cache, 0 to train" in out

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("quickstart").experiment_id
    pre = client.search_runs([exp], filter_string="tags.`actlab.kind` = 'pretraining'")
    trials = client.search_runs([exp], filter_string="tags.`actlab.kind` = 'trial'", order_by=["attributes.start_time ASC"])
    assert len(pre) == 1 and len(trials) == 2
    (pre_run,) = pre
    assert {t.data.tags["actlab.pretraining_run_id"] for t in trials} == {pre_run.info.run_id}
    hits = [t.data.metrics["pretraining/cache_hit"] for t in trials]
    assert hits == [0.0, 1.0]  # trained by the first trial only
    # Only the training run logged pretraining steps; cache hits logged none.
    steps = client.get_metric_history(pre_run.info.run_id, "pretraining/elbo")
    assert len(steps) == 8
    artifacts = {a.path for a in client.list_artifacts(pre_run.info.run_id)}
    assert {"table.npy", "model.pt", "curves.png", "tsne_heldout.png", "meta.json"} <= artifacts
    table = np.load(client.download_artifacts(pre_run.info.run_id, "table.npy", str(tmp_path)))
    assert table.shape == (1024, 16) and np.isfinite(table).all() and table.std() > 0
    assert pre_run.data.params["config.train_steps"] == "8"
