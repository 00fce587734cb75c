"""Restricted MuJoCo (thesis Ch.4 §4.5, T-AppC §C.3.1): only actions inside a union of hyperspheres act.

``actlab/RestrictedHopper-v0``, ``actlab/RestrictedWalker2d-v0``,
``actlab/RestrictedInvertedPendulum-v0``, ``actlab/RestrictedInvertedDoublePendulum-v0``:
gymnasium's v5 tasks wrapped by :class:`RestrictedActions`. See :mod:`envs.restricted_mujoco.env`
for the geometry and the choices the sources leave open.
"""

from __future__ import annotations

import gymnasium as gym

from actlab.registry import EnvEntry, register_env
from envs.restricted_mujoco.env import (
    DEFAULT_LAYOUTS,
    RestrictedActions,
    RestrictedMuJoCoConfig,
    make_restricted,
    sphere_layout,
)

__all__ = ["DEFAULT_LAYOUTS", "ENV_ENTRIES", "ENV_IDS", "RestrictedActions", "RestrictedMuJoCoConfig", "make_restricted", "register", "sphere_layout"]

#: actlab id -> gymnasium base task.
ENV_IDS = {
    "actlab/RestrictedHopper-v0": "Hopper-v5",
    "actlab/RestrictedWalker2d-v0": "Walker2d-v5",
    "actlab/RestrictedInvertedPendulum-v0": "InvertedPendulum-v5",
    "actlab/RestrictedInvertedDoublePendulum-v0": "InvertedDoublePendulum-v5",
}


#: One entry per environment, created once so that registering again (a reload) is idempotent.
ENV_ENTRIES = {
    env_id: EnvEntry(
        name=env_id,
        description=f"{base} where only actions inside a seeded union of hyperspheres act; others have a "
        "null effect (T-AppC §C.3.1).",
        config_model=RestrictedMuJoCoConfig,
        eval_sets={"eval": {}},
        select_on=None,
    )
    for env_id, base in ENV_IDS.items()
}


def register() -> None:
    for env_id, base in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point="envs.restricted_mujoco.env:make_restricted", kwargs={"base_id": base})
        register_env(ENV_ENTRIES[env_id])
