"""Start trials from the policy weights of earlier runs (finetuning; thesis §2.6.4).

A spec's ``init_from`` section names an MLflow experiment whose *finished* trial runs hold
pretrained policies. Each trial of the new sweep starts from the run of that experiment
with the same seed (and, by default, the same algorithm):

- :func:`resolve_init_sources` runs in the driver before Ray starts: it finds each trial's
  source run and checks that its module checkpoint exists on this machine, or fails with
  one line naming ``init_from`` and the fix;
- :func:`load_initial_weights` runs in the trial: it copies the source module's parameters
  and buffers into the new policy (every Learner, then the EnvRunners), except the ones
  named in ``reinit`` (prefixes of parameter names) and, when allowed, the ones whose shape
  changed (a discrete head over a different action set: "Discrete Fine-Tune"). Those keep
  their fresh initialisation. Optimizer state is not carried over.

The source run's id and checkpoint and the re-initialised parameters are recorded in the
new run (tags ``actlab.init_from_run``, ``actlab.init_from_path``, ``actlab.init_reinit``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from actlab.spec.errors import SpecError, SpecProblem

__all__ = ["load_initial_weights", "module_checkpoint_of_run", "resolve_init_sources", "transfer_state"]

#: Where RLlib keeps the (single-agent) RLModule inside an Algorithm checkpoint.
_FINAL_MODULE_SUBDIR = Path("algorithm") / "learner_group" / "learner" / "rl_module" / "default_policy"


def module_checkpoint_of_run(tags: Mapping[str, str], module: str) -> Path | None:
    """The RLModule checkpoint directory of a run: its best-validation module or its final one."""
    if module == "best":
        path = tags.get("actlab.best_checkpoint")
    else:
        ckpt = tags.get("actlab.checkpoint")
        path = str(Path(ckpt) / _FINAL_MODULE_SUBDIR) if ckpt else None
    return Path(path) if path else None


def resolve_init_sources(trials: Sequence[Any], tracking_uri: str, file: str) -> list[Any]:
    """The trials with ``init_from`` (``{run_id, run_name, path}``) filled in wherever their spec
    has an ``init_from`` section (the grid may vary it); one SpecError lists every source missing."""
    import dataclasses

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    problems: list[SpecProblem] = []
    resolved: list[Any] = []
    for trial in trials:
        init = trial.spec.get("init_from")
        resolved.append(trial)
        if not init:
            continue
        experiment = client.get_experiment_by_name(init["experiment"])
        if experiment is None:
            problems.append(SpecProblem(
                file, "init_from.experiment",
                f"no MLflow experiment '{init['experiment']}' in {tracking_uri}; run the pretraining sweep first "
                "or pass the --tracking-uri that holds it",
            ))
            continue
        algorithm = init.get("algorithm") or trial.spec["algorithm"]["name"]
        query = (
            f"tags.`actlab.kind` = 'trial' and tags.`actlab.seed` = '{trial.seed}' "
            f"and tags.`actlab.algorithm` = '{algorithm}' and attributes.status = 'FINISHED'"
        )
        if init.get("sweep"):
            query += f" and tags.`actlab.sweep` = '{init['sweep']}'"
        runs = client.search_runs(
            [experiment.experiment_id], filter_string=query, order_by=["attributes.start_time DESC"], max_results=1
        )
        where = f"experiment '{init['experiment']}'" + (f", sweep '{init['sweep']}'" if init.get("sweep") else "")
        if not runs:
            problems.append(SpecProblem(
                file, "init_from",
                f"no finished '{algorithm}' run with seed {trial.seed} in {where}; pretrain that seed first "
                "or set init_from.algorithm / init_from.sweep",
            ))
            continue
        run = runs[0]
        module = init.get("module", "best")
        path = module_checkpoint_of_run(run.data.tags, module)
        if path is None or not path.is_dir():
            problems.append(SpecProblem(
                file, "init_from.module",
                f"run '{run.info.run_name}' ({run.info.run_id}) has no {module} module checkpoint "
                f"on this machine ({path}); use module: final, or run where its checkpoints are",
            ))
            continue
        source = {"run_id": run.info.run_id, "run_name": run.info.run_name, "path": str(path)}
        resolved[-1] = dataclasses.replace(trial, init_from=source)
    if problems:
        raise SpecError(problems)
    return resolved


def transfer_state(
    source: Mapping[str, Any],
    target: Mapping[str, Any],
    reinit: Sequence[str] = (),
    reinit_mismatched_shapes: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    """The target module state with the source's entries copied in, and the names left as they were.

    Entries of ``target`` whose name starts with a ``reinit`` prefix, or that the source
    lacks, keep the target's value. An entry whose shape differs is kept too if
    ``reinit_mismatched_shapes``, else it is an error naming it.
    """
    import numpy as np

    out = dict(target)
    kept: list[str] = []
    for name, value in target.items():
        if any(name == p or name.startswith(p + ".") or name.startswith(p + "_") for p in reinit) or name not in source:
            kept.append(name)
            continue
        src = source[name]
        if tuple(np.shape(src)) != tuple(np.shape(value)):
            if reinit_mismatched_shapes:
                kept.append(name)
                continue
            raise ValueError(
                f"init_from: '{name}' has shape {tuple(np.shape(src))} in the source module and "
                f"{tuple(np.shape(value))} here; add it to init_from.reinit or set reinit_mismatched_shapes: true"
            )
        out[name] = src
    return out, kept


def load_initial_weights(algo: Any, path: str, reinit: Sequence[str], reinit_mismatched_shapes: bool) -> list[str]:
    """Copy the module at ``path`` into ``algo``'s policy (Learners, then EnvRunners); returns the names kept fresh."""
    from ray.rllib.core import DEFAULT_MODULE_ID
    from ray.rllib.core.rl_module.rl_module import RLModule

    source_state = RLModule.from_checkpoint(path).get_state()

    def _load(learner: Any) -> list[str]:
        module = learner.module[DEFAULT_MODULE_ID]
        new_state, kept = transfer_state(source_state, module.get_state(), reinit, reinit_mismatched_shapes)
        module.set_state(new_state)
        return kept

    # RemoteCallResults; .get() re-raises a Learner's error (e.g. a shape mismatch) here.
    kept_per_learner = [result.get() for result in algo.learner_group.foreach_learner(_load)]
    algo.env_runner_group.sync_weights(from_worker_or_learner_group=algo.learner_group, inference_only=True)
    return sorted(kept_per_learner[0]) if kept_per_learner else []
