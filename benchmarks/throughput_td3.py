"""Throughput of the TD3 family on RLlib against a minimal hand-written PyTorch TD3, side by side.

Same environment (``InvertedPendulum-v5`` by default), same networks (actor and twin critics
256_256, ReLU), batch 256, one gradient step per env step, one torch thread, one process:

1. ``hand-written``: a CleanRL-style loop (NumPy replay, ``torch.optim.Adam``, policy delay 2,
   target smoothing) -- the floor of what one TD3 step costs on this CPU;
2. ``td3 (RLlib), fragment F``: the registered ``td3`` algorithm in a bare ``algo.train()``
   loop, with rollout fragments of F env steps (F gradient steps per Learner call; the lever
   of issue #4's target: at least half the hand-written throughput);

plus the time of one action selection (batch of 1) and of one gradient step (batch 256) of
``td3``, ``savo`` k=3 and k=5 measured directly (the thesis reports 0.062 / 0.088 / 0.122 s
per step on a GPU: compare the ratios), and the process's peak RSS.
Results are printed as a table and logged to MLflow (experiment ``benchmarks``).

Run:  .venv/bin/python benchmarks/throughput_td3.py [--steps 3000] [--fragments 1 16]
Expect on a 2-CPU laptop (quiet machine): hand-written ~100 env steps/s (~10 ms per step,
nearly all of it the gradient step); RLlib fragment 1 ~50-60, fragment 16 ~70-80.
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]


def mlp(in_dim: int, out_dim: int, hidden: tuple[int, ...] = (256, 256)) -> nn.Sequential:
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(in_dim, size), nn.ReLU()]
        in_dim = size
    return nn.Sequential(*layers, nn.Linear(in_dim, out_dim))


def hand_written_td3(env_id: str, steps: int, learning_starts: int, seed: int = 0) -> float:
    """Env steps/s of a plain TD3 loop (after ``learning_starts``), Fujimoto et al. 2018 defaults."""
    env = gym.make(env_id)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    low, high = env.action_space.low, env.action_space.high
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    actor = nn.Sequential(mlp(obs_dim, act_dim), nn.Tanh())
    q1, q2 = mlp(obs_dim + act_dim, 1), mlp(obs_dim + act_dim, 1)
    actor_t, q1_t, q2_t = copy.deepcopy(actor), copy.deepcopy(q1), copy.deepcopy(q2)
    opt_actor = torch.optim.Adam(actor.parameters(), 3e-4)
    opt_critic = torch.optim.Adam([*q1.parameters(), *q2.parameters()], 3e-4)
    cap = steps + 1
    buf_o, buf_a = np.zeros((cap, obs_dim), np.float32), np.zeros((cap, act_dim), np.float32)
    buf_r, buf_n, buf_d = np.zeros(cap, np.float32), np.zeros((cap, obs_dim), np.float32), np.zeros(cap, np.float32)
    obs, _ = env.reset(seed=seed)
    started = None
    for t in range(steps):
        if t == learning_starts:
            started = time.perf_counter()
        with torch.no_grad():
            a = actor(torch.as_tensor(obs, dtype=torch.float32)[None])[0].numpy()
        a = np.clip(a + rng.normal(0, 0.1, act_dim), -1, 1).astype(np.float32)
        nxt, r, term, trunc, _ = env.step(low + (a + 1) * 0.5 * (high - low))
        buf_o[t], buf_a[t], buf_r[t], buf_n[t], buf_d[t] = obs, a, r, nxt, float(term)
        obs = env.reset()[0] if term or trunc else nxt
        if t < learning_starts:
            continue
        idx = rng.integers(0, t + 1, 256)
        o, act, rew, n, d = (torch.as_tensor(x[idx]) for x in (buf_o, buf_a, buf_r, buf_n, buf_d))
        with torch.no_grad():
            na = (actor_t(n) + (torch.randn_like(act) * 0.2).clamp(-0.5, 0.5)).clamp(-1, 1)
            na_in = torch.cat([n, na], 1)
            y = rew + 0.99 * (1 - d) * torch.minimum(q1_t(na_in), q2_t(na_in)).squeeze(-1)
        sa = torch.cat([o, act], 1)
        critic_loss = F.mse_loss(q1(sa).squeeze(-1), y) + F.mse_loss(q2(sa).squeeze(-1), y)
        opt_critic.zero_grad()
        critic_loss.backward()
        opt_critic.step()
        if t % 2 == 0:
            actor_loss = -q1(torch.cat([o, actor(o)], 1)).mean()
            opt_actor.zero_grad()
            actor_loss.backward()
            opt_actor.step()
            with torch.no_grad():
                for net, tgt in ((actor, actor_t), (q1, q1_t), (q2, q2_t)):
                    for p, pt in zip(net.parameters(), tgt.parameters()):
                        pt.mul_(0.995).add_(p, alpha=0.005)
    return (steps - learning_starts) / (time.perf_counter() - started)


def _build(algorithm: str, env_id: str, settings: dict):
    from actlab.registry import BuildContext, get_algorithm

    entry = get_algorithm(algorithm)
    ctx = BuildContext(env_id=env_id, env_config={}, seed=0, num_env_runners=0, envs_per_env_runner=1)
    return entry.build(entry.config_model.model_validate(settings), ctx).build_algo()


def step_costs(algo, repeats: int = 20) -> tuple[float, float]:
    """(ms per action selection at batch 1, ms per gradient step of 256) of a built algorithm."""
    from ray.rllib.core import DEFAULT_MODULE_ID
    from ray.rllib.core.columns import Columns
    from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch

    module = algo.env_runner.module
    obs = {Columns.OBS: torch.zeros(1, *module.observation_space.shape)}
    started = time.perf_counter()
    for _ in range(500):
        module.forward_exploration(obs)
    act_ms = (time.perf_counter() - started) / 500 * 1e3
    batch = MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(algo.transitions.sample(256 * repeats))}, env_steps=256 * repeats)
    learner = algo.learner_group._learner
    learner.update(batch=batch, minibatch_size=256, num_epochs=1, timesteps={"num_env_steps_sampled_lifetime": 10**6})
    started = time.perf_counter()
    learner.update(batch=batch, minibatch_size=256, num_epochs=1, timesteps={"num_env_steps_sampled_lifetime": 10**6})
    return act_ms, (time.perf_counter() - started) / repeats * 1e3


def rllib_throughput(env_id: str, steps: int, learning_starts: int, fragment: int) -> float:
    """Env steps/s of ``td3`` after learning starts, rollout fragments of ``fragment``."""
    algo = _build("td3", env_id, {"learning_starts": learning_starts, "rollout_fragment_length": fragment})
    try:
        while algo.train()["num_env_steps_sampled_lifetime"] < learning_starts + 1000:
            pass  # warm-up past learning_starts
        steps0 = algo.train()["num_env_steps_sampled_lifetime"]
        started = time.perf_counter()
        done = steps0
        while done - steps0 < steps - learning_starts:
            done = algo.train()["num_env_steps_sampled_lifetime"]
        return (done - steps0) / (time.perf_counter() - started)
    finally:
        algo.stop()


#: (label, algorithm, settings) whose per-step costs are compared (thesis Table: 0.062 / 0.088 / 0.122 s).
COST_MODES = (("td3", "td3", {}), ("savo k=3", "savo", {"num_successive": 3}), ("savo k=5", "savo", {"num_successive": 5}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="InvertedPendulum-v5")
    parser.add_argument("--steps", type=int, default=3000, help="env steps measured per mode (after learning starts)")
    parser.add_argument("--learning-starts", type=int, default=1000)
    parser.add_argument("--fragments", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--tracking-uri", default=f"sqlite:///{ROOT}/mlruns.db")
    args = parser.parse_args()

    import ray

    torch.set_num_threads(1)
    import envs  # noqa: F401
    import rllib_modules  # noqa: F401

    rows: dict[str, float] = {}
    rows["hand_written"] = hand_written_td3(args.env, args.steps + args.learning_starts, args.learning_starts)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    extra: dict[str, float] = {}
    try:
        for fragment in args.fragments:
            rows[f"rllib_fragment_{fragment}"] = rllib_throughput(
                args.env, args.steps + args.learning_starts, args.learning_starts, fragment
            )
        for label, algorithm, settings in COST_MODES:
            algo = _build(algorithm, args.env, {"learning_starts": 300, **settings})
            try:
                algo.train()
                extra[f"act_ms {label}"], extra[f"update_ms {label}"] = step_costs(algo)
            finally:
                algo.stop()
    finally:
        ray.shutdown()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"\nTD3 throughput on {args.env} (1 gradient step of 256 per env step, 1 torch thread)")
    print(f"{'mode':<34}{'env steps/s':>12}{'vs hand':>9}")
    for key, value in rows.items():
        print(f"{key:<34}{value:>12.1f}{value / rows['hand_written']:>9.2f}")
    print(f"\n{'per step':<12}{'action ms':>11}{'update ms':>11}{'update vs td3':>15}")
    for label, _, _ in COST_MODES:
        act, upd = extra[f"act_ms {label}"], extra[f"update_ms {label}"]
        print(f"{label:<12}{act:>11.2f}{upd:>11.2f}{upd / extra['update_ms td3']:>15.2f}")
    print("thesis (GPU, action selection + update): td3 0.062 s, savo k=3 0.088 s (1.42x), k=5 0.122 s (1.97x)")
    print(f"peak RSS of this process: {peak_mb:.0f} MB")

    from mlflow.tracking import MlflowClient

    from actlab.tracking import ensure_experiment, package_versions

    client = MlflowClient(args.tracking_uri)
    run = client.create_run(ensure_experiment(args.tracking_uri, "benchmarks"), run_name="throughput_td3",
                            tags={"actlab.kind": "benchmark"})
    for key, value in {**rows, **extra, "peak_rss_mb": peak_mb}.items():
        client.log_metric(run.info.run_id, key.replace(" ", "_").replace("=", ""), value)
    client.log_param(run.info.run_id, "env", args.env)
    client.log_param(run.info.run_id, "versions", json.dumps(package_versions()))
    client.set_terminated(run.info.run_id)
    print(f"logged to MLflow experiment 'benchmarks' at {args.tracking_uri}")


if __name__ == "__main__":
    main()
