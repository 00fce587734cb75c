"""MuJoCo-4 compatibility fix for gymnasium-robotics 1.4.2's Fetch (and FrankaKitchen) environments.

Why (spec/ENV_NOTES.md, "mjcompat"): ``gymnasium_robotics.utils.mujoco_utils.{set,get}_joint_{qpos,qvel}``
test ``joint_type in (mjtJoint.mjJNT_HINGE, mjtJoint.mjJNT_SLIDE)``, where ``joint_type`` is a
NumPy integer read from ``model.jnt_type``. ``in`` compares with the tuple's element on the left,
and on MuJoCo ≥ 3.17 (4.0 here) the pybind enum's ``__eq__`` rejects NumPy integers, so the test is
False and the assertion fails for every hinge and slide joint (``gym.make("FetchPickAndPlace-v4")``
raises at construction).

Fix: :func:`apply` replaces the four functions in that module with versions that look the joint's
width up by ``int(joint_type)`` (free joint: 7 qpos / 6 qvel values, ball: 4 / 3, slide and hinge:
1 / 1). Callers reach them through the module (``self._utils = mujoco_utils`` in the robot envs,
module globals in ``robot_get_obs``), so patching the module's attributes is enough. Behaviour is
otherwise upstream's, with one correction: upstream's ``get_joint_qvel`` reads 4 values for a ball
joint, whose velocity has 3 (no Fetch joint is a ball joint). The replacements are correct on
any MuJoCo version, so applying them unconditionally is safe; :func:`apply` is idempotent.
"""

from __future__ import annotations

from typing import Any, Literal

import mujoco
import numpy as np

__all__ = ["apply", "get_joint_qpos", "get_joint_qvel", "is_applied", "set_joint_qpos", "set_joint_qvel"]

#: Number of qpos / qvel entries per joint type.
_QPOS_WIDTH: dict[int, int] = {
    int(mujoco.mjtJoint.mjJNT_FREE): 7,
    int(mujoco.mjtJoint.mjJNT_BALL): 4,
    int(mujoco.mjtJoint.mjJNT_SLIDE): 1,
    int(mujoco.mjtJoint.mjJNT_HINGE): 1,
}
_QVEL_WIDTH: dict[int, int] = {
    int(mujoco.mjtJoint.mjJNT_FREE): 6,
    int(mujoco.mjtJoint.mjJNT_BALL): 3,
    int(mujoco.mjtJoint.mjJNT_SLIDE): 1,
    int(mujoco.mjtJoint.mjJNT_HINGE): 1,
}
_PATCHED = ("set_joint_qpos", "set_joint_qvel", "get_joint_qpos", "get_joint_qvel")


def _joint_slice(model: mujoco.MjModel, name: str, field: Literal["qpos", "qvel"]) -> slice:
    joint_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
    assert joint_id != -1, f"Joint with name '{name}' is not part of the model!"
    joint_type = int(model.jnt_type[joint_id])
    if field == "qpos":
        start, width = int(model.jnt_qposadr[joint_id]), _QPOS_WIDTH[joint_type]
    else:
        start, width = int(model.jnt_dofadr[joint_id]), _QVEL_WIDTH[joint_type]
    return slice(start, start + width)


def _set(model: mujoco.MjModel, data: mujoco.MjData, name: str, value: Any, field: Literal["qpos", "qvel"]) -> None:
    index = _joint_slice(model, name, field)
    value_arr = np.array(value)
    width = index.stop - index.start
    if width > 1:
        assert value_arr.shape == (width,), f"Value has incorrect shape {name}: {value}"
    getattr(data, field)[index] = value_arr


def set_joint_qpos(model: mujoco.MjModel, data: mujoco.MjData, name: str, value: Any) -> None:
    """Set the joint's qpos entries (7 for a free joint, 4 for a ball joint, else 1)."""
    _set(model, data, name, value, "qpos")


def set_joint_qvel(model: mujoco.MjModel, data: mujoco.MjData, name: str, value: Any) -> None:
    """Set the joint's qvel entries (6 for a free joint, 3 for a ball joint, else 1)."""
    _set(model, data, name, value, "qvel")


def get_joint_qpos(model: mujoco.MjModel, data: mujoco.MjData, name: str) -> np.ndarray:
    """A copy of the joint's qpos entries."""
    return data.qpos[_joint_slice(model, name, "qpos")].copy()


def get_joint_qvel(model: mujoco.MjModel, data: mujoco.MjData, name: str) -> np.ndarray:
    """A copy of the joint's qvel entries."""
    return data.qvel[_joint_slice(model, name, "qvel")].copy()


def apply() -> None:
    """Install the four replacements into ``gymnasium_robotics.utils.mujoco_utils`` (idempotent)."""
    from gymnasium_robotics.utils import mujoco_utils

    replacements = {name: globals()[name] for name in _PATCHED}
    for name, function in replacements.items():
        setattr(mujoco_utils, name, function)


def is_applied() -> bool:
    """True once :func:`apply` has run in this process."""
    from gymnasium_robotics.utils import mujoco_utils

    return all(getattr(mujoco_utils, name) is globals()[name] for name in _PATCHED)
