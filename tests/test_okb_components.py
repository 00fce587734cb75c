"""OKB learning components against naive references and hand-computed values.

Covers :mod:`rllib_modules.okb.gpi` (GPI, Eq. 3), :mod:`rllib_modules.okb.successor_features`
(the USFA ensemble and its min-of-2 SF TD target, App. F), :mod:`rllib_modules.okb.option_keyboard`
(ω, ψ^ω, TrainOK's losses and exploration, Alg. 3) and :mod:`rllib_modules.okb.optimality`
(Eq. 21). References are Python loops over states, policies, actions and members, or numbers
worked out by hand in the comments; none calls the code under test.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rllib_modules.okb.gpi import GPIPolicy, base_policy_sfs, first_argmax, first_argmin, gpi
from rllib_modules.okb.optimality import (
    advantage_estimates,
    mean_positive_advantage,
    ok_mean_positive_advantages,
    select_task,
)
from rllib_modules.okb.option_keyboard import (
    MetaCritic,
    MetaPolicy,
    OptionKeyboard,
    TaskMetaPolicy,
    clipped_gaussian_noise,
    explore_z,
    gpi_guarded_z,
    ok_actor_loss,
    ok_critic_loss,
    pessimistic_member,
    sample_support_weights,
)
from rllib_modules.okb.successor_features import (
    SuccessorFeatureEnsemble,
    ensemble_sf_td_target,
    min_scalarised_member,
    sample_members,
    sample_task_weights,
    sf_td_loss,
    sf_td_target,
)

DT = torch.float64


def _simplex(n: int, d: int, generator: torch.Generator) -> torch.Tensor:
    x = -torch.log(torch.rand(n, d, generator=generator, dtype=DT))
    return x / x.sum(dim=1, keepdim=True)


def _small_ensemble(obs_dim: int = 5, num_actions: int = 4, d: int = 3, **kw) -> SuccessorFeatureEnsemble:
    torch.manual_seed(0)
    kw.setdefault("hidden_sizes", (16, 16, 16, 16))
    kw.setdefault("num_members", 4)
    return SuccessorFeatureEnsemble(obs_dim, num_actions, d, **kw).to(DT)


# ---------------------------------------------------------------------------------------------
# GPI
# ---------------------------------------------------------------------------------------------


def _gpi_loop(psi, w, mask=None):
    """Reference GPI: first action with the largest max_j ψ_j·w, then first j attaining it."""
    B, J, A, D = psi.shape
    actions, values, policies = [], [], []
    for b in range(B):
        best_a, best_q, best_j = None, -math.inf, None
        for a in range(A):
            q_a, j_a = -math.inf, None
            for j in range(J):
                if mask is not None and not bool(mask[b, j]):
                    continue
                q = sum(float(psi[b, j, a, k].detach()) * float(w[b, k]) for k in range(D))
                if q > q_a:
                    q_a, j_a = q, j
            if q_a > best_q:
                best_a, best_q, best_j = a, q_a, j_a
        actions.append(best_a)
        values.append(best_q)
        policies.append(best_j)
    return torch.tensor(actions), torch.tensor(values, dtype=DT), torch.tensor(policies)


@pytest.mark.parametrize("integer_valued", [False, True])
def test_gpi_vectorised_equals_loop(integer_valued: bool) -> None:
    g = torch.Generator().manual_seed(1)
    B, J, A, D = 40, 5, 6, 3
    if integer_valued:
        # Small integers make exact ties common (between actions and between policies).
        psi = torch.randint(0, 3, (B, J, A, D), generator=g).to(DT)
        w = torch.randint(0, 2, (B, D), generator=g).to(DT)
    else:
        psi = torch.randn(B, J, A, D, generator=g, dtype=DT)
        w = _simplex(B, D, g)
    out = gpi(psi, w)
    ref_a, ref_v, ref_j = _gpi_loop(psi, w)
    assert torch.equal(out.actions_B, ref_a)
    assert torch.equal(out.policies_B, ref_j)
    torch.testing.assert_close(out.values_B, ref_v, rtol=0, atol=1e-12)
    torch.testing.assert_close(out.psi_BD, psi[torch.arange(B), ref_j, ref_a])
    if integer_valued:
        q = torch.einsum("bjad,bd->bja", psi, w).amax(1)
        assert ((q == q.amax(1, keepdim=True)).sum(1) > 1).any(), "the tie case must actually contain ties"


def test_gpi_policy_mask_equals_loop_over_kept_policies() -> None:
    g = torch.Generator().manual_seed(2)
    B, J, A, D = 30, 4, 3, 2
    psi = torch.randn(B, J, A, D, generator=g, dtype=DT)
    w = _simplex(B, D, g)
    mask = torch.rand(B, J, generator=g) < 0.5
    mask[:, 0] = True
    out = gpi(psi, w, policy_mask=mask)
    ref_a, ref_v, ref_j = _gpi_loop(psi, w, mask)
    assert torch.equal(out.actions_B, ref_a) and torch.equal(out.policies_B, ref_j)
    torch.testing.assert_close(out.values_B, ref_v, rtol=0, atol=1e-12)
    with pytest.raises(ValueError):
        gpi(psi, w, policy_mask=torch.zeros(J, dtype=torch.bool))


def test_first_argmax_and_argmin_take_lowest_index() -> None:
    x = torch.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, -5.0, 0.0, -5.0]])
    assert first_argmax(x, dim=1).tolist() == [1, 0, 2]
    assert first_argmin(x, dim=1).tolist() == [3, 0, 1]
    assert first_argmax(x, dim=0).tolist() == [1, 0, 0, 1]


def test_base_policy_sfs_one_pass_equals_loop_and_gpi_policy() -> None:
    ens = _small_ensemble()
    g = torch.Generator().manual_seed(3)
    obs = torch.randn(7, 5, generator=g, dtype=DT)
    base_w = _simplex(3, 3, g)
    psi = base_policy_sfs(ens.act_sfs, obs, base_w)
    assert psi.shape == (7, 3, 4, 3)
    for j in range(3):
        torch.testing.assert_close(psi[:, j], ens.act_sfs(obs, base_w[j].expand(7, 3)))
    policy = GPIPolicy(ens, feature_dim=3)
    with pytest.raises(RuntimeError):
        policy.base_sfs(obs)
    policy.set_base_weights(base_w)
    w = _simplex(7, 3, g)
    out = policy(obs, w)
    ref_a, ref_v, _ = _gpi_loop(psi, w)
    assert torch.equal(out.actions_B, ref_a)
    torch.testing.assert_close(out.values_B, ref_v, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# USFA ensemble and its target
# ---------------------------------------------------------------------------------------------


def _member_forward_reference(ens: SuccessorFeatureEnsemble, m: int, obs, w):
    """One member by plain matmuls over its slices of the stacked parameters (concat mode)."""
    x = torch.cat([obs, w], dim=-1)
    for block in [ens.obs_embed, *ens.trunk]:
        x = x @ block.linear.weight_NIO[m] + block.linear.bias_NO[m]
        x = F.layer_norm(x, (x.shape[-1],)) * block.norm.weight_NO[m] + block.norm.bias_NO[m]
        x = F.leaky_relu(x, 0.01)
    x = x @ ens.head.weight_NIO[m] + ens.head.bias_NO[m]
    return x.view(obs.shape[0], ens.num_actions, ens.feature_dim)


def test_usfa_shapes_members_and_architecture() -> None:
    ens = SuccessorFeatureEnsemble(obs_dim=6, num_actions=5, feature_dim=3)
    # App. F: 10 members, 4 hidden layers of 256, LayerNorm + LeakyReLU.
    assert ens.num_members == 10
    assert [b.linear.out_features for b in [ens.obs_embed, *ens.trunk]] == [256] * 4
    assert ens.obs_embed.norm is not None
    out = ens(torch.randn(8, 6), torch.rand(8, 3))
    assert out.shape == (10, 8, 5, 3)

    small = _small_ensemble()
    g = torch.Generator().manual_seed(4)
    obs, w = torch.randn(6, 5, generator=g, dtype=DT), _simplex(6, 3, g)
    with torch.no_grad():  # give the LayerNorm affine parameters non-trivial values
        for p in small.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=g, dtype=DT))
    full = small(obs, w)
    for m in range(small.num_members):
        torch.testing.assert_close(full[m], _member_forward_reference(small, m, obs, w))
    members = torch.tensor([2, 0])
    torch.testing.assert_close(small(obs, w, members), full[members])
    torch.testing.assert_close(small.act_sfs(obs, w), full.mean(0))
    product = _small_ensemble(input_mode="product")
    assert product(obs, w).shape == (4, 6, 4, 3)


def test_min_scalarised_member_equals_loop() -> None:
    g = torch.Generator().manual_seed(5)
    M, B, A, D = 3, 10, 4, 2
    psi = torch.randint(-2, 3, (M, B, A, D), generator=g).to(DT)  # ties between members happen
    w = torch.randint(0, 3, (B, D), generator=g).to(DT)
    got, member = min_scalarised_member(psi, w)
    for b, a in itertools.product(range(B), range(A)):
        qs = [float(psi[m, b, a] @ w[b]) for m in range(M)]
        m_ref = qs.index(min(qs))
        assert int(member[b, a]) == m_ref
        assert torch.equal(got[b, a], psi[m_ref, b, a])


def test_sf_td_target_by_hand() -> None:
    # Two members, two states, two actions, d = 2.
    #   state 0, w = (.5, .5): m0: a0 (1,0)->.5, a1 (0,2)->1;  m1: a0 (2,2)->2, a1 (0,1)->.5
    #     min member per action: a0 -> m0 (1,0), a1 -> m1 (0,1); both .5 -> tie -> a'* = 0, ψ' = (1,0)
    #   state 1, w = (1, 0):   m0: a0 (3,3)->3, a1 (1,1)->1;   m1: a0 (2,5)->2, a1 (4,0)->4
    #     a0 -> m1 (2,5) [an element-wise min would give (2,3)], a1 -> m0 (1,1); a'* = 0, ψ' = (2,5)
    psi_next = torch.tensor(
        [[[[1.0, 0.0], [0.0, 2.0]], [[3.0, 3.0], [1.0, 1.0]]], [[[2.0, 2.0], [0.0, 1.0]], [[2.0, 5.0], [4.0, 0.0]]]],
        dtype=DT,
    )
    w = torch.tensor([[0.5, 0.5], [1.0, 0.0]], dtype=DT)
    phi = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=DT)
    reduced, _ = min_scalarised_member(psi_next, w)
    torch.testing.assert_close(reduced, torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[2.0, 5.0], [1.0, 1.0]]], dtype=DT))

    # y = φ + γ (1 − terminated) ψ'(s', a'*): non-terminal (1,0) + .9 (1,0); terminal (0,1).
    out = sf_td_target(phi, reduced, w, torch.tensor([0.0, 1.0]), gamma=0.9)
    assert out.next_actions_B.tolist() == [0, 0]
    torch.testing.assert_close(out.target_BD, torch.tensor([[1.9, 0.0], [0.0, 1.0]], dtype=DT))
    # Both non-terminal: state 1 gives (0,1) + .9 (2,5) = (1.8, 5.5).
    out = sf_td_target(phi, reduced, w, torch.tensor([False, False]), gamma=0.9)
    torch.testing.assert_close(out.target_BD, torch.tensor([[1.9, 0.0], [1.8, 5.5]], dtype=DT))
    # n-step discount γ^n and explicit next actions a' = 1: ψ' = (0,1) and (1,1), discounts .81 and .9:
    # (1,0) + .81 (0,1) = (1, .81);  (0,1) + .9 (1,1) = (.9, 1.9).
    out = sf_td_target(
        phi, reduced, w, torch.zeros(2), 0.9, n_step_B=torch.tensor([2.0, 1.0]), next_actions_B=torch.tensor([1, 1])
    )
    torch.testing.assert_close(out.target_BD, torch.tensor([[1.0, 0.81], [0.9, 1.9]], dtype=DT))


def test_ensemble_target_min_of_two_random_members_against_loop() -> None:
    ens = _small_ensemble(num_members=5)
    g = torch.Generator().manual_seed(6)
    B = 12
    next_obs, w = torch.randn(B, 5, generator=g, dtype=DT), _simplex(B, 3, g)
    phi = torch.randn(B, 3, generator=g, dtype=DT)
    term = (torch.rand(B, generator=g) < 0.3).to(DT)
    out = ensemble_sf_td_target(ens, next_obs, w, phi, term, 0.95, generator=torch.Generator().manual_seed(11))
    members = out.members_M.tolist()
    assert len(members) == 2 and len(set(members)) == 2 and all(0 <= m < 5 for m in members)
    assert members == torch.randperm(5, generator=torch.Generator().manual_seed(11))[:2].tolist()

    with torch.no_grad():
        per_member = {m: ens(next_obs, w, torch.tensor([m]))[0] for m in members}
    for b in range(B):
        best_q, best_psi = -math.inf, None
        for a in range(ens.num_actions):
            cands = [(float(per_member[m][b, a] @ w[b]), per_member[m][b, a]) for m in members]
            q, psi = min(cands, key=lambda t: t[0])
            if q > best_q:
                best_q, best_psi, best_a = q, psi, a
        expected = phi[b] + 0.95 * (1.0 - term[b]) * best_psi
        torch.testing.assert_close(out.target_BD[b], expected)
        assert int(out.next_actions_B[b]) == best_a
    # Many draws cover many pairs, never a repeated member.
    pairs = {tuple(sorted(sample_members(5, 2, torch.Generator().manual_seed(s)).tolist())) for s in range(200)}
    assert len(pairs) == 10


def test_sf_td_loss_by_hand_and_gradients() -> None:
    # m0 ψ(s, a=1) = (1, 2), m1 ψ(s, a=1) = (3, 0), y = (2, 2):
    # m0: ((−1)² + 0²)/2 = .5; m1: (1² + (−2)²)/2 = 2.5; summed over members: 3.0.
    psi = torch.tensor([[[[9.0, 9.0], [1.0, 2.0]]], [[[9.0, 9.0], [3.0, 0.0]]]], dtype=DT, requires_grad=True)
    loss = sf_td_loss(psi, torch.tensor([1]), torch.tensor([[2.0, 2.0]], dtype=DT))
    assert loss.item() == pytest.approx(3.0)
    loss.backward()
    assert torch.all(psi.grad[:, :, 0] == 0)  # the untaken action gets no gradient
    # Huber with δ = 1: m0 (.5 + 0)/2 = .25; m1 (.5 + (2 − .5))/2 = 1.0.
    huber = sf_td_loss(psi.detach(), torch.tensor([1]), torch.tensor([[2.0, 2.0]], dtype=DT), huber_delta=1.0)
    assert huber.item() == pytest.approx(1.25)

    online, target = _small_ensemble(), _small_ensemble()
    g = torch.Generator().manual_seed(7)
    obs, next_obs = torch.randn(8, 5, generator=g, dtype=DT), torch.randn(8, 5, generator=g, dtype=DT)
    w, phi = _simplex(8, 3, g), torch.randn(8, 3, generator=g, dtype=DT)
    y = ensemble_sf_td_target(target, next_obs, w, phi, torch.zeros(8), 0.9, generator=g)
    assert not y.target_BD.requires_grad
    loss = sf_td_loss(online(obs, w), torch.randint(0, 4, (8,), generator=g), y.target_BD)
    loss.backward()
    assert all(p.grad is None for p in target.parameters())
    head_grad = online.head.weight_NIO.grad
    assert head_grad is not None and all(head_grad[m].abs().sum() > 0 for m in range(online.num_members))


# ---------------------------------------------------------------------------------------------
# The option keyboard
# ---------------------------------------------------------------------------------------------


def _gpi_setup(B: int = 48, J: int = 4, seed: int = 8):
    ens = _small_ensemble()
    g = torch.Generator().manual_seed(seed)
    policy = GPIPolicy(ens, feature_dim=3)
    policy.set_base_weights(_simplex(J, 3, g))
    obs, w = torch.randn(B, 5, generator=g, dtype=DT), _simplex(B, 3, g)
    return policy, obs, w


def test_ok_with_task_meta_policy_reproduces_gpi_exactly() -> None:
    policy, obs, w = _gpi_setup()
    with torch.no_grad():
        psi = policy.base_sfs(obs)
        ref = policy(obs, w)
    ok = OptionKeyboard(5, 3, meta_policy=TaskMetaPolicy(normalise=False)).to(DT)
    out = ok.act(obs, w, psi)
    assert torch.equal(out.actions_B, ref.actions_B)
    assert torch.equal(out.values_B, ref.values_B)
    assert torch.equal(out.policies_B, ref.policies_B)
    assert torch.equal(out.z_BD, w)

    # A trainable ω that starts as ω(s, w) = w/||w|| (residual, zero head) gives the same actions
    # (argmax is scale-free) and, being scored with w, the same values.
    torch.manual_seed(0)
    ok_res = OptionKeyboard(5, 3, hidden_sizes=(16, 16, 16), residual_w=True).to(DT)
    out = ok_res.act(obs, w, psi)
    torch.testing.assert_close(out.z_BD, F.normalize(w, dim=-1))
    assert torch.equal(out.actions_B, ref.actions_B) and torch.equal(out.values_B, ref.values_B)

    # Negative control: a randomly initialised ω is not GPI, so the comparison above can fail.
    ok_rand = OptionKeyboard(5, 3, hidden_sizes=(16, 16, 16)).to(DT)
    assert not torch.equal(ok_rand.act(obs, w, psi).actions_B, ref.actions_B)


def test_ok_act_eval_mode_batch_of_one_mask_and_exploration() -> None:
    policy, obs, w = _gpi_setup(B=6)
    torch.manual_seed(1)
    ok = OptionKeyboard(5, 3, hidden_sizes=(16, 16, 16)).to(DT)
    ok.train()
    psi = policy.base_sfs(obs).detach()
    running_before = ok.meta_policy.net[0].running_mean.clone()
    one = ok.act(obs[:1], w[:1], psi[:1])  # BatchNorm in training mode would reject one row
    assert one.actions_B.shape == (1,) and one.z_BD.shape == (1, 3)
    assert ok.meta_policy.training and ok.critic.training  # flags restored
    assert torch.equal(ok.meta_policy.net[0].running_mean, running_before)  # acting never updates stats

    out = ok.act(obs, w, psi)
    torch.testing.assert_close(out.z_BD.norm(dim=-1), torch.ones(6, dtype=DT))
    # The OK's value is the GPE value under w of the (policy, action) chosen with z.
    torch.testing.assert_close(out.values_B, (psi[torch.arange(6), out.policies_B, out.actions_B] * w).sum(-1))
    explored = ok.act(obs, w, psi, explore=True, generator=torch.Generator().manual_seed(3))
    again = ok.act(obs, w, psi, explore=True, generator=torch.Generator().manual_seed(3))
    assert torch.equal(explored.z_BD, again.z_BD) and not torch.allclose(explored.z_BD, out.z_BD)
    torch.testing.assert_close(explored.z_BD.norm(dim=-1), torch.ones(6, dtype=DT))
    masked = ok.act(obs, w, psi, policy_mask=torch.tensor([False, True, False, False]))
    assert torch.all(masked.policies_B == 1)


class _DotCritic(nn.Module):
    """ψ^ω(s, z, w) = sign·z: its value sign·z·w is highest at z = w/||w|| (sign 1) or lowest there (−1)."""

    def __init__(self, sign: float) -> None:
        super().__init__()
        self.sign = sign

    def forward(self, obs_BS: torch.Tensor, z_BD: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
        return self.sign * z_BD


def test_gpi_guard_equals_per_state_loop_over_the_two_proposals() -> None:
    policy, obs, w = _gpi_setup(B=40)
    torch.manual_seed(4)
    ok = OptionKeyboard(5, 3, hidden_sizes=(16, 16, 16), critic_members=2).to(DT)
    for net in [ok.critic.net, *ok.critic.extra_members]:  # non-trivial running statistics
        net[0].running_mean.normal_()
    z_omega = ok.meta_action(obs, w)
    z, kept = gpi_guarded_z(ok.critic, obs, w, z_omega)
    ok.critic.eval()
    for b in range(len(obs)):
        s, wb = obs[b : b + 1], w[b : b + 1]
        with torch.no_grad():
            value_omega = (ok.critic(s, z_omega[b : b + 1], wb) * wb).sum()
            value_gpi = (ok.critic(s, F.normalize(wb, dim=-1), wb) * wb).sum()
        assert bool(kept[b]) == bool(value_omega >= value_gpi)
        torch.testing.assert_close(z[b], z_omega[b] if value_omega >= value_gpi else F.normalize(w[b], dim=0))
    assert 0 < int(kept.sum()) < len(obs)  # both branches are exercised

    psi = policy.base_sfs(obs)
    gpi_ref = policy(obs, w)
    ok.critic = _DotCritic(1.0)  # GPI's ŵ is the critic's best unit vector: the guarded OK is GPI
    guarded = ok.act(obs, w, psi, gpi_guard=True)
    assert torch.equal(guarded.actions_B, gpi_ref.actions_B)
    assert not torch.equal(ok.act(obs, w, psi).actions_B, gpi_ref.actions_B)  # the unguarded OK is not
    ok.critic = _DotCritic(-1.0)  # ŵ is the worst: the guard keeps ω everywhere
    torch.testing.assert_close(ok.act(obs, w, psi, gpi_guard=True).z_BD, z_omega)


def test_exploration_noise_clipped_before_renormalisation() -> None:
    # By hand: z = (1, 0), ε = (.9, −.2) -> clip -> (.5, −.2) -> z + ε = (1.5, −.2) -> / sqrt(2.29).
    z = torch.tensor([[1.0, 0.0], [0.6, 0.8]], dtype=DT)
    eps = torch.tensor([[0.9, -0.2], [-3.0, 0.1]], dtype=DT)
    got = explore_z(z, noise_BD=eps)
    n0, n1 = math.sqrt(1.5**2 + 0.2**2), math.sqrt(0.1**2 + 0.9**2)
    torch.testing.assert_close(got, torch.tensor([[1.5 / n0, -0.2 / n0], [0.1 / n1, 0.9 / n1]], dtype=DT))
    # Without the clip (or clipping after normalising) the result would differ:
    assert not torch.allclose(got, F.normalize(z + eps, dim=-1))

    noise = clipped_gaussian_noise((200_000, 3), generator=torch.Generator().manual_seed(0), dtype=DT)
    assert float(noise.abs().max()) == 0.5
    # σ = .2: P(|ε| > .5) = 2 (1 − Φ(2.5)) ≈ .0124, all of it on the clip bounds.
    frac = float((noise.abs() == 0.5).to(DT).mean())
    assert 0.0105 < frac < 0.0145
    assert float(noise.std()) == pytest.approx(0.2, rel=0.03)
    zs = F.normalize(torch.randn(500, 3, dtype=DT), dim=-1)
    explored = explore_z(zs, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(explored.norm(dim=-1), torch.ones(500, dtype=DT))
    assert (explored < 0).any()  # Z is the unit sphere, not the simplex


def test_meta_policy_architecture_and_unit_output() -> None:
    mp = MetaPolicy(obs_dim=7, feature_dim=4)
    linears = [m for m in mp.net if isinstance(m, nn.Linear)]
    assert [lin.out_features for lin in linears] == [256, 256, 256, 4]  # App. F: 3 × 256
    assert sum(isinstance(m, nn.BatchNorm1d) for m in mp.net) == 4  # inputs + each hidden layer
    z = mp(torch.randn(16, 7), torch.rand(16, 4))
    torch.testing.assert_close(z.norm(dim=-1), torch.ones(16))
    no_input_bn = MetaPolicy(obs_dim=7, feature_dim=4, input_batch_norm=False)
    assert isinstance(no_input_bn.net[0], nn.Linear)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in no_input_bn.net) == 3
    critic = MetaCritic(obs_dim=7, feature_dim=4)
    assert critic.net[1].in_features == 7 + 4 + 4 and critic(torch.randn(5, 7), z[:5], torch.rand(5, 4)).shape == (5, 4)


def test_sample_support_weights() -> None:
    support = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    w = sample_support_weights(support, 3000, generator=torch.Generator().manual_seed(0))
    idx = (w.unsqueeze(1) == support.unsqueeze(0)).all(-1).to(torch.int64).argmax(1)
    assert (w.unsqueeze(1) == support.unsqueeze(0)).all(-1).any(1).all()
    counts = torch.bincount(idx, minlength=3)
    assert counts.min() > 900 and counts.max() < 1100
    torch.testing.assert_close(w, sample_support_weights(support, 3000, generator=torch.Generator().manual_seed(0)))


def test_sample_task_weights_gives_the_new_task_its_share_of_rows() -> None:
    tasks = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    new = torch.tensor([0.25, 0.75])
    w = sample_task_weights(tasks, 400, new_task_D=new, new_task_fraction=0.5, generator=torch.Generator().manual_seed(1))
    assert (w[:200] == new).all()
    # the other half draws uniformly from the tasks, exactly as the plain sampler with the same generator
    plain = sample_task_weights(tasks, 400, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(w[200:], plain[200:])
    counts = torch.bincount((plain.unsqueeze(1) == tasks.unsqueeze(0)).all(-1).to(torch.int64).argmax(1), minlength=3)
    assert counts.min() > 100
    # without a fraction the new task is not favoured
    torch.testing.assert_close(sample_task_weights(tasks, 400, new_task_D=new, generator=torch.Generator().manual_seed(1)), plain)
    with pytest.raises(ValueError, match="non-empty"):
        sample_task_weights(torch.zeros(0, 2), 4)


class _StubCritic(nn.Module):
    """ψ^ω(s, z, w) = scale · s + z (hand-computable; one parameter)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(2.0, dtype=DT))

    def forward(self, obs, z, w):
        return self.scale * obs + z


