"""Tests of the HVAE / flat-VAE action-representation package (rllib_modules/hvae).

Fast (tiny networks, a few training steps, synthetic-size Grid World observations).
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from envs.gridworld_skills.action_observations import generate_action_observations
from envs.gridworld_skills.skills import skill_id
from rllib_modules.hvae import (
    ELBOTerms,
    FlatVAE,
    HVAEConfig,
    ActionBatchSampler,
    build_model,
    cache_key,
    cached_representation,
    curves_plot,
    displacement_quadrant,
    elbo_loss,
    infer_representations,
    is_cached,
    net_displacement,
    train_representation,
    tsne,
    tsne_plot,
)
from rllib_modules.hvae import training as training_mod
from rllib_modules.hvae.distributions import (
    categorical_log_likelihood,
    gaussian_log_likelihood,
    kl_diag_gaussians,
    kl_std_normal,
)
from rllib_modules.hvae.plots import QUADRANT_NAMES

TINY = dict(
    latent_dim=4,
    z_dim=3,
    encoder_dim=8,
    hidden_dim=8,
    action_hidden_dim=8,
    batch_size=8,
    obs_per_action=4,
    train_steps=3,
    inference_batch_actions=7,
)


def tiny_config(**overrides) -> HVAEConfig:
    return HVAEConfig(**{**TINY, **overrides})


@pytest.fixture(scope="module")
def observations() -> np.ndarray:
    """Grid World action observations, 16 per skill: int16 (1024, 16, 6, 2)."""
    return generate_action_observations(n_obs=16, grid_size=80, seed=0)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().numpy()


# ---------------------------------------------------------------------------------------
# closed-form terms


def test_closed_form_terms_by_hand() -> None:
    # N(x=1; 0, e^0) in one dimension: -0.5 (log 2pi + 1); two dims sum.
    x = torch.tensor([[1.0, 2.0]])
    ll = gaussian_log_likelihood(x, torch.tensor([[0.0, 1.0]]), torch.tensor([[0.0, math.log(4.0)]]))
    expected = -0.5 * (math.log(2 * math.pi) + 1.0) + -0.5 * (math.log(2 * math.pi) + math.log(4.0) + 1.0 / 4.0)
    assert ll.item() == pytest.approx(expected, abs=1e-6)
    # KL(N(1, e^0) || N(0, 1)) = 0.5; KL(N(0, 4) || N(0, 1)) = 0.5 (4 - 1 - log 4).
    kl = kl_std_normal(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(4.0)]]))
    assert kl.item() == pytest.approx(0.5 + 0.5 * (3.0 - math.log(4.0)), abs=1e-6)
    # General diagonal KL against torch.distributions.
    g = torch.Generator().manual_seed(0)
    mq, lq, mp, lp = (torch.randn(5, 3, generator=g) for _ in range(4))
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mq, (0.5 * lq).exp()), torch.distributions.Normal(mp, (0.5 * lp).exp())
    ).sum(-1)
    torch.testing.assert_close(kl_diag_gaussians(mq, lq, mp, lp), ref, rtol=1e-5, atol=1e-6)
    # Categorical: two groups of 3 classes; uniform logits -> 2 * log(1/3).
    logits = torch.zeros(1, 6)
    assert categorical_log_likelihood(logits, torch.tensor([[0, 2]]), 3).item() == pytest.approx(2 * math.log(1 / 3))
    logits = torch.tensor([[math.log(2.0), 0.0, 0.0, 0.0, 0.0, math.log(3.0)]])
    assert categorical_log_likelihood(logits, torch.tensor([[0, 2]]), 3).item() == pytest.approx(
        math.log(2 / 4) + math.log(3 / 5), abs=1e-6
    )


def test_elbo_loss_aggregation_on_stub_terms() -> None:
    # B=2 actions x N=3 observations with hand-picked terms.
    terms = ELBOTerms(
        recon_ll_BN=torch.tensor([[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0]]),
        kl_z_BN=torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]),
        kl_c_B=torch.tensor([1.5, 2.5]),
    )
    # Eq. 2.2 per action: sum_o (ll - kl_z) - kl_c.
    torch.testing.assert_close(terms.elbo_per_action(), torch.tensor([-6.0 - 0.6 - 1.5, -15.0 - 1.5 - 2.5]))
    loss, m = elbo_loss(terms, kl_c_weight=1.0, kl_z_weight=1.0)
    assert loss.item() == pytest.approx((6.6 + 1.5 + 16.5 + 2.5) / 6, abs=1e-6)
    assert m["elbo"].item() == pytest.approx(-loss.item(), abs=1e-6)
    assert m["recon_ll"].item() == pytest.approx(-21.0 / 6)
    assert m["kl_z"].item() == pytest.approx(2.1 / 6)
    assert m["kl_c"].item() == pytest.approx(2.0)
    # Weights: only the loss changes, the reported ELBO is unweighted.
    loss_w, m_w = elbo_loss(terms, kl_c_weight=0.5, kl_z_weight=0.0)
    assert loss_w.item() == pytest.approx((21.0 + 0.5 * 4.0) / 6, abs=1e-6)
    assert m_w["elbo"].item() == pytest.approx(m["elbo"].item())


@pytest.mark.parametrize("learned_prior", [True, False])
def test_hvae_elbo_matches_independent_computation(observations: np.ndarray, learned_prior: bool) -> None:
    """Eq. 2.2 recomputed in numpy from the forward pass's distributions and samples."""
    cfg = tiny_config(learned_z_prior=learned_prior)
    model = build_model("hvae", cfg, seed=0)
    obs = torch.from_numpy(observations[:3, :4].copy())  # B=3 actions, N=4 observations
    out = model(obs, generator=torch.Generator().manual_seed(1))

    # The decoder's distribution is the one of the *sampled* latents (z, c) and x_0.
    x = (obs.double().numpy() - 39.5) / 8.0  # 'xy' featurisation (xy_unit_cells = 8)
    redo = model.decoder((out.z_BNZ, out.c_BC), torch.from_numpy(x[:, :, 0]).float(), 5)
    torch.testing.assert_close(redo.mean_BNtF, out.recon.mean_BNtF)

    mu, lv = _np(out.recon.mean_BNtF), _np(out.recon.logvar_BNtF)
    ll = -0.5 * (np.log(2 * np.pi) + lv + (x[:, :, 1:] - mu) ** 2 / np.exp(lv))
    recon_BN = ll.sum(axis=(2, 3))
    zm, zl = _np(out.z_mu_BNZ), _np(out.z_logvar_BNZ)
    if learned_prior:
        pm, pl = _np(out.pz_mu_BZ)[:, None], _np(out.pz_logvar_BZ)[:, None]
    else:
        assert out.pz_mu_BZ is None
        pm, pl = np.zeros_like(zm), np.zeros_like(zl)
    kl_z_BN = 0.5 * (pl - zl + (np.exp(zl) + (zm - pm) ** 2) / np.exp(pl) - 1).sum(-1)
    cm, cl = _np(out.c_mu_BC), _np(out.c_logvar_BC)
    kl_c_B = 0.5 * (cm**2 + np.exp(cl) - 1 - cl).sum(-1)
    elbo_B = (recon_BN - kl_z_BN).sum(1) - kl_c_B

    terms = model.elbo_terms(out)
    np.testing.assert_allclose(_np(terms.recon_ll_BN), recon_BN, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(terms.kl_z_BN), kl_z_BN, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(terms.kl_c_B), kl_c_B, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(terms.elbo_per_action()), elbo_B, rtol=1e-5, atol=1e-5)
    loss, metrics = elbo_loss(terms)
    assert loss.item() == pytest.approx(-elbo_B.sum() / 12, rel=1e-5)
    # model.loss is the same computation (same generator state -> same samples).
    loss2, _ = model.loss(obs, generator=torch.Generator().manual_seed(1))
    assert loss2.item() == pytest.approx(loss.item(), rel=1e-6)


