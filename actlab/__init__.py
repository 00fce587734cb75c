"""actlab: a Ray experiment platform for RL in complex action spaces.

The platform layer (specs, registry, runner, tracking, reporting, CLI). It knows nothing of
any method: methods live in ``rllib_modules`` and environments in ``envs``.
"""

__version__ = "0.1.0"