def test_ok_critic_and_actor_losses_by_hand() -> None:
    # s = [(1,0),(0,1)], z = [(0,1),(1,0)], w = [(1,0),(.5,.5)], φ = [(1,1),(0,2)],
    # s' = [(2,0),(1,1)], terminated = [0,1], γ = .5, ω(s, w) = w.
    # ψ(s,z) = 2s + z = [(2,1),(1,2)];  ψ(s', ω(s',w)) = 2s' + w = [(5,0),(2.5,2.5)]
    # y = φ + .5 (1 − t) ψ' = [(3.5,1),(0,2)];  errors [(−1.5,0),(1,0)] -> MSE = 3.25 / 4 = .8125
    s = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=DT)
    z = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=DT)
    w = torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=DT)
    phi = torch.tensor([[1.0, 1.0], [0.0, 2.0]], dtype=DT)
    s_next = torch.tensor([[2.0, 0.0], [1.0, 1.0]], dtype=DT)
    term = torch.tensor([0.0, 1.0])
    for joint in (True, False):
        critic, meta = _StubCritic(), TaskMetaPolicy(normalise=False)
        out = ok_critic_loss(critic, meta, s, z, phi, s_next, term, w, 0.5, joint_forward=joint)
        torch.testing.assert_close(out.target_BD, torch.tensor([[3.5, 1.0], [0.0, 2.0]], dtype=DT))
        assert out.loss.item() == pytest.approx(0.8125)
        out.loss.backward()
        # d/dscale, current half only (the bootstrap is detached): 2/4 Σ err·s = .5 (−1.5·1 + 1·0) = −.75
        assert float(critic.scale.grad) == pytest.approx(-0.75)

    # Actor: −mean_b w·ψ(s, ω(s,w)) = −mean(w·(2s + w)) = −((3,0)·(1,0) + (.5,2.5)·(.5,.5)) / 2 = −2.25
    critic = _StubCritic()
    loss = ok_actor_loss(critic, TaskMetaPolicy(normalise=False), s, w)
    assert loss.item() == pytest.approx(-2.25)
    # ω = w has no parameters and the critic's are detached: nothing in the graph can be trained.
    assert not loss.requires_grad