def test_one_hot_elbo_is_softmax_cross_entropy(observations: np.ndarray) -> None:
    cfg = tiny_config(data_type="one_hot")
    model = build_model("hvae", cfg, seed=0)
    obs = torch.from_numpy(observations[:2, :3].copy())
    out = model(obs, generator=torch.Generator().manual_seed(0))
    logits = _np(out.recon.logits_BNtF).reshape(2, 3, 5, 2, 80)
    logp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) - logits.max(-1, keepdims=True)
    target = obs.numpy()[:, :, 1:].astype(np.int64)
    ll = np.take_along_axis(logp, target[..., None], axis=-1)[..., 0].sum(axis=(2, 3))
    np.testing.assert_allclose(_np(model.elbo_terms(out).recon_ll_BN), ll, rtol=1e-5, atol=1e-4)
    # Integer coordinates and their one-hot encoding are the same input.
    from envs.gridworld_skills import to_one_hot

    model.eval()
    one_hot = torch.from_numpy(to_one_hot(obs.numpy(), 80))
    torch.testing.assert_close(model.represent(one_hot), model.represent(obs))


# ---------------------------------------------------------------------------------------
# encoders and representations


@pytest.mark.parametrize("norm", ["feature", "global", "none"])
def test_action_encoder_is_invariant_to_observation_order(observations: np.ndarray, norm: str) -> None:
    model = build_model("hvae", tiny_config(q_phi_batch_norm=norm), seed=0)
    bn = [m for m in model.q_c.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    with torch.no_grad():  # non-trivial running statistics and affine parameters
        for m in bn:
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.5, 0.5)
    obs = torch.from_numpy(observations[:5, :16].copy())
    perm = torch.randperm(16, generator=torch.Generator().manual_seed(3))
    # Eval mode: tight. Train mode: batch-norm mixes *actions* (never observations); its
    # batch statistics of an untrained net have a tiny variance that amplifies the float32
    # rounding of the reordered mean-pool, hence the looser tolerance.
    for mode, atol in (("eval", 1e-6), ("train", 1e-4)):
        getattr(model, mode)()
        with torch.no_grad():
            mu, lv = model.action_posterior(obs)
            mu_p, lv_p = model.action_posterior(obs[:, perm])
        torch.testing.assert_close(mu_p, mu, rtol=0, atol=atol)
        torch.testing.assert_close(lv_p, lv, rtol=0, atol=atol)
    # ... but it does depend on the observations.
    model.eval()
    with torch.no_grad():
        assert not torch.allclose(model.represent(obs[:, :8]), model.represent(obs[:, 8:]), atol=1e-6)


