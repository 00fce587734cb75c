"""Tests of the Ch.2 policy baselines (thesis §2.5.3): ``nearest-neighbor`` and ``continuous-output``.

Module, config and builder tests need no Ray. One integration test runs a tiny real sweep
of ``tune_specs/ch2_gridworld_baselines.yaml`` (utility-ppo and both baselines) through the
CLI and reads it back from MLflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from pydantic import ValidationError
from ray.rllib.core.columns import Columns

from actlab.evaluation import _actions
from actlab.registry import BuildContext, get_algorithm
from envs.common.action_set import (
    ACTION_IDS_KEY,
    ACTION_MASK_KEY,
    ACTION_REPRS_KEY,
    STATE_KEY,
    action_set_observation_space,
)
from rllib_modules.baselines_ch2 import (
    ContinuousOutputPPOConfig,
    ContinuousOutputRLModule,
    NearestNeighborPPOConfig,
    NearestNeighborRLModule,
    build_continuous_output_ppo,
    build_nearest_neighbor_ppo,
)
from rllib_modules.common import AdamEpsPPOTorchLearner, SuccessRateCallback
from rllib_modules.common.action_set import nearest_slots
from rllib_modules.utility import UtilityPPOConfig

torch.set_num_threads(1)

K, D, S = 7, 3, 11  # slots, representation dim, state dim
N_IDS = 20  # action universe
TRAIN_IDS = list(range(0, N_IDS, 2))  # 10 training actions: the even ids


def _table(seed: int = 0) -> torch.Tensor:
    return torch.randn(N_IDS, D, generator=torch.Generator().manual_seed(seed))


def _obs_space() -> gym.spaces.Dict:
    state = gym.spaces.Box(-np.inf, np.inf, shape=(S,), dtype=np.float32)
    return action_set_observation_space(state, K, D, n_action_ids=N_IDS)


def _obs(batch: int, pool: list[int], seed: int = 0, table: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Action-set observations whose available actions are drawn from ``pool`` (>= 1 per row),
    in random slots, padded slots with id -1 and zero representations."""
    table = _table() if table is None else table
    g = torch.Generator().manual_seed(seed)
    ids = torch.full((batch, K), -1, dtype=torch.long)
    for b in range(batch):
        n = int(torch.randint(1, K + 1, (1,), generator=g))
        chosen = torch.tensor(pool)[torch.randperm(len(pool), generator=g)[:n]]
        slots = torch.randperm(K, generator=g)[: len(chosen)]
        ids[b, slots] = chosen
    mask = (ids >= 0).float()
    reprs = table[ids.clamp(min=0)] * mask.unsqueeze(-1)
    return {
        STATE_KEY: torch.randn(batch, S, generator=g),
        ACTION_REPRS_KEY: reprs,
        ACTION_MASK_KEY: mask,
        ACTION_IDS_KEY: ids.float(),
    }


def _nn_module(inference_only: bool = False, **options: Any) -> NearestNeighborRLModule:
    torch.manual_seed(0)
    model_config = {
        "train_action_ids": TRAIN_IDS,
        "train_action_reprs": _table()[TRAIN_IDS].tolist(),
        "init": "torch",  # larger logits than the gain-0.01 head, for sharper tests
        **options,
    }
    return NearestNeighborRLModule(
        observation_space=_obs_space(),
        action_space=gym.spaces.Discrete(K),
        inference_only=inference_only,
        model_config=model_config,
    )


def _co_module(inference_only: bool = False, **options: Any) -> ContinuousOutputRLModule:
    torch.manual_seed(0)
    return ContinuousOutputRLModule(
        observation_space=_obs_space(),
        action_space=gym.spaces.Box(-np.inf, np.inf, (D,), np.float32),
        inference_only=inference_only,
        model_config={"init": "torch", **options},
    )


def _brute_nearest(query: torch.Tensor, reprs_KD: torch.Tensor, mask_K: torch.Tensor) -> tuple[int, float]:
    """Python loop: nearest available slot and its distance."""
    best, best_d = -1, float("inf")
    for k in range(reprs_KD.shape[0]):
        if mask_K[k] > 0.5:
            d = float(torch.linalg.vector_norm(query.double() - reprs_KD[k].double()))
            if d < best_d:
                best, best_d = k, d
    return best, best_d


