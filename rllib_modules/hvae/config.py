"""Typed settings of the action-representation models (thesis Ch.2 §2.4.1, T-AppA §D.3.1).

One config serves both models: the HVAE (Neural Statistician, Eq. 2.2) and the flat
("non-hierarchical") VAE baseline of §2.5.3, which uses the same blocks minus the
action-level latent. Defaults are the Grid World values of T-AppA Table A.3 (representation
size 16, batch 128, 10000 epochs) and Table A.4 (RAdam, lr 0.001, hidden 64, q_phi hidden
128, 3 hidden MLP layers). Details the thesis leaves unspecified (ALGORITHMS.md §1.3/§1.4)
are config options whose descriptions say "Unspecified" and where the chosen value comes
from (usually the thesis' public code base, ``clvrai/new-actions-rl``, "reference code").

Observations given to the models are *raw states*: an array ``(A, N, T, S)`` of ``A``
actions x ``N`` observations x ``T`` states x ``S`` state coordinates (Grid World:
``(1024, 1024, 6, 2)`` integer ``(x, y)`` cells). The ``data_type`` decides how they are
featurised and reconstructed (see :mod:`rllib_modules.hvae.networks`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["HVAEConfig", "DataType", "THESIS_GRIDWORLD_TRAIN_STEPS"]

DataType = Literal["xy", "one_hot"]

#: Gradient steps of the thesis' Grid World budget: 10000 epochs (T-AppA Table A.3) over
#: the 512 train skills at 128 skills per batch = 4 steps per epoch.
THESIS_GRIDWORLD_TRAIN_STEPS: int = 10000 * (512 // 128)


class HVAEConfig(BaseModel):
    """Hyperparameters of the HVAE / flat-VAE action encoders (T-AppA Tables A.3, A.4)."""

    model_config = ConfigDict(extra="forbid")

    # -- data -------------------------------------------------------------------------------
    data_type: DataType = Field(
        "xy",
        description=(
            "Observation modality (T-AppA §B, Fig. A.4). 'xy' (default, 'State Trajectories'): "
            "each state is its S coordinates scaled from [0, grid_size-1] to [-1, 1], "
            "reconstructed with a diagonal-Gaussian log-likelihood (T-AppA §D.3.1). 'one_hot' "
            "(alternate): each coordinate is a grid_size-way one-hot (Grid World: two 80-d "
            "one-hots), reconstructed with a softmax cross-entropy per coordinate."
        ),
    )
    state_dim: int = Field(2, ge=1, description="Coordinates per state S (Grid World (x, y): 2; T-AppA §A.1).")
    xy_unit_cells: float | None = Field(
        8.0,
        gt=0,
        description=(
            "'xy' only: grid cells per feature unit; states are centred on the grid and "
            "divided by this (None = (grid_size - 1) / 2: the grid spans [-1, 1]). "
            "Unspecified in the thesis. 8 (the 80x80 grid spans +-4.9, a move is 0.125) was "
            "chosen over [-1, 1] (a move is 0.025): a skill is visible in a trajectory only "
            "through its moves, and with the smaller scale the HVAE took far longer to encode "
            "it (benchmarks/representations_gridworld.py setup, 600 steps: held-out k-NN "
            "displacement accuracy 0.69 with 8, 0.57 with 4, 0.39 with [-1, 1]; one seed)."
        ),
    )
    xy_step_features: bool = Field(
        False,
        description=(
            "'xy' only: the encoders also see each state's step from the previous state, "
            "(x_t - x_{t-1}) in grid cells (zero at t = 0), next to the scaled coordinates "
            "(F = 2S). The decoder still reconstructs the coordinates only. Unspecified in the "
            "thesis, which encodes the states; off = the thesis' input. A skill is its moves, "
            "and from the coordinates alone the Bi-LSTM must learn to subtract consecutive "
            "inputs of magnitude up to ~5 at a resolution of 1/8: on the laptop budget it "
            "encodes the moves far faster when it sees the steps (measured in "
            "benchmarks/representations_gridworld.py, see the README)."
        ),
    )
    grid_size: int = Field(
        80,
        ge=2,
        description=(
            "Coordinate range [0, grid_size): the 80x80 play grid of the Grid World action "
            "observations (T-AppA §A.1). Scales 'xy' states and sizes the 'one_hot' vectors."
        ),
    )

    # -- architecture (T-AppA §D.3.1, Table A.4) --------------------------------------------
    latent_dim: int = Field(
        16,
        ge=1,
        description=(
            "Action representation size C = dim of the action latent c (T-AppA Table A.3: Grid "
            "World 16, CREATE/Shape Stacking 128). The flat VAE's z has this size too, so both "
            "representations are C-dimensional (Fig. A.4: 'All learned action representations "
            "are 16-dimensional')."
        ),
    )
    z_dim: int = Field(
        16,
        ge=1,
        description=(
            "Size Z of the per-observation latent z of the HVAE. Unspecified in the thesis "
            "(ALGORITHMS.md §1.3); 16 = the reference code's Grid World value (equal to C)."
        ),
    )
    encoder_dim: int = Field(
        64,
        ge=1,
        description=(
            "Size of an encoded observation: hidden size of each direction of the 2-layer "
            "Bi-LSTM trajectory encoder, whose outputs are averaged over time and the two "
            "directions (T-AppA §D.3.1: 'each action observation is in the form of a "
            "64-dimensional encoded vector'; averaging as in the reference code)."
        ),
    )
    encoder_layers: int = Field(2, ge=1, description="Bi-LSTM layers of the trajectory encoder (T-AppA §D.3.1: 2).")
    hidden_dim: int = Field(
        64,
        ge=1,
        description=(
            "Default hidden layer size (T-AppA Table A.4: 64): q_psi, p(z|c), the decoder's "
            "initial-state MLP, LSTM and output MLP."
        ),
    )
    action_hidden_dim: int = Field(
        128, ge=1, description="Hidden size of the action inference network q_phi(c|O) (T-AppA Table A.4: 128)."
    )
    pre_pool_layers: int = Field(
        4, ge=1, description="Linear layers of q_phi's per-observation MLP before mean-pooling (T-AppA §D.3.1: 4-layer MLP, ReLU)."
    )
    post_pool_layers: int = Field(
        3,
        ge=1,
        description=(
            "Linear layers of q_phi's MLP after mean-pooling (T-AppA §D.3.1: 3-layer MLP, ReLU); "
            "its last layer outputs [mean, log-variance] (2C), then 1D batch-norm."
        ),
    )
    mlp_layers: int = Field(
        3,
        ge=1,
        description=(
            "Linear layers of the decoder's initial-state MLP and per-step output MLP "
            "(T-AppA Table A.4 'MLP hidden layers': 3; §D.3.1 '3-layer MLP (ReLU)')."
        ),
    )
    q_phi_batch_norm: Literal["feature", "global", "none"] = Field(
        "feature",
        description=(
            "The 1D batch-norm at the end of q_phi (T-AppA §D.3.1), over the actions of a batch. "
            "'feature': BatchNorm1d(2C), one statistic per output (the plain reading of the "
            "thesis); 'global': one statistic shared by all 2C outputs (the reference code's "
            "'global batch norm'); 'none': ablation. In eval mode the running statistics are "
            "used, so an action's representation does not depend on the other actions."
        ),
    )
    learned_z_prior: bool = Field(
        True,
        description=(
            "HVAE prior over z: True = learned conditional prior p(z|c) (a network like q_psi "
            "without the observation input, as in the Neural Statistician and the reference "
            "code); False = N(0, I). Unspecified in the thesis (ALGORITHMS.md §1.3). The prior "
            "over c is always N(0, I) (unspecified in the thesis; standard normal as in the "
            "Neural Statistician)."
        ),
    )
    decoder_residual: bool = Field(
        True,
        description=(
            "'xy' only: the decoder's Gaussian mean of state t is x_0 + its output (an offset "
            "from the ground-truth initial state) instead of the output alone. Unspecified in "
            "the thesis (which decodes from x_0 but does not say how the mean is "
            "parameterised); the offset form makes the reconstruction depend on the skill's "
            "effect rather than on copying x_0, and learns much faster on a laptop budget. "
            "Ignored for 'one_hot' (logits)."
        ),
    )
    decoder_min_std_cells: float = Field(
        0.5,
        gt=0,
        description=(
            "'xy' only: soft lower bound of the decoder's Gaussian std, in grid cells "
            "(logvar = m + softplus(raw - m), m = 2 log(this / xy_unit_cells)). The Grid World "
            "trajectories are deterministic given x_0 and the skill, so without a floor the "
            "log-likelihood is unbounded. Unspecified in the thesis; the reference code "
            "hard-clamps the log-variance to [-4, 3]."
        ),
    )

    # -- objective (Eq. 2.2) ----------------------------------------------------------------
    kl_c_weight: float = Field(
        1.0, ge=0, description="Weight of KL(q(c|O) || p(c)) in the loss. Unspecified in the thesis (ALGORITHMS.md §1.3); 1 = the plain ELBO of Eq. 2.2."
    )
    kl_z_weight: float = Field(
        1.0, ge=0, description="Weight of KL(q(z|o,c) || p(z|c)) in the loss. Unspecified in the thesis; 1 = the plain ELBO of Eq. 2.2."
    )
    kl_warmup_steps: int = Field(
        200,
        ge=0,
        description=(
            "Linear warm-up of both KL weights from 0 to their values over this many gradient "
            "steps (0 = none, the plain ELBO throughout). Unspecified in the thesis; the "
            "reference code anneals the Neural Statistician's 'alpha' (recon weight 2 -> 1, "
            "KL weight 1/2 -> 1) over the first epochs. 200 steps = 50 Grid World epochs."
        ),
    )

    # -- optimisation (Tables A.3/A.4) --------------------------------------------------------
    lr: float = Field(1e-3, gt=0, description="RAdam learning rate (T-AppA Table A.4: 0.001; optimizer RAdam per T §2.4.3, T-AppA §D.1).")
    batch_size: int = Field(
        128,
        ge=2,
        description=(
            "Actions (observation sets) per gradient step (T-AppA Table A.3, Grid World: 128). "
            "Capped at the number of training actions. >= 2 for q_phi's batch-norm."
        ),
    )
    obs_per_action: int = Field(
        64,
        ge=1,
        description=(
            "Observations of each action used per gradient step: a fresh random subset "
            "(without replacement) of its N observations. The thesis has 1024 observations "
            "per action (Table A.4; the reference code uses 672 per step in Grid World); 64 "
            "keeps a step laptop-sized. Note that the relative weight of KL_c in Eq. 2.2 "
            "shrinks as this grows (it is one term per action against one per observation)."
        ),
    )
    train_steps: int = Field(
        2000,
        ge=1,
        description=(
            "Gradient steps (the training budget). Thesis: 10000 epochs over the 512 train "
            "skills (T-AppA Table A.3) = 40000 steps of 128 skills "
            "(THESIS_GRIDWORLD_TRAIN_STEPS); the default 2000 fits a laptop."
        ),
    )
    grad_clip_value: float | None = Field(
        0.5,
        gt=0,
        description=(
            "Clamp every gradient element to [-v, v] before the step (None = off). Unspecified "
            "in the thesis; 0.5 and element-wise clamping are the reference code's."
        ),
    )

    # -- inference -------------------------------------------------------------------------
    inference_obs_per_action: int | None = Field(
        None,
        ge=1,
        description=(
            "Observations per action used to infer representations (the first k of each "
            "action; None = all, as in Algorithm 1: c_i = mean of q_phi(c|O_i) over the full set)."
        ),
    )
    inference_batch_actions: int = Field(
        32, ge=1, description="Actions per forward pass when inferring representations (memory only; no effect on values)."
    )

    @property
    def xy_unit(self) -> float:
        """Grid cells per 'xy' feature unit."""
        return self.xy_unit_cells if self.xy_unit_cells is not None else (self.grid_size - 1) / 2.0

    @property
    def feature_dim(self) -> int:
        """Features per state F: S for 'xy' (2S with ``xy_step_features``), S * grid_size for 'one_hot'."""
        if self.data_type == "xy":
            return 2 * self.state_dim if self.xy_step_features else self.state_dim
        return self.state_dim * self.grid_size

    @property
    def output_dim(self) -> int:
        """Decoded values per state: S coordinates for 'xy', S * grid_size logits for 'one_hot'."""
        return self.state_dim if self.data_type == "xy" else self.state_dim * self.grid_size
