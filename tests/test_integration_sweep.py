"""Real sweeps: local Ray, Tune, a real SQLite MLflow store, read back through MLflow.

Each test runs ``python -m actlab run`` in a subprocess (the way researchers run it) in its
own working directory, with budgets of a few hundred env steps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.conftest import PROJECT_ROOT, SPECS

pytestmark = pytest.mark.integration

TINY = [
    "--set", "algorithm.config.train_batch_size=256",
    "--set", "algorithm.config.minibatch_size=64",
    "--set", "resources.envs_per_env_runner=4",
    "--set", "evaluation.interval=1",
    "--set", "evaluation.episodes=10",
    "--set", "checkpoint.interval=1",
]


def actlab(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "actlab", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )


def cli_in_process(*args: str, capsys) -> tuple[int, str, str]:
    """``actlab <args>`` in this process: (exit code, stdout, stderr). For the calls that must stop
    before Ray starts (and ``validate``), which need no subprocess and so skip its ~8 s of imports;
    the sweeps that do run go through a subprocess (:func:`actlab`), as researchers run them."""
    import ray

    from actlab.cli import main

    ray_before = ray.is_initialized()  # a local_ray fixture may hold one
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    assert ray.is_initialized() == ray_before, "an in-process CLI call started Ray"
    return code, out, err


def runs_of(uri: str, experiment: str) -> list:
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id], filter_string="tags.`actlab.kind` = 'trial'") if exp else []


def history(uri: str, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in sorted(MlflowClient(uri).get_metric_history(run_id, key), key=lambda m: m.step)]


@pytest.fixture(scope="module")
def quickstart_sweep(tmp_path_factory) -> tuple[Path, str]:
    """The quickstart sweep (2 entropy coefficients x 2 seeds) at 700 env steps: ``(workdir, uri)``."""
    tmp_path = tmp_path_factory.mktemp("quickstart")
    uri = f"sqlite:///{tmp_path}/mlruns.db"
    proc = actlab("run", str(SPECS / "quickstart.yaml"), *TINY, "--set", "stop.env_steps=700", "--tracking-uri", uri, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "trials 4/4 done" in proc.stdout
    return tmp_path, uri


def test_sweep_is_tracked_in_mlflow_and_reported(quickstart_sweep: tuple[Path, str]) -> None:
    tmp_path, uri = quickstart_sweep
    runs = runs_of(uri, "quickstart")
    assert len(runs) == 4
    sweeps = {r.data.tags["actlab.sweep"] for r in runs}
    assert len(sweeps) == 1
    # One tag filter finds the whole sweep.
    mlflow.set_tracking_uri(uri)
    found = mlflow.search_runs(experiment_names=["quickstart"], filter_string=f"tags.`actlab.sweep` = '{sweeps.pop()}'")
    assert len(found) == 4
    names = sorted(r.info.run_name for r in runs)
    assert names == sorted(
        f"utility-ppo-GridWorldSkills-v0-entropy_coeff={e}-s{s}" for e in ("0.01", "0.05") for s in (0, 1)
    )
    for run in runs:
        tags, params = run.data.tags, run.data.params
        assert run.info.status == "FINISHED"
        assert tags["actlab.algorithm"] == "utility-ppo" and tags["actlab.env"] == "actlab/GridWorldSkills-v0"
        assert tags["actlab.spec"] == "quickstart" and tags["actlab.git_sha"] != ""
        assert tags["actlab.config"] in ("entropy_coeff=0.01", "entropy_coeff=0.05")
        assert params["algorithm.config.entropy_coeff"] == tags["actlab.config"].split("=")[1]
        assert params["seed"] == tags["actlab.seed"] and params["versions.ray"] == "2.60.0"
        assert params["algorithm.config.train_batch_size"] == "256"
        # Metrics are indexed by env steps, one point per iteration, up to the budget.
        train = history(uri, run.info.run_id, "train/return_mean")
        steps = [s for s, _ in train]
        assert steps == sorted(set(steps)) and steps[-1] >= 700 and len(steps) == 3
        for key in ("eval/validation/success_rate", "eval/test/success_rate", "eval/train/return_mean"):
            assert [s for s, _ in history(uri, run.info.run_id, key)] == steps
        assert "best/validation/success_rate" in run.data.metrics
        assert "utility-ppo/entropy" in run.data.metrics
        artifacts = {a.path for a in MlflowClient(uri).list_artifacts(run.info.run_id)}
        assert {"resolved_spec.yaml", "environment.txt"} <= artifacts
        checkpoint = Path(tags["actlab.checkpoint"])
        assert (checkpoint / "algorithm").is_dir() and Path(tags["actlab.best_checkpoint"]).is_dir()

    # The logged resolved spec re-validates and re-runs the same trial.
    local = MlflowClient(uri).download_artifacts(runs[0].info.run_id, "resolved_spec.yaml", str(tmp_path))
    assert yaml.safe_load(Path(local).read_text())["seeds"] == [int(runs[0].data.tags["actlab.seed"])]
    assert actlab("validate", local, cwd=tmp_path).returncode == 0

    report = actlab("report", "quickstart", "--tracking-uri", uri, "--out", str(tmp_path / "report"), cwd=tmp_path)
    assert report.returncode == 0, report.stderr[-2000:]
    assert "entropy_coeff=0.01" in report.stdout and "entropy_coeff=0.05" in report.stdout
    assert list((tmp_path / "report").glob("*.png"))


def test_same_seed_same_metrics(quickstart_sweep: tuple[Path, str]) -> None:
    """One trial of the sweep, run again alone in a new sweep (and store), logs the same values."""
    tmp_path, uri = quickstart_sweep
    again_uri = f"sqlite:///{tmp_path}/again.db"
    proc = actlab("run", str(SPECS / "quickstart.yaml"), *TINY, "--set", "stop.env_steps=700", "--set", "seeds=[1]",
                  "--set", "grid={algorithm.config.entropy_coeff: [0.05]}", "--tracking-uri", again_uri, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (second,) = runs_of(again_uri, "quickstart")
    (first,) = [r for r in runs_of(uri, "quickstart")
                if r.data.tags["actlab.seed"] == "1" and r.data.tags["actlab.config"] == "entropy_coeff=0.05"]
    assert first.data.tags["actlab.sweep"] != second.data.tags["actlab.sweep"]
    for key in ("train/return_mean", "utility-ppo/policy_loss", "eval/test/return_mean", "eval/validation/success_rate"):
        a, b = history(uri, first.info.run_id, key), history(again_uri, second.info.run_id, key)
        assert a and a == b, key


def test_failed_trial_retries_then_resume_continues_an_interrupted_sweep(tmp_path: Path) -> None:
    """Seed 0's trial fails once at iteration 2 and retries from its checkpoint; the sweep is then
    interrupted (Ctrl-C) and resumed: both trials finish, each iteration logged once."""
    uri = f"sqlite:///{tmp_path}/mlruns.db"
    args = ["run", str(SPECS / "quickstart.yaml"), *TINY, "--set", "stop.iterations=5", "--set", "seeds=[0, 1]",
            "--set", "grid={}", "--set", "resources.concurrent_trials=1", "--set", "checkpoint.max_failures=1",
            "--tracking-uri", uri]
    # Create the store's schema before polling it: two processes creating a new SQLite schema
    # at once race ("table ... already exists").
    MlflowClient(uri).search_experiments(max_results=1)
    proc = subprocess.Popen([sys.executable, "-m", "actlab", *args], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "ACTLAB_FAIL_ONCE_AT_ITERATION": "2"})
    # Interrupt (Ctrl-C) once the first trial has logged two iterations (after its retry).
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(1)
        try:
            seed0 = [r for r in runs_of(uri, "quickstart") if r.data.tags.get("actlab.seed") == "0"]
            if seed0 and len(history(uri, seed0[0].info.run_id, "iteration")) >= 2:
                break
        except Exception:  # noqa: BLE001
            continue
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 130, out[-3000:]
    assert "not finished (their MLflow runs are marked KILLED)" in out and "--resume" in out, out[-3000:]
    before = runs_of(uri, "quickstart")
    assert 1 <= len(before) <= 2 and not all(r.info.status == "FINISHED" for r in before), out[-3000:]
    # No run is left RUNNING by the interrupt: the unfinished one is KILLED until it is resumed.
    assert {r.info.status for r in before} <= {"FINISHED", "KILLED"} and "KILLED" in {r.info.status for r in before}

    resumed = actlab(*args[:2], "--resume", "--tracking-uri", uri, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "resuming sweep quickstart-" in resumed.stdout
    after = runs_of(uri, "quickstart")
    assert len(after) == 2 and {r.info.run_id for r in before} <= {r.info.run_id for r in after}
    for run in after:
        assert run.info.status == "FINISHED"
        # each iteration once, though seed 0 ran its iteration 2 twice (failure, retry)
        assert [v for _, v in history(uri, run.info.run_id, "iteration")] == [1.0, 2.0, 3.0, 4.0, 5.0]
    (first,) = [r for r in after if r.data.tags["actlab.seed"] == "0"]
    restores = [v for _, v in history(uri, first.info.run_id, "trial/restores")]
    resumed_first = any(r.data.tags["actlab.seed"] == "0" and r.info.status == "KILLED" for r in before)
    # the retry at iteration 2, then (unless it had finished before Ctrl-C) the resume
    assert restores[:2] == [0.0, 1.0] and restores[-1] == (2.0 if resumed_first else 1.0), restores
