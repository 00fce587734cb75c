"""Q-landscape plots (thesis Fig. 4.9 style) of a finished SAVO run, logged to that MLflow run.

Loads the run's module (best checkpoint if it has one, else the final one), visits a few
states of its environment (``--states``, reached by ``--warmup`` steps of the agent's own
greedy policy from seeded resets), plots Q_1 and each surrogate Ψ̂_i along every action
dimension through μ(s) with each actor's proposal marked, and logs the PNGs under
``q_landscape/`` of the run.

Run:  .venv/bin/python benchmarks/savo_q_landscape.py --experiment ch4_restricted_mujoco [--run-id ID]
Expect: on restricted tasks Q(s, ·) has several modes; a successive actor often sits on a
higher mode than μ, and the maximizer (star) picks it.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import gymnasium as gym
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", default=f"sqlite:///{ROOT}/mlruns.db")
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--run-id", default=None, help="default: the newest finished savo run of the experiment")
    parser.add_argument("--states", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()

    from mlflow.tracking import MlflowClient
    from ray.rllib.core.rl_module.rl_module import RLModule

    import envs  # noqa: F401
    from actlab.init_from import module_checkpoint_of_run
    from rllib_modules.savo.landscape import landscape_data, plot_landscape

    client = MlflowClient(args.tracking_uri)
    if args.run_id:
        run = client.get_run(args.run_id)
    else:
        exp = client.get_experiment_by_name(args.experiment)
        runs = client.search_runs([exp.experiment_id], "tags.`actlab.algorithm` = 'savo' and attributes.status = 'FINISHED'",
                                  order_by=["attributes.start_time DESC"], max_results=1)
        if not runs:
            raise SystemExit(f"no finished savo run in {args.experiment}")
        run = runs[0]
    path = module_checkpoint_of_run(run.data.tags, "best")
    if path is None or not path.is_dir():
        path = module_checkpoint_of_run(run.data.tags, "final")
    module = RLModule.from_checkpoint(str(path))
    env = gym.make(run.data.tags["actlab.env"])
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.states):
            obs, _ = env.reset(seed=k)
            for _ in range(args.warmup):
                action = module.acting_action(module.flat_obs(__import__("torch").as_tensor(obs)[None]))[0].detach().numpy()
                low, high = env.action_space.low, env.action_space.high
                obs, _, term, trunc, _ = env.step(low + (action + 1) * 0.5 * (high - low))
                if term or trunc:
                    obs, _ = env.reset(seed=1000 + k)
            for dim in range(module.action_dim):
                data = landscape_data(module, np.asarray(obs, np.float32), dim=dim)
                png = plot_landscape(data, Path(tmp) / f"state{k}_dim{dim}.png", dim=dim,
                                     title=f"{run.data.tags.get('actlab.algorithm', 'savo')} on {run.data.tags.get('actlab.env', '')}, seed {run.data.tags.get('actlab.seed', '?')}: state {k}")
                client.log_artifact(run.info.run_id, str(png), "q_landscape")
                print(f"state {k} dim {dim}: candidate Q {np.round(data['candidate_q'], 3)}, chosen {int(data['chosen'])}")
    print(f"logged q_landscape/*.png to run {run.info.run_id}")


if __name__ == "__main__":
    main()
