"""Typed settings of the ``utility-ppo`` algorithm (thesis Ch.2 §2.4.2-§2.4.3).

Defaults are the thesis' PPO hyperparameters: shared values from T-AppA Table A.4
(lr 1e-3 linearly decayed, γ 0.99, hidden 64, value-loss coefficient 0.5, 4 PPO epochs,
clip 0.1) and the Grid World column of Table A.3 (entropy coefficient 0.05, PPO batch
4096). Values the thesis leaves unspecified (ALGORITHMS.md §1.7) are taken from the
thesis' public code base (Kostrikov-style PPO: GAE λ 0.95, 4 minibatches, gradient-norm
clip 0.5, Adam ε 1e-5) and say so in their descriptions.

For the other environments of Table A.3 override ``entropy_coeff`` / ``train_batch_size``
(Recommender 0.01 / 2048, CREATE 0.005 / 3072, Shape Stacking 0.01 / 1024).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rllib_modules.common.mlp import Activation, InitScheme
from rllib_modules.utility.representation import RepresentationConfig

__all__ = ["UtilityPPOConfig"]


class UtilityPPOConfig(BaseModel):
    """PPO with the utility policy of Eq. 2.3 (T-AppA Tables A.3/A.4)."""

    model_config = ConfigDict(extra="forbid")

    # -- optimisation -------------------------------------------------------------------
    lr: float = Field(1e-3, gt=0, description="Adam learning rate (T-AppA Table A.4: 0.001).")
    lr_decay: bool = Field(
        True,
        description=(
            "Decay the learning rate linearly from `lr` to 0 over the trial's env-step "
            "budget (T-AppA §D.2). The horizon is `lr_decay_env_steps` if set, else the "
            "BuildContext's `total_env_steps`; with neither, the rate stays constant "
            "(a warning is logged). The schedule is indexed by sampled env steps."
        ),
    )
    lr_decay_env_steps: int | None = Field(
        None,
        gt=0,
        description=(
            "Explicit horizon (env steps) of the linear decay, overriding the trial budget; "
            "e.g. fine-tuning runs that decay as if training for longer (the thesis code's "
            "`--lr-env-steps`)."
        ),
    )
    adam_eps: float = Field(
        1e-5,
        gt=0,
        description="Adam epsilon. Unspecified in the thesis; 1e-5 is its PPO code base's value (PyTorch default 1e-8).",
    )
    grad_clip: float | None = Field(
        0.5,
        gt=0,
        description=(
            "Clip the global gradient norm (actor and critic together) to this value; None "
            "disables. Unspecified in the thesis; 0.5 is its PPO code base's `max_grad_norm`."
        ),
    )

    # -- returns and advantages ---------------------------------------------------------
    gamma: float = Field(0.99, ge=0, le=1, description="Discount factor γ (T-AppA Table A.4).")
    lambda_: float = Field(
        0.95,
        ge=0,
        le=1,
        description="GAE λ. Unspecified in the thesis (ALGORITHMS.md §1.7); 0.95 is its PPO code base's default.",
    )

    # -- PPO loss -----------------------------------------------------------------------
    entropy_coeff: float = Field(
        0.05,
        ge=0,
        description=(
            "Maximum-entropy coefficient β of Eq. 2.4 (T-AppA Table A.3, Grid World 0.05; "
            "Recommender 0.01, CREATE 0.005, Shape Stacking 0.01; 0 = 'Ours w/o entropy')."
        ),
    )
    clip_param: float = Field(0.1, gt=0, description="PPO ratio clip ε (T-AppA Table A.4: 0.1).")
    vf_loss_coeff: float = Field(
        0.5,
        ge=0,
        description=(
            "Value-loss coefficient (T-AppA Table A.4: 0.5). RLlib's value loss is the plain "
            "squared error; the thesis code also halves it, but with separate actor and critic "
            "networks the factor only matters through the shared gradient-norm clip."
        ),
    )
    vf_clip_param: float = Field(
        10.0,
        gt=0,
        description=(
            "RLlib clips the *squared* value error at this value (gradients vanish beyond it). "
            "The thesis code instead clips the value change by `clip_param` (PPO2 style), which "
            "the stock Learner does not offer; 10.0 (RLlib's default) leaves the loss "
            "effectively unclipped for returns of order 1 (Grid World)."
        ),
    )
    kl_coeff: float = Field(
        0.0,
        ge=0,
        description=(
            "Initial coefficient of RLlib's adaptive KL penalty; 0 disables it (the thesis' "
            "PPO is the clipped objective only; RLlib's default would be 0.2)."
        ),
    )

    # -- batch --------------------------------------------------------------------------
    train_batch_size: int = Field(
        4096,
        gt=0,
        description="Env steps per PPO iteration (T-AppA Table A.3 'PPO batch size', Grid World 4096).",
    )
    minibatch_size: int = Field(
        1024,
        gt=0,
        description=(
            "SGD minibatch size. Unspecified in the thesis; its PPO code base splits each "
            "batch into 4 minibatches (4096 / 4 = 1024). Rescale with `train_batch_size`."
        ),
    )
    num_epochs: int = Field(4, gt=0, description="PPO epochs over each batch (T-AppA Table A.4: 4).")

    # -- network (T-AppA §D.3.2) --------------------------------------------------------
    hidden_size: int = Field(64, gt=0, description="Width of every hidden layer (T-AppA Table A.4: 64).")
    utility_uses_state: bool = Field(
        True,
        description="Eq. 2.3: the utility f_ν sees [c_i, f_ω(s)]. False = state-blind ablation f_ν[c_i].",
    )
    state_activation: Activation = Field(
        "tanh", description="Nonlinearity of the state encoder f_ω and the critic (T-AppA §D.3.2: tanh)."
    )
    utility_activation: Activation = Field(
        "relu", description="Nonlinearity of the utility MLP f_ν (T-AppA §D.3.2: ReLU)."
    )
    init: InitScheme = Field(
        "torch",
        description=(
            "Weight init (unspecified in the thesis text). 'torch' (default): PyTorch defaults. "
            "'orthogonal': the thesis' PPO code base (gain √2 for f_ω and the critic, 0.01 for every "
            "layer of f_ν, zero biases). On Grid World (seed 0, 160k env steps) 'orthogonal' left "
            "validation success at 0.0 while 'torch' reached 0.115, so 'torch' is the default."
        ),
    )

    @model_validator(mode="after")
    def _minibatch_fits(self) -> "UtilityPPOConfig":
        if self.minibatch_size > self.train_batch_size:
            raise ValueError(
                f"minibatch_size ({self.minibatch_size}) exceeds train_batch_size ({self.train_batch_size})"
            )
        return self

    representation: RepresentationConfig = Field(
        default_factory=RepresentationConfig,
        description="Action representations: the env's own, or learned from action observations by the "
        "HVAE / flat VAE pretraining stage (thesis §2.4.1, Algorithm 1).",
    )

    def module_model_config(self) -> dict[str, Any]:
        """The ``model_config`` of :class:`~rllib_modules.utility.module.UtilityRLModule`."""
        # Through the module's own options class, so a renamed option fails here, loudly.
        from rllib_modules.utility.module import UtilityModelOptions

        return UtilityModelOptions(
            hidden_size=self.hidden_size,
            utility_uses_state=self.utility_uses_state,
            state_activation=self.state_activation,
            utility_activation=self.utility_activation,
            init=self.init,
        ).to_model_config()
