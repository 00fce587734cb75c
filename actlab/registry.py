"""Name -> builder registry for algorithms and environments.

The platform knows nothing of any method: method packages (``rllib_modules.*``) and
environment families (``envs.*``) register themselves here when imported, and
:func:`load_plugins` imports them. Each entry carries a pydantic config model
(``extra="forbid"``) so that specs are typed per algorithm and per environment.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from pydantic import BaseModel

if TYPE_CHECKING:  # pragma: no cover
    from ray.rllib.algorithms.algorithm_config import AlgorithmConfig

#: Packages imported by :func:`load_plugins`; each registers its entries on import.
PLUGIN_PACKAGES: tuple[str, ...] = ("envs", "rllib_modules")


@dataclass(frozen=True)
class BuildContext:
    """Everything an algorithm builder needs besides its own config."""

    env_id: str
    env_config: dict[str, Any]
    seed: int
    num_env_runners: int = 0
    envs_per_env_runner: int = 1
    cpus_per_env_runner: float = 1.0
    gpus_per_learner: float = 0.0
    #: Total env-step budget of the trial, when the spec stops on env steps (for schedules).
    total_env_steps: int | None = None


@dataclass(frozen=True)
class PretrainingStage:
    """One trial's pretraining stage (e.g. the HVAE of thesis §2.4.1), as the sweep plans it.

    Trials whose stages share a ``key`` share one cached result: the sweep reports how many
    distinct stages it will train before any Ray resources start.
    """

    #: Content hash of everything that determines the stage's result (its cache key).
    key: str
    #: Whether a finished result for ``key`` is already in this machine's cache.
    cached: bool
    #: What is trained, for people, e.g. ``"hvae (40000 steps)"``.
    summary: str
    #: True when the stage's seed defaults to the trial's seed (one stage per RL seed).
    seed_follows_trial: bool
    #: The spec field that sets the stage's seed explicitly.
    seed_field: str


@dataclass(frozen=True)
class AlgorithmEntry:
    """A registered algorithm (method, baseline or ablation variant)."""

    name: str
    description: str
    config_model: type[BaseModel]
    #: ``build(config, ctx)`` returns a ready-to-build RLlib ``AlgorithmConfig``.
    build: Callable[[BaseModel, BuildContext], "AlgorithmConfig"]
    #: ``pretraining_stage(config, ctx)``: the trial's pretraining stage, or None when it has none.
    pretraining_stage: Callable[[BaseModel, BuildContext], PretrainingStage | None] | None = None


@dataclass(frozen=True)
class ActionDataset:
    """Action observations of an environment's action universe (thesis §2.4.1, §2.5.2 step 1).

    What a representation-learning stage (HVAE) trains on: ``data_spec`` names the
    observations reproducibly (it is part of the cache key), ``split_ids`` maps each action
    split to its action ids, and ``labels`` is a ground-truth property per action used to
    colour diagnostic plots (e.g. the quadrant a skill moves the agent to, Fig. A.4).
    """

    data_spec: dict[str, Any]
    split_ids: dict[str, Any]
    n_actions: int
    labels: Any = None
    label_names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class EnvEntry:
    """A registered environment (a gymnasium id under the ``actlab/`` namespace)."""

    name: str
    description: str
    config_model: type[BaseModel]
    #: Default evaluation sets: set name -> env-config overrides (e.g. ``{"split": "test"}``).
    eval_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Evaluation set on which the best checkpoint is selected (None: no selection).
    select_on: str | None = None
    #: Key of ``info`` that holds a boolean success flag at episode end (None: no success).
    success_key: str | None = None
    #: ``action_dataset(env_config) -> ActionDataset`` for envs whose actions come with
    #: action observations (None: representations are given by the env only).
    action_dataset: Callable[[dict[str, Any]], ActionDataset] | None = None
    #: ``action_splits(env_config) -> {split name: action ids}`` for action-set envs whose action
    #: universe is split into train/validation/test actions (thesis §2.5.2); a discrete policy
    #: over the training actions is sized by it. None: taken from ``action_dataset`` if any.
    action_splits: Callable[[dict[str, Any]], dict[str, Any]] | None = None


class UnknownNameError(KeyError):
    """An algorithm or environment name that is not registered."""

    def __init__(self, kind: str, name: str, known: list[str]):
        self.kind, self.name, self.known = kind, name, known
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        super().__init__(f"unknown {kind} '{name}'; {hint}known: {', '.join(sorted(known))}")

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return self.args[0]


_ALGORITHMS: dict[str, AlgorithmEntry] = {}
_ENVS: dict[str, EnvEntry] = {}
_loaded = False


def register_algorithm(entry: AlgorithmEntry) -> AlgorithmEntry:
    if entry.name in _ALGORITHMS and _ALGORITHMS[entry.name] is not entry:
        raise ValueError(f"algorithm '{entry.name}' is registered twice")
    _ALGORITHMS[entry.name] = entry
    return entry


def register_env(entry: EnvEntry) -> EnvEntry:
    if entry.name in _ENVS and _ENVS[entry.name] is not entry:
        raise ValueError(f"environment '{entry.name}' is registered twice")
    _ENVS[entry.name] = entry
    return entry


def load_plugins() -> None:
    """Import every plugin package once so that their entries are registered."""
    global _loaded
    if _loaded:
        return
    for package in PLUGIN_PACKAGES:
        importlib.import_module(package)
    _loaded = True


def algorithms() -> dict[str, AlgorithmEntry]:
    load_plugins()
    return dict(_ALGORITHMS)


def envs() -> dict[str, EnvEntry]:
    load_plugins()
    return dict(_ENVS)


def get_algorithm(name: str) -> AlgorithmEntry:
    known = algorithms()
    if name not in known:
        raise UnknownNameError("algorithm", name, list(known))
    return known[name]


def get_env(name: str) -> EnvEntry:
    known = envs()
    if name not in known:
        raise UnknownNameError("environment", name, list(known))
    return known[name]


class EnvCreator:
    """Picklable RLlib env creator: imports the env packages on the worker, then ``gym.make``.

    RLlib EnvRunners run in other processes (and on other nodes), where ``envs`` has not
    been imported, so the gymnasium registration must happen there too.
    """

    def __init__(self, env_id: str):
        self.env_id = env_id

    def __call__(self, env_config: dict[str, Any]) -> Any:
        import gymnasium as gym

        load_plugins()
        return gym.make(self.env_id, **dict(env_config))

    def __repr__(self) -> str:
        return f"EnvCreator({self.env_id!r})"