def test_representation_is_deterministic_posterior_mean(observations: np.ndarray) -> None:
    model = build_model("hvae", tiny_config(), seed=0)
    model.train()
    obs = observations[:20, :6]
    table1 = infer_representations(model, obs)
    table2 = infer_representations(model, obs)
    assert model.training  # mode restored
    assert table1.shape == (20, 4) and table1.dtype == np.float32
    np.testing.assert_array_equal(table1, table2)
    model.eval()
    with torch.no_grad():
        mu, _ = model.action_posterior(torch.from_numpy(obs.copy()))
        # not a sample: two stochastic forward passes differ, the mean does not
        c1 = model(torch.from_numpy(obs.copy())).c_BC
        c2 = model(torch.from_numpy(obs.copy())).c_BC
    np.testing.assert_allclose(table1, mu.numpy(), rtol=0, atol=1e-6)
    assert not torch.allclose(c1, c2)
    # obs_per_action: the first k observations
    np.testing.assert_allclose(
        infer_representations(model, obs, obs_per_action=3), infer_representations(model, obs[:, :3]), atol=0
    )


def test_flat_vae_representation_is_mean_of_encodings(observations: np.ndarray) -> None:
    model = build_model("vae", tiny_config(), seed=0)
    assert isinstance(model, FlatVAE)
    obs = observations[:6, :5]
    table = infer_representations(model, obs)
    model.eval()
    with torch.no_grad():  # encode every observation on its own, then average the means
        per_obs = np.stack(
            [
                np.stack([model.encode(torch.from_numpy(obs[a : a + 1, j : j + 1].copy()))[0][0, 0].numpy() for j in range(5)])
                for a in range(6)
            ]
        )
    np.testing.assert_allclose(table, per_obs.mean(axis=1), rtol=1e-5, atol=1e-6)
    # flat VAE: no action latent, no KL_c
    out = model(torch.from_numpy(obs.copy()))
    assert torch.all(model.elbo_terms(out).kl_c_B == 0)


# ---------------------------------------------------------------------------------------
# training


