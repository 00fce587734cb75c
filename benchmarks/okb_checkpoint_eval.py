"""Re-evaluate OKB checkpoints on their test tasks: the OK with and without the GPI guard, and GPI.

For every ``checkpoint_NNNNNN`` directory given (of ``okb`` / ``okb-uniform`` trials written by
``actlab run``), restores the trial's Algorithm and runs its own test-task evaluation
(:meth:`rllib_modules.okb.basis.BasisLoop.evaluate`, the same evaluation seeds as in the run),
which reports, over the same basis Π,

- ``omega``: the OK of OKB Eq. 7, z = ω(s, w);
- ``guarded``: the OK with the GPI guard (``ok_gpi_guard``: ω(s, w) only where the meta-critic rates
  it at least as high as GPI's w/||w||; not in the paper);
- ``gpi``: GPI over Π (the OK with z = w).

With ``--base-policies``, also each base policy π_j of the checkpoint's basis on its own task w_j:
the value the algorithms work with, w_j·ψ^{π_j} from the USFA at the initial states (the loop's
``state.base_sf``, from :meth:`~rllib_modules.okb.basis.BasisLoop.base_sf_vectors`), beside the value measured by greedy
rollouts (:meth:`~rllib_modules.okb.basis.BasisLoop.rollout_sf_vectors`) and the mean episode
length. On Minecart a greedy base policy that idles at the base runs the full 1000 steps while ψ
predicts ore (README, "Why the idle drops").

The value the trial logged for that iteration (``basis/mean_normalised_return``, read from the
trial's ``result.json``) is printed beside them: for runs made before the guard existed it must
equal ``omega`` (the re-evaluation is deterministic), which checks the restore. This is how the
checkpoints of runs made without the guard can be asked what it would have done.

Run:  .venv/bin/python benchmarks/okb_checkpoint_eval.py actlab_results/<sweep>/okb-*/checkpoint_00000[34]
      [--csv out.csv] [--base-policies [--episodes 3]]      (~20 s per checkpoint on Minecart, one core)

Expect a last column of zeros (the re-evaluated OK equals the logged value). On Minecart the
guard was measured to hurt more often than it helps (README, "GPI guard"); e.g. seed 6's
iteration-5 checkpoint of ``okb_minecart_utd4_twin_s678``: logged 0.236 = omega 0.236, guarded
0.205, GPI −0.064. With ``--base-policies`` on the laptop spec's seed-10 iteration-3 checkpoint
(an idle drop): the uniform task's policy estimated 0.082, measured −0.333 over 1000 steps (it
idles at the base), ~1 min per checkpoint.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np


def logged_metric(trial_dir: Path, iteration: int, key: str) -> float:
    """``key`` of the trial's ``result.json`` row for ``iteration`` (1-based), NaN if absent."""
    for line in (trial_dir / "result.json").read_text().splitlines():
        row = json.loads(line)
        if int(row.get("training_iteration", -1)) == iteration:
            return float(row.get(key, np.nan))
    return float("nan")


def print_base_policies(loop, episodes: int) -> None:
    """One line per base policy π_j: w_j, the USFA's w_j·ψ^{π_j}, the measured one, episode length."""
    base_KD = np.asarray(loop.state.base_weights)
    estimated_KD = np.asarray(loop.state.base_sf)  # the loop's own estimates (base_sf_vectors after NewPolicy)
    measured_KD, length_K = loop.rollout_sf_vectors(base_KD, episodes=episodes)
    for w_D, est_D, meas_D, length in zip(base_KD, estimated_KD, measured_KD, length_K):
        w = "(" + ", ".join(f"{x:.2f}" for x in w_D) + ")"
        print(
            f"{'':<6}π at w={w:<20} estimated w·ψ {float(w_D @ est_D):>7.3f}   measured {float(w_D @ meas_D):>7.3f}"
            f"   ψ measured {np.round(meas_D, 2)}   length {length:.0f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", type=Path, nargs="+", help="checkpoint_NNNNNN directories of okb trials")
    parser.add_argument("--csv", type=Path, default=None, help="also write the table here")
    parser.add_argument("--base-policies", action="store_true", help="also each base policy: estimated vs measured value")
    parser.add_argument("--episodes", type=int, default=3, help="greedy rollouts per base policy (--base-policies)")
    args = parser.parse_args()

    import ray

    from rllib_modules.okb.build import restore_trial_checkpoint

    # A private local Ray, so a sweep running on this machine is neither joined nor disturbed.
    ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)
    metric = "mean_normalised_return"
    rows: list[dict[str, object]] = []
    header = f"{'trial':<34} {'seed':>4} {'it':>3} {'|Π|':>3} {'logged':>8} {'omega':>8} {'guarded':>8} {'gpi':>8} {'omega-logged':>12}"
    print(header)
    print("-" * len(header))
    for checkpoint in args.checkpoints:
        algo, trial = restore_trial_checkpoint(checkpoint)
        try:
            loop = algo.basis_loop
            iteration = int(loop.state.iteration)
            out = loop.evaluate(compare_gpi_guard=True)
            logged = logged_metric(checkpoint.resolve().parent, iteration, f"basis/{metric}")
            row = {
                "trial": checkpoint.resolve().parent.name,
                "seed": int(trial["seed"]),
                "iteration": iteration,
                "num_base": len(loop.state.base_weights),
                "logged": logged,
                "omega": out.get(f"omega_{metric}", np.nan),
                "guarded": out.get(f"guarded_{metric}", np.nan),
                "gpi": out.get(f"gpi_{metric}", np.nan),
            }
            print(
                f"{row['trial']:<34} {row['seed']:>4} {row['iteration']:>3} {row['num_base']:>3} {row['logged']:>8.3f} "
                f"{row['omega']:>8.3f} {row['guarded']:>8.3f} {row['gpi']:>8.3f} {row['omega'] - row['logged']:>12.2e}",
                flush=True,
            )
            if args.base_policies:
                print_base_policies(loop, args.episodes)
        finally:
            algo.stop()
        rows.append(row)
    if len(rows) > 1:
        mean = {k: float(np.mean([r[k] for r in rows])) for k in ("logged", "omega", "guarded", "gpi")}
        print("-" * len(header))
        print(f"{'mean':<34} {'':>4} {'':>3} {'':>3} " + " ".join(f"{mean[k]:>8.3f}" for k in mean))
        wins = sum(r["guarded"] > r["omega"] for r in rows), sum(r["guarded"] < r["omega"] for r in rows)
        print(f"guarded above / below omega: {wins[0]} / {wins[1]} of {len(rows)}")
    if args.csv is not None:
        with args.csv.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    ray.shutdown()


if __name__ == "__main__":
    main()
