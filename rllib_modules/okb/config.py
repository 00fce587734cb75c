"""Settings of the basis-construction algorithms ``okb``, ``okb-uniform``, ``sfols`` and ``gpi``.

One pydantic model (``extra="forbid"``) holds every knob; each registered algorithm is the same
loop with different defaults for the three variant switches (OKB §5 "Baselines"):

=============== ================= ================== ==========================================
algorithm       task_selection    option_keyboard    base_budget_fraction
=============== ================= ================== ==========================================
``okb``         ``mpa`` (Eq. 21)  yes (OK-LS, Alg 2)  0.5 (App. F: half base, half meta-policy)
``okb-uniform`` ``uniform``       yes                 0.5
``sfols``       ``sfols``         no (GPI)            1.0 (the whole budget on base policies)
``gpi``         ``fixed``         no (GPI)            1.0 (base policies at ``fixed_tasks``)
=============== ================= ================== ==========================================

Paper values (OKB App. F; ALGORITHMS.md §5.9–§5.11) are the defaults; where the paper is silent
the choice is documented on the field. The per-iteration budgets of the paper (Minecart 25k,
Fetch 50k, Item Collection 50k, Highway 100k) are set in the specs through
``iteration_env_steps``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TaskSelection = Literal["mpa", "uniform", "sfols", "fixed"]
RewardMeta = Literal["ok", "discrete", "none"]


class BasisSettings(BaseModel):
    """Config of one basis-construction run (Alg. 1 / SFOLS / fixed GPI)."""

    model_config = ConfigDict(extra="forbid")

    # --- the outer loop (Alg. 1) -------------------------------------------------------------
    task_selection: TaskSelection = Field(
        "mpa",
        description=(
            "How the next base policy's task is chosen. 'mpa': the candidate corner weight with the largest "
            "mean positive advantage (Eq. 21; OKB). 'uniform': w ~ Uniform(simplex) (OKB-Uniform). 'sfols': "
            "the corner weight of the base SFs with the largest optimistic improvement (SFOLS). 'fixed': the "
            "tasks of fixed_tasks in order (fixed GPI policies)."
        ),
    )
    option_keyboard: bool = Field(
        True, description="Train a meta-policy with OK-LS (Alg. 2) and act with the OK; False: act with GPI over Π."
    )
    iteration_env_steps: int = Field(
        25_000,
        ge=10,
        description="Env interactions per outer iteration (OKB App. F: Minecart 25k, Fetch/Item Collection 50k, Highway 100k).",
    )
    base_budget_fraction: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="Share of each iteration's budget spent on the new base policy; the rest goes to OK-LS (App. F: 1/2).",
    )
    ok_ls_iterations: int = Field(5, ge=1, description="TrainOK calls per OK-LS run (App. F: 5); the OK-LS budget is split evenly.")
    max_base_policies: int = Field(16, ge=1, description="Capacity of the basis; the loop stops adding tasks beyond it.")
    initial_task: list[float] | None = Field(None, description="First task w_0 (Alg. 1: uniform [1/d, ..., 1/d] when None).")
    fixed_tasks: list[list[float]] | None = Field(
        None, description="task_selection 'fixed': the base tasks in order, the first replacing initial_task (None: the d unit vectors)."
    )
    remove_dominated: bool = Field(
        True,
        description="RemoveDominated (Alg. 1) on the estimated base SF vectors; the newest policy is never removed (noise guard).",
    )
    sf_margin: float = Field(
        0.01,
        ge=0.0,
        description=(
            "RemoveDominated keeps an SF vector only if it beats all others by more than sf_margin x max(1, max|ψ|) "
            "somewhere on the simplex (estimates are noisy: without a margin every noisy OK estimate survives "
            "and OK-LS's support set explodes). 0: exact test."
        ),
    )
    mpa_threshold: float = Field(
        0.0, ge=0.0, description="A corner weight is a candidate when its MPA (Eq. 21) exceeds this (unspecified: 0)."
    )
    mpa_samples: int = Field(4096, ge=16, description="Replay transitions on which Eq. 21 is averaged (unspecified).")
    corner_atol: float = Field(
        0.01, gt=0.0, description="Max-norm tolerance under which two weights are the same task (W^corner \\ W^sup, visited tasks)."
    )
    sfols_min_priority: float = Field(
        1e-3, ge=0.0, description="SFOLS stops when no corner weight's optimistic improvement exceeds this (its ε)."
    )
    gamma: float | None = Field(None, gt=0.0, lt=1.0, description="Discount; None: the environment's (OKB App. F.2).")

    # --- the environment's own reward (non-linear tasks, OKB §5 Q3; rllib_modules.okb.reward_meta) ---
    target: Literal["linear", "env_reward"] = Field(
        "linear",
        description=(
            "'linear': build the basis for the linear tasks w·φ and evaluate on the test tasks. 'env_reward': build "
            "the basis first, then spend every later iteration learning a meta-policy for the env's own reward "
            "(e.g. Item Collection's sequential task), metrics task/*."
        ),
    )
    basis_iterations: int = Field(
        3, ge=1, description="target 'env_reward': outer iterations of basis construction before the meta-policy (mpa/uniform/sfols)."
    )
    reward_meta: RewardMeta = Field(
        "ok",
        description=(
            "target 'env_reward': 'ok' = ω(s) → unit z acting GPI(s, z; Π) (OKB); 'discrete' = DQN over the K "
            "weights of the choice lattice acting GPI(s, w_k; Π) (SIP); 'none' = GPI at each lattice weight, "
            "no learning (the GPI lines)."
        ),
    )
    choice_partitions: int = Field(
        2, ge=1, description="Das-Dennis partitions of the discrete weight set of 'discrete'/'none' (d=2: {e1, uniform, e2})."
    )
    choice_signed: bool = Field(
        False,
        description=(
            "'discrete'/'none': also include the sign-flipped weights, i.e. the lattice on the L1 sphere "
            "{w : Σ|w_i| = 1} instead of the simplex 𝒲 (lets GPI avoid a feature, e.g. w = (1, −1)/2). "
            "The paper's SIP chooses within 𝒲 (false)."
        ),
    )
    choice_double_q: bool = Field(
        True,
        description="'discrete': double-DQN targets (unspecified for SIP; plain max overestimates near-equal choices and flips between them).",
    )
    choice_termination: Literal["feature", "step"] = Field(
        "feature",
        description=(
            "'discrete': when a choice k ends. 'feature': it is held as an option until a reward feature fires "
            "(φ ≠ 0), the episode ends or choice_max_steps pass; SMDP DQN targets (the option keyboard's "
            "termination, Barreto et al. 2019; unspecified for SIP). 'step': a new choice every step."
        ),
    )
    choice_learning: Literal["smdp", "intra_option"] = Field(
        "intra_option",
        description=(
            "'discrete' with choice_termination 'feature': 'intra_option' (default) stores one row per env "
            "step and bootstraps from U(s', k) (the held k where the option runs on, max over k' where it "
            "ended; Sutton, Precup & Singh 1999), so every state an option passes through trains q(·, k); "
            "'smdp' stores one row per finished option (s, k, Σγ^i r_i, s', τ). Unspecified for SIP; on Item "
            "Collection's sequential task intra-option learning reaches 7.0-7.3 at 1.7e5 meta steps where "
            "SMDP rows plateau near 3 (README)."
        ),
    )
    choice_max_steps: int = Field(
        20, ge=1, description="'discrete' with choice_termination 'feature': longest option (env steps; Item Collection's torus is 10 x 10)."
    )
    choice_epsilon_steps: int = Field(
        10_000, ge=1, description="'discrete': meta env steps over which ε decays linearly from epsilon_start to epsilon_end."
    )
    task_eval_episodes: int = Field(20, ge=1, description="target 'env_reward': greedy episodes per evaluation.")

    # --- NewPolicy: the USFA ensemble (§5, App. F) ---------------------------------------------
    sf_hidden: list[int] = Field([256, 256, 256, 256], min_length=1, description="USFA hidden layers (App. F: 4 x 256).")
    sf_members: int = Field(10, ge=1, description="Ensemble members (App. F: 10).")
    sf_target_members: int = Field(2, ge=1, description="Members whose min forms the target (App. F: 2).")
    sf_lr: float = Field(3e-4, gt=0.0, description="Adam learning rate of the USFA (unspecified; SFOLS' code uses 3e-4).")
    sf_target_tau: float = Field(
        0.005, gt=0.0, le=1.0, description="Polyak rate of the USFA target network (unspecified; the authors' code uses one)."
    )
    batch_size: int = Field(256, ge=1, description="Mini-batch size of every update (App. F: 256).")
    sf_updates_per_step: float = Field(1.0, gt=0.0, description="USFA gradient steps per env step while learning a base policy.")
    learning_starts: int = Field(1000, ge=1, description="Env steps of the first base policy before its updates start.")
    epsilon_start: float = Field(1.0, ge=0.0, le=1.0, description="ε-greedy start (App. F: linear decay; values unspecified).")
    epsilon_end: float = Field(0.05, ge=0.0, le=1.0, description="ε-greedy end value.")
    epsilon_schedule: Literal["global", "per_policy"] = Field(
        "global",
        description=(
            "ε-greedy schedule of NewPolicy (App. F: linear decay, span unspecified). 'global': one decay over the "
            "run's first epsilon_decay_steps env interactions, as the authors' GPI-LS code on Minecart (50k steps); "
            "'per_policy': ε restarts at epsilon_start for every base policy and decays over epsilon_decay_fraction "
            "of its budget. Measured on Minecart (README): 'per_policy' at laptop budgets decays within 2.5k steps, "
            "the replay fills with 1000-step idle episodes and the greedy policy never leaves the base."
        ),
    )
    epsilon_decay_steps: int = Field(
        50_000, ge=1, description="'global': env interactions (all phases) over which ε decays linearly to epsilon_end."
    )
    epsilon_decay_fraction: float = Field(
        0.5, gt=0.0, le=1.0, description="'per_policy': share of each NewPolicy budget over which ε decays linearly."
    )
    new_policy_behavior: Literal["task", "gpi"] = Field(
        "task",
        description=(
            "The policy NewPolicy(w) acts with (ε-greedy around it). 'task': π_w(s) = argmax_a ψ(s, a, w)·w, the "
            "plain reading of §5. 'gpi': GPI over Π ∪ {π_w} at w, as the authors' GPI-LS/SFOLS code acts while it "
            "learns a new base policy, so the replay also holds the states that the GPI policy (the evaluated one) "
            "visits. Unspecified in the paper. On Minecart at laptop budgets 'gpi' with sf_new_task_fraction 0.5 "
            "was no more stable than the defaults (README)."
        ),
    )
    sf_new_task_fraction: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description=(
            "Share of each USFA mini-batch's rows labelled with NewPolicy's task w; the other rows draw a task "
            "uniformly from all base tasks (w included). None: every row draws uniformly (App. F: 'the new task "
            "plus the earlier ones'). The authors' GPI-LS code uses 0.5."
        ),
    )
    replay_capacity: int = Field(200_000, ge=1000, description="Transitions kept from all base-policy training (Eq. 21 samples them).")

    # --- TrainOK: meta-policy ω(s, w) and critic ψ^ω(s, z, w) (App. D, App. F) -----------------
    meta_hidden: list[int] = Field([256, 256, 256], min_length=1, description="ω and ψ^ω hidden layers (App. F: 3 x 256).")
    meta_lr: float = Field(3e-4, gt=0.0, description="Adam learning rate of ω (unspecified).")
    meta_critic_lr: float = Field(3e-4, gt=0.0, description="Adam learning rate of ψ^ω (unspecified).")
    meta_updates_per_step: float = Field(1.0, gt=0.0, description="ω/ψ^ω gradient steps per env step of TrainOK.")
    meta_noise_sigma: float = Field(0.2, ge=0.0, description="Alg. 3 exploration σ.")
    meta_noise_clip: float = Field(0.5, ge=0.0, description="Alg. 3 exploration clip.")
    meta_input_batch_norm: bool = Field(
        True, description="BatchNorm on ω/ψ^ω inputs (CrossQ); False helps when W^sup is a single w (see option_keyboard)."
    )
    meta_critics: int = Field(
        2,
        ge=1,
        description=(
            "Members of ψ^ω. 2 (default) = the clipped double Q that CrossQ (Bhatt et al. 2024, which App. F "
            "follows) keeps from TD3: target, actor and Eq. 21 use the member with the lowest ψ·w. 1 = a single "
            "critic (the Item Collection figures). The paper leaves the critic unspecified."
        ),
    )
    meta_policy_delay: int = Field(
        3,
        ge=1,
        description="One ω update every this many critic updates (CrossQ: 3, the default; TD3: 2; unspecified in the paper).",
    )
    meta_residual_w: bool = Field(False, description="ω = normalise(w + f(s, w)), starting as GPI (not in the paper).")
    ok_gpi_guard: bool = Field(
        False,
        description=(
            "Greedy OK acting plays ω(s, w) only where the meta-critic rates it at least as high as GPI's ŵ = w/||w||, "
            "else ŵ (not in the paper; SAVO's argmax over two proposals, thesis Ch. 4). TrainOK's exploration and "
            "Ψ^OK are unchanged. When on, the evaluation also logs the OK without it (basis/omega_*; the run's own "
            "policy is basis/guarded_*). Measured on Minecart (README): worse than without it at 12 and better at 1 of "
            "20 (seed, iteration) cells; the critic's value of GPI's meta-action is not reliable enough to choose by."
        ),
    )

    # --- SF vectors and evaluation --------------------------------------------------------------
    sf_vector_states: int = Field(
        64, ge=1, description="Initial states averaged for ψ^π = E_{S0}[ψ(S0, π(S0))] (base: USFA; OK: the critic ψ^ω)."
    )
    test_partitions: int | None = Field(
        None,
        ge=1,
        description=(
            "Das-Dennis partitions of the test-task lattice on the simplex (pymoo); None picks a lattice of "
            "10-36 tasks by d (d=2: 9 partitions, 3: 4, 4: 3, else 2). The paper gives no count."
        ),
    )
    eval_episodes: int = Field(1, ge=1, description="Episodes per test task and evaluation.")
    base_rollout_episodes: int = Field(
        1,
        ge=0,
        description=(
            "Greedy episodes per base policy on its own task each iteration, logged as basis/base_measured_value "
            "beside the USFA's basis/base_estimated_value (the mean over Π of w_j·ψ^{π_j}) and "
            "basis/base_episode_length; 0 turns it off. Not in the paper: it checks the SF estimates the corner "
            "weights and Eq. 21 rely on (on Minecart they predicted ore for base policies that idle; README)."
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> BasisSettings:
        if self.sf_target_members > self.sf_members:
            raise ValueError(
                f"sf_target_members={self.sf_target_members} exceeds sf_members={self.sf_members}; lower it or add members"
            )
        if self.epsilon_end > self.epsilon_start:
            raise ValueError("epsilon_end must not exceed epsilon_start")
        if self.option_keyboard and self.base_budget_fraction >= 1.0:
            raise ValueError(
                "option_keyboard=true needs budget for OK-LS: set base_budget_fraction < 1 (OKB: 0.5) or option_keyboard=false"
            )
        if self.reward_meta == "ok" and self.target == "env_reward" and not self.option_keyboard:
            raise ValueError("reward_meta 'ok' needs option_keyboard=true; use 'discrete' (SIP) or 'none' (GPI lines)")
        if self.task_selection == "mpa" and not self.option_keyboard:
            raise ValueError("task_selection 'mpa' needs the meta-critic of option_keyboard=true (Eq. 21)")
        return self

    @property
    def base_steps(self) -> int:
        """Env steps of one NewPolicy call."""
        return max(1, int(round(self.iteration_env_steps * self.base_budget_fraction)))

    @property
    def ok_steps_per_call(self) -> int:
        """Env steps of one TrainOK call inside OK-LS."""
        if not self.option_keyboard:
            return 0
        return max(1, (self.iteration_env_steps - self.base_steps) // self.ok_ls_iterations)


class OKBUniformSettings(BasisSettings):
    """``okb-uniform``: OKB with the next task drawn uniformly from the simplex (OKB §5)."""

    task_selection: TaskSelection = Field("uniform", description=BasisSettings.model_fields["task_selection"].description)


class SFOLSSettings(BasisSettings):
    """``sfols``: base policies at SFOLS' corner weights, GPI acting, whole budget on base policies (OKB §5)."""

    task_selection: TaskSelection = Field("sfols", description=BasisSettings.model_fields["task_selection"].description)
    option_keyboard: bool = Field(False, description=BasisSettings.model_fields["option_keyboard"].description)
    base_budget_fraction: float = Field(
        1.0, gt=0.0, le=1.0, description=BasisSettings.model_fields["base_budget_fraction"].description
    )
    reward_meta: RewardMeta = Field("none", description=BasisSettings.model_fields["reward_meta"].description)


class FixedGPISettings(SFOLSSettings):
    """``gpi``: GPI over base policies learned at fixed tasks (the horizontal lines of OKB Fig. 4)."""

    task_selection: TaskSelection = Field("fixed", description=BasisSettings.model_fields["task_selection"].description)


class SIPSettings(FixedGPISettings):
    """``sip`` (Alver & Precup 2021): one base policy per reward feature (the unit vectors) and a DQN
    meta-policy over a discrete weight set for the env's reward (OKB §5: Item Collection only)."""

    target: Literal["linear", "env_reward"] = Field("env_reward", description=BasisSettings.model_fields["target"].description)
    reward_meta: RewardMeta = Field("discrete", description=BasisSettings.model_fields["reward_meta"].description)
