"""The remaining Ch.4 baselines and the joint-action ablation (thesis §4.6.1, T-AppC §D.2).

- ``cem``: on a hand-made bimodal critic whose actor sits on the lower mode, CEM finds the
  global maximum (DPG could not leave the local one); on a concave critic it converges to the
  optimum; the module acts with the CEM solution and never below μ(s); ``actor_target=cem``
  regresses μ onto that solution;
- ``greedy-ac`` / ``greedy-td3``: top-ρ selection against a sorted loop; the actor's and the
  proposal's objectives, and the Learner's losses built from them, against a hand computation;
  greedy-ac bootstraps from Q'_1 alone;
- ``savo-joint``: the k × D reshape and the maximizer's pick against loops; the "max" objective
  pulls only the best constituent;
- the maximizer invariant Q_1(s, chosen) ≥ Q_1(s, μ(s)) for the multi-candidate variants;
- every new name: settings validation, and a real tiny sweep through Tune and MLflow.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns
from torch import nn

from actlab.registry import BuildContext, get_algorithm
from rllib_modules.td3.module import Q_NEXT1_KEY, Q_NEXT2_KEY, Q_PI_KEY
from rllib_modules.td3_variants import CEMRLModule, GreedyRLModule, JointActionRLModule
from rllib_modules.td3_variants.cem import cem_maximize
from rllib_modules.td3_variants.gaussian import GaussianPolicy
from rllib_modules.td3_variants.greedy import elite_count, top_fraction
from rllib_modules.td3_variants.joint import joint_objective
from rllib_modules.td3_variants.learner import ACTOR_OBJECTIVE_KEY, PROPOSAL_OBJECTIVE_KEY
from tests.test_td3 import candidates_and_choice

OBS_DIM = 3
NEW_NAMES = ["cem", "greedy-ac", "greedy-td3", "savo-joint"]


class HandQ(nn.Module):
    """A critic ``Q(s, a) = f(a)`` (state ignored) on the module's ``[s, a]`` input."""

    def __init__(self, f) -> None:
        super().__init__()
        self.f = f

    def forward(self, obs_action: torch.Tensor) -> torch.Tensor:
        return self.f(obs_action[:, OBS_DIM:]).unsqueeze(-1)


class ConstantActor(nn.Module):
    def __init__(self, action: list[float]) -> None:
        super().__init__()
        self.action = torch.tensor(action)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.action.expand(obs.shape[0], -1)


def bimodal(a: torch.Tensor) -> torch.Tensor:
    """A local maximum of 1 at a = -0.5 and the global maximum of 2 at a = 0.7 (1-D)."""
    return torch.exp(-((a + 0.5) ** 2).sum(-1) / 0.1) + 2.0 * torch.exp(-((a - 0.7) ** 2).sum(-1) / 0.1)


def _module(cls: type, action_dim: int = 2, **options):
    obs_space = gym.spaces.Box(-np.inf, np.inf, (OBS_DIM,), np.float32)
    act_space = gym.spaces.Box(-1.0, 1.0, (action_dim,), np.float32)
    return cls(observation_space=obs_space, action_space=act_space,
               model_config={"actor_hidden": [16], "critic_hidden": [16], **options})


# -- cem -------------------------------------------------------------------------------------


def test_cem_leaves_the_actors_local_maximum_for_the_global_one() -> None:
    start = torch.full((16, 1), -0.5)  # μ(s) on the lower mode: ∇_a Q = 0 there, DPG stays
    gen = torch.Generator().manual_seed(0)
    best, best_q, mean = cem_maximize(bimodal, start, init_std=1.0, population=64, elites=6, iterations=3, generator=gen)
    assert best.shape == (16, 1) and best.abs().max() <= 1
    torch.testing.assert_close(best_q, bimodal(best))
    assert (best_q > bimodal(start) + 0.8).all()  # every state reaches the upper mode (2 vs 1)
    assert ((best - 0.7).abs() < 0.1).all() and ((mean - 0.7).abs() < 0.1).all()