def test_pessimistic_member_equals_loop() -> None:
    g = torch.Generator().manual_seed(4)
    psi_NBD = torch.randn(3, 20, 4, generator=g, dtype=DT)
    w_BD = _simplex(20, 4, g)
    expected = []
    for b in range(20):
        values = [float(psi_NBD[n, b] @ w_BD[b]) for n in range(3)]
        expected.append(psi_NBD[values.index(min(values)), b])
    torch.testing.assert_close(pessimistic_member(psi_NBD, w_BD), torch.stack(expected))
    torch.testing.assert_close(pessimistic_member(psi_NBD[:1], w_BD), psi_NBD[0])


def test_twin_meta_critic_is_clipped_double_q_and_keeps_one_member_checkpoints() -> None:
    torch.manual_seed(5)
    single = MetaCritic(4, 2, hidden_sizes=(8,), batch_norm=False)
    assert single.num_members == 1 and all(k.startswith("net.") for k in single.state_dict())
    twin = MetaCritic(4, 2, hidden_sizes=(8,), batch_norm=False, num_members=2)
    missing, unexpected = twin.load_state_dict(single.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("extra_members.") for k in missing)  # member 0 = a one-member critic
    assert twin.num_members == 2 and not torch.equal(twin.net[0].weight, twin.extra_members[0][0].weight)

    g = torch.Generator().manual_seed(6)
    B = 12
    s, s_next = torch.randn(B, 4, generator=g), torch.randn(B, 4, generator=g)
    z, w = F.normalize(torch.randn(B, 2, generator=g), dim=-1), _simplex(B, 2, g).float()
    phi, term = torch.randn(B, 2, generator=g), (torch.rand(B, generator=g) < 0.3).float()
    members = [twin.net, twin.extra_members[0]]

    def by_member(obs, zz):
        return [m(torch.cat([obs, zz, w], dim=-1)) for m in members]

    # forward: per row, the member with the lower ψ·w.
    psi = by_member(s, z)
    low = (psi[0] * w).sum(-1) <= (psi[1] * w).sum(-1)
    torch.testing.assert_close(twin(s, z, w), torch.where(low.unsqueeze(-1), psi[0], psi[1]))

    # critic loss: both members regress on φ + γ(1 − t)·(the pessimistic member's ψ at (s', ω(s', w))).
    meta = TaskMetaPolicy()
    out = ok_critic_loss(twin, meta, s, z, phi, s_next, term, w, 0.9)
    nxt = by_member(s_next, F.normalize(w, dim=-1))
    low_next = (nxt[0] * w).sum(-1) <= (nxt[1] * w).sum(-1)
    target = phi + 0.9 * (1 - term).unsqueeze(-1) * torch.where(low_next.unsqueeze(-1), nxt[0], nxt[1])
    torch.testing.assert_close(out.target_BD, target.detach())
    expected_loss = 0.5 * (F.mse_loss(psi[0], target) + F.mse_loss(psi[1], target))
    torch.testing.assert_close(out.loss, expected_loss.detach())
    out.loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in twin.parameters())


