"""actlab: a Ray experiment platform for RL in complex action spaces.

The platform layer (specs, registry, runner, tracking, reporting, CLI). It knows nothing of
any method: methods live in ``rllib_modules`` and environments in ``envs``.
"""

from pathlib import Path

__version__ = "0.1.0"

#: The repository root (holds pyproject.toml, tune_specs/); what `actlab submit` uploads.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
