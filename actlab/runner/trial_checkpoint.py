"""What a trial checkpoint holds, and how a trial comes back from one.

A trial checkpoint directory (one per ``checkpoint.interval``, and the last one named by the
run's ``actlab.checkpoint`` tag) holds::

    algorithm/                  the whole RLlib Algorithm (modules, optimizers, counters)
    actlab_trial_state.json     TrialState: iteration, env steps, best-so-far, ...
    best_module/                the best-validation RLModule so far (if any)

A retried trial and a resumed sweep restore from Tune's checkpoint; a trial with
``init_from.module: continue`` restores from its source run's last one. Both go through
:func:`restore_trial`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "actlab_trial_state.json"
ALGO_DIR = "algorithm"
BEST_MODULE_DIR = "best_module"


@dataclass
class TrialState:
    """What a trial must carry across checkpoints besides the Algorithm itself."""

    iteration: int = 0
    env_steps: int = 0
    train_time_s: float = 0.0
    evaluations: int = 0
    restores: int = 0
    best_score: float | None = None
    best_env_steps: int | None = None
    best_metrics: dict[str, float] = field(default_factory=dict)


def read_trial_state(checkpoint_dir: Path) -> TrialState:
    return TrialState(**json.loads((checkpoint_dir / STATE_FILE).read_text()))


def is_trial_checkpoint(path: Path) -> bool:
    return (path / ALGO_DIR).is_dir() and (path / STATE_FILE).is_file()


def restore_trial(algo: Any, checkpoint_dir: Path, best_dir: Path) -> TrialState:
    """Load the Algorithm and the best module of ``checkpoint_dir``; return its TrialState."""
    algo.restore_from_path(str(checkpoint_dir / ALGO_DIR))
    if (checkpoint_dir / BEST_MODULE_DIR).exists():
        shutil.copytree(checkpoint_dir / BEST_MODULE_DIR, best_dir)
    return read_trial_state(checkpoint_dir)


def save_trial(algo: Any, state: TrialState, best_dir: Path, target: Path) -> None:
    """Write a trial checkpoint of ``algo``, ``state`` and the best module in ``best_dir`` to ``target``."""
    algo.save_to_path(str(target / ALGO_DIR))
    (target / STATE_FILE).write_text(json.dumps(asdict(state)))
    if best_dir.exists():
        shutil.copytree(best_dir, target / BEST_MODULE_DIR)
