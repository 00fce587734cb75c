"""SAVO (thesis Ch.4 §4.4): surrogates (Eqs. 4.6-4.7), the maximizer (Eq. 4.5), DeepSet/FiLM, the module."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns

from rllib_modules.savo.module import SURROGATE_PRED_KEY, SURROGATE_TARGET_KEY, SAVORLModule
from rllib_modules.savo.summarizer import FiLM, ListSummarizer
from rllib_modules.savo.surrogates import exact_surrogate, surrogate_thresholds
from rllib_modules.td3.maximizer import maximizer_index


def test_surrogates_against_direct_computation() -> None:
    gen = torch.Generator().manual_seed(0)
    q_prev = torch.randn(50, 4, generator=gen)  # Q(s, a_0..a_3)
    q_new = torch.randn(50, generator=gen)
    taus = surrogate_thresholds(q_prev)
    for b in range(50):
        for i in range(1, 5):  # Ψ_i uses a_<i = a_0..a_{i-1}
            tau = max(q_prev[b, j].item() for j in range(i))
            assert taus[b, i - 1].item() == pytest.approx(tau)
            # Eq. 4.7: Ψ_i(s, a; a_<i) = max{Q(s, a), max_{j<i} Q(s, a_j)}
            assert exact_surrogate(q_new[b : b + 1], taus[b : b + 1, i - 1]).item() == pytest.approx(max(q_new[b].item(), tau))
    # Eq. 4.6 is the i = 1 case with a† = a_0
    torch.testing.assert_close(exact_surrogate(q_new, q_prev[:, 0]), torch.maximum(q_new, q_prev[:, 0]))


def test_maximizer_prefers_mu_on_ties_and_never_loses_to_it() -> None:
    q = torch.tensor([[1.0, 1.0, 0.5], [0.0, 2.0, 2.0], [3.0, -1.0, 3.0]])
    assert maximizer_index(q).tolist() == [0, 1, 0]
    q = torch.randn(1000, 4)
    best = maximizer_index(q)
    assert (q[torch.arange(1000), best] >= q[:, 0]).all()


def _module(**options) -> SAVORLModule:
    obs_space = gym.spaces.Box(-np.inf, np.inf, (5,), np.float32)
    act_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    config = {"actor_hidden": [32], "critic_hidden": [32], "summary_hidden": 16, **options}
    return SAVORLModule(observation_space=obs_space, action_space=act_space, model_config=config)


def test_module_maximizer_never_scores_below_mu() -> None:
    torch.manual_seed(0)
    module = _module(num_successive=3)
    obs = torch.randn(256, 5)
    with torch.no_grad():
        chosen = module.acting_action(obs)
        cands = module.candidates(obs)
        q_chosen = module.q_value(module.q1, obs, chosen)
        q_mu = module.q_value(module.q1, obs, cands[:, 0])
        q_all = torch.stack([module.q_value(module.q1, obs, cands[:, i]) for i in range(4)], dim=1)
    assert cands.shape == (256, 4, 2) and chosen.abs().max() <= 1
    assert (q_chosen >= q_mu - 1e-6).all()
    torch.testing.assert_close(q_chosen, q_all.max(dim=1).values)


def test_deepset_is_permutation_invariant_and_film_starts_as_identity() -> None:
    torch.manual_seed(1)
    summarizer = ListSummarizer(state_dim=5, action_dim=2, hidden=16, kind="deepset")
    state, prev = torch.randn(8, 5), torch.randn(8, 3, 2)
    torch.testing.assert_close(summarizer(state, prev), summarizer(state, prev[:, [2, 0, 1]]))
    assert not torch.allclose(summarizer(state, prev), summarizer(state, prev + 0.5))
    film = FiLM(16, 7)
    features = torch.randn(8, 7)
    torch.testing.assert_close(film(features, torch.randn(8, 16)), features)  # gamma = 1, beta = 0 at init
    for kind in ("lstm", "transformer"):
        assert ListSummarizer(5, 2, 16, kind)(state, prev).shape == (8, 16)


def test_inference_copy_keeps_q1_for_the_maximizer_only() -> None:
    module = _module()
    runner = SAVORLModule(observation_space=module.observation_space, action_space=module.action_space,
                          inference_only=True, model_config=module.model_config)
    assert hasattr(runner, "q1") and not hasattr(runner, "q2") and not hasattr(runner, "surrogates")
    runner.set_state(module.get_state(inference_only=True))
    obs = {Columns.OBS: torch.randn(4, 5)}
    torch.testing.assert_close(runner.forward_inference(obs)[Columns.ACTIONS], module.forward_inference(obs)[Columns.ACTIONS])


@pytest.mark.parametrize("options", [{}, {"condition_on_previous": False}, {"film": False}, {"approximate_surrogates": False}])
def test_surrogate_targets_are_exact_surrogates_of_the_twin_q(options: dict) -> None:
    torch.manual_seed(2)
    module = _module(**options)
    module.make_target_networks()
    batch = {Columns.OBS: torch.randn(16, 5), Columns.NEXT_OBS: torch.randn(16, 5), Columns.ACTIONS: torch.rand(16, 2) * 2 - 1}
    out = module.forward_train(batch)
    pred, target = out[SURROGATE_PRED_KEY], out[SURROGATE_TARGET_KEY]
    assert pred.shape == target.shape == (16, 3, 2) and not target.requires_grad
    # Ψ_i >= Ψ_{i-1} at the replayed action: thresholds only grow along the chain
    assert (target[:, 1:, 0] >= target[:, :-1, 0] - 1e-6).all()
    obs, act = batch[Columns.OBS], batch[Columns.ACTIONS]
    twin = torch.minimum(module.q_value(module.q1, obs, act), module.q_value(module.q2, obs, act))
    assert (target[:, 0, 0] >= twin - 1e-6).all()


def test_q_landscape_data_and_plot(tmp_path) -> None:
    from rllib_modules.savo.landscape import landscape_data, plot_landscape

    torch.manual_seed(3)
    module = _module(num_successive=2)
    data = landscape_data(module, np.random.default_rng(0).normal(size=5).astype(np.float32), dim=1, points=51)
    assert data["grid"].shape == data["q"].shape == (51,) and data["surrogates"].shape == (2, 51)
    assert data["candidates"].shape == (3, 2)
    assert int(data["chosen"]) == int(np.argmax(data["candidate_q"]))
    # the slice passes through μ(s): Q on the grid point nearest to μ's coordinate is close to μ's Q
    nearest = np.argmin(np.abs(data["grid"] - data["candidates"][0, 1]))
    assert abs(data["q"][nearest] - data["candidate_q"][0]) < 0.05
    png = plot_landscape(data, tmp_path / "landscape.png", dim=1)
    assert png.stat().st_size > 5000