def test_trainok_gradients_reach_only_their_own_networks() -> None:
    torch.manual_seed(2)
    ok = OptionKeyboard(5, 3, hidden_sizes=(32, 32, 32)).to(DT)
    g = torch.Generator().manual_seed(9)
    B = 16
    obs, next_obs = torch.randn(B, 5, generator=g, dtype=DT), torch.randn(B, 5, generator=g, dtype=DT)
    support = _simplex(3, 3, g)
    w = sample_support_weights(support, B, generator=g)
    z = explore_z(F.normalize(torch.randn(B, 3, generator=g, dtype=DT), dim=-1), generator=g)
    phi, term = torch.randn(B, 3, generator=g, dtype=DT), torch.zeros(B)

    def bn_stats(module):
        return [b.clone() for n, b in module.named_buffers() if "running" in n]

    critic_stats, meta_stats = bn_stats(ok.critic), bn_stats(ok.meta_policy)
    out = ok_critic_loss(ok.critic, ok.meta_policy, obs, z, phi, next_obs, term, w, 0.95)
    assert out.psi_BD.shape == (B, 3) and out.target_BD.shape == (B, 3)
    out.loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in ok.critic.parameters())
    assert all(p.grad is None for p in ok.meta_policy.parameters())
    assert all(torch.equal(a, b) for a, b in zip(meta_stats, bn_stats(ok.meta_policy)))
    assert not all(torch.equal(a, b) for a, b in zip(critic_stats, bn_stats(ok.critic)))  # joint pass updates them

    ok.zero_grad(set_to_none=True)
    critic_stats, critic_params = bn_stats(ok.critic), [p.clone() for p in ok.critic.parameters()]
    actor = ok_actor_loss(ok.critic, ok.meta_policy, obs, w)
    (actor + 0.0 * out.loss.detach()).backward()
    assert all(p.grad is None for p in ok.critic.parameters())
    assert all(p.grad is not None for p in ok.meta_policy.parameters())
    assert any(p.grad.abs().sum() > 0 for p in ok.meta_policy.parameters())
    assert all(torch.equal(a, b) for a, b in zip(critic_stats, bn_stats(ok.critic)))
    assert all(torch.equal(a, b) for a, b in zip(critic_params, ok.critic.parameters()))

    # One optimiser step on the sum of both losses (as an RLlib Learner would compute) moves the
    # critic only by the critic loss: the same update as from the critic loss alone.
    torch.manual_seed(3)
    ok_a = OptionKeyboard(5, 3, hidden_sizes=(32, 32, 32)).to(DT)
    ok_b = OptionKeyboard(5, 3, hidden_sizes=(32, 32, 32)).to(DT)
    ok_b.load_state_dict(ok_a.state_dict())
    total = ok_critic_loss(ok_a.critic, ok_a.meta_policy, obs, z, phi, next_obs, term, w, 0.95).loss + ok_actor_loss(
        ok_a.critic, ok_a.meta_policy, obs, w
    )
    total.backward()
    ok_critic_loss(ok_b.critic, ok_b.meta_policy, obs, z, phi, next_obs, term, w, 0.95).loss.backward()
    for pa, pb in zip(ok_a.critic.parameters(), ok_b.critic.parameters()):
        torch.testing.assert_close(pa.grad, pb.grad)


