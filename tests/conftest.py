"""Shared fixtures. Tests that start Ray are marked ``integration`` or ``cluster``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SPECS = PROJECT_ROOT / "tune_specs"

os.environ.setdefault("RAY_DEDUP_LOGS", "1")


@pytest.fixture(autouse=True, scope="session")
def _single_torch_thread() -> None:
    import torch

    torch.set_num_threads(1)


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write a spec (YAML text) to a file in tmp_path and return its path."""

    def _write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return _write


MINIMAL_SPEC = """
name: t
algorithm:
  name: utility-ppo
env:
  name: actlab/GridWorldSkills-v0
stop:
  env_steps: 1000
"""


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for this module's end-to-end tests, shut down afterwards (other test
    modules check that Ray is not left running)."""
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()
