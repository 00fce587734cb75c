"""Seeded target positions for FetchPickAndPlace with d targets (OKB §5 Q2; ENVIRONMENTS.md E.2).

The paper shows the targets as red spheres (Fig. 1) without coordinates. We draw them from
gymnasium-robotics' own FetchPickAndPlace goal distribution (``_sample_goal``: xy uniform within
``xy_range`` of the gripper's start, z on the table or, with probability 1/2, uniformly up to
``max_height`` above it) with a fixed seed, rejecting a draw closer than ``min_separation`` to an
earlier target so that no two features are near-duplicates. Draws are sequential, so the first k
targets of a seed do not depend on how many are drawn after them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["generate_targets"]

#: Upstream FetchPickAndPlace's ``target_range`` and in-the-air height.
XY_RANGE = 0.15
MAX_HEIGHT = 0.45
_MAX_TRIES = 10_000


def generate_targets(
    n: int,
    seed: int,
    gripper_start_xyz: np.ndarray,
    table_z: float,
    min_separation: float = 0.1,
    xy_range: float = XY_RANGE,
    max_height: float = MAX_HEIGHT,
) -> np.ndarray:
    """``(n, 3)`` target positions; ``table_z`` is the block centre's height resting on the table."""
    rng = np.random.default_rng(seed)
    targets: list[np.ndarray] = []
    for _ in range(_MAX_TRIES):
        if len(targets) == n:
            break
        xyz = np.empty(3)
        xyz[:2] = gripper_start_xyz[:2] + rng.uniform(-xy_range, xy_range, size=2)
        xyz[2] = table_z + (rng.uniform(0.0, max_height) if rng.uniform() < 0.5 else 0.0)
        if all(np.linalg.norm(xyz - t) >= min_separation for t in targets):
            targets.append(xyz)
    if len(targets) < n:
        raise ValueError(f"could not place {n} targets {min_separation} m apart")
    return np.stack(targets) if targets else np.zeros((0, 3))