def test_cem_converges_on_a_concave_q() -> None:
    optimum = torch.tensor([0.3, -0.6])
    concave = lambda a: -((a - optimum) ** 2).sum(-1)  # noqa: E731
    start = torch.zeros(64, 2)  # 0.67 from the optimum
    gen = torch.Generator().manual_seed(1)
    best, best_q, mean = cem_maximize(concave, start, init_std=0.5, population=64, elites=6, iterations=3, generator=gen)
    assert (best_q > concave(start)).all()
    # plain CEM contracts fast (6 of 64 elites), so a few rows stop short; on average it is close
    for found in (best, mean):
        error = (found - optimum).norm(dim=1)
        assert error.mean() < 0.05 and error.max() < 0.25


def test_cem_module_acts_with_the_cem_solution_and_can_train_mu_towards_it() -> None:
    torch.manual_seed(0)
    module = _module(CEMRLModule, action_dim=1, cem_init_std=1.0, cem_iterations=3, actor_target="cem")
    module.q1 = HandQ(bimodal)
    module.actor = ConstantActor([-0.5])
    obs = torch.randn(32, OBS_DIM)
    with torch.no_grad():
        cands = module.candidates(obs)
        chosen = module.acting_action(obs)
    assert cands.shape == (32, 3, 1)
    torch.testing.assert_close(cands[:, 0], torch.full((32, 1), -0.5))  # candidate 0 is μ(s)
    assert ((chosen - 0.7).abs() < 0.1).all()
    # actor_target="cem": the actor maximises -½‖μ(s) - a*(s)‖², a* the maximizer's pick
    module.actor = nn.Sequential(nn.Linear(OBS_DIM, 1), nn.Tanh())
    module.make_target_networks()
    batch = {Columns.OBS: obs, Columns.NEXT_OBS: obs, Columns.ACTIONS: torch.zeros(32, 1)}
    torch.manual_seed(5)
    out = module.forward_train(batch)
    torch.manual_seed(5)
    with torch.no_grad():
        module.target_action(obs)  # the forward pass's target search comes first
        solution = module.acting_action(obs)
    expected = -0.5 * (module.actor(obs) - solution).pow(2).sum(-1)
    torch.testing.assert_close(out[ACTOR_OBJECTIVE_KEY], expected)


# -- greedy-ac / greedy-td3 ------------------------------------------------------------------


def test_top_fraction_against_a_sorted_loop() -> None:
    gen = torch.Generator().manual_seed(0)
    q = torch.randint(0, 6, (20, 10), generator=gen).float()  # many ties
    actions = torch.randn(20, 10, 2, generator=gen)
    for rho in (0.1, 0.3, 0.25, 1.0):
        top = top_fraction(q, actions, rho)
        m = max(1, math.floor(rho * 10 + 1e-9))
        assert top.shape == (20, m, 2)
        for b in range(20):
            order = sorted(range(10), key=lambda n: -q[b, n].item())  # stable: earlier sample first
            torch.testing.assert_close(top[b], actions[b, order[:m]])
    assert elite_count(0.1, 30) == 3 and elite_count(0.01, 30) == 1


def _hand_log_normal(a: list[float], mean: list[float], std: list[float]) -> float:
    return sum(-0.5 * ((x - m) / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi) for x, m, s in zip(a, mean, std))