# ---------------------------------------------------------------------------------------------
# Eq. 21
# ---------------------------------------------------------------------------------------------

# Hand-made buffer, d = 2, γ = .5; x_i = φ_i + γ (1 − t_i) ψ'_i − ψ_i and Â_i = x_i·w:
#   i  φ       ψ^ω(s)  ψ^ω(s')  t   x
#   1  (2,0)   (1,1)   (2,2)    0   (2, 0)
#   2  (0,0)   (2,2)   (2,0)    0   (-1,-2)
#   3  (0,1)   (1,0)   (0,0)    0   (-1, 1)
#   4  (1,0)   (1,1)   (2,1)    0   (1, -.5)
#   5  (1,1)   (0,0)   (4,4)    1   (1, 1)      [(3, 3) if the terminal were not masked]
PHI = torch.tensor([[2.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=DT)
PSI = torch.tensor([[1.0, 1.0], [2.0, 2.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]], dtype=DT)
PSI_NEXT = torch.tensor([[2.0, 2.0], [2.0, 0.0], [0.0, 0.0], [2.0, 1.0], [4.0, 4.0]], dtype=DT)
TERM = torch.tensor([0.0, 0.0, 0.0, 0.0, 1.0])


def test_eq21_mean_positive_advantage_by_hand() -> None:
    w = torch.tensor([0.5, 0.5], dtype=DT)
    adv = advantage_estimates(PHI, w, PSI, PSI_NEXT, 0.5, TERM)
    torch.testing.assert_close(adv, torch.tensor([1.0, -1.5, 0.0, 0.25, 1.0], dtype=DT))
    # Positive: 1, .25, 1 (the exact 0 is not counted) -> 2.25 / 3 = .75
    assert float(mean_positive_advantage(adv)) == pytest.approx(0.75)
    # Unmasked terminal: Â_5 = 3 -> (1 + .25 + 3) / 3
    adv_unmasked = advantage_estimates(PHI, w, PSI, PSI_NEXT, 0.5)
    assert float(mean_positive_advantage(adv_unmasked)) == pytest.approx(4.25 / 3)
    # No positive advantage: defined as 0 (Eq. 21 is 0/0).
    assert float(mean_positive_advantage(torch.tensor([-1.0, 0.0, -0.5]))) == 0.0
    # Batched over candidates.
    mpa = mean_positive_advantage(torch.stack([adv, -adv.abs(), adv_unmasked]))
    torch.testing.assert_close(mpa, torch.tensor([0.75, 0.0, 4.25 / 3], dtype=DT))


class _TableCritic(nn.Module):
    """ψ^ω(s, z, w) = s (the 'observation' is the critic's value), ignoring z and w."""

    def forward(self, obs, z, w):
        return obs


@pytest.mark.parametrize("max_rows", [65536, 10])
def test_eq21_through_the_networks_for_many_candidates(max_rows: int) -> None:
    # Candidates (.5,.5): .75 as above; (1,0): Â = 2,-1,-1,1,1 -> 4/3; (0,1): Â = 0,-2,1,-.5,1 -> 1.
    weights = torch.tensor([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]], dtype=DT)
    mpa = ok_mean_positive_advantages(
        _TableCritic(), TaskMetaPolicy(), PSI, PHI, PSI_NEXT, weights, 0.5, terminated_B=TERM, max_rows=max_rows
    )
    torch.testing.assert_close(mpa, torch.tensor([0.75, 4.0 / 3.0, 1.0], dtype=DT))
    mask, best = select_task(mpa)
    assert mask.tolist() == [True, True, True] and best == 1
    assert select_task(mpa, threshold=2.0)[1] is None
    assert select_task(torch.tensor([0.0, 0.3, 0.3]))[0].tolist() == [False, True, True]
    assert select_task(torch.tensor([0.0, 0.3, 0.3]))[1] == 1


def test_eq21_with_real_networks_equals_per_candidate_loop() -> None:
    torch.manual_seed(4)
    ok = OptionKeyboard(5, 3, hidden_sizes=(16, 16, 16)).to(DT)
    ok.train()
    g = torch.Generator().manual_seed(10)
    B = 20
    obs, next_obs = torch.randn(B, 5, generator=g, dtype=DT), torch.randn(B, 5, generator=g, dtype=DT)
    phi, term = torch.randn(B, 3, generator=g, dtype=DT), (torch.rand(B, generator=g) < 0.2).to(DT)
    cands = _simplex(4, 3, g)
    mpa = ok_mean_positive_advantages(ok.critic, ok.meta_policy, obs, phi, next_obs, cands, 0.9, terminated_B=term)
    assert ok.critic.training and ok.meta_policy.training
    for c in range(4):
        w_BD = cands[c].expand(B, 3)
        psi, psi_next = ok.critic_values(obs, w_BD), ok.critic_values(next_obs, w_BD)
        adv = advantage_estimates(phi, cands[c], psi, psi_next, 0.9, term)
        torch.testing.assert_close(mpa[c], mean_positive_advantage(adv))
