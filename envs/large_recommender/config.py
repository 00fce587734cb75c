"""Typed configuration of ``actlab/LargeRecommender-v0`` (thesis T-AppC §C.2, §D.4, Table C.1).

Table C.1 fixes the item count (10,000; 100,000 and 500,000 in §D.4), the item vector
dimension ("True action dim 30") and the horizon (20). Everything else is unspecified in the
sources; the defaults are chosen here and explained field by field (and in
:mod:`envs.large_recommender.env`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actlab.spec.models import StrictModel

__all__ = ["LargeRecommenderConfig"]


class LargeRecommenderConfig(StrictModel):
    """Environment config. ``gym.make(ENV_ID, **cfg.model_dump())`` builds the env."""

    num_items: int = Field(
        10_000, ge=1, description="Items the agent picks from (T-AppC Table C.1: 10,000; §D.4: 100,000, 500,000)."
    )
    embedding_dim: int = Field(
        30, ge=1, description="Dimension of the item vectors e_i and of the user interest e_u (Table C.1: 'True "
        "action dim 30')."
    )
    extra_action_dim: int = Field(
        0, ge=0, description="Distractor dimensions appended to every item representation, i.i.d. U(-1, 1) per "
        "item and ignored by the user (one reading of Table C.1's unexplained 'Extra action dim 15'); the action "
        "space is embedding_dim + extra_action_dim wide."
    )
    num_categories: int = Field(
        10, ge=1, description="GMM categories of the items (unspecified in Ch.4; Ch.3's RecSim uses 10).")
    subcategories: int = Field(
        2, ge=1, description="Clustered sub-categories per category (Ch.3's RecSim: 2, T-AppB §A.3).")
    category_std: float = Field(0.5, ge=0, description="Per-dimension std of the category centres around 0.")
    subcategory_std: float = Field(0.2, ge=0, description="Per-dimension std of a sub-category centre around its category's.")
    item_std: float = Field(0.1, ge=0, description="Per-dimension std of an item around its sub-category centre.")
    item_seed: int = Field(0, description="Seed of the item table (fixed per config, independent of reset seeds).")
    horizon: int = Field(20, ge=1, description="Recommendations per episode (Table C.1: 20); then truncation.")
    score_scale: float = Field(
        1.0, gt=0, description="α_user in score_item = α_user·<e_u, e_i> (Ch.3's form; Ch.4 prints α_user = 1).")
    skip_score: float = Field(
        3.0, description="score_skip of p_click = e^{s_item} / (e^{s_item} + e^{s_skip}) (unspecified in the "
        "sources). 3 (measured on the default 10k items): a random item is clicked 11% of the time, the best item "
        "for a fresh user 63%; per 20-step episode a random policy gets ~2 clicks, the myopic best-score policy ~17."
    )
    interest_step: float = Field(
        0.3, ge=0, le=1, description="y of Δe_u = y·(1 - |e_u|)·(target - e_u) (unspecified in the sources).")
    interest_update: Literal["toward_item", "as_printed"] = Field(
        "toward_item", description="'toward_item': target = e_i (RecSim's update, whose (1 - e_u) is e_i - e_u "
        "for one-hot topic features; the thesis: 'pulls the user's preference towards the item'); 'as_printed': "
        "target = 1, T-AppB §A.3's formula read literally."
    )
