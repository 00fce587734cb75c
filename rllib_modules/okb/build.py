"""Build the RLlib config of a basis-construction algorithm from its settings and the trial context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from actlab.registry import BuildContext, EnvCreator
from rllib_modules.common.env import rllib_env
from rllib_modules.okb.algorithm import BasisConstructionConfig
from rllib_modules.okb.config import BasisSettings


def build_basis_construction(config: BasisSettings, ctx: BuildContext) -> BasisConstructionConfig:
    """One local Learner; the loop collects in the driver, so no remote EnvRunners are used.

    The env must be a reward-feature env (``info["features"]``, ``unwrapped.d``, ``discount``;
    see :mod:`envs.common.linear_task`). γ is the env's unless ``config.gamma`` is set.
    """
    probe = EnvCreator(ctx.env_id)(dict(ctx.env_config)).unwrapped
    if not hasattr(probe, "d") or not hasattr(probe, "discount"):
        raise ValueError(
            f"env '{ctx.env_id}' has no reward features: OKB's algorithms need a reward-feature env "
            "(actlab/Minecart-v0, actlab/ItemCollection-v0, actlab/Highway-v0, actlab/FetchPickAndPlaceTargets-v0)"
        )
    gamma = config.gamma if config.gamma is not None else float(probe.discount)
    task_w = [float(x) for x in getattr(probe, "w_D", [1.0 / probe.d] * probe.d)]
    algo = BasisConstructionConfig()
    (
        algo.api_stack(enable_rl_module_and_learner=True, enable_env_runner_and_connector_v2=True)
        .framework("torch")
        .environment(env=rllib_env(ctx.env_id), env_config=dict(ctx.env_config))
        .env_runners(num_env_runners=0, num_envs_per_env_runner=1)
        .learners(num_learners=0, num_gpus_per_learner=ctx.gpus_per_learner)
        .rl_module(model_config={"settings": config.model_dump(), "feature_dim": int(probe.d), "task_w": task_w})
        .training(gamma=gamma, basis_settings=config.model_dump(), basis_env_id=ctx.env_id)
        .reporting(min_time_s_per_iteration=0, min_sample_timesteps_per_iteration=0)
        .debugging(seed=ctx.seed)
    )
    return algo


def restore_trial_checkpoint(checkpoint: Path | str) -> tuple[Any, dict[str, Any]]:
    """Rebuild an OKB-family trial's Algorithm and restore one of its checkpoints, outside Tune.

    ``checkpoint`` is a ``checkpoint_NNNNNN`` directory written by ``actlab run``; the trial
    directory's ``params.json`` holds the fully resolved spec, so the same algorithm, settings,
    env and seed are rebuilt (code defaults added since the run apply to settings it did not set).
    Returns ``(algo, trial)``; the caller stops ``algo``. Used by the OKB benchmarks that probe
    checkpoints (``benchmarks/okb_start_state_values.py``, ``benchmarks/okb_checkpoint_eval.py``).
    """
    import envs  # noqa: F401  (registers actlab/* environments)
    from actlab.registry import get_algorithm

    checkpoint = Path(checkpoint).resolve()
    trial = json.loads((checkpoint.parent / "params.json").read_text())["trial"]
    spec = trial["spec"]
    entry = get_algorithm(spec["algorithm"]["name"])
    settings = entry.config_model.model_validate(spec["algorithm"]["config"])
    context = BuildContext(env_id=spec["env"]["name"], env_config=spec["env"].get("config") or {}, seed=int(trial["seed"]))
    algo = entry.build(settings, context).build_algo()
    try:
        algo.restore_from_path(str(checkpoint / "algorithm"))
    except BaseException:
        algo.stop()
        raise
    return algo, trial
