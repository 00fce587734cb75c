"""gymnasium's own MuJoCo tasks, registered with actlab as they are (thesis Ch.4 §4.6, unrestricted).

They need no config (``env.config: {}``); the restricted variants of T-AppC §C.3.1 are
separate environments (``actlab/Restricted*``). Evaluation: one ``eval`` set (the same
task, greedy actions), no checkpoint selection.

Adroit (thesis §4.5, §4.6.3, Fig. 4.10: Door, Hammer, Pen; Rajeswaran et al. 2017) comes
from gymnasium-robotics under its own ids, dense reward, gymnasium-robotics' 200-step time
limit (the thesis gives no Adroit-specific horizon; Table C.1's 1000 is the MuJoCo one).
Only ``-v1`` exists in gymnasium-robotics 1.4.2, whose dense rewards changed in 1.2.1
without a version bump (the package prints that notice to stderr on import; it is
silenced here and recorded in this docstring instead). They run on MuJoCo 4 unpatched
(spec/ENV_NOTES.md).
"""

from __future__ import annotations

import contextlib
import io

import gymnasium as gym

from actlab.registry import EnvEntry, register_env
from actlab.spec.models import StrictModel

__all__ = ["ADROIT_TASKS", "ENV_ENTRIES", "MUJOCO_TASKS", "MuJoCoTaskConfig", "register"]

#: gymnasium ids (``gymnasium[mujoco]``, MuJoCo 4; see spec/ENV_NOTES.md for their speeds).
MUJOCO_TASKS = ("InvertedPendulum-v5", "InvertedDoublePendulum-v5", "Hopper-v5", "Walker2d-v5")
#: gymnasium-robotics ids (Adroit hand, 24-28-d actions in [-1, 1]).
ADROIT_TASKS = ("AdroitHandDoor-v1", "AdroitHandHammer-v1", "AdroitHandPen-v1")


class MuJoCoTaskConfig(StrictModel):
    """No settings: the task as gymnasium defines it (1000-step time limit)."""


#: One entry per task, created once so that registering again (a reload) is idempotent.
ENV_ENTRIES = {
    task: EnvEntry(
        name=task,
        description=f"{'gymnasium-robotics' if task in ADROIT_TASKS else 'gymnasium'} {task} (MuJoCo), unmodified.",
        config_model=MuJoCoTaskConfig,
        eval_sets={"eval": {}},
        select_on=None,
    )
    for task in (*MUJOCO_TASKS, *ADROIT_TASKS)
}


def _register_gymnasium_robotics() -> None:
    """Put gymnasium-robotics' ids into gymnasium's registry (its import does it), quietly."""
    with contextlib.redirect_stderr(io.StringIO()):
        import gymnasium_robotics

    gym.register_envs(gymnasium_robotics)


def register() -> None:
    _register_gymnasium_robotics()
    for entry in ENV_ENTRIES.values():
        register_env(entry)
