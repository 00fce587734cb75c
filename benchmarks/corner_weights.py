"""Time to compute corner weights (OKB Def. F.1) for d = 2..8 and growing numbers of SF vectors.

Each cell enumerates the vertices of OKB Eq. 22 with
:func:`rllib_modules.okb.linear_support.corner_weights` (pycddlib, double description, float)
for n random SF vectors on the positive part of the unit sphere, ψ_i = |u_i| / ||u_i||, u_i ~ N(0, I):
every such vector is the exclusive maximiser around w ∝ ψ_i, so the whole set is a CCS, the
worst case for the number of corners (which can grow exponentially with d, OKB App. F.1).
Prints wall and process-CPU milliseconds per call (medians over repeats) and the number of
corners m; a row stops growing n once a call takes longer than ``--max-seconds``. Logs the
tables to MLflow (experiment "benchmarks", run "corner_weights") unless ``--no-mlflow``.

Run:  .venv/bin/python benchmarks/corner_weights.py [--dims 2 3 4 5 6 7 8] [--sizes 2 4 8 16 32 64 128]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from rllib_modules.okb.linear_support import corner_weights

ROOT = Path(__file__).resolve().parents[1]


def random_ccs(n: int, d: int, seed: int) -> np.ndarray:
    u_ND = np.abs(np.random.default_rng(seed).normal(size=(n, d)))
    return u_ND / np.linalg.norm(u_ND, axis=1, keepdims=True)


def time_corner_weights(n: int, d: int, budget_s: float) -> tuple[float, float, int]:
    """Median wall and process-CPU seconds per call over up to 5 calls (fewer when slow), and the
    number of corners. CPU time is the steadier figure on a shared machine."""
    psi_ND = random_ccs(n, d, seed=1000 * d + n)
    walls: list[float] = []
    cpus: list[float] = []
    m = 0
    while len(walls) < 5 and sum(walls) < budget_s:
        wall, cpu = time.perf_counter(), time.process_time()
        m = len(corner_weights(psi_ND))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3, 4, 5, 6, 7, 8])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64, 128])
    parser.add_argument("--max-seconds", type=float, default=3.0, help="stop growing n after a call this slow")
    parser.add_argument("--tracking-uri", default=f"sqlite:///{ROOT}/mlruns.db")
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()

    results: dict[tuple[int, int], tuple[float, float, int]] = {}
    for d in args.dims:
        for n in args.sizes:
            results[d, n] = time_corner_weights(n, d, budget_s=args.max_seconds)
            if results[d, n][0] > args.max_seconds:
                break

    label = "d \\ n"
    for title, column, fmt in (("wall ms per call", 0, "{:.1f}"), ("CPU ms per call", 1, "{:.1f}"),
                               ("number of corners m", 2, "{:d}")):
        print(f"\nCorner weights (pycddlib, float), random CCS sets: {title}; '-' = skipped (too slow)")
        print(f"{label:>6}" + "".join(f"{n:>10}" for n in args.sizes))
        for d in args.dims:
            cells = [
                fmt.format(results[d, n][column] * (1e3 if column < 2 else 1)) if (d, n) in results else "-"
                for n in args.sizes
            ]
            print(f"{d:>6}" + "".join(f"{c:>10}" for c in cells))

    if args.no_mlflow:
        return
    from mlflow.tracking import MlflowClient

    from actlab.tracking import ensure_experiment

    client = MlflowClient(args.tracking_uri)
    run = client.create_run(ensure_experiment(args.tracking_uri, "benchmarks"), run_name="corner_weights",
                            tags={"actlab.kind": "benchmark"})
    for (d, n), (wall, cpu, m) in results.items():
        client.log_metric(run.info.run_id, f"corner_weights_ms_d{d}_n{n}", wall * 1e3)
        client.log_metric(run.info.run_id, f"corner_weights_cpu_ms_d{d}_n{n}", cpu * 1e3)
        client.log_metric(run.info.run_id, f"corner_weights_m_d{d}_n{n}", m)
    client.set_terminated(run.info.run_id)


if __name__ == "__main__":
    main()
