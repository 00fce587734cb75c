"""What a ``utility-ppo`` trial's representation stage trains, computed without training it.

:func:`stage_inputs` resolves a :class:`RepresentationConfig` against the environment's
action dataset (train ids of the split, the observations' data spec) and the trial's seed,
and derives the stage's cache key. The Learner trains (or loads) exactly that stage, and the
sweep runner calls :func:`plan_pretraining` on every trial before Ray starts, to say how
many distinct stages a sweep will train: ``representation.seed`` defaults to the trial's
seed, so a seed sweep trains one HVAE per RL seed unless the spec fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from actlab import registry
from actlab.registry import BuildContext, PretrainingStage
from rllib_modules.hvae.cache import cache_key, is_cached
from rllib_modules.hvae.config import HVAEConfig
from rllib_modules.utility.representation import RepresentationConfig, default_cache_dir

__all__ = ["StageInputs", "plan_pretraining", "stage_inputs"]

#: The spec field that fixes the stage's seed.
SEED_FIELD = "algorithm.config.representation.seed"


@dataclass(frozen=True)
class StageInputs:
    """Everything that determines one representation stage, and its cache key."""

    kind: str
    model: HVAEConfig
    data_spec: dict[str, Any]
    train_ids: np.ndarray
    seed: int
    cache_dir: str
    key: str


def stage_inputs(rep: RepresentationConfig, env_id: str, env_config: dict[str, Any], trial_seed: int) -> StageInputs:
    """The stage of ``rep`` on ``env_id`` for a trial seeded ``trial_seed`` (``rep.pretrained`` must hold)."""
    entry = registry.get_env(env_id)
    if entry.action_dataset is None:
        raise ValueError(f"{env_id} has no action observations; use representation.source: env")
    dataset = entry.action_dataset(env_config)
    train_ids = np.sort(np.concatenate([dataset.split_ids[s] for s in rep.train_splits()]))
    seed = trial_seed if rep.seed is None else rep.seed
    return StageInputs(
        kind=rep.kind,
        model=rep.model,
        data_spec=dict(dataset.data_spec),
        train_ids=train_ids,
        seed=seed,
        cache_dir=rep.cache_dir or default_cache_dir(),
        key=cache_key(rep.kind, rep.model, dataset.data_spec, train_ids, seed),
    )


def plan_pretraining(config: Any, ctx: BuildContext) -> PretrainingStage | None:
    """The registry's ``pretraining_stage`` hook for ``utility-ppo``: None with ``source: env``."""
    rep: RepresentationConfig = config.representation
    if not rep.pretrained:
        return None
    stage = stage_inputs(rep, ctx.env_id, ctx.env_config, ctx.seed)
    return PretrainingStage(
        key=stage.key,
        cached=is_cached(stage.cache_dir, stage.key),
        summary=f"{rep.source} ({rep.model.train_steps} steps)",
        seed_follows_trial=rep.seed is None,
        seed_field=SEED_FIELD,
    )
