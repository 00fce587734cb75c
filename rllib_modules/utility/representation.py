"""Which action representations the utility policy reads (thesis §2.4.1, §2.5.3, §2.6.3).

``source: env`` uses what the environment puts in ``action_reprs`` (Grid World: the
hand-engineered move encoding or ``moves5``; Recommender: the given item vectors).
``hvae`` / ``vae`` learn the representations from action observations first (stage 1 of
Algorithm 1) in :class:`~rllib_modules.utility.learner.UtilityPPOLearner`; ``oracle-hvae``
trains the HVAE on the test actions too (Fig. 2.7(b)). The alternative *data type* of
§2.6.3 (one-hot (x, y) trajectories) is ``model.data_type: one_hot``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rllib_modules.hvae.config import HVAEConfig

RepresentationSource = Literal["env", "hvae", "vae", "oracle-hvae"]


def default_cache_dir() -> str:
    return os.environ.get("ACTLAB_CACHE_DIR", str(Path.home() / ".cache" / "actlab"))


class RepresentationConfig(BaseModel):
    """The representation stage of ``utility-ppo``."""

    model_config = ConfigDict(extra="forbid")

    source: RepresentationSource = Field(
        "env",
        description="'env': the environment's own representations (hand-engineered / given); 'hvae': the "
        "HVAE of §2.4.1 trained on the train actions' observations; 'vae': the flat VAE baseline (§2.5.3); "
        "'oracle-hvae': the HVAE trained on train + test actions (Fig. 2.7(b)).",
    )
    model: HVAEConfig = Field(default_factory=HVAEConfig, description="HVAE / VAE settings (Tables A.3/A.4).")
    seed: int | None = Field(
        None, description="Seed of the pretraining stage (default: the trial's seed). Part of the cache key."
    )
    cache_dir: str | None = Field(
        None,
        description="Where trained representations are cached by content hash (default $ACTLAB_CACHE_DIR or "
        "~/.cache/actlab; a shared path on clusters).",
    )

    @property
    def pretrained(self) -> bool:
        return self.source != "env"

    @property
    def kind(self) -> str:
        """The model kind of :mod:`rllib_modules.hvae`."""
        return "vae" if self.source == "vae" else "hvae"

    def train_splits(self) -> tuple[str, ...]:
        return ("train", "test") if self.source == "oracle-hvae" else ("train",)
