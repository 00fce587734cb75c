"""Spec settings of the ``wolpertinger`` and ``ensemble`` baselines (thesis Ch.4 §4.6.1)."""

from __future__ import annotations

from pydantic import Field

from rllib_modules.td3.config import TD3Settings

__all__ = ["EnsembleSettings", "WolpertingerSettings"]


class WolpertingerSettings(TD3Settings):
    num_candidates: int = Field(3, ge=1, description="k Gaussian samples around μ(s) (T §4.6.1: k = 3).")
    sample_sigma: float = Field(0.3, gt=0, description="Std of the samples, normalised units (unspecified in the sources).")


class EnsembleSettings(TD3Settings):
    num_candidates: int = Field(3, ge=1, description="k independently initialised actors (T §4.6.1: k = 3).")
