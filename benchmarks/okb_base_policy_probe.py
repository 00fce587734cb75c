"""Does one OKB base policy learn its task? NewPolicy on a single task, greedy π_w evaluated as it trains.

Before comparing OKB with SFOLS on a domain, the base-policy learner (the USFA ensemble of
``rllib_modules/okb``, OKB §5, App. F) must solve single linear tasks of that domain at the budget
the run gives it; otherwise every method acts like the untrained network and the comparison is
empty. This script runs the real loop's ``NewPolicy(w)`` (:meth:`rllib_modules.okb.basis.BasisLoop.new_policy`,
the same replay, ε-greedy and USFA updates as ``okb``/``sfols``) on one task ``--w`` for ``--steps``
env steps, and every ``--eval-every`` steps plays ``--eval-episodes`` greedy episodes of
``π_w(s) = argmax_a ψ(s, a, w)·w``. It prints one row per evaluation: the undiscounted feature
sums (what the policy does), the discounted return ``Σ γ^t w·φ_t``, the episode length, and, where
the env has a reference front (Minecart: MO-Gymnasium's Pareto front), the normalised return
``(J − lo_w) / (hi_w − lo_w)``; at the end, ψ(s0, a, w)·w for every action in the first
evaluation state (why the greedy policy does what it does). Results go to MLflow (experiment
"benchmarks", run "okb_base_policy_probe") unless ``--no-mlflow``.

Run:  .venv/bin/python benchmarks/okb_base_policy_probe.py [--env actlab/Minecart-v0] [--w 0.5 0.5 0]
          [--steps 20000] [--epsilon-schedule global|per_policy] [--set sf_updates_per_step=1.0 ...]

What to expect on Minecart (measured on the 2-CPU machine, laptop network sizes below, seed 0):

- ``--w 0.5 0.5 0 --steps 20000 --epsilon-decay-steps 20000``: the greedy policy mines and
  sells both ores (0.77 / 0.73 per episode, 18 steps), discounted return 0.526 of the front's
  best 0.577 (normalised 0.91), ~8 min;
- ``--w 0.333 0.333 0.333``, same budget: it leaves the base and returns at once (fuel −0.4,
  10 steps, discounted −0.12): a local optimum (best on the front 0.104, worst −0.083). With
  2 members it is the same at one update per step (``--set sf_members=2``, 2 min); with four
  updates per step (``--set sf_members=2 --set sf_updates_per_step=4``, 6 min) it mines and
  sells both ores (0.67 / 0.83 per episode, 20 steps, discounted 0.095, normalised 0.95 by 2e4
  steps; still idling at 1e4);
- ``--epsilon-schedule per_policy`` (ε restarts per policy, decays over half of it, 0.5 updates
  per step, 1e4 steps): it never leaves the base (discounted −0.333, the fuel cost of idling):
  the replay fills with 1000-step idle episodes (22 terminations, 3 ore deliveries in 1e4 rows),
  although a uniformly random policy sells ore in 51 % of its episodes (~150 steps each).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]

#: The laptop sizes of the README's OKB runs (the paper's are 10 × 4×256, batches of 256).
LAPTOP = dict(sf_hidden=[128, 128, 128], sf_members=4, meta_hidden=[64, 64], batch_size=128,
              sf_vector_states=4, test_partitions=2, mpa_samples=64)


def greedy_episodes(loop: Any, env: Any, w_D: np.ndarray, episodes: int, gamma: float) -> dict[str, Any]:
    """Greedy π_w from fixed reset seeds: mean feature sums, discounted return, length."""
    w_1D = torch.as_tensor(w_D, dtype=torch.float32).unsqueeze(0)
    feats, discounted, lengths = [], [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=100 + episode)
        phi_sum, ret, t, done = np.zeros(len(w_D)), 0.0, 0, False
        while not done:
            obs_1S = torch.as_tensor(np.asarray(obs, dtype=np.float32).reshape(1, -1))
            with torch.no_grad():
                action = int(loop.module.usfa.greedy_actions(obs_1S, w_1D)[0])
            obs, _, terminated, truncated, info = env.step(action)
            phi = np.asarray(info["features"], dtype=np.float64)
            phi_sum += phi
            ret += gamma**t * float(phi @ w_D)
            t += 1
            done = terminated or truncated
        feats.append(phi_sum)
        discounted.append(ret)
        lengths.append(t)
    return {"features": np.mean(feats, axis=0), "return": float(np.mean(discounted)), "length": float(np.mean(lengths))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="actlab/Minecart-v0")
    parser.add_argument("--w", type=float, nargs="+", default=[0.5, 0.5, 0.0], help="the task (need not sum to 1)")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--eval-every", type=int, default=5_000)
    parser.add_argument("--eval-episodes", type=int, default=5)
    parser.add_argument("--epsilon-schedule", choices=["global", "per_policy"], default="global")
    parser.add_argument("--epsilon-decay-steps", type=int, default=20_000)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="any BasisSettings field (YAML value), e.g. sf_updates_per_step=0.5")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tracking-uri", default=f"sqlite:///{ROOT}/mlruns.db")
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)

    import gymnasium as gym
    import ray

    import envs  # noqa: F401  (registers the actlab envs)
    from actlab.registry import BuildContext, get_algorithm
    from rllib_modules.okb.basis import normalised_returns

    settings: dict[str, Any] = {**LAPTOP, "epsilon_schedule": args.epsilon_schedule,
                                "epsilon_decay_steps": args.epsilon_decay_steps}
    for item in args.set:
        field, _, value = item.partition("=")
        settings[field] = yaml.safe_load(value)
    entry = get_algorithm("sfols")  # NewPolicy is the same in every method of the family
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        algo = entry.build(entry.config_model.model_validate(settings),
                           BuildContext(env_id=args.env, env_config={}, seed=args.seed)).build_algo()
        loop = algo.basis_loop
        env = gym.make(args.env)
        w_D = np.asarray(args.w, dtype=np.float64)
        reference = loop.reference_ND
        rows: list[dict[str, Any]] = []
        started = time.perf_counter()
        while loop.env_steps < args.steps:
            chunk = min(args.eval_every, args.steps - loop.env_steps)
            stats = loop.new_policy(w_D, chunk, w_D[None, :])
            row = greedy_episodes(loop, env, w_D, args.eval_episodes, loop.gamma)
            row.update(step=loop.env_steps, sf_loss=stats["sf_loss"], wall_s=time.perf_counter() - started,
                       epsilon=loop.base_epsilon(0, chunk))
            if reference is not None:
                row["normalised"] = float(normalised_returns(np.array([row["return"]]), w_D[None, :], reference)[0])
            rows.append(row)
            feats = " ".join(f"{x:7.3f}" for x in row["features"])
            print(f"{row['step']:>8} {row['wall_s']:>7.0f}s eps {row['epsilon']:.2f} loss {row['sf_loss']:.4f} | "
                  f"features {feats} | len {row['length']:6.0f} | return {row['return']:7.3f}"
                  + (f" | normalised {row['normalised']:6.3f}" if "normalised" in row else ""), flush=True)
        obs, _ = env.reset(seed=100)
        with torch.no_grad():
            obs_1S = torch.as_tensor(np.asarray(obs, dtype=np.float32).reshape(1, -1))
            q_A = loop.module.usfa.act_sfs(obs_1S, torch.as_tensor(w_D, dtype=torch.float32).unsqueeze(0))[0] @ torch.as_tensor(w_D, dtype=torch.float32)
        print("Q(s0, a) = ψ(s0, a, w)·w per action:", np.round(q_A.numpy(), 3))
        if reference is not None:
            values = reference @ w_D
            print(f"reference front for w: best {values.max():.3f}, worst {values.min():.3f}")
        algo.stop()
    finally:
        ray.shutdown()

    if args.no_mlflow:
        return
    from mlflow.tracking import MlflowClient

    from actlab.tracking import ensure_experiment

    client = MlflowClient(args.tracking_uri)
    run = client.create_run(ensure_experiment(args.tracking_uri, "benchmarks"), run_name="okb_base_policy_probe",
                            tags={"actlab.kind": "benchmark", "env": args.env, "w": str(args.w)})
    client.log_dict(run.info.run_id, {**settings, "w": args.w, "steps": args.steps, "seed": args.seed}, "settings.json")
    for row in rows:
        for key in ("return", "length", "sf_loss", "epsilon", "normalised"):
            if key in row and np.isfinite(row[key]):
                client.log_metric(run.info.run_id, f"probe/{key}", float(row[key]), step=int(row["step"]))
    client.set_terminated(run.info.run_id)


if __name__ == "__main__":
    main()
