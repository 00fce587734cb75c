"""Tests of the utility policy RLModule and the ``utility-ppo`` builder (thesis Ch.2 §2.4.2).

Module and config tests need no Ray. The two end-to-end tests share one local Ray
instance (session fixture) and train on a tiny action-set env defined here, in which one
available slot's representation carries a "good action" signal.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from pydantic import ValidationError
from ray.rllib.core.columns import Columns

from actlab.registry import BuildContext, get_algorithm
from envs.common.action_set import (
    ACTION_MASK_KEY,
    ACTION_REPRS_KEY,
    STATE_KEY,
    action_set_observation_space,
)
from rllib_modules.common import AdamEpsPPOTorchLearner, SuccessRateCallback, masked_logits
from rllib_modules.utility import UtilityPPOConfig, UtilityRLModule, build_utility_ppo
from rllib_modules.utility.build import lr_setting

torch.set_num_threads(1)

# RLlib re-registers its internal gym id on every EnvRunner build.
pytestmark = pytest.mark.filterwarnings("ignore:.*Overriding environment rllib-single-agent-env-v0")

K, D, S = 7, 10, 81


def _spaces(k: int = K, d: int = D, s: int = S) -> tuple[gym.spaces.Dict, gym.spaces.Discrete]:
    state_space = gym.spaces.Box(-np.inf, np.inf, shape=(s,), dtype=np.float32)
    return action_set_observation_space(state_space, k, d), gym.spaces.Discrete(k)


def _module(inference_only: bool = False, **model_config: Any) -> UtilityRLModule:
    obs_space, act_space = _spaces()
    torch.manual_seed(0)
    return UtilityRLModule(
        observation_space=obs_space,
        action_space=act_space,
        inference_only=inference_only,
        model_config=model_config or None,
    )


def _obs_batch(batch_size: int = 32, seed: int = 0, scale: float = 1.0) -> dict[str, torch.Tensor]:
    """Random action-set observations; every row keeps at least one available slot."""
    g = torch.Generator().manual_seed(seed)
    mask = (torch.rand(batch_size, K, generator=g) < 0.5).float()
    mask[torch.arange(batch_size), torch.randint(0, K, (batch_size,), generator=g)] = 1.0
    reprs = torch.randn(batch_size, K, D, generator=g) * scale * mask.unsqueeze(-1)  # padded slots are zeros
    return {
        STATE_KEY: torch.randn(batch_size, S, generator=g) * scale,
        ACTION_REPRS_KEY: reprs,
        ACTION_MASK_KEY: mask,
    }


def _dist(module: UtilityRLModule, logits: torch.Tensor):
    """The distribution RLlib samples from on the EnvRunners (default: TorchCategorical)."""
    return module.get_exploration_action_dist_cls().from_logits(logits)


def _slot_probs(dist, batch_size: int) -> torch.Tensor:
    """``(B, K)`` probabilities through the public ``logp`` of the RLlib distribution."""
    return torch.stack([dist.logp(torch.full((batch_size,), k)).exp() for k in range(K)], dim=-1)


# -- module ----------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_masked_slots_have_exactly_zero_probability(scale: float) -> None:
    module = _module()
    obs = _obs_batch(scale=scale)
    with torch.no_grad():
        logits = module.forward_exploration({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
    assert logits.shape == (32, K) and logits.dtype == torch.float32
    dist = _dist(module, logits)
    probs = _slot_probs(dist, 32)
    masked = obs[ACTION_MASK_KEY] == 0
    assert torch.all(probs[masked] == 0.0)
    assert torch.all(probs[~masked] > 0.0)
    torch.testing.assert_close(probs.sum(-1), torch.ones(32))
    torch.manual_seed(1)
    samples_NB = dist.sample(sample_shape=(10_000,))
    picked_masked = masked.gather(1, samples_NB.T)
    assert not picked_masked.any()
    assert torch.isfinite(dist.entropy()).all()


def test_fully_masked_row_gives_no_nan() -> None:
    module = _module()
    obs = _obs_batch(batch_size=4)
    obs[ACTION_MASK_KEY][2] = 0.0  # an env bug the module must survive
    with torch.no_grad():
        out = module.forward_train({Columns.OBS: obs})
    logits = out[Columns.ACTION_DIST_INPUTS]
    assert torch.isfinite(logits).all()
    dist = _dist(module, logits)
    torch.testing.assert_close(_slot_probs(dist, 4)[2], torch.full((K,), 1.0 / K))
    torch.testing.assert_close(dist.entropy()[2], torch.tensor(np.log(K), dtype=torch.float32))
    other = _dist(module, logits.flip(0))
    for value in (dist.entropy(), dist.kl(other), dist.logp(torch.zeros(4, dtype=torch.long))):
        assert not torch.isnan(value).any()


def test_masked_logit_gradients_are_zero_and_finite() -> None:
    logits = torch.randn(3, K, requires_grad=True)
    mask = torch.tensor([[1, 0, 1, 0, 0, 0, 1]] * 3, dtype=torch.float32)
    out = masked_logits(logits, mask)
    torch.log_softmax(out, -1)[:, 0].sum().backward()
    assert torch.all(logits.grad[:, mask[0] == 0] == 0.0)
    assert torch.isfinite(logits.grad).all()


def test_permuting_slots_permutes_logits() -> None:
    module = _module()
    obs = _obs_batch(batch_size=16, seed=3)
    perm = torch.randperm(K, generator=torch.Generator().manual_seed(7))
    permuted = {
        STATE_KEY: obs[STATE_KEY],
        ACTION_REPRS_KEY: obs[ACTION_REPRS_KEY][:, perm],
        ACTION_MASK_KEY: obs[ACTION_MASK_KEY][:, perm],
    }
    with torch.no_grad():
        logits = module.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
        logits_perm = module.forward_inference({Columns.OBS: permuted})[Columns.ACTION_DIST_INPUTS]
    torch.testing.assert_close(logits_perm, logits[:, perm], rtol=1e-6, atol=1e-6)
    probs = torch.softmax(logits, -1)
    probs_perm = torch.softmax(logits_perm, -1)
    torch.testing.assert_close(probs_perm, probs[:, perm], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("uses_state", [True, False])
def test_blockwise_logits_match_literal_eq_2_3(uses_state: bool) -> None:
    module = _module(utility_uses_state=uses_state, init="torch")  # larger weights than gain 0.01
    obs = _obs_batch(batch_size=16, seed=5)
    fast = module.compute_logits(obs)
    literal = module.compute_logits_reference(obs)
    torch.testing.assert_close(fast, literal, rtol=1e-5, atol=1e-6)
    grads = []
    for logits in (fast, literal):
        module.zero_grad()
        torch.log_softmax(logits, -1)[:, :3].sum().backward()
        grads.append({n: p.grad.clone() for n, p in module.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], rtol=1e-4, atol=1e-6, msg=name)


def test_logits_depend_on_state_and_representation() -> None:
    module = _module()
    obs = _obs_batch(batch_size=8)
    changed_state = dict(obs, **{STATE_KEY: obs[STATE_KEY] + 1.0})
    with torch.no_grad():
        base = module.compute_logits(obs)
        other = module.compute_logits(changed_state)
    valid = obs[ACTION_MASK_KEY] > 0
    assert not torch.allclose(base[valid], other[valid])

    blind = _module(utility_uses_state=False)
    assert blind.state_encoder is None
    with torch.no_grad():
        torch.testing.assert_close(blind.compute_logits(obs), blind.compute_logits(changed_state))


def test_value_head_shape_and_embeddings_shortcut() -> None:
    module = _module(hidden_size=32)
    batch = {Columns.OBS: _obs_batch(batch_size=5)}
    with torch.no_grad():
        out = module.forward_train(batch)
        values = module.compute_values(batch)
        values_from_emb = module.compute_values(batch, embeddings=out[Columns.EMBEDDINGS])
    assert values.shape == (5,)
    assert out[Columns.EMBEDDINGS].shape == (5, 32)
    torch.testing.assert_close(values, values_from_emb)


def test_inference_only_copy_has_no_critic_and_loads_synced_weights() -> None:
    learner_module = _module()
    runner_module = _module(inference_only=True)
    assert not hasattr(runner_module, "critic_encoder")
    state = learner_module.get_state(inference_only=True)
    assert not any(key.startswith("critic") for key in state)
    runner_module.set_state(state)  # raises on missing keys
    obs = {Columns.OBS: _obs_batch()}
    with torch.no_grad():
        torch.testing.assert_close(
            runner_module.forward_exploration(obs)[Columns.ACTION_DIST_INPUTS],
            learner_module.forward_exploration(obs)[Columns.ACTION_DIST_INPUTS],
        )


def test_initial_policy_is_near_uniform() -> None:
    """Gain-0.01 init of f_ν (thesis code base) starts PPO from a near-uniform policy."""
    module = _module()
    obs = _obs_batch()
    with torch.no_grad():
        logits = module.compute_logits(obs)
    valid = obs[ACTION_MASK_KEY] > 0
    assert logits[valid].abs().max() < 0.05


def test_rejects_non_action_set_spaces() -> None:
    with pytest.raises(ValueError, match="Dict observation space"):
        UtilityRLModule(observation_space=gym.spaces.Box(0, 1, (3,)), action_space=gym.spaces.Discrete(K))
    obs_space, _ = _spaces()
    with pytest.raises(ValueError, match="Discrete"):
        UtilityRLModule(observation_space=obs_space, action_space=gym.spaces.Discrete(K + 1))


# -- config and builder (no Ray) -------------------------------------------------------


def test_config_defaults_and_validation() -> None:
    cfg = UtilityPPOConfig()
    assert (cfg.lr, cfg.gamma, cfg.entropy_coeff, cfg.clip_param, cfg.num_epochs) == (1e-3, 0.99, 0.05, 0.1, 4)
    assert (cfg.train_batch_size, cfg.hidden_size, cfg.vf_loss_coeff) == (4096, 64, 0.5)
    for name, field in UtilityPPOConfig.model_fields.items():
        assert field.description, name
    with pytest.raises(ValidationError):
        UtilityPPOConfig(learning_rate=1e-3)
    with pytest.raises(ValidationError, match="minibatch_size"):
        UtilityPPOConfig(train_batch_size=256, minibatch_size=512)


def test_lr_schedule() -> None:
    cfg = UtilityPPOConfig()
    assert lr_setting(cfg, 1_000_000) == [[0, 1e-3], [1_000_000, 0.0]]
    assert lr_setting(cfg.model_copy(update={"lr_decay_env_steps": 500}), 1_000_000) == [[0, 1e-3], [500, 0.0]]
    assert lr_setting(cfg, None) == 1e-3
    assert lr_setting(cfg.model_copy(update={"lr_decay": False}), 1_000_000) == 1e-3


def test_registered_builder_produces_new_stack_ppo_config() -> None:
    entry = get_algorithm("utility-ppo")
    assert entry.config_model is UtilityPPOConfig and entry.build is build_utility_ppo
    ctx = BuildContext(
        env_id="actlab/Whatever-v0",
        env_config={"a": 1},
        seed=3,
        num_env_runners=2,
        envs_per_env_runner=4,
        cpus_per_env_runner=0.5,
        total_env_steps=10_000,
    )
    ppo = build_utility_ppo(UtilityPPOConfig(), ctx)
    assert ppo.enable_rl_module_and_learner and ppo.enable_env_runner_and_connector_v2
    assert ppo.env == "actlab/Whatever-v0" and ppo.env_config == {"a": 1}
    assert (ppo.num_env_runners, ppo.num_envs_per_env_runner, ppo.num_cpus_per_env_runner) == (2, 4, 0.5)
    assert ppo.num_learners == 0 and ppo.num_gpus_per_learner == 0
    assert issubclass(ppo.learner_class, AdamEpsPPOTorchLearner)
    assert ppo.rl_module_spec.module_class is UtilityRLModule
    assert ppo.seed == 3 and ppo.lr == [[0, 1e-3], [10_000, 0.0]]
    assert (ppo.train_batch_size_per_learner, ppo.minibatch_size, ppo.num_epochs) == (4096, 1024, 4)
    assert (ppo.lambda_, ppo.grad_clip, ppo.use_kl_loss) == (0.95, 0.5, False)
    assert ppo.callbacks_class is SuccessRateCallback


# -- end to end on a tiny action-set env (local Ray) ----------------------------------

_SIGNAL_ENV_ID = "actlab_test/PickTheSignal-v0"


class _PickTheSignalEnv(gym.Env):
    """Each step offers 2-7 of 7 slots; one available slot has representation[0] = 1.

    Choosing it pays 1, anything else 0; 5 steps per episode, so returns are in [0, 5]
    and a uniformly random policy earns about 1.6. ``info["success"]`` marks episodes
    whose last choice was the signalled slot.
    """

    horizon = 5

    def __init__(self) -> None:
        self.observation_space, self.action_space = _spaces()
        self._good = 0
        self._t = 0
        self._obs: dict[str, np.ndarray] = {}

    def _new_obs(self) -> dict[str, np.ndarray]:
        rng = self.np_random
        mask = np.zeros(K, dtype=np.float32)
        mask[rng.choice(K, size=int(rng.integers(2, K + 1)), replace=False)] = 1.0
        self._good = int(rng.choice(np.flatnonzero(mask)))
        reprs = rng.normal(size=(K, D)).astype(np.float32)
        reprs[:, 0] = 0.0
        reprs[self._good, 0] = 1.0
        reprs *= mask[:, None]
        state = np.zeros(S, dtype=np.float32)
        state[self._t] = 1.0
        return {STATE_KEY: state, ACTION_REPRS_KEY: reprs, ACTION_MASK_KEY: mask}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._t = 0
        self._obs = self._new_obs()
        return self._obs, {}

    def step(self, action: int):
        if self._obs[ACTION_MASK_KEY][action] == 0:
            raise AssertionError(f"masked slot {action} was chosen")
        hit = int(action) == self._good
        self._t += 1
        self._obs = self._new_obs()
        done = self._t >= self.horizon
        return self._obs, float(hit), done, False, {"success": hit} if done else {}


gym.register(_SIGNAL_ENV_ID, entry_point=_PickTheSignalEnv)


def _small_algo(seed: int, total_env_steps: int | None = None, **overrides: Any):
    cfg = UtilityPPOConfig(train_batch_size=400, minibatch_size=100, **overrides)
    ctx = BuildContext(env_id=_SIGNAL_ENV_ID, env_config={}, seed=seed, total_env_steps=total_env_steps)
    return build_utility_ppo(cfg, ctx).build_algo()


def _learner_weights(algo) -> dict[str, np.ndarray]:
    return algo.learner_group._learner.module["default_policy"].get_state()


@pytest.mark.integration
def test_utility_ppo_learns_to_pick_the_signalled_action(local_ray) -> None:
    """10 x 400 steps; seeds 0-3 all ended at 3.7-4.0 from about 1.3 (random: 1.6).

    Also checks the linear lr decay over the trial budget (here 100k env steps)."""
    algo = _small_algo(seed=0, total_env_steps=100_000, entropy_coeff=0.01)
    try:
        returns, successes = [], []
        for _ in range(10):
            result = algo.train()
            returns.append(result["env_runners"]["episode_return_mean"])
            successes.append(result["env_runners"]["success_rate"])
    finally:
        algo.stop()
    assert returns[0] < 2.5, returns
    assert returns[-1] > max(3.0, returns[0] + 1.5), returns
    assert successes[-1] > successes[0], successes
    lr = result["learners"]["default_policy"]["default_optimizer_learning_rate"]
    assert lr == pytest.approx(1e-3 * (1 - 4000 / 100_000))


@pytest.mark.integration
def test_same_seed_gives_identical_metrics_and_weights(local_ray) -> None:
    runs = []
    for _ in range(2):
        algo = _small_algo(seed=7)
        try:
            result = algo.train()
            runs.append((result["env_runners"]["episode_return_mean"], _learner_weights(algo)))
        finally:
            algo.stop()
    (ret_a, w_a), (ret_b, w_b) = runs
    assert ret_a == ret_b
    assert w_a.keys() == w_b.keys()
    for key in w_a:
        np.testing.assert_array_equal(w_a[key], w_b[key], err_msg=key)


@pytest.mark.integration
def test_builds_and_trains_on_gridworld_skills(local_ray) -> None:
    """The registered Grid World env (thesis App. A.1) through the registry env hand-off."""
    entry = get_algorithm("utility-ppo")
    cfg = entry.config_model(train_batch_size=256, minibatch_size=128)
    ctx = BuildContext(env_id="actlab/GridWorldSkills-v0", env_config={}, seed=0)
    algo = entry.build(cfg, ctx).build_algo()
    try:
        for _ in range(2):
            result = algo.train()
    finally:
        algo.stop()
    assert result["env_runners"]["num_env_steps_sampled_lifetime"] == 512
    assert 0.0 <= result["env_runners"]["success_rate"] <= 1.0
    learner = result["learners"]["default_policy"]
    assert np.isfinite([learner["policy_loss"], learner["vf_loss"], learner["entropy"]]).all()


def test_table_representations_are_looked_up_by_action_id() -> None:
    """With ``action_table_shape`` the module reads c_i = table[action_ids[i]] (HVAE stage)."""
    import gymnasium as gym

    import envs  # noqa: F401
    from envs.common.action_set import ACTION_IDS_KEY

    env = gym.make("actlab/GridWorldSkills-v0", m=6, grid_encoding="factored")
    space = env.observation_space
    module = UtilityRLModule(
        observation_space=space, action_space=env.action_space,
        model_config={"action_table_shape": (1024, 16), "init": "torch"},
    )
    table = torch.randn(1024, 16)
    module.action_table.copy_(table)
    obs, _ = env.reset(seed=0)
    batch = {k: torch.as_tensor(v)[None] for k, v in obs.items()}
    ids = batch[ACTION_IDS_KEY].long()[0]
    assert torch.equal(module.action_reprs(batch)[0], table[ids])
    # The env's own representations are ignored, and the table travels with the state.
    batch[ACTION_REPRS_KEY] = torch.zeros_like(batch[ACTION_REPRS_KEY])
    assert torch.allclose(module.compute_logits(batch), module.compute_logits_reference(batch))
    assert "action_table" in module.state_dict()


def test_fused_slot_scores_backward_matches_autograd() -> None:
    """The hand-written backward of slot_scores.py against finite differences (double)."""
    from rllib_modules.utility.slot_scores import relu_slot_scores

    gen = torch.Generator().manual_seed(3)
    args = [
        torch.randn(3, 5, 4, generator=gen, dtype=torch.float64),  # c_BKD
        torch.randn(4, 6, generator=gen, dtype=torch.float64),  # w_DH
        torch.randn(3, 6, generator=gen, dtype=torch.float64),  # bias_BH
        torch.randn(6, generator=gen, dtype=torch.float64),  # w_out_H
        torch.randn(1, generator=gen, dtype=torch.float64),  # b_out
    ]
    args = [a.requires_grad_() for a in args]
    assert torch.autograd.gradcheck(relu_slot_scores, args)
    # and against the literal expression, with a row-expanded bias (the state-blind case)
    c, w, _, w_out, b_out = (a.detach().requires_grad_() for a in args)
    bias_H = torch.randn(6, generator=gen, dtype=torch.float64, requires_grad=True)
    fused = relu_slot_scores(c, w, bias_H.expand(3, -1), w_out, b_out)
    literal = torch.relu(c @ w + bias_H) @ w_out + b_out
    torch.testing.assert_close(fused, literal)
    grads = [torch.autograd.grad(out.square().sum(), (c, w, bias_H, w_out, b_out)) for out in (fused, literal)]
    for g_fused, g_literal in zip(*grads):
        torch.testing.assert_close(g_fused, g_literal)
