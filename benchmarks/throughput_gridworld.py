"""Throughput of the Grid World / utility-ppo path, side by side, in one run.

Measures, on the config of ``tune_specs/ch2_gridworld.yaml`` (one seed, no evaluation):

1. raw env steps/s of ``actlab/GridWorldSkills-v0`` (random valid actions, one process);
2. training env steps/s of ``utility-ppo`` in a bare ``algo.train()`` loop;
3. the same with RLlib's built-in PPO module (flattened observations) instead of the
   custom utility module -- the cost of the custom module;
4. the same config under ``actlab run`` (Tune + MLflow + checkpoints) -- the cost of the platform.

Training throughput = env steps sampled after the first (warm-up) iteration divided by the
wall time they took, so Tune/MLflow overhead between iterations counts against ``actlab run``.
Results are printed as a table and logged to MLflow (experiment ``benchmarks``).

Run:  .venv/bin/python benchmarks/throughput_gridworld.py [--iterations 8] [--tracking-uri URI]
Expect on a 2-CPU laptop: raw env ~1e5 steps/s; training ~1-2e3 env steps/s; module and
platform overheads within the targets of issue #2 (<= 20 % and <= 5 %).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "tune_specs" / "ch2_gridworld.yaml"


def raw_env_steps_per_s(n_steps: int = 20_000) -> float:
    import gymnasium as gym

    import envs  # noqa: F401 - registers actlab/ envs

    env = gym.make("actlab/GridWorldSkills-v0")
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    started = time.perf_counter()
    for _ in range(n_steps):
        valid = np.flatnonzero(obs["action_mask"])
        obs, _, terminated, truncated, _ = env.step(int(rng.choice(valid)))
        if terminated or truncated:
            obs, _ = env.reset()
    return n_steps / (time.perf_counter() - started)


def timed_train_loop(algo_config, iterations: int) -> float:
    """Env steps/s over iterations 2..N of a bare ``algo.train()`` loop."""
    algo = algo_config.build_algo()
    try:
        algo.train()  # warm-up: first iteration pays lazy initialisation
        steps0 = algo.train()["num_env_steps_sampled_lifetime"]
        started = time.perf_counter()
        for _ in range(iterations - 2):
            steps = algo.train()["num_env_steps_sampled_lifetime"]
        return (steps - steps0) / (time.perf_counter() - started)
    finally:
        algo.stop()


def builtin_ppo_config(algo_config):
    """The same PPO config with RLlib's default PPO module on flattened observations."""
    from ray.rllib.connectors.env_to_module import FlattenObservations
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    cfg = algo_config.copy(copy_frozen=False)
    hidden = cfg.rl_module_spec.model_config.get("hidden_size", 64) if cfg.rl_module_spec.model_config else 64
    cfg.rl_module(
        rl_module_spec=RLModuleSpec(),
        model_config=DefaultModelConfig(fcnet_hiddens=[hidden, hidden], fcnet_activation="tanh"),
    )
    cfg.env_runners(env_to_module_connector=lambda env, spaces=None, device=None: FlattenObservations())
    return cfg


def actlab_run_steps_per_s(iterations: int, tracking_uri: str, workdir: Path) -> float:
    """Same config under ``actlab run``: wall-clock env steps/s between reports 1 and N."""
    cmd = [
        sys.executable, "-m", "actlab", "run", str(SPEC),
        "--set", "seeds=[0]", "--set", "grid={}", "--set", f"stop.iterations={iterations}",
        "--set", "evaluation.interval=0", "--set", f"checkpoint.interval={iterations}",
        "--tracking-uri", tracking_uri,
    ]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-2000:])
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    exp = client.get_experiment_by_name("ch2_gridworld")
    run = client.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"], max_results=1)[0]
    wall = sorted(client.get_metric_history(run.info.run_id, "perf/wall_s"), key=lambda m: m.step)
    # Reports 2..N, as in the bare loop (report 1 includes warm-up).
    return (wall[-1].step - wall[1].step) / (wall[-1].value - wall[1].value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=2, help="measure each mode this often; the median is reported")
    parser.add_argument("--tracking-uri", default=f"sqlite:///{ROOT}/mlruns.db")
    args = parser.parse_args()

    import ray
    import torch

    torch.set_num_threads(1)
    from actlab.runner.trial import build_algorithm_config
    from actlab.spec import load_sweep

    spec = load_sweep(SPEC, ["seeds=[0]", "grid={}"]).spec
    results: dict[str, float] = {"raw_env": raw_env_steps_per_s()}
    samples: dict[str, list[float]] = {"bare_loop_utility": [], "bare_loop_builtin_ppo": [], "actlab_run_utility": []}
    # Alternate the modes so that slow drifts of a shared machine hit all of them alike.
    for _ in range(args.repeats):
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            samples["bare_loop_utility"].append(timed_train_loop(build_algorithm_config(spec, 0), args.iterations))
            samples["bare_loop_builtin_ppo"].append(
                timed_train_loop(builtin_ppo_config(build_algorithm_config(spec, 0)), args.iterations)
            )
        finally:
            ray.shutdown()
        with tempfile.TemporaryDirectory() as tmp:
            samples["actlab_run_utility"].append(
                actlab_run_steps_per_s(args.iterations, f"sqlite:///{tmp}/bench.db", Path(tmp))
            )
    results.update({key: float(np.median(values)) for key, values in samples.items()})

    module_cost = 1 - results["bare_loop_utility"] / results["bare_loop_builtin_ppo"]
    platform_cost = 1 - results["actlab_run_utility"] / results["bare_loop_utility"]
    print(f"\nGrid World / utility-ppo throughput (train_batch_size={spec.algorithm.config.train_batch_size}, "
          f"{args.iterations} iterations, first excluded; median of {args.repeats} runs each)")
    print(f"{'measurement':<44}{'env steps/s':>14}")
    labels = {
        "raw_env": "raw env (random valid actions)",
        "bare_loop_builtin_ppo": "bare algo.train(), RLlib built-in PPO module",
        "bare_loop_utility": "bare algo.train(), utility module",
        "actlab_run_utility": "actlab run (Tune + MLflow), utility module",
    }
    for key, label in labels.items():
        print(f"{label:<44}{results[key]:>14,.0f}")
    print(f"{'custom module cost vs built-in (target <= 20%)':<44}{module_cost:>13.1%}")
    print(f"{'platform cost vs bare loop (target <= 5%)':<44}{platform_cost:>13.1%}")

    from mlflow.tracking import MlflowClient

    from actlab.tracking import ensure_experiment, package_versions

    client = MlflowClient(args.tracking_uri)
    run = client.create_run(ensure_experiment(args.tracking_uri, "benchmarks"), run_name="throughput_gridworld",
                            tags={"actlab.kind": "benchmark"})
    for key, value in {**results, "module_cost": module_cost, "platform_cost": platform_cost}.items():
        client.log_metric(run.info.run_id, key, value)
    client.log_param(run.info.run_id, "iterations", args.iterations)
    client.log_param(run.info.run_id, "samples", json.dumps(samples))
    client.log_param(run.info.run_id, "versions", json.dumps(package_versions()))
    client.set_terminated(run.info.run_id)
    print(f"logged to MLflow experiment 'benchmarks' at {args.tracking_uri}")


if __name__ == "__main__":
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    main()