def _slot_probs(module: Any, logits: torch.Tensor) -> torch.Tensor:
    dist = module.get_exploration_action_dist_cls().from_logits(logits)
    return torch.stack([dist.logp(torch.full((logits.shape[0],), k)).exp() for k in range(K)], dim=-1)


# -- shared nearest-slot helper --------------------------------------------------------


def test_nearest_slots_matches_brute_force_and_skips_masked() -> None:
    obs = _obs(64, list(range(N_IDS)), seed=1)
    queries = torch.randn(64, 5, D, generator=torch.Generator().manual_seed(2)) * 2
    # A query sitting exactly on a masked (zero) padded slot must still pick an available one.
    queries[:, 0] = 0.0
    idx = nearest_slots(queries, obs[ACTION_REPRS_KEY], obs[ACTION_MASK_KEY])
    assert idx.shape == (64, 5)
    for b in range(64):
        for n in range(5):
            k, dist = _brute_nearest(queries[b, n], obs[ACTION_REPRS_KEY][b], obs[ACTION_MASK_KEY][b])
            assert obs[ACTION_MASK_KEY][b, idx[b, n]] == 1.0
            got = float(torch.linalg.vector_norm(queries[b, n].double() - obs[ACTION_REPRS_KEY][b, idx[b, n]].double()))
            assert got == pytest.approx(dist, abs=1e-5), (b, n, k, int(idx[b, n]))


# -- nearest-neighbor ------------------------------------------------------------------


