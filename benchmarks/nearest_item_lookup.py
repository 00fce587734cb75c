"""1-NN lookups per second at 10k / 100k / 500k items (issue #4: large discrete action spaces).

Exact chunked lookup (:class:`rllib_modules.common.nearest_item.NearestItemIndex`) of a batch
of continuous actions among N random item representations (30-d, the thesis' RecSim action
dimension, T-AppC Table C.1), one torch thread, CPU; prints a table and logs it to MLflow.

Run:  .venv/bin/python benchmarks/nearest_item_lookup.py [--batch 256] [--dim 30]
Expect on a 2-CPU laptop: ~1e5 lookups/s at 10k items, ~1e4 at 100k, ~2e3 at 500k
(the cost is linear in N: one (B x D) x (D x N) product per lookup batch).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from rllib_modules.common.nearest_item import NearestItemIndex

ROOT = Path(__file__).resolve().parents[1]


def lookups_per_s(n_items: int, dim: int, batch: int, repeats: int) -> float:
    gen = torch.Generator().manual_seed(0)
    index = NearestItemIndex(torch.randn(n_items, dim, generator=gen))
    queries = torch.randn(batch, dim, generator=gen)
    index.query(queries)  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        index.query(queries)
    return batch * repeats / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 500_000])
    parser.add_argument("--dim", type=int, default=30)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--tracking-uri", default=f"sqlite:///{ROOT}/mlruns.db")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {n: lookups_per_s(n, args.dim, args.batch, repeats=max(3, 2_000_000 // n)) for n in args.sizes}
    print(f"\nExact 1-NN lookups ({args.dim}-d items, batches of {args.batch}, 1 thread)")
    print(f"{'items':>10}{'lookups/s':>14}{'ms per batch':>14}")
    for n, rate in results.items():
        print(f"{n:>10,}{rate:>14,.0f}{args.batch / rate * 1e3:>14.2f}")

    from mlflow.tracking import MlflowClient

    from actlab.tracking import ensure_experiment

    client = MlflowClient(args.tracking_uri)
    run = client.create_run(ensure_experiment(args.tracking_uri, "benchmarks"), run_name="nearest_item_lookup",
                            tags={"actlab.kind": "benchmark"})
    for n, rate in results.items():
        client.log_metric(run.info.run_id, f"lookups_per_s_{n}", rate)
    client.set_terminated(run.info.run_id)


if __name__ == "__main__":
    main()
