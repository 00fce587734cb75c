"""gymnasium's own MuJoCo tasks, registered with actlab as they are (thesis Ch.4 §4.6, unrestricted).

They need no config (``env.config: {}``); the restricted variants of T-AppC §C.3.1 are
separate environments (``actlab/Restricted*``). Evaluation: one ``eval`` set (the same
task, greedy actions), no checkpoint selection.
"""

from __future__ import annotations

from actlab.registry import EnvEntry, register_env
from actlab.spec.models import StrictModel

__all__ = ["ENV_ENTRIES", "MUJOCO_TASKS", "MuJoCoTaskConfig", "register"]

#: gymnasium ids (``gymnasium[mujoco]``, MuJoCo 4; see spec/ENV_NOTES.md for their speeds).
MUJOCO_TASKS = ("InvertedPendulum-v5", "InvertedDoublePendulum-v5", "Hopper-v5", "Walker2d-v5")


class MuJoCoTaskConfig(StrictModel):
    """No settings: the task as gymnasium defines it (1000-step time limit)."""


#: One entry per task, created once so that registering again (a reload) is idempotent.
ENV_ENTRIES = {
    task: EnvEntry(
        name=task,
        description=f"gymnasium {task} (MuJoCo), unmodified.",
        config_model=MuJoCoTaskConfig,
        eval_sets={"eval": {}},
        select_on=None,
    )
    for task in MUJOCO_TASKS
}


def register() -> None:
    for entry in ENV_ENTRIES.values():
        register_env(entry)
