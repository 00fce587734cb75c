"""Action observations of the Grid World skills (thesis App. A.1, "Action Observations").

"The observations about each action demonstrate an agent performing the 5-step skill in
an 80x80 grid with no obstacles. Each observation is a trajectory of states resulting
from the skill being applied, starting from a random initial state on the grid. A set of
1024 such trajectories characterizes a single skill."

Here, for every skill id (order of :mod:`.skills`) and each of ``n_obs`` observations, a
start cell is drawn uniformly on the empty ``grid_size x grid_size`` grid, the 5 moves
are applied with the boundary as a no-op (a move that would leave the grid keeps the
agent in place, as in the task, App. A.1), and the 6 visited ``(x, y)`` states (start and
after each move; x = column, y = row growing downwards) are recorded:

    load_action_observations() -> int16 (1024, n_obs, 6, 2)

The alternate data type of App. B ("two 80-dimensional one-hot vectors of the agent's x
and y coordinates") is :func:`to_one_hot`, applied on demand (on the full set it would be
1024*1024*6*160 values, 1 GiB even as ``uint8``).

Generation is deterministic in ``(n_obs, grid_size, seed)`` and cached on disk as an
``.npz`` file named by a content hash of the generation parameters, under
``$ACTLAB_CACHE_DIR`` (default ``~/.cache/actlab``) ``/gridworld_skills/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from envs.gridworld_skills.skills import N_SKILLS, SKILL_LENGTH, skill_deltas_xy

#: Bump when the generation algorithm changes, so that stale caches are not reused.
GENERATOR_VERSION: int = 1
#: Environment variable naming the cache directory.
CACHE_ENV_VAR: str = "ACTLAB_CACHE_DIR"
#: Default cache directory when the environment variable is not set.
DEFAULT_CACHE_DIR: Path = Path("~/.cache/actlab")
#: Number of states per trajectory (the start state and one per move).
TRAJECTORY_LENGTH: int = SKILL_LENGTH + 1


def cache_dir(override: str | Path | None = None) -> Path:
    """Cache directory: ``override``, else ``$ACTLAB_CACHE_DIR``, else ``~/.cache/actlab``."""
    base = override if override is not None else os.environ.get(CACHE_ENV_VAR) or DEFAULT_CACHE_DIR
    return Path(base).expanduser()


def _params(n_obs: int, grid_size: int, seed: int) -> dict[str, int | str]:
    return {
        "kind": "gridworld_skills.action_observations",
        "version": GENERATOR_VERSION,
        "n_skills": N_SKILLS,
        "skill_length": SKILL_LENGTH,
        "n_obs": int(n_obs),
        "grid_size": int(grid_size),
        "seed": int(seed),
    }


def cache_key(n_obs: int = 1024, grid_size: int = 80, seed: int = 0) -> str:
    """Content hash (sha256 hex, 16 chars) of the generation parameters."""
    blob = json.dumps(_params(n_obs, grid_size, seed), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def cache_path(n_obs: int = 1024, grid_size: int = 80, seed: int = 0, directory: str | Path | None = None) -> Path:
    """Where :func:`load_action_observations` caches these parameters."""
    return cache_dir(directory) / "gridworld_skills" / f"action_obs_{cache_key(n_obs, grid_size, seed)}.npz"


def generate_action_observations(n_obs: int = 1024, grid_size: int = 80, seed: int = 0) -> np.ndarray:
    """Generate (without cache) the trajectories: ``int16 (1024, n_obs, 6, 2)`` of ``(x, y)``.

    Vectorised over skills and observations; only the 5 moves are a Python loop (the
    boundary clipping does not commute with a cumulative sum).
    """
    if n_obs < 1 or grid_size < 2:
        raise ValueError(f"need n_obs >= 1 and grid_size >= 2; got n_obs={n_obs}, grid_size={grid_size}")
    rng = np.random.default_rng(seed)
    out = np.empty((N_SKILLS, n_obs, TRAJECTORY_LENGTH, 2), dtype=np.int16)
    pos = rng.integers(0, grid_size, size=(N_SKILLS, n_obs, 2), dtype=np.int16)
    out[:, :, 0] = pos
    deltas = skill_deltas_xy().astype(np.int16)  # (1024, 5, 2)
    for k in range(SKILL_LENGTH):
        pos += deltas[:, None, k, :]
        np.clip(pos, 0, grid_size - 1, out=pos)
        out[:, :, k + 1] = pos
    return out


def load_action_observations(
    n_obs: int = 1024, grid_size: int = 80, seed: int = 0, cache_directory: str | Path | None = None
) -> np.ndarray:
    """The action observations ``int16 (1024, n_obs, 6, 2)``, from the disk cache if present.

    On a cache miss they are generated with :func:`generate_action_observations` and
    written atomically (temp file + rename), so concurrent workers never read a partial file.
    """
    path = cache_path(n_obs, grid_size, seed, cache_directory)
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                obs = data["observations"]
            if obs.shape == (N_SKILLS, n_obs, TRAJECTORY_LENGTH, 2):
                return obs
        except (OSError, ValueError, KeyError):
            pass  # corrupt or foreign file: regenerate and overwrite below
    obs = generate_action_observations(n_obs=n_obs, grid_size=grid_size, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp.npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, observations=obs, params=json.dumps(_params(n_obs, grid_size, seed)))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return obs


def to_one_hot(trajectories: np.ndarray, grid_size: int = 80, dtype: type = np.float32) -> np.ndarray:
    """One-hot data type (thesis App. B, "One-hot"): ``(..., 2) -> (..., 2 * grid_size)``.

    Each ``(x, y)`` state becomes the concatenation of an x one-hot and a y one-hot.
    """
    traj = np.asarray(trajectories)
    if traj.shape[-1] != 2:
        raise ValueError(f"expected (..., 2) coordinates; got shape {traj.shape}")
    if traj.size and (traj.min() < 0 or traj.max() >= grid_size):
        raise ValueError(f"coordinates must lie in [0, {grid_size})")
    out = np.zeros((*traj.shape[:-1], 2 * grid_size), dtype=dtype)
    idx = traj.astype(np.intp)
    np.put_along_axis(out, idx[..., :1], 1, axis=-1)
    np.put_along_axis(out, idx[..., 1:] + grid_size, 1, axis=-1)
    return out


def load_action_observations_one_hot(
    n_obs: int = 1024, grid_size: int = 80, seed: int = 0, skills: np.ndarray | None = None
) -> np.ndarray:
    """One-hot action observations ``(len(skills), n_obs, 6, 2*grid_size)`` float32.

    ``skills`` selects skill ids (default all 1,024; beware the size, see module doc).
    """
    obs = load_action_observations(n_obs=n_obs, grid_size=grid_size, seed=seed)
    if skills is not None:
        obs = obs[np.asarray(skills)]
    return to_one_hot(obs, grid_size=grid_size)
