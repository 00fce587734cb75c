"""Pydantic models of a sweep spec (DESIGN.md, "Spec contract").

Every model forbids unknown keys. The ``algorithm`` and ``env`` sections are discriminated
unions over the *registered* algorithms and environments, so each one's ``config`` is typed
by that entry's own model; :func:`sweep_spec_model` builds the union from the registry.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from actlab import registry

DEFAULT_TRACKING_URI = "sqlite:///mlruns.db"


class StrictModel(BaseModel):
    """Base of every spec model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class StopSpec(StrictModel):
    """When a trial stops: the first criterion reached wins."""

    env_steps: Optional[int] = Field(None, gt=0, description="Stop after this many sampled env steps.")
    iterations: Optional[int] = Field(None, gt=0, description="Stop after this many training iterations.")
    time_s: Optional[float] = Field(None, gt=0, description="Stop after this many seconds of training.")

    @model_validator(mode="after")
    def _at_least_one(self) -> "StopSpec":
        if self.env_steps is None and self.iterations is None and self.time_s is None:
            raise ValueError("give at least one of env_steps, iterations, time_s")
        return self


class EvaluationSpec(StrictModel):
    """Periodic evaluation on named evaluation sets (action splits or tasks)."""

    interval: int = Field(
        5, ge=0, description="Evaluate every N training iterations (and at the end); 0 disables evaluation."
    )
    episodes: int = Field(100, gt=0, description="Episodes per evaluation set.")
    sets: Optional[dict[str, dict[str, Any]]] = Field(
        None,
        description="Evaluation set name -> env-config overrides. Default: the environment's own sets "
        "(e.g. train/validation/test action splits).",
    )
    select_on: Optional[str] = Field(
        "auto",
        description="Evaluation set whose metric selects the best checkpoint ('auto': the environment's "
        "default, e.g. validation; null: no selection).",
    )
    metric: Optional[str] = Field(
        None, description="Metric that selects the best checkpoint (default: success_rate if the env has "
        "success, else return_mean)."
    )
    explore: bool = Field(False, description="Sample actions (true) or act greedily (false) when evaluating.")


class ResourcesSpec(StrictModel):
    """Per-trial resources. The defaults fit a 2-CPU laptop."""

    env_runners: int = Field(0, ge=0, description="Remote EnvRunner actors per trial (0: sample in the trial).")
    envs_per_env_runner: int = Field(8, ge=1, description="Vectorised env copies per EnvRunner.")
    cpus_per_env_runner: float = Field(1.0, gt=0, description="CPUs reserved per remote EnvRunner.")
    cpus_per_trial: float = Field(1.0, gt=0, description="CPUs reserved for the trial's driver and learner.")
    gpus_per_trial: float = Field(0.0, ge=0, description="GPUs for the trial's learner (0: CPU only).")
    concurrent_trials: Optional[int] = Field(
        None, gt=0, description="Trials running at once (default: as many as the cluster fits)."
    )
    torch_threads: int = Field(1, ge=1, description="torch intra-op threads per process (1 avoids contention).")

    def trial_bundles(self) -> list[dict[str, float]]:
        """Placement-group bundles of one trial: driver+learner first, then each EnvRunner."""
        head: dict[str, float] = {"CPU": self.cpus_per_trial}
        if self.gpus_per_trial > 0:
            head["GPU"] = self.gpus_per_trial
        return [head] + [{"CPU": self.cpus_per_env_runner} for _ in range(self.env_runners)]


class TrackingSpec(StrictModel):
    uri: str = Field(DEFAULT_TRACKING_URI, description="MLflow tracking URI (sqlite:///file.db or http://host:port).")
    experiment: Optional[str] = Field(None, description="MLflow experiment (default: the spec name).")