@pytest.mark.parametrize("stochastic", [True, False])
def test_greedy_objectives_by_hand(stochastic: bool) -> None:
    """Top-ρ by Q_1 of fixed proposals; the actor's and the proposal's objectives from them."""
    torch.manual_seed(0)
    module = _module(GreedyRLModule, stochastic_actor=stochastic, clipped_double_q=not stochastic,
                     num_samples=5, rho=0.4, proposal_rho=0.6, proposal_entropy=0.3)
    module.make_target_networks()
    module.q1 = HandQ(lambda a: -((a - torch.tensor([0.2, -0.1])) ** 2).sum(-1))
    samples = torch.tensor([
        [[0.9, 0.9], [0.2, -0.2], [-0.5, 0.0], [0.1, 0.0], [0.3, -0.1]],
        [[-1.0, 1.0], [0.0, 0.0], [0.2, -0.1], [0.5, 0.5], [0.25, -0.05]],
    ])
    module.proposal.sample = lambda obs, num: samples  # fixed proposals
    obs = torch.randn(2, OBS_DIM)
    out = module.forward_train({Columns.OBS: obs, Columns.NEXT_OBS: obs, Columns.ACTIONS: torch.zeros(2, 2)})
    with torch.no_grad():
        p_mean, p_log_std = module.proposal.distribution(obs)
        if stochastic:
            a_mean, a_log_std = module.actor.distribution(obs)
        else:
            mu = module.actor(obs)
    for b in range(2):
        q = [-((s[0] - 0.2) ** 2 + (s[1] + 0.1) ** 2) for s in samples[b].tolist()]
        order = sorted(range(5), key=lambda n: -q[n])
        actor_top, proposal_top = order[:2], order[:3]  # ⌊0.4·5⌋ = 2, ⌊0.6·5⌋ = 3
        if stochastic:
            expected_actor = np.mean([_hand_log_normal(samples[b, n].tolist(), a_mean[b].tolist(),
                                                       a_log_std[b].exp().tolist()) for n in actor_top])
        else:  # log N(a | μ(s), I) up to a constant
            expected_actor = np.mean([-0.5 * ((samples[b, n] - mu[b]) ** 2).sum().item() for n in actor_top])
        entropy = sum(ls + 0.5 * math.log(2 * math.pi * math.e) for ls in p_log_std[b].tolist())
        expected_proposal = np.mean([_hand_log_normal(samples[b, n].tolist(), p_mean[b].tolist(),
                                                      p_log_std[b].exp().tolist()) for n in proposal_top]) + 0.3 * entropy
        assert out[ACTOR_OBJECTIVE_KEY][b].item() == pytest.approx(expected_actor, rel=1e-5)
        assert out[PROPOSAL_OBJECTIVE_KEY][b].item() == pytest.approx(expected_proposal, rel=1e-5)
    if stochastic:  # greedy-ac: the target is Q'_1 alone
        torch.testing.assert_close(out[Q_NEXT2_KEY], out[Q_NEXT1_KEY])
    else:
        assert not torch.equal(out[Q_NEXT2_KEY], out[Q_NEXT1_KEY])


def test_gaussian_policy_samples_stay_in_the_box_and_log_prob_matches_torch() -> None:
    torch.manual_seed(0)
    policy = GaussianPolicy(OBS_DIM, [16], 2)
    obs = torch.randn(7, OBS_DIM)
    samples = policy.sample(obs, 50)
    assert samples.shape == (7, 50, 2) and samples.abs().max() <= 1
    mean, log_std = policy.distribution(obs)
    normal = torch.distributions.Normal(mean.unsqueeze(1), log_std.exp().unsqueeze(1))
    torch.testing.assert_close(policy.log_prob(obs, samples), normal.log_prob(samples).sum(-1))
    torch.testing.assert_close(policy.entropy(obs), torch.distributions.Normal(mean, log_std.exp()).entropy().sum(-1))


def _tiny_algo(name: str, **settings):
    entry = get_algorithm(name)
    ctx = BuildContext(env_id="InvertedPendulum-v5", env_config={}, seed=0, num_env_runners=0, envs_per_env_runner=1)
    config = {"learning_starts": 64, "batch_size": 16, "actor_hidden": [16], "critic_hidden": [16], **settings}
    return entry.build(entry.config_model.model_validate(config), ctx).build_algo()


