"""Run a validated sweep on Ray Tune: one trial per (grid point, seed), tracked in MLflow."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from actlab import PROJECT_ROOT
from actlab.runner.resources import check_trial_resources, local_capacity, ray_capacity
from actlab.spec.errors import SpecError, SpecProblem
from actlab.spec.loading import Sweep
from actlab.spec.models import sweep_spec_model
from actlab.init_from import resolve_init_sources
from actlab.tracking import check_tracking_store, finished_trial_runs, git_sha, resolve_tracking_uri

TUNER_STATE_FILE = "tuner.pkl"
#: Exit status of a sweep stopped by Ctrl-C before every trial ended (the shell convention, 128 + SIGINT).
INTERRUPTED_EXIT_CODE = 130


def trial_name_creator(trial: Any) -> str:
    return trial.config["trial"]["trial_name"]


def trial_bundles(trial_config: dict[str, Any]) -> Any:
    """Placement group of one trial (a callable of its config, so grids may vary resources)."""
    from ray.tune import PlacementGroupFactory

    spec = sweep_spec_model().model_validate(trial_config["trial"]["spec"])
    return PlacementGroupFactory(spec.resources.trial_bundles())


def find_resumable(storage: Path, name: str, sweep_id: str | None) -> Path:
    """The sweep directory to resume: ``sweep_id`` if given, else the newest one of ``name``."""
    if sweep_id:
        path = storage / sweep_id
        if not (path / TUNER_STATE_FILE).exists():
            raise SpecError.single("", "--resume", f"no resumable sweep '{sweep_id}' under {storage}")
        return path
    candidates = sorted(
        (p for p in storage.glob(f"{name}-*") if (p / TUNER_STATE_FILE).exists()), key=lambda p: p.stat().st_mtime
    )
    if not candidates:
        raise SpecError.single("", "--resume", f"no earlier sweep of '{name}' under {storage} to resume; run without --resume")
    return candidates[-1]


def check_algorithm_builds(trial_specs: list[Any], seeds: list[int], file: str) -> None:
    """Build the RLlib config of every distinct (algorithm, env) pair of the sweep before Ray starts.

    The schema validates each section on its own; whether an algorithm can run on an
    environment (a reward-feature env for OKB's family, action splits for a discrete policy
    over training actions, ...) is only known to the algorithm's builder, which would otherwise
    first run inside a trial, after Ray started. Builders raise ``ValueError`` for that.
    """
    from actlab.runner.trial import build_algorithm_config

    seen: set[str] = set()
    problems: list[SpecProblem] = []
    for trial_spec, seed in zip(trial_specs, seeds):
        key = json.dumps([trial_spec.algorithm.model_dump(mode="json"), trial_spec.env.model_dump(mode="json")],
                         sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        try:
            build_algorithm_config(trial_spec, seed)
        except ValueError as err:
            problems.append(SpecProblem(
                file, "algorithm.name",
                f"'{trial_spec.algorithm.name}' cannot run on env '{trial_spec.env.name}': {err}",
            ))
    if problems:
        raise SpecError(problems)


def checked_trial_specs(sweep: Sweep, file: str) -> list[Any]:
    """Every trial's validated spec, after the builders' checks (:func:`check_algorithm_builds`).

    What ``actlab run`` and ``actlab validate`` both check before any Ray resources start.
    """
    trial_specs = [sweep_spec_model().model_validate(t.spec) for t in sweep.trials]
    check_algorithm_builds(trial_specs, [t.seed for t in sweep.trials], file)
    return trial_specs


def describe_pretraining(trial_specs: list[Any], seeds: list[int]) -> str | None:
    """One line on the pretraining stages the sweep's trials need, or None when none has one.

    Trials share a stage when their stage keys match (e.g. a grid over PPO settings reuses
    one HVAE). A stage whose seed follows the trial's seed is trained once per RL seed: at
    thesis sizes that is ~1 CPU-hour each, so the line names the field that shares one.
    """
    from actlab import registry
    from actlab.runner.trial import build_context

    stages = []
    for trial_spec, seed in zip(trial_specs, seeds):
        entry = registry.get_algorithm(trial_spec.algorithm.name)
        if entry.pretraining_stage is None:
            continue
        stage = entry.pretraining_stage(trial_spec.algorithm.config, build_context(trial_spec, seed))
        if stage is not None:
            stages.append(stage)
    if not stages:
        return None
    distinct = {stage.key: stage for stage in stages}
    to_train = [stage for stage in distinct.values() if not stage.cached]
    counts = Counter(stage.summary for stage in to_train)
    kinds = ": " + "; ".join(f"{n} x {summary}" for summary, n in sorted(counts.items())) if to_train else ""
    line = (
        f"[actlab] pretraining: {len(stages)} trial(s) use {len(distinct)} distinct stage(s); "
        f"{len(distinct) - len(to_train)} in this machine's cache, {len(to_train)} to train{kinds}"
    )
    following = [stage for stage in to_train if stage.seed_follows_trial]
    if len(following) > 1:
        line += (
            f". Their seed follows each trial's seed; to train one stage for all seeds, "
            f"set {following[0].seed_field} (e.g. --set {following[0].seed_field}=0)"
        )
    return line


def run_sweep(
    sweep: Sweep,
    tracking_uri: str | None = None,
    address: str | None = None,
    resume: bool = False,
    resume_id: str | None = None,
    dashboard: bool = False,
    verbose: bool = False,
    allow_pending: bool = False,
) -> int:
    """Run (or resume) ``sweep``; returns the process exit code (0: every trial finished)."""
    spec: Any = sweep.spec
    file = sweep.file
    experiment = spec.tracking.experiment or spec.name
    if "://" in spec.checkpoint.storage_path:  # cloud storage (s3://, gs://): Tune handles it
        storage_uri = spec.checkpoint.storage_path
        if resume or resume_id:
            if not resume_id:
                raise SpecError.single(file, "--resume", "with cloud storage give the sweep id: --resume SWEEP_ID")
        resume_path = Path(resume_id) if resume_id else None
    else:
        storage = Path(spec.checkpoint.storage_path)
        storage = (storage if storage.is_absolute() else Path.cwd() / storage).resolve()
        storage.mkdir(parents=True, exist_ok=True)
        storage_uri = str(storage)
        resume_path = find_resumable(storage, spec.name, resume_id) if (resume or resume_id) else None

    trial_specs = checked_trial_specs(sweep, file)
    bundles = [trial_spec.resources.trial_bundles() for trial_spec in trial_specs]
    if not (resume or resume_id):
        pretraining = describe_pretraining(trial_specs, [t.seed for t in sweep.trials])
        if pretraining:
            print(pretraining, flush=True)
    address = address or os.environ.get("RAY_ADDRESS")
    if not address and not allow_pending:
        check_trial_resources(bundles, local_capacity(), file)
    uri = resolve_tracking_uri(tracking_uri or spec.tracking.uri)
    check_tracking_store(uri, "--tracking-uri" if tracking_uri else "tracking.uri", file)
    if not (resume or resume_id):  # a resumed sweep keeps the sources it started with
        sweep.trials = resolve_init_sources(sweep.trials, uri, file)

    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    # Ray starts workers with nice 15; trials are the workload, so on a small machine they
    # must not lose the CPU to the driver and Ray's own services (Ray's job manager does
    # the same for job workers).
    os.environ.setdefault("RAY_worker_niceness", "0")
    import ray
    from ray import tune

    from actlab.runner.callbacks import MLflowCallback, ProgressCallback
    from actlab.runner.trial import make_eval_plan, run_trial

    if address:
        ray.init(address=address, log_to_driver=verbose)
        if not allow_pending:
            try:
                check_trial_resources(bundles, ray_capacity(), file)
            except SpecError:
                ray.shutdown()
                raise
    else:
        cap = local_capacity()
        ray.init(
            address="local",
            num_cpus=int(cap.total_cpus),
            num_gpus=int(cap.total_gpus),
            include_dashboard=dashboard,
            dashboard_host="127.0.0.1",
            log_to_driver=verbose,
        )

    trainable = tune.with_resources(run_trial, resources=trial_bundles)
    try:
        if resume_path is not None:
            sweep_id = resume_path.name
            restore_from = str(resume_path) if resume_path.is_absolute() else f"{storage_uri.rstrip('/')}/{sweep_id}"
            print(f"[actlab] resuming sweep {sweep_id} from {restore_from}", flush=True)
            tuner = tune.Tuner.restore(restore_from, trainable=trainable, resume_unfinished=True, resume_errored=True)
        else:
            sweep_id = f"{spec.name}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
            plan = make_eval_plan(spec)
            select_metric = (
                f"eval/{plan.select_on}/{plan.metric}" if plan.select_on else "train/return_mean"
            )
            callbacks = [
                MLflowCallback(
                    uri=uri, experiment=experiment, sweep_id=sweep_id, git_sha=git_sha(PROJECT_ROOT), spec_file=file
                ),
                ProgressCallback(metric=select_metric, total=len(sweep.trials)),
            ]
            tuner = tune.Tuner(
                trainable,
                param_space={"trial": tune.grid_search([t.to_dict() for t in sweep.trials])},
                tune_config=tune.TuneConfig(
                    max_concurrent_trials=spec.resources.concurrent_trials,
                    trial_name_creator=trial_name_creator,
                    trial_dirname_creator=trial_name_creator,
                ),
                run_config=tune.RunConfig(
                    name=sweep_id,
                    storage_path=storage_uri,
                    callbacks=callbacks,
                    failure_config=tune.FailureConfig(max_failures=spec.checkpoint.max_failures),
                    checkpoint_config=tune.CheckpointConfig(num_to_keep=spec.checkpoint.keep),
                    verbose=0,
                ),
            )
            print(
                f"[actlab] sweep {sweep_id}: {len(sweep.trials)} trial(s) -> MLflow experiment '{experiment}' at {uri}",
                flush=True,
            )
        results = tuner.fit()
    finally:
        ray.shutdown()

    errors = [r for r in results if r.error is not None]
    # Tune reports a trial stopped by Ctrl-C as TERMINATED, like a finished one; MLflow knows
    # which runs ended (the tracking callback marks the cut-short ones KILLED).
    finished = finished_trial_runs(uri, experiment, sweep_id)
    # A resumed sweep's trials are Tune's (the spec file may have been run with other --set values).
    planned = len(results) if resume_path is not None else max(len(results), len(sweep.trials))
    not_finished = planned - finished - len(errors)
    if not_finished > 0:  # Ctrl-C: trials stopped early or never started
        print(
            f"[actlab] sweep {sweep_id} interrupted: {finished} finished, {len(errors)} failed, "
            f"{not_finished} not finished (their MLflow runs are marked KILLED).\n"
            f"[actlab] continue it: actlab run {file} --resume",
            flush=True,
        )
        return INTERRUPTED_EXIT_CODE
    print(
        f"[actlab] sweep {sweep_id} done: {len(results) - len(errors)} finished, {len(errors)} failed.\n"
        f"[actlab] compare runs: actlab report '{experiment}' --tracking-uri {uri}\n"
        + (
            f"[actlab] MLflow UI:    mlflow ui --backend-store-uri {uri} --host 127.0.0.1 --port 5000"
            if uri.startswith("sqlite:")
            else f"[actlab] MLflow UI:    {uri}"
        ),
        flush=True,
    )
    if errors:
        for r in errors:
            print(f"[actlab] FAILED trial at {r.path}: {str(r.error).splitlines()[0][:300]}", flush=True)
    return 1 if errors else 0
