"""Grid World with 5-move skills (thesis Ch.2, App. A.1): ``actlab/GridWorldSkills-v0``.

Public API:

- :class:`GridWorldSkillsEnv`, :class:`GridWorldSkillsConfig`, :data:`ENV_ID`;
- skills: :func:`skill_moves`, :func:`skill_id`, :func:`skill_name`, :func:`skill_split`,
  :func:`split_pool`;
- representations: :func:`representation_table`, :func:`load_representation_table`,
  :func:`register_representation`;
- action observations: :func:`load_action_observations`, :func:`to_one_hot`,
  :func:`load_action_observations_one_hot`;
- :func:`register`: registers the env with gymnasium and :mod:`actlab.registry` (idempotent).
"""

from __future__ import annotations

import gymnasium as gym

import numpy as np

from actlab.registry import ActionDataset, EnvEntry, register_env
from envs.gridworld_skills.action_observations import (
    generate_action_observations,
    load_action_observations,
    load_action_observations_one_hot,
    to_one_hot,
)
from envs.gridworld_skills.config import GridWorldSkillsConfig
from envs.gridworld_skills.env import (
    AGENT,
    EMPTY,
    GOAL,
    LAVA,
    N_CELL_CODES,
    SUBGOAL,
    WALL,
    GridWorldSkillsEnv,
)
from envs.gridworld_skills.representations import (
    available_representations,
    load_representation_table,
    register_representation,
    representation_table,
)
from envs.gridworld_skills.skills import (
    MOVES,
    N_SKILLS,
    SKILL_LENGTH,
    SPLIT_SIZES,
    skill_deltas_xy,
    skill_id,
    skill_moves,
    skill_name,
    skill_split,
    split_pool,
)

ENV_ID = "actlab/GridWorldSkills-v0"


def action_dataset(env_config: dict) -> ActionDataset:
    """The skills' action observations (App. A.1): trajectories on an empty 80x80 grid.

    Labels: the quadrant of each skill's net displacement (Fig. A.4's colouring): the angle
    of (dx, -dy) (y up) in [k*90deg, (k+1)*90deg) gives label k; five moves never return
    to the origin, so every skill has one.
    """
    split_seed = int(env_config.get("split_seed", 0))
    deltas = skill_deltas_xy().sum(axis=1)  # net (dx, dy) on an empty grid, y downwards
    angle = np.arctan2(-deltas[:, 1], deltas[:, 0]) % (2 * np.pi)
    quadrant = np.minimum((angle // (np.pi / 2)).astype(np.int64), 3)
    return ActionDataset(
        data_spec={"source": "gridworld_skills", "n_obs": 1024, "grid_size": 80, "seed": 0},
        split_ids={k: np.asarray(v) for k, v in skill_split(split_seed).items()},
        n_actions=N_SKILLS,
        labels=quadrant,
        label_names=("up-right", "up-left", "down-left", "down-right"),
    )


#: The registry entry (a module-level singleton, so registering it twice is a no-op).
ENV_ENTRY = EnvEntry(
    name=ENV_ID,
    description=(
        "Grid World (thesis Ch.2, App. A.1): 9x9 navigation past a random lava wall through its "
        "opening (subgoal) to the goal, with per-episode action sets of m=50 five-move skills "
        "from a 2:1:1 train/validation/test split of the 1,024 skills; reward Eq. A.1."
    ),
    config_model=GridWorldSkillsConfig,
    eval_sets={"train": {"split": "train"}, "validation": {"split": "validation"}, "test": {"split": "test"}},
    select_on="validation",
    success_key="success",
    action_dataset=action_dataset,
)


def register() -> None:
    """Register with gymnasium (the env truncates by itself: no TimeLimit) and actlab."""
    if ENV_ID not in gym.registry:
        gym.register(
            id=ENV_ID,
            entry_point="envs.gridworld_skills.env:GridWorldSkillsEnv",
            max_episode_steps=None,
        )
    register_env(ENV_ENTRY)


__all__ = [
    "AGENT",
    "EMPTY",
    "ENV_ENTRY",
    "ENV_ID",
    "GOAL",
    "LAVA",
    "MOVES",
    "N_CELL_CODES",
    "N_SKILLS",
    "SKILL_LENGTH",
    "SPLIT_SIZES",
    "SUBGOAL",
    "WALL",
    "GridWorldSkillsConfig",
    "GridWorldSkillsEnv",
    "available_representations",
    "generate_action_observations",
    "load_action_observations",
    "load_action_observations_one_hot",
    "load_representation_table",
    "register",
    "register_representation",
    "representation_table",
    "skill_id",
    "skill_moves",
    "skill_name",
    "skill_split",
    "split_pool",
    "to_one_hot",
]