def test_nn_on_train_sets_is_the_head_restricted_to_the_offered_train_actions() -> None:
    module = _nn_module()
    obs = _obs(32, TRAIN_IDS, seed=3)
    with torch.no_grad():
        logits = module.forward_exploration({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
        head = module.train_action_logits(obs)
    probs = _slot_probs(module, logits)
    for b in range(32):
        avail = [k for k in range(K) if obs[ACTION_MASK_KEY][b, k] > 0]
        head_idx = [TRAIN_IDS.index(int(obs[ACTION_IDS_KEY][b, k])) for k in avail]
        expected = torch.softmax(head[b, head_idx], dim=-1)
        torch.testing.assert_close(probs[b, avail], expected, rtol=1e-5, atol=1e-7)
        masked = [k for k in range(K) if k not in avail]
        assert torch.all(probs[b, masked] == 0.0)


def test_nn_maps_new_actions_by_nearest_neighbour_of_each_train_action() -> None:
    """Rows of held-out (odd) ids: P(slot k) = sum of π(j) over train actions j whose nearest
    available slot is k (brute force); greedy = nearest slot of argmax_j π(j)."""
    module = _nn_module()
    obs = _obs(32, [i for i in range(N_IDS) if i % 2], seed=4)
    with torch.no_grad():
        out = module.forward_inference({Columns.OBS: obs})
        pi = torch.softmax(module.train_action_logits(obs), dim=-1)
    probs = _slot_probs(module, out[Columns.ACTION_DIST_INPUTS])
    train_reprs = _table()[TRAIN_IDS]
    for b in range(32):
        expected = torch.zeros(K)
        nn_of = []
        for j in range(len(TRAIN_IDS)):
            k, _ = _brute_nearest(train_reprs[j], obs[ACTION_REPRS_KEY][b], obs[ACTION_MASK_KEY][b])
            nn_of.append(k)
            expected[k] += pi[b, j]
        torch.testing.assert_close(probs[b], expected, rtol=1e-5, atol=1e-6)
        assert int(out[Columns.ACTIONS][b]) == nn_of[int(pi[b].argmax())]
        assert obs[ACTION_MASK_KEY][b, out[Columns.ACTIONS][b]] == 1.0


def test_nn_masked_slots_never_chosen_and_losses_finite() -> None:
    module = _nn_module()
    for pool, seed in ((TRAIN_IDS, 5), ([i for i in range(N_IDS) if i % 2], 6)):
        obs = _obs(16, pool, seed=seed)
        logits = module.forward_train({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
        dist = module.get_train_action_dist_cls().from_logits(logits)
        torch.manual_seed(0)
        samples = dist.sample(sample_shape=(2000,))  # (2000, B)
        assert (obs[ACTION_MASK_KEY].gather(1, samples.T) == 1.0).all()
        greedy = module.forward_inference({Columns.OBS: obs})[Columns.ACTIONS]
        assert (obs[ACTION_MASK_KEY].gather(1, greedy[:, None]) == 1.0).all()
        # PPO's terms: finite values and gradients.
        loss = -(dist.logp(samples[0]).mean() + 0.01 * dist.entropy().mean())
        module.zero_grad()
        loss.backward()
        assert torch.isfinite(loss)
        assert all(torch.isfinite(p.grad).all() for p in module.parameters() if p.grad is not None)


def test_nn_ppo_outputs_values_and_inference_copy() -> None:
    learner_module = _nn_module()
    runner_module = _nn_module(inference_only=True)
    assert not hasattr(runner_module, "critic_encoder")
    runner_module.set_state(learner_module.get_state(inference_only=True))
    batch = {Columns.OBS: _obs(5, TRAIN_IDS, seed=7)}
    with torch.no_grad():
        out = learner_module.forward_train(batch)
        values = learner_module.compute_values(batch)
        torch.testing.assert_close(values, learner_module.compute_values(batch, embeddings=out[Columns.EMBEDDINGS]))
        torch.testing.assert_close(
            runner_module.forward_exploration(batch)[Columns.ACTION_DIST_INPUTS], out[Columns.ACTION_DIST_INPUTS]
        )
    assert values.shape == (5,) and out[Columns.ACTION_DIST_INPUTS].shape == (5, K)
    assert learner_module.head.out_features == len(TRAIN_IDS)


def test_nn_reads_a_learned_table_by_id() -> None:
    """With learned representations both r_j and the slots' c_k are rows of action_table."""
    module = _nn_module(action_table_shape=(N_IDS, 4), train_action_reprs=None)
    learned = torch.randn(N_IDS, 4, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        module.action_table.copy_(learned)
    assert "action_table" in module.get_state(inference_only=True)  # synced to EnvRunners
    obs = _obs(8, [i for i in range(N_IDS) if i % 2], seed=8)  # obs reprs are in another space
    with torch.no_grad():
        greedy = module.forward_inference({Columns.OBS: obs})[Columns.ACTIONS]
        best_j = module.train_action_logits(obs).argmax(-1)
    for b in range(8):
        k, _ = _brute_nearest(learned[TRAIN_IDS[int(best_j[b])]], learned[obs[ACTION_IDS_KEY][b].long().clamp(min=0)], obs[ACTION_MASK_KEY][b])
        assert int(greedy[b]) == k


# -- continuous-output -----------------------------------------------------------------


def test_co_executes_nearest_available_slot_and_stores_the_continuous_action() -> None:
    module = _co_module()
    obs = _obs(64, list(range(N_IDS)), seed=10)
    torch.manual_seed(1)
    out = module.forward_exploration({Columns.OBS: obs})
    z, slots = out[Columns.ACTIONS], out[Columns.ACTIONS_FOR_ENV]
    assert z.shape == (64, D) and z.dtype == torch.float32 and slots.dtype == torch.long
    dist = module.get_train_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
    torch.testing.assert_close(out[Columns.ACTION_LOGP], dist.logp(z))  # PPO's old logp is Gaussian
    assert type(dist).__name__ == "TorchDiagGaussian"
    inf = module.forward_inference({Columns.OBS: obs})
    mean = out[Columns.ACTION_DIST_INPUTS][:, :D]
    for b in range(64):
        for query, chosen in ((z[b], slots[b]), (mean[b], inf[Columns.ACTIONS][b])):
            k, dist_min = _brute_nearest(query, obs[ACTION_REPRS_KEY][b], obs[ACTION_MASK_KEY][b])
            assert obs[ACTION_MASK_KEY][b, chosen] == 1.0  # padded slots never chosen
            got = float(torch.linalg.vector_norm(query.double() - obs[ACTION_REPRS_KEY][b, chosen].double()))
            assert got == pytest.approx(dist_min, abs=1e-5)
    torch.testing.assert_close(inf[Columns.ACTIONS], inf[Columns.ACTIONS_FOR_ENV])


def test_co_ppo_terms_use_the_gaussian() -> None:
    module = _co_module(initial_log_std=-0.5)
    batch = {Columns.OBS: _obs(6, list(range(N_IDS)), seed=11)}
    out = module.forward_train(batch)
    inputs = out[Columns.ACTION_DIST_INPUTS]
    assert inputs.shape == (6, 2 * D)
    torch.testing.assert_close(inputs[:, D:], torch.full((6, D), -0.5))
    dist = module.get_train_action_dist_cls().from_logits(inputs)
    z = torch.zeros(6, D)
    expected = torch.distributions.Normal(inputs[:, :D], inputs[:, D:].exp()).log_prob(z).sum(-1)
    torch.testing.assert_close(dist.logp(z), expected)
    torch.testing.assert_close(dist.entropy(), torch.full((6,), D * (0.5 + 0.5 * np.log(2 * np.pi) - 0.5)))
    (dist.logp(z).sum() + dist.entropy().sum()).backward()
    assert module.log_std.grad is not None and module.mean_head.weight.grad is not None
    values = module.compute_values(batch, embeddings=out[Columns.EMBEDDINGS])
    assert values.shape == (6,)
    runner = _co_module(inference_only=True)
    assert not hasattr(runner, "critic_head")
    runner.set_state(module.get_state(inference_only=True))


def test_co_rejects_a_discrete_action_space() -> None:
    with pytest.raises(ValueError, match="RLModuleSpec"):
        ContinuousOutputRLModule(observation_space=_obs_space(), action_space=gym.spaces.Discrete(K))


@pytest.mark.parametrize("name", ["nearest-neighbor", "continuous-output"])
def test_evaluator_gets_valid_slots(name: str) -> None:
    """actlab's evaluator (greedy) takes Columns.ACTIONS: it must be a valid slot index."""
    module = _nn_module() if name == "nearest-neighbor" else _co_module()
    for pool in (TRAIN_IDS, [i for i in range(N_IDS) if i % 2]):
        obs = _obs(16, pool, seed=12)
        actions = _actions(module, obs, explore=False)
        assert actions.shape == (16,) and actions.dtype.kind == "i"
        assert (obs[ACTION_MASK_KEY].numpy()[np.arange(16), actions] == 1.0).all()


# -- config and builders (no Ray) ------------------------------------------------------


def test_configs_share_utility_ppo_defaults_and_reject_utility_fields() -> None:
    for cls in (NearestNeighborPPOConfig, ContinuousOutputPPOConfig):
        assert issubclass(cls, UtilityPPOConfig)
        cfg = cls()
        assert cfg.model_dump(include=set(UtilityPPOConfig.model_fields)) == UtilityPPOConfig().model_dump()
        with pytest.raises(ValidationError, match="does not apply"):
            cls(utility_uses_state=False)
        assert cls(utility_uses_state=True, utility_activation="relu").utility_uses_state  # defaults: fine (resolved specs)
        with pytest.raises(ValidationError):
            cls(entropy_coef=0.1)
        for field_name, field in cls.model_fields.items():
            assert field.description, field_name
    assert ContinuousOutputPPOConfig().initial_log_std == 0.0


def test_builders_on_gridworld() -> None:
    ctx = BuildContext(env_id="actlab/GridWorldSkills-v0", env_config={"m": 50}, seed=3, total_env_steps=10_000)
    assert get_algorithm("nearest-neighbor").build is build_nearest_neighbor_ppo
    assert get_algorithm("continuous-output").build is build_continuous_output_ppo

    nn_ppo = build_nearest_neighbor_ppo(NearestNeighborPPOConfig(), ctx)
    spec = nn_ppo.rl_module_spec
    assert spec.module_class is NearestNeighborRLModule and spec.action_space is None
    from envs.gridworld_skills import representation_table, skill_split

    train = np.sort(skill_split(0)["train"])
    assert spec.model_config["train_action_ids"] == train.tolist() and len(train) == 512
    np.testing.assert_array_equal(np.asarray(spec.model_config["train_action_reprs"]), representation_table("hand")[train])

    co_ppo = build_continuous_output_ppo(ContinuousOutputPPOConfig(), ctx)
    spec = co_ppo.rl_module_spec
    assert spec.module_class is ContinuousOutputRLModule
    assert spec.action_space == gym.spaces.Box(-np.inf, np.inf, (10,), np.float32)
    assert co_ppo.normalize_actions is False and co_ppo.clip_actions is False
    for ppo in (nn_ppo, co_ppo):
        assert issubclass(ppo.learner_class, AdamEpsPPOTorchLearner) and ppo.callbacks_class is SuccessRateCallback
        assert ppo.seed == 3 and ppo.lr == [[0, 1e-3], [10_000, 0.0]] and ppo.num_env_runners == 0
        assert (ppo.train_batch_size_per_learner, ppo.minibatch_size, ppo.num_epochs) == (4096, 1024, 4)

    # Learned representations: the module reads the table the pretraining Learner fills.
    learned = NearestNeighborPPOConfig.model_validate({"representation": {"source": "hvae"}})
    spec = build_nearest_neighbor_ppo(learned, ctx).rl_module_spec
    assert spec.model_config.get("train_action_reprs") is None and spec.model_config["action_table_shape"][0] == 1024
    co_learned = ContinuousOutputPPOConfig.model_validate({"representation": {"source": "hvae"}})
    spec = build_continuous_output_ppo(co_learned, ctx).rl_module_spec
    assert spec.action_space.shape == (co_learned.representation.model.latent_dim,)


@pytest.mark.parametrize("split", ["train", "test"])
def test_nearest_neighbor_on_the_recommender_has_one_output_per_item_of_its_split(split: str) -> None:
    """The finetuning study (thesis §2.6.4) trains the discrete policy on the test items."""
    from envs.recommender import item_split
    from envs.recommender.config import RecommenderConfig

    env_config = RecommenderConfig.model_validate({"split": split, "split_seed": 1}).model_dump()
    spec = build_nearest_neighbor_ppo(
        NearestNeighborPPOConfig(), BuildContext(env_id="actlab/Recommender-v0", env_config=env_config, seed=0)
    ).rl_module_spec
    items = np.sort(item_split(1)[split])
    assert spec.model_config["train_action_ids"] == items.tolist() and len(items) == {"train": 5000, "test": 2500}[split]
    assert np.asarray(spec.model_config["train_action_reprs"]).shape == (len(items), 16)


def test_nearest_neighbor_needs_action_splits() -> None:
    ctx = BuildContext(env_id="actlab/ItemCollection-v0", env_config={}, seed=0)
    with pytest.raises(ValueError, match="train actions are unknown"):
        build_nearest_neighbor_ppo(NearestNeighborPPOConfig(), ctx)


# -- a real tiny sweep through the CLI (local Ray + MLflow) ----------------------------


@pytest.mark.integration
def test_baselines_sweep_runs_and_is_tracked(tmp_path: Path) -> None:
    from tests.conftest import SPECS
    from tests.test_integration_sweep import TINY, actlab, runs_of

    uri = f"sqlite:///{tmp_path}/mlruns.db"
    proc = actlab(
        "run", str(SPECS / "ch2_gridworld_baselines.yaml"), *TINY,
        "--set", "stop.env_steps=500", "--set", "seeds=[0]", "--tracking-uri", uri, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = runs_of(uri, "ch2_gridworld_baselines")
    assert sorted(r.data.tags["actlab.algorithm"] for r in runs) == ["continuous-output", "nearest-neighbor", "utility-ppo"]
    for run in runs:
        assert run.info.status == "FINISHED"
        metrics = run.data.metrics
        for split in ("train", "validation", "test"):
            assert 0.0 <= metrics[f"eval/{split}/success_rate"] <= 1.0
        assert "best/validation/success_rate" in metrics
        algo = run.data.tags["actlab.algorithm"]
        assert np.isfinite(metrics[f"{algo}/policy_loss"]) and np.isfinite(metrics[f"{algo}/entropy"])
