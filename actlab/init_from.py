"""Start trials from earlier runs: finetuning (thesis §2.6.4) or continuing to a larger budget.

A spec's ``init_from`` section names MLflow experiment(s) whose *finished* trial runs hold
trained policies. Each trial of the new sweep starts from the newest run there with the
same seed (by default the same algorithm, and the same values of the ``match`` fields):

- :func:`resolve_init_sources` runs in the driver before Ray starts: it finds each trial's
  source run and checks that its module checkpoint exists on this machine, or fails with
  one line naming ``init_from`` and the fix;
- :func:`load_initial_weights` runs in the trial: it copies the source module's parameters
  and buffers into the new policy (every Learner, then the EnvRunners), except the ones
  named in ``reinit`` (prefixes of parameter names) and, when allowed, the ones whose shape
  changed (a discrete head over a different action set: "Discrete Fine-Tune"). Those keep
  their fresh initialisation. Optimizer state is not carried over;
- with ``module: continue`` the trial instead restores the source's whole last checkpoint
  (:func:`actlab.runner.trial.run_trial`), exactly as a resumed trial does: the policy,
  the optimizer, the schedules, the env-step counter and the best checkpoint so far.

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
    """What ``init_from.module`` loads from a run: its best-validation module, its final
    module, or (``continue``) its whole last trial checkpoint."""
    if module == "best":
        path = tags.get("actlab.best_checkpoint")
    elif module == "continue":
        path = tags.get("actlab.checkpoint")
    else:
        ckpt = tags.get("actlab.checkpoint")
        path = str(Path(ckpt) / _FINAL_MODULE_SUBDIR) if ckpt else None
    return Path(path) if path else None


def _matching_values(spec: Mapping[str, Any], fields: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """The trial's MLflow-param values of the ``match`` fields (a field may name a whole section),
    and the fields the spec does not have."""
    from actlab.tracking import flatten

    flat = flatten({k: v for k, v in spec.items() if k not in ("grid", "tracking")})
    values: dict[str, str] = {}
    unknown: list[str] = []
    for field in fields:
        found = {k: v for k, v in flat.items() if k == field or k.startswith(field + ".")}
        if not found:
            unknown.append(field)
        values.update(found)
    return values, unknown


def resolve_init_sources(trials: Sequence[Any], tracking_uri: str, file: str) -> list[Any]:
    """The trials with ``init_from`` (``{run_id, run_name, path, module}``) filled in wherever their
    spec has an ``init_from`` section (the grid may vary it); one SpecError lists every source missing."""
    import dataclasses

    from mlflow.tracking import MlflowClient

    from actlab.runner.trial_checkpoint import is_trial_checkpoint, read_trial_state

    client = MlflowClient(tracking_uri)
    problems: list[SpecProblem] = []
    resolved: list[Any] = []
    spent: list[tuple[Any, Mapping[str, Any]]] = []  # (source TrialState, trial's stop) of continued trials
    for trial in trials:
        init = trial.spec.get("init_from")
        resolved.append(trial)
        if not init:
            continue
        names = [init["experiment"]] if isinstance(init["experiment"], str) else list(init["experiment"])
        experiments = [client.get_experiment_by_name(name) for name in names]
        missing = [name for name, exp in zip(names, experiments) if exp is None]
        if missing:
            problems.append(SpecProblem(
                file, "init_from.experiment",
                f"no MLflow experiment '{missing[0]}' in {tracking_uri}; run the pretraining sweep first "
                "or pass the --tracking-uri that holds it",
            ))
            continue
        wanted, unknown = _matching_values(trial.spec, init.get("match") or [])
        if unknown:
            problems.append(SpecProblem(
                file, "init_from.match",
                f"'{unknown[0]}' is not a field of this spec; name dotted spec fields such as "
                "'algorithm.config.representation.source'",
            ))
            continue
        algorithm = init.get("algorithm") or trial.spec["algorithm"]["name"]
        query = (
            f"tags.`actlab.kind` = 'trial' and tags.`actlab.seed` = '{trial.seed}' "
            f"and tags.`actlab.algorithm` = '{algorithm}' and attributes.status = 'FINISHED'"
        )
        if init.get("sweep"):
            query += f" and tags.`actlab.sweep` = '{init['sweep']}'"
        candidates = client.search_runs(
            [exp.experiment_id for exp in experiments], filter_string=query, order_by=["attributes.start_time DESC"]
        )
        # Compared here rather than in the filter string: param values are JSON text with quotes.
        runs = [r for r in candidates if all(r.data.params.get(k[:250]) == v[:6000] for k, v in wanted.items())]
        where = "experiment " + ", ".join(f"'{n}'" for n in names) + (f", sweep '{init['sweep']}'" if init.get("sweep") else "")
        if wanted:
            where += " with the same " + ", ".join(init["match"])
        if not runs:
            problems.append(SpecProblem(
                file, "init_from",
                f"no finished '{algorithm}' run with seed {trial.seed} in {where}; pretrain that seed first "
                "or set init_from.algorithm / init_from.sweep / init_from.match",
            ))
            continue
        run = runs[0]
        module = init.get("module", "best")
        path = module_checkpoint_of_run(run.data.tags, module)
        if path is None or not path.is_dir():
            problems.append(SpecProblem(
                file, "init_from.module",
                f"run '{run.info.run_name}' ({run.info.run_id}) has no {module} checkpoint "
                f"on this machine ({path}); use module: final, or run where its checkpoints are",
            ))
            continue
        if module == "continue":
            if not is_trial_checkpoint(path):
                problems.append(SpecProblem(
                    file, "init_from.module",
                    f"{path} (run '{run.info.run_name}') is not a complete trial checkpoint; use module: final",
                ))
                continue
            spent.append((read_trial_state(path), trial.spec.get("stop") or {}))
        source = {"run_id": run.info.run_id, "run_name": run.info.run_name, "path": str(path), "module": module}
        resolved[-1] = dataclasses.replace(trial, init_from=source)
    problems.extend(_spent_budgets(spent, file))
    if problems:
        raise SpecError(problems)
    return resolved


def _spent_budgets(spent: Sequence[tuple[Any, Mapping[str, Any]]], file: str) -> list[SpecProblem]:
    """One problem per ``stop`` criterion that some continued run has already met.

    ``spent`` pairs each continued source's TrialState with its trial's ``stop`` section.
    A continuation counts the source's steps, iterations and time, so its budget must exceed them.
    """
    problems: list[SpecProblem] = []
    for field, attribute in (("env_steps", "env_steps"), ("iterations", "iteration"), ("time_s", "train_time_s")):
        over = [(getattr(state, attribute), stop[field]) for state, stop in spent if stop.get(field) is not None
                and getattr(state, attribute) >= stop[field]]
        if over:
            most = max(done for done, _ in over)
            shown = f"{most:,}" if isinstance(most, int) else f"{most:,.0f}"
            problems.append(SpecProblem(
                file, f"stop.{field}",
                f"{over[0][1]:,} is already reached by {len(over)} of the {len(spent)} run(s) continued from (up to "
                f"{shown}); a continuation counts its source's {field}, so set stop.{field} above {shown}",
            ))
    return problems


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
