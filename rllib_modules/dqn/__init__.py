"""``dqn``: RLlib's own DQN (new API stack), the "DQN learns the non-linear Item-Collection task
from scratch over primitive actions" baseline of OKB §5 (Q3, Fig. 5).

Importing this package registers the algorithm in :mod:`actlab.registry`. Settings and their
documented choices: :mod:`rllib_modules.dqn.config`; the ``DQNConfig``: :mod:`rllib_modules.dqn.build`.
"""

from actlab.registry import AlgorithmEntry, register_algorithm
from rllib_modules.dqn.build import build_dqn
from rllib_modules.dqn.config import DQNSettings

__all__ = ["DQNSettings", "build_dqn"]

DQN_ENTRY = register_algorithm(
    AlgorithmEntry(
        name="dqn",
        description=(
            "RLlib's own DQN (new API stack) over primitive discrete actions: double-Q, ε-greedy with a "
            "linear decay, γ 0.95 by default: the from-scratch baseline of OKB §5 (Q3) on Item Collection."
        ),
        config_model=DQNSettings,
        build=build_dqn,  # type: ignore[arg-type]
    )
)
