"""Typed configuration of ``actlab/Recommender-v0`` (thesis App. A.2, Table A.3)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from envs.recommender.catalog import ITEM_DIM, MU_SCALE, N_ITEMS, split_sizes
from envs.recommender.click_model import CLICK_A, CLICK_B, CLICK_C, CLICK_D, CLICK_E


class RecommenderConfig(BaseModel):
    """Environment config. ``gym.make(ENV_ID, **cfg.model_dump())`` builds the env.

    Defaults follow the thesis (App. A.2, Table A.3: 10,000 products, 16-d, m = 500, 100
    recommendations). Values the thesis leaves unspecified (μ's scale, the user-drift noise
    convention, the session and stop probabilities) are fields, with the chosen defaults
    explained in their descriptions and in :mod:`envs.recommender.env`.
    """

    model_config = ConfigDict(extra="forbid")

    split: Literal["train", "validation", "test"] = Field(
        default="train",
        description="Item pool the per-episode available set is sampled from (2:1:1 split, App. A.2).",
    )
    split_seed: int = Field(default=0, description="Seed of the fixed train/validation/test split of the items.")
    catalog_seed: int = Field(
        default=0,
        description="Seed of the fixed product catalog (representations c_i and hidden offsets μ_i).",
    )
    n_items: int = Field(default=N_ITEMS, ge=4, description="Number of products in the catalog (App. A.2: 10,000).")
    dim: int = Field(
        default=ITEM_DIM, ge=1, description="Dimension of the user vector and of the product representations (16)."
    )
    mu_scale: float = Field(
        default=MU_SCALE,
        ge=0.0,
        description=(
            "Hidden per-item offset μ_i = mu_scale · N(0, 1) (distribution unspecified in the thesis; "
            "3 is RecoGym's sigma_mu_organic, used by the thesis' RecoGym-based env)."
        ),
    )
    unit_norm_reprs: bool = Field(
        default=False,
        description=(
            "Rescale every c_i to unit length, as in the thesis' released code (RecoGym normalize_beta). "
            "Default false: c ~ N(0, I) as the thesis text says; then c_i·v dominates μ_i and hiding μ_i "
            "costs little (see envs.recommender.catalog)."
        ),
    )
    m: int | None = Field(
        default=500,
        ge=1,
        description=(
            "Number of available products sampled per episode without replacement (Table A.3: 500). "
            "null: the whole pool, padded to the largest split and masked."
        ),
    )
    max_steps: int = Field(
        default=100, ge=1, description="Recommendations per episode before truncation (App. A.2: 100)."
    )
    representation: Literal["given", "fully_observable"] = Field(
        default="given",
        description=(
            "'given': the 16-d c_i (μ_i hidden: partially observable, the thesis' main setting). "
            "'fully_observable': μ_i appended to c_i (17-d), T-AppA §C.5."
        ),
    )
    sigma1: float = Field(
        default=0.1,
        ge=0.0,
        description=(
            "σ_1 of the user drift v <- v + σ_1·|σ_2|·ε, σ_2 ~ N(0, 1), ε ~ N(0, I), applied at every "
            "session transition (σ_1·|σ_2| read as a standard deviation, as in RecoGym with its normal "
            "time generator)."
        ),
    )
    p_organic: float = Field(
        default=0.5,
        ge=0.0,
        lt=1.0,
        description=(
            "After every session the user's next session is organic with this probability (else a bandit "
            "session, where the agent recommends): the number of organic sessions between two "
            "recommendations is geometric, P(N=k) = (1-p)p^k, mean p/(1-p) = 1 (unspecified in the thesis)."
        ),
    )
    p_stop: float = Field(
        default=0.001,
        ge=0.0,
        le=1.0,
        description=(
            "Probability that the user leaves at each session transition (episode terminates). With the "
            "default p_organic (~2 transitions per recommendation) about 82% of episodes reach max_steps "
            "(unspecified in the thesis; RecoGym's 0.01 would end most episodes far before 100)."
        ),
    )
    click_a: float = Field(default=CLICK_A, description="a of f in Eq. A.2.")
    click_b: float = Field(default=CLICK_B, description="b of f in Eq. A.2.")
    click_c: float = Field(default=CLICK_C, description="c of f in Eq. A.2.")
    click_d: float = Field(default=CLICK_D, description="d of f in Eq. A.2.")
    click_e: float = Field(default=CLICK_E, description="e of f in Eq. A.2.")

    @model_validator(mode="after")
    def _consistent(self) -> RecommenderConfig:
        sizes = split_sizes(self.n_items)
        if self.m is not None and self.m > sizes[self.split]:
            raise ValueError(
                f"m={self.m} exceeds the {sizes[self.split]} products of the '{self.split}' split "
                f"(sizes {sizes}); use a smaller m or m=None for the whole pool"
            )
        return self

    @property
    def max_actions(self) -> int:
        """Padded size of the available set: ``m``, or the largest split when ``m`` is None."""
        return self.m if self.m is not None else max(split_sizes(self.n_items).values())

    @property
    def repr_dim(self) -> int:
        """Width of ``action_reprs``: ``dim``, plus 1 (μ_i) when fully observable."""
        return self.dim + (1 if self.representation == "fully_observable" else 0)

    @property
    def click_params(self) -> dict[str, float]:
        """Keyword arguments ``a..e`` of :func:`envs.recommender.click_model.click_probability`."""
        return {"a": self.click_a, "b": self.click_b, "c": self.click_c, "d": self.click_d, "e": self.click_e}
