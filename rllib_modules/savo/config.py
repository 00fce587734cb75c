"""Typed spec settings of ``savo`` (thesis Ch.4 §4.4.5, T-AppC Table C.1, §E)."""

from __future__ import annotations

from pydantic import Field

from rllib_modules.savo.summarizer import SummarizerType
from rllib_modules.td3.config import TD3Settings
from rllib_modules.td3.noise import NoiseType

__all__ = ["SAVOSettings"]


class SAVOSettings(TD3Settings):
    """SAVO-TD3. Every field has a default: ``config: {}`` runs SAVO with k = 3 (T §4.6.1)."""

    num_successive: int = Field(3, ge=1, description="k successive actor-surrogate pairs after μ (T §4.6.1: 3; Table 4.1 also 5).")
    summarizer: SummarizerType = Field("deepset", description="List summarizer of the previous actions (T-AppC §F.3).")
    summary_hidden: int = Field(64, ge=1, description="Width of the summarizer (unspecified in the sources).")
    film: bool = Field(True, description="FiLM conditioning on the summary (T-AppC §F.4); False: concatenation.")
    condition_on_previous: bool = Field(True, description="False: the '- Previous Actions' ablation.")
    approximate_surrogates: bool = Field(True, description="False: the '- Approximation' ablation (exact Ψ_i).")
    target_policy_smoothing: bool = Field(False, description="SAVO removes TD3's smoothing (§4.4.5 item 1); True: '+ Action Smoothing'.")
    exploration_noise: NoiseType = Field("ou", description="OU noise on every candidate (§4.4.5 item 2); 'gaussian' does as well (T-AppC §E.3).")
