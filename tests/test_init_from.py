"""Starting trials from earlier runs' weights (``init_from``; the finetuning study of thesis §2.6.4).

- :func:`actlab.init_from.transfer_state` on hand-made states (copy, reinit prefixes, shapes);
- :func:`actlab.init_from.load_initial_weights` on real RLlib algorithms: a discrete policy
  trained on the train skills of Grid World starts a policy over the *test* skills with its
  state trunk copied, its head fresh, and EnvRunners synced;
- a spec whose source runs do not exist fails before Ray starts, naming ``init_from``;
- a real two-stage sweep (pretrain, then finetune) read back from MLflow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from actlab.init_from import load_initial_weights, transfer_state
from actlab.registry import BuildContext, get_algorithm
from tests.conftest import SPECS
from tests.test_integration_sweep import TINY, actlab, cli_in_process, history, runs_of


def test_transfer_state_copies_keeps_reinit_and_checks_shapes() -> None:
    source = {"trunk.0.weight": np.ones((2, 3)), "head.weight": np.ones((5, 2)), "head.bias": np.ones(5)}
    target = {"trunk.0.weight": np.zeros((2, 3)), "head.weight": np.zeros((4, 2)), "head.bias": np.zeros(4),
              "critic.weight": np.zeros(2)}
    out, kept = transfer_state(source, target, reinit=["head"])
    assert np.all(out["trunk.0.weight"] == 1) and np.all(out["head.weight"] == 0)
    assert sorted(kept) == ["critic.weight", "head.bias", "head.weight"]  # critic: not in the source
    with pytest.raises(ValueError, match="'head.weight' has shape \\(5, 2\\).*init_from.reinit"):
        transfer_state(source, target)
    out, kept = transfer_state(source, target, reinit_mismatched_shapes=True)
    assert np.all(out["trunk.0.weight"] == 1) and "head.weight" in kept and "head.bias" in kept
    # a prefix matches whole name components only
    out, kept = transfer_state({"headx.w": np.ones(1)}, {"headx.w": np.zeros(1)}, reinit=["head"])
    assert out["headx.w"][0] == 1 and kept == []


def test_missing_source_runs_fail_before_ray(tmp_path: Path, capsys) -> None:
    import ray

    uri = f"sqlite:///{tmp_path}/empty.db"
    code, _, err = cli_in_process("run", str(SPECS / "ch2_finetune.yaml"), "--set", "seeds=[0]", "--tracking-uri", uri,
                                  capsys=capsys)
    assert code == 1 and "init_from.experiment: no MLflow experiment 'ch2_gridworld_baselines'" in err
    assert "Traceback" not in err and not ray.is_initialized()


def _nn_algo(split: str, seed: int):
    entry = get_algorithm("nearest-neighbor")
    ctx = BuildContext(env_id="actlab/GridWorldSkills-v0", env_config={"m": 20, "split": split, "grid_encoding": "factored"},
                       seed=seed, num_env_runners=0, envs_per_env_runner=2)
    config = entry.config_model.model_validate({"train_batch_size": 64, "minibatch_size": 32})
    return entry.build(config, ctx).build_algo()


def test_load_initial_weights_into_learner_and_env_runners(local_ray, tmp_path: Path) -> None:
    source_algo = _nn_algo("train", seed=0)
    try:
        source_algo.train()
        source = source_algo.get_module()
        source.save_to_path(str(tmp_path / "src"))
        source_state = {k: np.asarray(v) for k, v in source.get_state().items()}
    finally:
        source_algo.stop()

    algo = _nn_algo("test", seed=1)
    try:
        from ray.rllib.core import DEFAULT_MODULE_ID

        learner_module = algo.learner_group._learner.module[DEFAULT_MODULE_ID]
        fresh_head = learner_module.head.weight.detach().clone()
        assert fresh_head.shape[0] == 256 and source_state["head.weight"].shape[0] == 512
        kept = load_initial_weights(algo, str(tmp_path / "src"), reinit=[], reinit_mismatched_shapes=True)
        assert {"head.weight", "head.bias"} <= set(kept)
        for module in (learner_module, algo.env_runner.module):
            state = module.get_state()
            for name in ("state_encoder.0.weight", "state_encoder.2.bias"):
                np.testing.assert_array_equal(np.asarray(state[name]), source_state[name])
            torch.testing.assert_close(torch.as_tensor(np.asarray(state["head.weight"])), fresh_head)
        algo.train()  # and it trains from there
    finally:
        algo.stop()


#: The source sweep both sweeps below start from: the discrete policy on the train skills of a
#: 20-skill Grid World, two entropy coefficients (two finished runs for seed 0), 500 env steps.
SOURCE = [*TINY, "--set", "env.config.m=20", "--set", "seeds=[0]", "--set", "checkpoint.interval=2",
          "--set", "algorithm.name=nearest-neighbor", "--set", "grid={algorithm.config.entropy_coeff: [0.0, 0.02]}"]


@pytest.fixture(scope="module")
def source_sweep(tmp_path_factory) -> tuple[Path, str]:
    """``(workdir, uri)`` of a finished ``ch2_gridworld_baselines`` sweep (:data:`SOURCE`)."""
    tmp_path = tmp_path_factory.mktemp("init_from")
    uri = f"sqlite:///{tmp_path}/mlruns.db"
    first = actlab("run", str(SPECS / "ch2_gridworld_baselines.yaml"), *SOURCE, "--set", "stop.env_steps=500",
                   "--tracking-uri", uri, cwd=tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    return tmp_path, uri


@pytest.mark.integration
def test_two_stage_finetune_sweep_is_linked_in_mlflow(source_sweep: tuple[Path, str], capsys) -> None:
    tmp_path, uri = source_sweep
    # of the two finished nearest-neighbor runs with seed 0, init_from takes the newest
    source = max(runs_of(uri, "ch2_gridworld_baselines"), key=lambda r: r.info.start_time)
    small = [*TINY, "--set", "env.config.m=20", "--set", "seeds=[0]", "--set", "stop.env_steps=300"]
    grid = ("grid={algorithm.name: [nearest-neighbor], init_from: [null, "
            "{experiment: ch2_gridworld_baselines, reinit_mismatched_shapes: true}]}")
    # init_from for seed 1 does not exist: one line, nothing runs
    code, _, err = cli_in_process("run", str(SPECS / "ch2_finetune.yaml"), *small, "--set", "seeds=[1]",
                                  "--set", grid, "--tracking-uri", uri, capsys=capsys)
    assert code == 1 and "no finished 'nearest-neighbor' run with seed 1" in err

    fine = actlab("run", str(SPECS / "ch2_finetune.yaml"), *small, "--set", grid, "--tracking-uri", uri, cwd=tmp_path)
    assert fine.returncode == 0, fine.stdout[-3000:] + fine.stderr[-3000:]
    runs = {r.data.tags["actlab.config"]: r for r in runs_of(uri, "ch2_finetune")}
    assert len(runs) == 2
    tuned = next(r for key, r in runs.items() if "ch2_gridworld_baselines" in key)
    scratch = next(r for key, r in runs.items() if "init_from=null" in key)
    assert tuned.data.tags["actlab.init_from_run"] == source.info.run_id
    assert tuned.data.tags["actlab.init_from_path"] == source.data.tags["actlab.best_checkpoint"]
    assert {"head.weight", "head.bias"} <= set(__import__("json").loads(tuned.data.tags["actlab.init_reinit"]))
    assert "actlab.init_from_run" not in scratch.data.tags
    for run in (tuned, scratch):
        assert run.info.status == "FINISHED" and "eval/test/success_rate" in run.data.metrics


def test_continue_restores_everything_so_reinit_is_refused() -> None:
    from pydantic import ValidationError

    from actlab.spec.models import InitFromSpec

    with pytest.raises(ValidationError, match="module: continue restores the whole source checkpoint; drop reinit"):
        InitFromSpec.model_validate({"experiment": "x", "module": "continue", "reinit": ["head"]})
    spec = InitFromSpec.model_validate({"experiment": ["a", "b"], "module": "continue", "match": ["env.config.m"]})
    assert spec.experiments == ["a", "b"]


@pytest.mark.integration
def test_continue_a_finished_sweep_to_a_larger_budget(source_sweep: tuple[Path, str], capsys) -> None:
    """Two variants in one experiment; each continues its own run (``match``) from where it ended."""
    import json

    from mlflow.tracking import MlflowClient

    from actlab.report import build_report, run_history

    tmp_path, uri = source_sweep
    sources = {r.data.params["algorithm.config.entropy_coeff"]: r for r in runs_of(uri, "ch2_gridworld_baselines")}
    assert sorted(sources) == ["0.0", "0.02"]

    init = ("init_from={experiment: [ch2_gridworld_baselines], module: continue, "
            "match: [algorithm.config.entropy_coeff]}")
    more = ["run", str(SPECS / "ch2_gridworld_baselines.yaml"), *SOURCE, "--tracking-uri", uri,
            "--set", "name=baselines_more", "--set", init]
    # a budget the source runs have already spent: one line naming stop.env_steps, nothing runs
    code, _, err = cli_in_process(*more, "--set", "stop.env_steps=500", capsys=capsys)
    assert code == 1 and "stop.env_steps: 500 is already reached by 2 of the 2 run(s)" in err, err[-2000:]
    assert "Traceback" not in err and runs_of(uri, "baselines_more") == []
    assert err.count("error:") == 1  # one line for both trials
    # `actlab validate` finds the same sources, and the same problem, without running anything
    code, out, err = cli_in_process("validate", *more[1:], "--set", "stop.env_steps=1000", capsys=capsys)
    assert code == 0 and "init_from: 2 trial(s) continue their source runs" in out, err
    assert cli_in_process("validate", *more[1:], "--set", "stop.env_steps=500", capsys=capsys)[0] == 1
    code, _, err = cli_in_process(*more[:-1], "init_from={experiment: ch2_gridworld_baselines, module: continue, match: [nope]}",
                                  "--set", "stop.env_steps=1000", capsys=capsys)
    assert code == 1 and "init_from.match: 'nope' is not a field of this spec" in err

    cont = actlab(*more, "--set", "stop.env_steps=1000", cwd=tmp_path)
    assert cont.returncode == 0, cont.stdout[-3000:] + cont.stderr[-3000:]
    continued = runs_of(uri, "baselines_more")
    assert len(continued) == 2
    for run in continued:
        coeff = run.data.params["algorithm.config.entropy_coeff"]
        source = sources[coeff]
        assert run.data.tags["actlab.init_from_run"] == source.info.run_id
        assert run.data.tags["actlab.init_from_module"] == "continue"
        assert run.data.tags["actlab.init_from_path"] == source.data.tags["actlab.checkpoint"]
        assert run.info.status == "FINISHED"
        # the curves carry on where the source's ended: iteration and env steps continue
        src_iters = history(uri, source.info.run_id, "iteration")
        new_iters = history(uri, run.info.run_id, "iteration")
        assert new_iters[0][1] == src_iters[-1][1] + 1
        assert new_iters[0][0] > src_iters[-1][0] and new_iters[-1][0] >= 1000
        assert history(uri, run.info.run_id, "actlab/continued_from_env_steps")[0][1] == src_iters[-1][0]
        assert history(uri, run.info.run_id, "trial/restores")[0][1] == 0  # a continuation, not a retry
        assert run.data.metrics["best/env_steps"] >= 0 and "best/test/success_rate" in run.data.metrics
        # the report draws the whole training: the source's history, then the continuation's
        steps, values = run_history(MlflowClient(uri), run.info.run_id, "iteration")
        assert list(zip(steps, values)) == src_iters + new_iters
    # the source runs are untouched
    for coeff, source in sources.items():
        after = next(r for r in runs_of(uri, "ch2_gridworld_baselines") if r.info.run_id == source.info.run_id)
        assert after.data.metrics == source.data.metrics and after.info.status == "FINISHED"
    assert json.loads(continued[0].data.tags["actlab.grid_point"])
    report = build_report("baselines_more", uri, tmp_path / "report", metrics=["eval/test/success_rate"], log_to_mlflow=False)
    assert report.n_runs == 2 and len(report.rows) == 2
