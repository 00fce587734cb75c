"""The 1,024 five-move skills of Grid World and their train/validation/test split.

Thesis App. A.1 ("Actions"): a skill is a sequence of 5 consecutive moves from
{Up, Down, Left, Right}, giving 4^5 = 1,024 skills; ("Action Set Split") the skills are
randomly divided 2:1:1 into train, validation and test action sets.

Skill id <-> move sequence (fixed, documented order)
----------------------------------------------------
Move codes are ``U=0, D=1, L=2, R=3``. A skill id is the base-4 number whose digits are
the move codes, the **first move being the most significant digit**::

    skill_id = m0*4**4 + m1*4**3 + m2*4**2 + m3*4 + m4

so ``0 = "UUUUU"``, ``1 = "UUUUD"``, ``3 = "UUUUR"``, ``4 = "UUUDU"``, ``1023 = "RRRRR"``.
Sorting skill ids therefore sorts the move strings lexicographically in the order U<D<L<R.

Coordinates
-----------
Cells are addressed as ``(row, col)`` with row 0 at the top; ``x`` is the column and ``y``
the row (image convention: y grows downwards). A move's displacement is therefore
``U=(dx,dy)=(0,-1)``, ``D=(0,+1)``, ``L=(-1,0)``, ``R=(+1,0)``. The same convention is used
for the action observations (``action_observations.py``) and the hand-engineered
representation (``representations.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import numpy as np

#: Move letters, indexed by move code.
MOVES: tuple[str, ...] = ("U", "D", "L", "R")
#: Number of move directions.
N_MOVES: int = len(MOVES)
#: Moves per skill (thesis App. A.1: "5-step skills").
SKILL_LENGTH: int = 5
#: Total number of skills, 4^5.
N_SKILLS: int = N_MOVES**SKILL_LENGTH

#: ``(dx, dy)`` displacement of each move code; x = column, y = row (downwards).
MOVE_DELTAS_XY: np.ndarray = np.array([[0, -1], [0, 1], [-1, 0], [1, 0]], dtype=np.int64)
MOVE_DELTAS_XY.setflags(write=False)

Split = Literal["train", "validation", "test"]
#: Split names in the order their blocks are cut from the permutation.
SPLITS: tuple[Split, ...] = ("train", "validation", "test")
#: 2:1:1 split of the 1,024 skills (thesis App. A.1, "Action Set Split").
SPLIT_SIZES: dict[str, int] = {"train": 512, "validation": 256, "test": 256}
assert sum(SPLIT_SIZES.values()) == N_SKILLS


@lru_cache(maxsize=1)
def _skill_moves_cached() -> np.ndarray:
    ids = np.arange(N_SKILLS)
    # Digit k (k=0 first move) of the base-4 id: most significant first.
    powers = N_MOVES ** np.arange(SKILL_LENGTH - 1, -1, -1)
    moves = ((ids[:, None] // powers[None, :]) % N_MOVES).astype(np.int8)
    moves.setflags(write=False)
    return moves


def skill_moves() -> np.ndarray:
    """Move codes of every skill: ``int8 (1024, 5)``, row ``i`` = moves of skill id ``i``.

    The returned array is read-only (it is shared).
    """
    return _skill_moves_cached()


def skill_deltas_xy() -> np.ndarray:
    """``(dx, dy)`` of every move of every skill: ``int64 (1024, 5, 2)``."""
    return MOVE_DELTAS_XY[skill_moves()]


def skill_id(moves: str | Sequence[int]) -> int:
    """Skill id of a move sequence, given as a string (``"UURRD"``) or as move codes."""
    codes = [MOVES.index(m) for m in moves.upper()] if isinstance(moves, str) else list(moves)
    if len(codes) != SKILL_LENGTH or any(not 0 <= c < N_MOVES for c in codes):
        raise ValueError(f"a skill is {SKILL_LENGTH} moves from {MOVES}; got {moves!r}")
    out = 0
    for c in codes:
        out = out * N_MOVES + int(c)
    return out


def skill_name(skill: int) -> str:
    """Move string of a skill id, e.g. ``skill_name(1023) == "RRRRR"``."""
    if not 0 <= skill < N_SKILLS:
        raise ValueError(f"skill id must be in [0, {N_SKILLS}); got {skill}")
    return "".join(MOVES[c] for c in skill_moves()[skill])


@lru_cache(maxsize=16)
def _split_cached(split_seed: int) -> dict[str, np.ndarray]:
    # A single permutation from a dedicated generator, cut into consecutive blocks: the
    # split depends only on ``split_seed`` (not on the env's episode RNG), so every process
    # and every evaluation set agree on it.
    perm = np.random.default_rng(split_seed).permutation(N_SKILLS)
    out: dict[str, np.ndarray] = {}
    start = 0
    for name in SPLITS:
        ids = np.sort(perm[start : start + SPLIT_SIZES[name]]).astype(np.int64)
        ids.setflags(write=False)
        out[name] = ids
        start += SPLIT_SIZES[name]
    return out


def skill_split(split_seed: int = 0) -> dict[str, np.ndarray]:
    """The 2:1:1 train/validation/test split of the skill ids (thesis App. A.1).

    Returns ``{"train": (512,), "validation": (256,), "test": (256,)}`` sorted, disjoint,
    read-only ``int64`` arrays that together cover ``0..1023``. Deterministic in
    ``split_seed`` (a ``numpy.random.default_rng(split_seed).permutation``).
    """
    return dict(_split_cached(int(split_seed)))


def split_pool(split: str, split_seed: int = 0) -> np.ndarray:
    """Sorted skill ids of one split (see :func:`skill_split`)."""
    if split not in SPLIT_SIZES:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return _split_cached(int(split_seed))[split]