def test_sampler_uses_only_train_ids_and_covers_them(observations: np.ndarray) -> None:
    ids = np.array([3, 10, 11, 500, 777, 1000])
    sampler = ActionBatchSampler(observations, ids, batch_size=4, obs_per_action=5, generator=torch.Generator().manual_seed(0))
    seen = []
    for _ in range(3):  # 12 draws = exactly two epochs of 6
        batch_ids, obs = sampler.sample()
        assert obs.shape == (4, 5, 6, 2)
        seen += batch_ids.tolist()
        for a, o in zip(batch_ids.tolist(), obs):  # each row is a subset of that action's observations
            rows = {tuple(r.ravel()) for r in observations[a]}
            assert all(tuple(r.ravel()) in rows for r in o.numpy())
            assert len({tuple(r.ravel()) for r in o.numpy()}) == len(o)  # without replacement (distinct starts)
    assert sorted(seen) == sorted(ids.tolist() * 2)


def test_training_decreases_loss_and_is_deterministic(observations: np.ndarray) -> None:
    cfg = tiny_config(train_steps=60, batch_size=8, obs_per_action=8, lr=1e-2)
    train_ids = np.arange(0, 1024, 64)  # 16 skills
    r1 = train_representation("hvae", cfg, observations, train_ids, seed=0)
    loss = np.asarray(r1.curves["loss"])
    assert loss.shape == (60,) and np.all(np.isfinite(loss))
    assert loss[-10:].mean() < loss[:10].mean() - 0.3
    assert r1.table.shape == (1024, 4) and np.all(np.isfinite(r1.table))
    assert r1.meta["obs_per_s"] > 0 and r1.meta["n_train_actions"] == 16
    r2 = train_representation("hvae", cfg.model_copy(update={"train_steps": 5}), observations, train_ids, seed=0)
    np.testing.assert_array_equal(np.asarray(r2.curves["loss"]), loss[:5])  # same seed, same run
    r3 = train_representation("hvae", cfg.model_copy(update={"train_steps": 5}), observations, train_ids, seed=1)
    assert not np.array_equal(np.asarray(r3.curves["loss"]), loss[:5])
    # the returned state rebuilds the model that produced the table
    np.testing.assert_allclose(infer_representations(r1.build_model(), observations), r1.table, atol=1e-6)