@pytest.mark.parametrize("name", ["greedy-ac", "greedy-td3"])
def test_greedy_learner_losses_and_optimizers(name: str, local_ray) -> None:
    """The Learner trains the actor on -mean(actor objective), the proposal on -mean(its objective)."""
    from ray.rllib.core import DEFAULT_MODULE_ID
    from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch

    algo = _tiny_algo(name, num_samples=10, rho=0.2, updates_per_step=0.02)
    try:
        algo.train()  # fills the buffer past learning_starts (few updates: the test drives its own)
        learner = algo.learner_group._learner
        module = learner.module[DEFAULT_MODULE_ID]
        assert {n for n, _ in learner.get_optimizers_for_module(DEFAULT_MODULE_ID)} == {"critic", "actor", "proposal"}
        assert isinstance(module.actor, GaussianPolicy) == (name == "greedy-ac")
        assert not hasattr(algo.env_runner.module, "proposal")  # Learner only
        rows = algo.transitions.sample(16)
        batch = {k: torch.as_tensor(v) for k, v in rows.items()}
        torch.manual_seed(3)
        fwd = module.forward_train(batch)
        torch.manual_seed(3)
        learner.compute_loss_for_module(module_id=DEFAULT_MODULE_ID, config=learner.config.get_config_for_module(DEFAULT_MODULE_ID),
                                        batch=batch, fwd_out=fwd)
        torch.testing.assert_close(learner._pending_losses[(DEFAULT_MODULE_ID, "actor")], -fwd[ACTOR_OBJECTIVE_KEY].mean())
        torch.testing.assert_close(learner._pending_losses[(DEFAULT_MODULE_ID, "proposal")], -fwd[PROPOSAL_OBJECTIVE_KEY].mean())
        learner._pending_losses.clear()
        # one real update moves the proposal and (greedy-ac: no delay) the actor
        before = {n: [p.detach().clone() for p in getattr(module, n).parameters()] for n in ("proposal", "actor")}
        learner.update(batch=MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(rows)}, env_steps=16),
                       timesteps={"num_env_steps_sampled_lifetime": 10_000})
        moved = {n: any(not torch.equal(a, b) for a, b in zip(before[n], getattr(module, n).parameters())) for n in before}
        assert moved["proposal"]
        if name == "greedy-ac":
            assert moved["actor"]
    finally:
        algo.stop()


# -- savo-joint ------------------------------------------------------------------------------


def test_joint_reshape_and_maximizer_pick_against_loops() -> None:
    torch.manual_seed(0)
    k, dim = 3, 2
    module = _module(JointActionRLModule, action_dim=dim, num_candidates=k)
    obs = torch.randn(40, OBS_DIM)
    with torch.no_grad():
        flat = module.joint_actor(obs)  # (B, k·D)
        joint = module.joint_actions(obs)
        chosen = module.acting_action(obs)
        mu = module.actor(obs)
    assert flat.shape == (40, k * dim) and joint.shape == (40, k, dim)
    for b in range(40):
        cands = [mu[b]] + [flat[b, i * dim:(i + 1) * dim] for i in range(k)]
        for i in range(k):
            torch.testing.assert_close(joint[b, i], cands[i + 1])
        q = [module.q_value(module.q1, obs[b:b + 1], c[None]).item() for c in cands]
        best = max(range(k + 1), key=lambda i: (q[i], -i))  # first among equals
        torch.testing.assert_close(chosen[b], cands[best])
        assert q[best] >= q[0]


def test_joint_max_objective_pulls_only_the_best_constituent() -> None:
    q = torch.tensor([[1.0, 3.0, 2.0], [0.5, -1.0, 0.7]], requires_grad=True)
    for kind in ("max", "sum"):
        value = joint_objective(q, kind)
        expected = [max(row) for row in q.tolist()] if kind == "max" else [sum(row) for row in q.tolist()]
        assert value.tolist() == pytest.approx(expected)
    (grad,) = torch.autograd.grad(joint_objective(q, "max").sum(), q)
    assert grad.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    with pytest.raises(ValueError, match="'max' or 'sum'"):
        joint_objective(q, "mean")  # type: ignore[arg-type]
    # in the module the objective of the joint actor is added to μ's DPG objective
    torch.manual_seed(0)
    module = _module(JointActionRLModule)
    module.make_target_networks()
    obs = torch.randn(8, OBS_DIM)
    out = module.forward_train({Columns.OBS: obs, Columns.NEXT_OBS: obs, Columns.ACTIONS: torch.zeros(8, 2)})
    with torch.no_grad():
        from rllib_modules.td3_variants.scoring import candidate_q

        expected = module.q_value(module.q1, obs, module.actor(obs)) + candidate_q(module.q1, obs, module.joint_actions(obs)).max(1).values
    torch.testing.assert_close(out[Q_PI_KEY].detach(), expected)


