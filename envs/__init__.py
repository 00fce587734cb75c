"""Environment families of actlab. Importing this package registers every environment
with gymnasium (ids under ``actlab/``) and with :mod:`actlab.registry`.

Registration is idempotent, so importing (or reloading) this package twice is safe.
"""

from __future__ import annotations

from envs import gridworld_skills as _gridworld_skills

_gridworld_skills.register()

from envs import recommender as _recommender  # noqa: E402

_recommender.register()

from envs import mujoco_tasks as _mujoco_tasks  # noqa: E402

_mujoco_tasks.register()

from envs import restricted_mujoco as _restricted_mujoco  # noqa: E402

_restricted_mujoco.register()

from envs import mineworld as _mineworld  # noqa: E402

_mineworld.register()

from envs import item_collection as _item_collection  # noqa: E402

_item_collection.register()

from envs import large_recommender as _large_recommender  # noqa: E402

_large_recommender.register()

from envs import minecart as _minecart  # noqa: E402

_minecart.register()

from envs import highway as _highway  # noqa: E402

_highway.register()

from envs import fetch_targets as _fetch_targets  # noqa: E402

_fetch_targets.register()