class InitFromSpec(StrictModel):
    """Start every trial from a finished run of an earlier sweep.

    Two uses:

    - **finetuning** (thesis §2.6.4; ``module: best`` or ``final``): copy the source
      policy's weights into a fresh trial, some of them re-initialised (``reinit``);
    - **continuing** a finished sweep to a larger budget (``module: continue``): restore the
      source's last full checkpoint (policy, optimizer, schedules, env-step counter, best
      checkpoint so far) and carry on, so ``stop`` counts the source's steps too and the new
      run's curves start where the source's ended.

    The source of a trial is the newest FINISHED trial run of ``experiment`` with the same
    seed and algorithm (``algorithm`` to pick another) whose spec agrees with the trial's on
    every field in ``match``. See ``actlab/init_from.py``.
    """

    experiment: Union[str, list[str]] = Field(
        description="MLflow experiment(s) of the source sweep(s) (a spec name, or a list searched together)."
    )
    algorithm: Optional[str] = Field(
        None, description="Algorithm of the source runs (default: this trial's algorithm)."
    )
    sweep: Optional[str] = Field(None, description="Only runs of this sweep id (tag actlab.sweep); default: the newest run.")
    match: list[str] = Field(
        default_factory=list,
        description="Dotted spec fields whose values the source run must share with the trial (e.g. a grid key "
        "such as 'algorithm.config.representation.source' when one experiment holds several variants).",
    )
    module: Literal["best", "final", "continue"] = Field(
        "best",
        description="'best': the source run's best-validation module; 'final': its last checkpoint's module; "
        "'continue': its whole last checkpoint, training carries on from there (stop counts the source's steps).",
    )
    reinit: list[str] = Field(
        default_factory=list,
        description="Parameter-name prefixes that keep their fresh initialisation (e.g. 'head').",
    )
    reinit_mismatched_shapes: bool = Field(
        False,
        description="Re-initialise parameters whose shape differs from the source's (a discrete head over a "
        "different action set) instead of failing.",
    )

    @model_validator(mode="after")
    def _continue_copies_everything(self) -> "InitFromSpec":
        if self.module == "continue" and (self.reinit or self.reinit_mismatched_shapes):
            raise ValueError(
                "module: continue restores the whole source checkpoint; drop reinit / reinit_mismatched_shapes "
                "(or use module: final to start a new training from the source's weights)"
            )
        return self

    @property
    def experiments(self) -> list[str]:
        return [self.experiment] if isinstance(self.experiment, str) else list(self.experiment)


class CheckpointSpec(StrictModel):
    interval: int = Field(10, ge=1, description="Checkpoint every N iterations (and at the end).")
    keep: int = Field(2, ge=1, description="Checkpoints kept per trial (the newest).")
    storage_path: str = Field("actlab_results", description="Where Tune keeps sweeps (a shared path on clusters).")
    max_failures: int = Field(2, ge=0, description="Retries of a failed trial from its last checkpoint.")


def _variant(kind: str, name: str, entry: registry.AlgorithmEntry | registry.EnvEntry) -> type[BaseModel]:
    """``{name: Literal[name], config: <entry's model>}``: one member of a discriminated union."""
    return create_model(
        f"{kind}[{name}]",
        __base__=StrictModel,
        name=(Literal[name], Field(description=entry.description)),
        config=(entry.config_model, Field(default_factory=entry.config_model)),
    )


def _union(variants: list[type[BaseModel]]) -> Any:
    if len(variants) == 1:
        return variants[0]
    return Annotated[Union[tuple(variants)], Field(discriminator="name")]


@functools.lru_cache(maxsize=1)
def sweep_spec_model() -> type[BaseModel]:
    """The top-level spec model, with ``algorithm``/``env`` typed by the registry."""
    algos = registry.algorithms()
    envs = registry.envs()
    algo_type = _union([_variant("Algorithm", n, e) for n, e in sorted(algos.items())])
    env_type = _union([_variant("Env", n, e) for n, e in sorted(envs.items())])

    class SweepSpec(StrictModel):
        """A sweep: one method on one environment, a grid of settings, several seeds."""

        name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Sweep name (letters, digits, _.-).")
        description: str = Field("", description="What the sweep is for.")
        algorithm: algo_type  # type: ignore[valid-type]
        env: env_type  # type: ignore[valid-type]
        seeds: list[int] = Field([0], min_length=1, description="One trial per seed and grid point.")
        grid: dict[str, list[Any]] = Field(
            default_factory=dict, description="Dotted spec path -> list of values; the cartesian product is swept."
        )
        stop: StopSpec
        evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
        resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
        tracking: TrackingSpec = Field(default_factory=TrackingSpec)
        checkpoint: CheckpointSpec = Field(default_factory=CheckpointSpec)
        init_from: Optional[InitFromSpec] = Field(
            None, description="Start trials from the weights of earlier runs (finetuning); null: from scratch."
        )

        @field_validator("seeds")
        @classmethod
        def _unique_seeds(cls, seeds: list[int]) -> list[int]:
            if len(set(seeds)) != len(seeds):
                raise ValueError("seeds must be unique")
            return seeds

        @field_validator("grid")
        @classmethod
        def _grid_lists(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
            for path, values in grid.items():
                if not values:
                    raise ValueError(f"grid '{path}' has no values; give at least one or remove it")
                if path == "seeds" or path.startswith("seeds."):
                    raise ValueError("vary seeds with the top-level 'seeds' list, not the grid")
                if path == "grid" or path.startswith("grid."):
                    raise ValueError("the grid cannot vary itself")
            return grid

    return SweepSpec


def variant_models() -> dict[tuple[str, str], type[BaseModel]]:
    """(section, registered name) -> that variant's config model; for did-you-mean hints."""
    out: dict[tuple[str, str], type[BaseModel]] = {}
    for name, entry in registry.algorithms().items():
        out[("algorithm", name)] = entry.config_model
    for name, entry in registry.envs().items():
        out[("env", name)] = entry.config_model
    return out
