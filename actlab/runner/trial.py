"""The Tune function trainable that runs one trial: build, train, evaluate, checkpoint.

One call of :func:`run_trial` is one (grid point, seed). The loop is written out CleanRL
style so that what a trial does can be read top to bottom:

1. build the RLlib Algorithm from the registry entry of ``algorithm.name``;
2. restore from Tune's checkpoint if this is a retry or a resumed sweep, or from the source
   run's last checkpoint with ``init_from.module: continue`` (:mod:`actlab.runner.trial_checkpoint`);
3. ``algo.train()`` until a stop criterion; every ``evaluation.interval`` iterations
   evaluate on each evaluation set, and keep the module with the best selection metric
   (thesis §2.4.3: model selection on validation actions); its metrics are ``best/<set>/...``;
4. report metrics (``step = env_steps``) and a checkpoint every ``checkpoint.interval``.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actlab import registry
from actlab.evaluation import evaluate_module
from actlab.init_from import load_initial_weights
from actlab.spec.loading import TrialSpec, evaluation_sets
from actlab.runner.trial_checkpoint import BEST_MODULE_DIR, TrialState, restore_trial, save_trial
from actlab.spec.models import sweep_spec_model

#: Fault injection for tests and drills: a trial that has never been restored raises at this
#: iteration, so retries from the last checkpoint can be exercised for real.
FAIL_ONCE_ENV = "ACTLAB_FAIL_ONCE_AT_ITERATION"


@dataclass(frozen=True)
class EvalPlan:
    sets: dict[str, dict[str, Any]]
    select_on: str | None
    metric: str
    success_key: str | None


def make_eval_plan(spec: Any) -> EvalPlan:
    env_entry = registry.get_env(spec.env.name)
    evaluation = spec.evaluation
    sets = evaluation_sets(spec)
    select_on = env_entry.select_on if evaluation.select_on == "auto" else evaluation.select_on
    if select_on is not None and select_on not in sets:
        select_on = None
    metric = evaluation.metric or ("success_rate" if env_entry.success_key else "return_mean")
    return EvalPlan(sets=sets, select_on=select_on, metric=metric, success_key=env_entry.success_key)


def build_context(spec: Any, seed: int) -> registry.BuildContext:
    """The builder's view of a validated trial spec."""
    res = spec.resources
    return registry.BuildContext(
        env_id=spec.env.name,
        env_config=spec.env.config.model_dump(),
        seed=seed,
        num_env_runners=res.env_runners,
        envs_per_env_runner=res.envs_per_env_runner,
        cpus_per_env_runner=res.cpus_per_env_runner,
        gpus_per_learner=res.gpus_per_trial,
        total_env_steps=spec.stop.env_steps,
    )


def build_algorithm_config(spec: Any, seed: int) -> Any:
    """The RLlib ``AlgorithmConfig`` of a validated trial spec."""
    entry = registry.get_algorithm(spec.algorithm.name)
    return entry.build(spec.algorithm.config, build_context(spec, seed))


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_metrics(result: dict[str, Any], algorithm_name: str) -> dict[str, float]:
    """Pick the contract metrics (and the method's learner stats) out of an RLlib result."""
    runners = result.get("env_runners", {})
    out: dict[str, float] = {}
    for src, dst in (
        ("episode_return_mean", "train/return_mean"),
        ("episode_len_mean", "train/episode_len_mean"),
        ("success_rate", "train/success_rate"),
    ):
        value = runners.get(src)
        if isinstance(value, (int, float)) and math.isfinite(value):
            out[dst] = float(value)
    for module_id, stats in result.get("learners", {}).items():
        if module_id.startswith("__") or not isinstance(stats, dict):
            continue
        prefix = algorithm_name if module_id == "default_policy" else f"{algorithm_name}/{module_id}"
        for key, value in stats.items():
            if isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(float(value)):
                if "throughput" in key or key.startswith("num_") or key.endswith("_seq_no"):
                    continue
                out[f"{prefix}/{key}"] = float(value)
    # Metrics an Algorithm has already named for the platform (e.g. the OKB family's basis/...).
    for key, value in result.get("actlab_metrics", {}).items():
        if isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(float(value)):
            out[key] = float(value)
    out["perf/time_this_iter_s"] = float(result.get("time_this_iter_s", 0.0))
    return out


def pretraining_report(algo: Any) -> dict[str, Any]:
    """What a method's pretraining stage did (e.g. the HVAE of thesis §2.4.1), for tracking.

    A Learner that runs a stage before RL implements ``pretraining_summary() -> dict | None``
    (``key``, ``dir``, ``cache_hit``, ``artifacts`` (file paths), ``meta``, ...). It goes out
    with the trial's first report; the MLflow callback logs it as its own run, once per
    cache key, and links it to this trial's run.
    """
    results = algo.learner_group.foreach_learner(
        lambda learner: learner.pretraining_summary() if hasattr(learner, "pretraining_summary") else None
    )
    infos = [r.get() if hasattr(r, "get") else r for r in results]
    info = infos[0] if infos else None
    if not info:
        return {}
    metrics = {
        "pretraining/cache_hit": float(bool(info.get("cache_hit"))),
        "pretraining/wall_s": float(info.get("wall_s", 0.0)),
    }
    obs_per_s = info.get("meta", {}).get("obs_per_s")
    if isinstance(obs_per_s, (int, float)):
        metrics["pretraining/obs_per_s"] = float(obs_per_s)
    # A JSON string, not a dict: Tune flattens dicts into its other loggers, and TensorBoard's
    # warns on every list-valued leaf (the artifact paths); the MLflow callback parses it back.
    return {"actlab/pretraining": json.dumps(info, default=str), **metrics}


