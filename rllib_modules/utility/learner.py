"""PPO Learner of ``utility-ppo`` with the representation-learning stage (Algorithm 1).

Stage 1 (thesis §2.4.1, Algorithm 1): before any RL update, train the HVAE (or the flat
VAE) on the action observations of the *training* actions and infer the representation
of every action as the posterior mean of q_φ(c|O). Stage 2 is PPO on the utility policy,
which reads those representations from its ``action_table`` buffer through the
observation's ``action_ids``.

The stage runs in :meth:`build`, i.e. once per Learner, and is cached by content hash
(:func:`rllib_modules.hvae.cached_representation`): a sweep over PPO settings trains each
distinct (representation config, data, train ids, seed) once. The table is a buffer of
the module's state, so RLlib's initial weight sync after ``build`` (and every later sync,
and checkpoints) carries it to the EnvRunners; the representation model itself is not
part of the RL optimiser, so it stays frozen during RL (RLLIB_NOTES §0).

After :meth:`build`, :attr:`pretraining` describes the stage for the platform, which logs
its artifacts to MLflow and links them to the RL run (``actlab.runner.trial``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ray.rllib.core import DEFAULT_MODULE_ID

from actlab import registry
from rllib_modules.common.ppo_learner import AdamEpsPPOTorchLearner
from rllib_modules.utility.pretraining import stage_inputs
from rllib_modules.utility.representation import RepresentationConfig

#: ``learner_config_dict`` key holding the stage's settings (set by the builder).
PRETRAINING_KEY = "actlab_representation"


class UtilityPPOLearner(AdamEpsPPOTorchLearner):
    """``AdamEpsPPOTorchLearner`` + the HVAE/VAE pretraining stage in :meth:`build`."""

    pretraining: dict[str, Any] | None = None

    def build(self) -> None:
        super().build()
        settings = (self.config.learner_config_dict or {}).get(PRETRAINING_KEY)
        if settings is None:
            return
        rep = RepresentationConfig.model_validate(settings["representation"])
        if rep.pretrained:
            self.pretraining = self._pretrain(rep, settings["env_id"], settings["env_config"], settings["seed"])

    def pretraining_summary(self) -> dict[str, Any] | None:
        """The stage's description with its artifact files (plots written on first call)."""
        if self.pretraining is None:
            return None
        settings = self.config.learner_config_dict[PRETRAINING_KEY]
        plots = write_pretraining_plots(self.pretraining, settings["env_id"], settings["env_config"])
        entry = Path(self.pretraining["dir"])
        files = [entry / name for name in ("table.npy", "model.pt", "curves.json", "meta.json")] + plots
        return {**self.pretraining, "artifacts": [str(f) for f in files if f.exists()]}

    def _pretrain(self, rep: RepresentationConfig, env_id: str, env_config: dict, trial_seed: int) -> dict[str, Any]:
        from rllib_modules.hvae import cached_representation
        from rllib_modules.hvae.cache import cache_entry_dir

        stage = stage_inputs(rep, env_id, env_config, trial_seed)
        started = time.perf_counter()
        # On the Learner's device: a GPU Learner (cluster runs) trains the stage on its GPU.
        result, hit = cached_representation(
            stage.kind, stage.model, stage.data_spec, stage.train_ids, stage.seed, stage.cache_dir, device=self._device
        )
        table = torch.as_tensor(np.asarray(result.table, dtype=np.float32))
        module = self.module[DEFAULT_MODULE_ID]
        if tuple(module.action_table.shape) != tuple(table.shape):
            raise ValueError(f"representation table {tuple(table.shape)} != module table {tuple(module.action_table.shape)}")
        with torch.no_grad():
            module.action_table.copy_(table)
        return {
            "key": stage.key,
            "dir": str(cache_entry_dir(stage.cache_dir, stage.key)),
            "source": rep.source,
            "kind": rep.kind,
            "cache_hit": hit,
            "seed": stage.seed,
            "wall_s": time.perf_counter() - started,
            "n_train_actions": int(len(stage.train_ids)),
            "meta": json.loads(json.dumps(result.meta, default=str)),
        }


def write_pretraining_plots(info: dict[str, Any], env_id: str, env_config: dict) -> list[Path]:
    """ELBO / reconstruction curves and a t-SNE of held-out actions, next to the cache entry.

    Idempotent: plots already in the entry are reused (they depend only on its content).
    """
    from rllib_modules.hvae import curves_plot, tsne_plot

    entry_dir = Path(info["dir"])
    curves_png, tsne_png = entry_dir / "curves.png", entry_dir / "tsne_heldout.png"
    if not curves_png.exists():
        curves_plot(json.loads((entry_dir / "curves.json").read_text()), curves_png)
    if not tsne_png.exists():
        dataset = registry.get_env(env_id).action_dataset(env_config)  # type: ignore[misc]
        held_out = np.sort(np.concatenate([dataset.split_ids["validation"], dataset.split_ids["test"]]))
        table = np.load(entry_dir / "table.npy")
        tsne_plot(
            table, held_out, np.asarray(dataset.labels)[held_out], tsne_png,
            label_names=dataset.label_names, title=f"{info['source']}: held-out actions",
        )
    return [curves_png, tsne_png]