# -- the maximizer invariant -----------------------------------------------------------------


@pytest.mark.parametrize("cls", [CEMRLModule, JointActionRLModule])
def test_chosen_action_never_scores_below_mu(cls: type) -> None:
    torch.manual_seed(0)
    module = _module(cls)
    obs = torch.randn(128, OBS_DIM)
    cands, chosen, q = candidates_and_choice(module, obs)
    with torch.no_grad():
        q_chosen = module.q_value(module.q1, obs, chosen)
    torch.testing.assert_close(cands[:, 0], module.actor(obs).detach())
    torch.testing.assert_close(q_chosen, q.max(dim=1).values)
    assert (q_chosen >= q[:, 0]).all()
    if cls is CEMRLModule:  # the search improves on μ somewhere for a random critic
        assert (q_chosen > q[:, 0] + 1e-4).float().mean() > 0.5


# -- discrete tasks: Q is only queried at real actions ---------------------------------------


class RecordingQ(nn.Module):
    """A fixed random critic that records every action it is asked about."""

    def __init__(self, action_dim: int) -> None:
        super().__init__()
        self.net = nn.Linear(OBS_DIM + action_dim, 1)
        self.seen: list[torch.Tensor] = []

    def forward(self, obs_action: torch.Tensor) -> torch.Tensor:
        self.seen.append(obs_action[:, OBS_DIM:].detach().clone())
        return self.net(obs_action)


def _is_item(actions: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    return (actions.unsqueeze(1) - items.unsqueeze(0)).abs().amax(-1).min(1).values < 1e-6


@pytest.mark.parametrize("cls,stochastic", [(CEMRLModule, False), (JointActionRLModule, False),
                                            (GreedyRLModule, False), (GreedyRLModule, True)])
def test_discrete_tasks_score_and_choose_real_actions(cls: type, stochastic: bool) -> None:
    from rllib_modules.common.nearest_item import NearestItemSettings, make_nearest_item_index

    torch.manual_seed(0)
    items = torch.rand(50, 2) * 2 - 1
    # (the greedy options are ignored by the other modules)
    module = _module(cls, num_samples=12, rho=0.25, stochastic_actor=stochastic)
    module.item_index = make_nearest_item_index(items, NearestItemSettings(backend="torch"))
    module.q1 = RecordingQ(2)
    obs = torch.randn(6, OBS_DIM)
    with torch.no_grad():
        chosen = module.acting_action(obs)
        explored = module.forward_exploration({Columns.OBS: obs})[Columns.ACTIONS]
    assert _is_item(chosen, items).all() and _is_item(explored, items).all()
    if cls is not GreedyRLModule:  # the maximizer's candidates (and CEM's samples) are scored as items
        assert module.q1.seen and all(_is_item(a, items).all() for a in module.q1.seen)
    else:  # the proposals are ranked (and learnt towards) as real actions; the TD target is an item
        module.make_target_networks()
        with torch.no_grad():
            assert _is_item(module.target_action(obs), items).all()
        module.forward_train({Columns.OBS: obs, Columns.NEXT_OBS: obs, Columns.ACTIONS: items[:6]})
        (ranked,) = [a for a in module.q1.seen if len(a) == 6 * 12]
        assert _is_item(ranked, items).all()


# -- registry: settings and tiny sweeps ------------------------------------------------------


def test_settings_validation() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="cem_elites"):
        get_algorithm("cem").config_model.model_validate({"cem_population": 4, "cem_elites": 5})
    with pytest.raises(ValidationError, match="target_policy_smoothing"):
        get_algorithm("greedy-ac").config_model.model_validate({"target_policy_smoothing": True})
    with pytest.raises(ValidationError, match="extra"):
        get_algorithm("savo-joint").config_model.model_validate({"num_successive": 3})
    defaults = {n: get_algorithm(n).config_model.model_validate({}) for n in NEW_NAMES}
    assert defaults["greedy-ac"].policy_delay == 1 and defaults["greedy-td3"].policy_delay == 2
    assert defaults["savo-joint"].target_policy_smoothing is False and defaults["savo-joint"].exploration_noise == "ou"