def test_step_features_are_the_moves_and_targets_stay_coordinates(observations: np.ndarray) -> None:
    from rllib_modules.hvae.networks import featurize

    obs = torch.as_tensor(observations[:5].astype(np.int64))  # (5, 16, 6, 2)
    plain = featurize(obs, tiny_config())
    stepped = featurize(obs, tiny_config(xy_step_features=True))
    assert plain.x_BNTF.shape[-1] == 2 and stepped.x_BNTF.shape[-1] == 4
    assert tiny_config(xy_step_features=True).feature_dim == 4 and tiny_config(xy_step_features=True).output_dim == 2
    torch.testing.assert_close(stepped.x_BNTF[..., :2], plain.x_BNTF)
    torch.testing.assert_close(stepped.target_BNtF, plain.target_BNtF)
    steps = stepped.x_BNTF[..., 2:].numpy()
    assert np.all(steps[:, :, 0] == 0)
    np.testing.assert_array_equal(steps[:, :, 1:], np.diff(observations[:5].astype(np.float32), axis=2))
    # Away from the play grid's edges every step is one of the four unit moves.
    assert set(np.abs(steps[:, :, 1:]).sum(-1).ravel().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("kind", ["hvae", "vae"])
def test_step_feature_training_runs_and_keys_apart(observations: np.ndarray, kind: str) -> None:
    cfg = tiny_config(xy_step_features=True, train_steps=20, lr=1e-2)
    r = train_representation(kind, cfg, observations, np.arange(0, 1024, 64), seed=0)
    assert r.table.shape == (1024, 4) and np.all(np.isfinite(r.table)) and np.all(np.isfinite(r.curves["loss"]))
    spec = {"source": "test"}
    assert cache_key(kind, cfg, spec, np.arange(4), 0) != cache_key(kind, tiny_config(train_steps=20, lr=1e-2), spec, np.arange(4), 0)


@pytest.mark.parametrize("kind", ["hvae", "vae"])
def test_one_hot_training_runs(observations: np.ndarray, kind: str) -> None:
    logged = []
    cfg = tiny_config(data_type="one_hot", train_steps=4)
    r = train_representation(kind, cfg, observations, np.arange(32), seed=0, log_fn=lambda s, m: logged.append(s), log_every=2)
    assert logged == [2, 4]
    assert r.table.shape == (1024, 4) and np.all(np.isfinite(r.table))
    assert np.all(np.isfinite(r.curves["loss"]))


def test_flat_vae_training_decreases_loss(observations: np.ndarray) -> None:
    cfg = tiny_config(train_steps=60, obs_per_action=8, lr=1e-2)
    r = train_representation("vae", cfg, observations, np.arange(0, 1024, 64), seed=0)
    loss = np.asarray(r.curves["loss"])
    assert loss[-10:].mean() < loss[:10].mean() - 0.3


# ---------------------------------------------------------------------------------------
# cache


def test_cache_skips_retraining(observations: np.ndarray, tmp_path, monkeypatch) -> None:
    cfg = tiny_config(train_steps=2)
    spec = {"source": "gridworld_skills", "n_obs": 16, "grid_size": 80, "seed": 0}
    ids = np.array([5, 1, 9, 3])
    first, hit = cached_representation("hvae", cfg, spec, ids, 0, tmp_path, observations=observations)
    assert hit is False
    key = cache_key("hvae", cfg, spec, ids, 0)
    entry = tmp_path / "hvae" / key
    assert sorted(p.name for p in entry.iterdir()) == ["curves.json", "meta.json", "model.pt", "table.npy"]
    assert not [p for p in (tmp_path / "hvae").iterdir() if p.name.startswith(".tmp")]
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["train_ids"] == [1, 3, 5, 9] and meta["key"] == key
    assert first.meta["device"] == "cpu"  # where it trained; not part of the key

    def boom(*args, **kwargs):
        raise AssertionError("training must not run on a cache hit")

    monkeypatch.setattr(training_mod, "train_representation", boom)
    # same inputs (ids in another order; observations not even needed) -> hit
    second, hit = cached_representation("hvae", cfg, spec, ids[::-1], 0, tmp_path)
    assert hit is True
    np.testing.assert_array_equal(second.table, first.table)
    assert second.curves == first.curves
    assert second.meta["obs_per_s"] == first.meta["obs_per_s"]
    for k, v in first.model_state.items():
        torch.testing.assert_close(second.model_state[k], v)
    np.testing.assert_allclose(infer_representations(second.build_model(), observations), first.table, atol=1e-6)
    # anything else in the key -> miss (training is called, and raises here)
    for args in (
        ("vae", cfg, spec, ids, 0),
        ("hvae", cfg.model_copy(update={"lr": 1e-4}), spec, ids, 0),
        ("hvae", cfg, {**spec, "seed": 1}, ids, 0),
        ("hvae", cfg, spec, ids[:3], 0),
        ("hvae", cfg, spec, ids, 1),
    ):
        assert cache_key(*args) != key
        with pytest.raises(AssertionError, match="must not run"):
            cached_representation(*args, tmp_path, observations=observations)


def test_is_cached_needs_a_complete_entry_for_its_key(observations: np.ndarray, tmp_path) -> None:
    cfg = tiny_config(train_steps=1)
    spec = {"source": "gridworld_skills", "n_obs": 16, "grid_size": 80, "seed": 0}
    ids = np.array([2, 4, 6])
    key = cache_key("hvae", cfg, spec, ids, 0)
    assert not is_cached(tmp_path, key)
    cached_representation("hvae", cfg, spec, ids, 0, tmp_path, observations=observations)
    assert is_cached(tmp_path, key)
    assert not is_cached(tmp_path, cache_key("hvae", cfg, spec, ids, 1))
    entry = tmp_path / "hvae" / key
    # an entry copied under another key's name is not that key's
    other = cache_key("vae", cfg, spec, ids, 0)
    shutil.copytree(entry, tmp_path / "hvae" / other)
    assert not is_cached(tmp_path, other)
    (entry / "table.npy").unlink()  # a partial entry
    assert not is_cached(tmp_path, key)


# ---------------------------------------------------------------------------------------
# config, labels, plots


def test_config_forbids_unknown_fields_and_documents_every_field() -> None:
    with pytest.raises(ValidationError):
        HVAEConfig(latent_size=16)
    with pytest.raises(ValidationError):
        HVAEConfig(data_type="video")
    for name, field in HVAEConfig.model_fields.items():
        assert field.description, name
    assert HVAEConfig().latent_dim == 16 and HVAEConfig(data_type="one_hot").feature_dim == 160
    from rllib_modules.hvae.networks import featurize

    corners = torch.tensor([[[[0, 79], [79, 0]]]])
    x = featurize(corners, HVAEConfig(xy_unit_cells=None)).x_BNTF
    torch.testing.assert_close(x, torch.tensor([[[[-1.0, 1.0], [1.0, -1.0]]]]))
    x = featurize(corners, HVAEConfig()).x_BNTF  # default: 8 cells per unit, centred
    torch.testing.assert_close(x, torch.tensor([[[[-39.5, 39.5], [39.5, -39.5]]]]) / 8)


def test_displacement_labels() -> None:
    ids = [skill_id("RRRRR"), skill_id("UUUUU"), skill_id("LLLLL"), skill_id("DDDDD"), skill_id("UUURD")]
    d = net_displacement(ids)
    np.testing.assert_array_equal(d, [[5, 0], [0, -5], [-5, 0], [0, 5], [1, -2]])
    q = displacement_quadrant(d)
    assert [QUADRANT_NAMES[i] for i in q] == ["up-right", "up-left", "down-left", "down-right", "up-right"]
    all_q = displacement_quadrant(net_displacement())
    assert np.bincount(all_q).tolist() == [256] * 4  # symmetric: 256 skills per quadrant


def test_tsne_separates_clusters_and_plots_write_png(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (20, 5)), rng.normal(8, 1, (20, 5))])
    y = tsne(x, n_iter=1000, perplexity=10)
    assert y.shape == (40, 2) and np.all(np.isfinite(y))
    d = np.linalg.norm(y[:, None] - y[None], axis=-1)
    within = max(d[:20, :20].max(), d[20:, 20:].max())
    assert d[:20, 20:].min() > 2 * within  # two well-separated clusters
    np.testing.assert_array_equal(tsne(x, n_iter=50, perplexity=10), tsne(x, n_iter=50, perplexity=10))

    table = rng.normal(size=(64, 4)).astype(np.float32)
    ids = np.arange(0, 64, 2)
    path = tsne_plot({"a": table, "b": table * 2}, ids, np.arange(32) % 4, tmp_path / "tsne.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    curves = {"step": [1.0, 2.0, 3.0], "elbo": [-3.0, -2.0, -1.0], "recon_ll": [-2.0, -1.0, 0.0], "kl_z": [1.0, 1.0, 1.0]}
    path = curves_plot({"hvae": curves, "vae": curves}, tmp_path / "curves.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    import matplotlib.pyplot as plt  # no pyplot figure was left open

    assert plt.get_fignums() == []


def _representations_benchmark():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "representations_gridworld.py"
    spec = importlib.util.spec_from_file_location("representations_gridworld", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_move_readout_scores_hand_table_perfect_and_random_at_chance() -> None:
    from envs.gridworld_skills import representation_table, skill_split
    from envs.gridworld_skills.skills import skill_deltas_xy

    bench = _representations_benchmark()
    split = skill_split(0)
    train_ids, test_ids = np.asarray(split["train"]), np.asarray(split["test"])
    moves_xy = skill_deltas_xy()
    assert bench.move_readout(np.asarray(representation_table("hand")), moves_xy, train_ids, test_ids) == (1.0, 1.0)
    # A rotated + shifted copy is still linearly readable.
    rot = np.linalg.qr(np.random.default_rng(0).normal(size=(10, 10)))[0]
    rotated = np.asarray(representation_table("hand")) @ rot + 3.0
    assert bench.move_readout(rotated, moves_xy, train_ids, test_ids) == (1.0, 1.0)
    random_table = np.random.default_rng(0).normal(size=(1024, 16))
    move_acc, seq_acc = bench.move_readout(random_table, moves_xy, train_ids, test_ids)
    assert 0.15 < move_acc < 0.35 and seq_acc < 0.02
    # Only the first move encoded: that move right, the others at chance.
    first_only = moves_xy[:, 0, :].astype(np.float64)
    move_acc, seq_acc = bench.move_readout(first_only, moves_xy, train_ids, test_ids)
    assert 0.3 < move_acc < 0.5 and seq_acc < 0.05


def test_benchmark_overrides_parse_as_yaml() -> None:
    bench = _representations_benchmark()
    assert bench.parse_overrides(["lr=0.003", "q_phi_batch_norm=global", "xy_unit_cells=null"]) == {
        "lr": 0.003, "q_phi_batch_norm": "global", "xy_unit_cells": None
    }
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        bench.parse_overrides(["lr"])
