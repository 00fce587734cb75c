"""Action (skill) representation tables for Grid World.

The utility policy (thesis §2.4.2, Eq. 2.3) scores each available action from its
representation ``c_i``. Every representation here is a ``float32 (1024, d)`` table whose
row ``i`` is the representation of skill id ``i`` (ids as in :mod:`.skills`).

Built-in tables
---------------
``"hand"`` (default, 10-d)
    Hand-engineered encoding of the move sequence: the ``(dx, dy)`` displacement of each
    of the 5 moves, in order, ``[dx_0, dy_0, dx_1, dy_1, ..., dx_4, dy_4]`` with values in
    {-1, 0, 1} (x = column, y = row growing downwards: ``U=(0,-1)``, ``D=(0,1)``,
    ``L=(-1,0)``, ``R=(1,0)``). Unlike a scalar move code it imposes no order between
    directions, and the sum of the displacements is linear in it.
``"moves5"`` (5-d)
    The thesis' "engineered" representation (App. B, Fig. A.4: "5-dimensional
    representations containing the ground-truth knowledge of the five moves"): one number
    per move, the move code ``U=0, D=1, L=2, R=3`` scaled linearly to [-1, 1], i.e.
    ``U=-1, D=-1/3, L=1/3, R=1``. The exact numeric coding is unspecified in the thesis.

Extending
---------
A later representation (e.g. the HVAE's 16-d means, thesis §2.4.1) can either be
registered with :func:`register_representation` (a builder returning the table) or saved
as a ``.npy`` file of shape ``(1024, d)`` and given to the env through its
``representation_table_path`` config (loaded with :func:`load_representation_table`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from envs.gridworld_skills.skills import N_MOVES, N_SKILLS, skill_deltas_xy, skill_moves

RepresentationBuilder = Callable[[], np.ndarray]


def _hand() -> np.ndarray:
    return skill_deltas_xy().reshape(N_SKILLS, -1).astype(np.float32)


def _moves5() -> np.ndarray:
    return (skill_moves().astype(np.float32) * (2.0 / (N_MOVES - 1)) - 1.0).astype(np.float32)


_BUILDERS: dict[str, RepresentationBuilder] = {"hand": _hand, "moves5": _moves5}


def register_representation(name: str, builder: RepresentationBuilder) -> None:
    """Make ``representation=name`` available; ``builder()`` returns a ``(1024, d)`` table."""
    if name in _BUILDERS and _BUILDERS[name] is not builder:
        raise ValueError(f"skill representation '{name}' is registered twice")
    _BUILDERS[name] = builder
    _table_cached.cache_clear()


def available_representations() -> list[str]:
    """Names accepted by :func:`representation_table` (and the env's ``representation``)."""
    return sorted(_BUILDERS)


def _validate(table: np.ndarray, source: str) -> np.ndarray:
    table = np.asarray(table)
    if table.ndim != 2 or table.shape[0] != N_SKILLS or table.shape[1] < 1:
        raise ValueError(f"skill representation {source} must have shape ({N_SKILLS}, d); got {table.shape}")
    table = table.astype(np.float32, copy=True)
    if not np.all(np.isfinite(table)):
        raise ValueError(f"skill representation {source} contains non-finite values")
    table.setflags(write=False)
    return table


@lru_cache(maxsize=None)
def _table_cached(name: str) -> np.ndarray:
    return _validate(_BUILDERS[name](), f"'{name}'")


def representation_table(name: str) -> np.ndarray:
    """The ``float32 (1024, d)`` representation table ``name`` (read-only, cached)."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown skill representation '{name}'; known: {available_representations()}")
    return _table_cached(name)


def load_representation_table(path: str | Path) -> np.ndarray:
    """Load a ``(1024, d)`` table saved with ``numpy.save`` (read-only ``float32``)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"skill representation table not found: {path}")
    return _validate(np.load(path, allow_pickle=False), f"table '{path}'")