def run_trial(config: dict[str, Any]) -> None:
    """Tune function trainable. ``config["trial"]`` is a :meth:`TrialSpec.to_dict`."""
    import torch
    from ray import tune

    trial = TrialSpec.from_dict(config["trial"])
    spec = sweep_spec_model().model_validate(trial.spec)
    torch.set_num_threads(spec.resources.torch_threads)
    seed_everything(trial.seed)
    registry.load_plugins()

    algo = build_algorithm_config(spec, trial.seed).build_algo()
    state = TrialState()
    workdir = Path(tempfile.mkdtemp(prefix="actlab-trial-"))
    best_dir = workdir / BEST_MODULE_DIR

    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as ckpt_dir:
            state = restore_trial(algo, Path(ckpt_dir), best_dir)
            state.restores += 1

    first_report = pretraining_report(algo) if checkpoint is None else {}
    continues = trial.init_from is not None and trial.init_from.get("module") == "continue"
    if checkpoint is None and continues:
        # The source run's last checkpoint, as if this trial had been that run all along.
        state = restore_trial(algo, Path(trial.init_from["path"]), best_dir)
        first_report["actlab/continued_from_env_steps"] = state.env_steps
    elif checkpoint is None and trial.init_from is not None:
        init = spec.init_from
        kept = load_initial_weights(algo, trial.init_from["path"], init.reinit, init.reinit_mismatched_shapes)
        first_report["actlab/init_reinit"] = json.dumps(kept)  # a string: TensorBoard warns on list results
    plan = make_eval_plan(spec)
    stop, evaluation = spec.stop, spec.evaluation
    algorithm_name, env_name = spec.algorithm.name, spec.env.name
    base_env_config = spec.env.config.model_dump()

    def should_stop() -> bool:
        return (
            (stop.env_steps is not None and state.env_steps >= stop.env_steps)
            or (stop.iterations is not None and state.iteration >= stop.iterations)
            or (stop.time_s is not None and state.train_time_s >= stop.time_s)
        )

    trial_started = time.perf_counter()
    try:
        while not should_stop():
            started = time.perf_counter()
            result = algo.train()
            state.train_time_s += time.perf_counter() - started
            state.iteration += 1
            if state.restores == 0 and os.environ.get(FAIL_ONCE_ENV) == str(state.iteration):
                raise RuntimeError(f"{FAIL_ONCE_ENV}={state.iteration}: injected trial failure")
            state.env_steps = int(result.get("num_env_steps_sampled_lifetime", state.env_steps))
            metrics = train_metrics(result, algorithm_name)
            metrics["perf/env_steps_per_s"] = (
                result.get("env_runners", {}).get("num_env_steps_sampled", 0) / max(result.get("time_this_iter_s", 1e-9), 1e-9)
            )
            done = should_stop()

            if evaluation.interval > 0 and plan.sets and (state.iteration % evaluation.interval == 0 or done):
                eval_started = time.perf_counter()
                module = algo.get_module()
                eval_metrics: dict[str, float] = {}
                for set_name, overrides in plan.sets.items():
                    res = evaluate_module(
                        module,
                        env_name,
                        {**base_env_config, **overrides},
                        episodes=evaluation.episodes,
                        seed=trial.seed * 1000 + sorted(plan.sets).index(set_name),
                        success_key=plan.success_key,
                        explore=evaluation.explore,
                    )
                    eval_metrics.update(res.as_metrics(f"eval/{set_name}"))
                state.evaluations += 1
                metrics.update(eval_metrics)
                metrics["perf/eval_time_s"] = time.perf_counter() - eval_started
                if plan.select_on is not None:
                    score = eval_metrics.get(f"eval/{plan.select_on}/{plan.metric}")
                    if score is not None and (state.best_score is None or score > state.best_score):
                        state.best_score, state.best_env_steps = score, state.env_steps
                        state.best_metrics = {
                            "best/" + k.removeprefix("eval/"): v for k, v in eval_metrics.items()
                        }
                        state.best_metrics["best/env_steps"] = float(state.env_steps)
                        shutil.rmtree(best_dir, ignore_errors=True)
                        module.save_to_path(str(best_dir))
            metrics.update(state.best_metrics)

            metrics.update(
                env_steps=state.env_steps,
                iteration=state.iteration,
                train_time_s=state.train_time_s,
            )
            metrics["trial/restores"] = state.restores
            if first_report:
                metrics.update(first_report)
                first_report = {}
            metrics["perf/wall_s"] = time.perf_counter() - trial_started
            if done or state.iteration % spec.checkpoint.interval == 0:
                with tempfile.TemporaryDirectory(dir=workdir) as tmp:
                    save_trial(algo, state, best_dir, Path(tmp))
                    tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(tmp))
            else:
                tune.report(metrics)
    finally:
        algo.stop()
        shutil.rmtree(workdir, ignore_errors=True)
