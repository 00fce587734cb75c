"""Nearest-item lookups per second at 10k / 100k / 500k items, per backend (thesis Ch.4 §4.3.2, §D.4).

Every backend of :mod:`rllib_modules.common.nearest_item` (exact: ``torch`` chunked, also with
the old 65536-row chunks, and ``faiss_flat``; approximate: ``faiss_ivf``, ``faiss_hnsw`` with
their default knobs) on the item table of ``actlab/LargeRecommender-v0`` (``--items recsim``,
30-d GMM items; ``--items gaussian``: N(0, I) items) with batches of proto-actions drawn
uniformly in the action box [-1, 1]^D (what an actor may output anywhere; the hard case for
approximate search). One torch thread and one FAISS thread, CPU. Prints, per size and backend:
the build time, lookups/s (batch / the fastest of ``--repeats`` timed batches: the machine this
runs on is shared, and the fastest batch is the least disturbed one), and the recall of the
approximate backends against the exact answer, for the uniform queries and for queries near
items (an item + N(0, 0.1²) per coordinate: a trained actor's outputs); logs it to MLflow.

Run:  .venv/bin/python benchmarks/nearest_item_lookup.py [--batch 256] [--sizes 10000 100000 500000]

Measured on the 2-CPU development machine, shared with other jobs (load average 4-12 on 2
cores, so absolute rates are pessimistic and vary by up to 2x between runs), batch 256, recsim
items, default knobs (IVF nprobe 64; HNSW M 32, efSearch 64 -- its row is from an earlier run):

    items    backend      build s  lookups/s  recall uniform  recall near
    10,000   torch          0.00     39,725     exact           exact
    10,000   torch/65536    0.00     31,952     exact           exact
    10,000   faiss_flat     0.10      7,194     exact           exact
    10,000   faiss_ivf      0.12     20,812     1.000           1.000
    10,000   faiss_hnsw     0.35     32,265     0.652           0.997
    100,000  torch          0.01      2,031     exact           exact
    100,000  torch/65536    0.01      1,352     exact           exact
    100,000  faiss_flat     0.00        574     exact           exact
    100,000  faiss_ivf      1.20     13,097     0.986           1.000
    100,000  faiss_hnsw    53.95      2,289     0.596           0.973
    500,000  torch          0.01      1,018     exact           exact
    500,000  torch/65536    0.01        530     exact           exact
    500,000  faiss_flat     0.01        300     exact           exact
    500,000  faiss_ivf      3.62      3,697     0.935           0.998
    500,000  faiss_hnsw   430.89      2,158     0.516           0.943

A lighter-loaded run gave torch 52,708 / 5,115 / 1,074 and torch/65536 52,173 / 2,539 / 504
lookups/s (the previous default chunk; issue #4 measured 52,711 / 2,637 / 473), faiss_flat
16,327 / 1,626 / 291, and IVF with nprobe 32 59,440 / 20,911 / 8,580 at recall (uniform)
0.997 / 0.929 / 0.813. Exact search is O(N·D) per query whichever library does it, and FAISS's
flat scan was slower than torch's chunked matrix products here, so ``auto`` keeps torch for
exact search (4096-row chunks: 2x the old 65536 at 100k-500k items) and switches to IVF above
2e4 items on CPUs. HNSW is not worth it here: minutes to build at 500k, poor recall for
proto-actions away from the items.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from rllib_modules.common.nearest_item import EXACT_BACKENDS, NearestItemSettings, make_nearest_item_index

ROOT = Path(__file__).resolve().parents[1]

#: (label, settings) per backend measured.
BACKENDS: list[tuple[str, NearestItemSettings]] = [
    ("torch", NearestItemSettings(backend="torch")),
    ("torch/65536", NearestItemSettings(backend="torch", chunk_size=65536)),
    ("faiss_flat", NearestItemSettings(backend="faiss_flat")),
    ("faiss_ivf", NearestItemSettings(backend="faiss_ivf")),
    ("faiss_hnsw", NearestItemSettings(backend="faiss_hnsw")),
]


def item_table(kind: str, n_items: int, dim: int) -> np.ndarray:
    if kind == "recsim":
        from envs.large_recommender import LargeRecommenderConfig, get_item_table

        return get_item_table(LargeRecommenderConfig(num_items=n_items, embedding_dim=dim)).vectors
    return np.random.default_rng(0).standard_normal((n_items, dim), dtype=np.float32)


def lookups_per_s(index, queries_BD: torch.Tensor, repeats: int) -> float:
    index.query(queries_BD)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        index.query(queries_BD)
        best = min(best, time.perf_counter() - started)
    return queries_BD.shape[0] / best


def measure(n_items: int, args: argparse.Namespace, backends: list[tuple[str, NearestItemSettings]]) -> list[dict]:
    items_ND = item_table(args.items, n_items, args.dim)
    gen = torch.Generator().manual_seed(0)
    uniform_BD = torch.rand(args.batch, args.dim, generator=gen) * 2 - 1
    rows = torch.randint(n_items, (args.recall_queries,), generator=gen)
    near_QD = (torch.from_numpy(items_ND[rows.numpy()]) + 0.1 * torch.randn(args.recall_queries, args.dim, generator=gen)).clamp(-1, 1)
    recall_uniform_QD = torch.rand(args.recall_queries, args.dim, generator=gen) * 2 - 1
    exact = make_nearest_item_index(items_ND, NearestItemSettings(backend="torch"))
    truth = {"uniform": exact.query(recall_uniform_QD)[0], "near": exact.query(near_QD)[0]}
    out = []
    for label, settings in backends:
        started = time.perf_counter()
        index = make_nearest_item_index(items_ND, settings)
        build_s = time.perf_counter() - started
        rate = lookups_per_s(index, uniform_BD, args.repeats)
        row = {"items": n_items, "backend": label, "build_s": build_s, "lookups_per_s": rate}
        if settings.backend not in EXACT_BACKENDS:
            for kind, queries in (("uniform", recall_uniform_QD), ("near", near_QD)):
                row[f"recall_{kind}"] = (index.query(queries)[0] == truth[kind]).double().mean().item()
        out.append(row)
        print(f"{n_items:>10,} {label:<12}{build_s:>9.2f}{rate:>12,.0f}"
              f"{row.get('recall_uniform', float('nan')):>10.3f}{row.get('recall_near', float('nan')):>10.3f}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 500_000])
    parser.add_argument("--dim", type=int, default=30)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5, help="timed batches per backend (the fastest counts)")
    parser.add_argument("--recall-queries", type=int, default=2000)
    parser.add_argument("--items", choices=["recsim", "gaussian"], default="recsim")
    parser.add_argument("--backends", nargs="+", default=[label for label, _ in BACKENDS],
                        help="subset of: " + " ".join(label for label, _ in BACKENDS))
    parser.add_argument("--tracking-uri", default=f"sqlite:///{ROOT}/mlruns.db")
    args = parser.parse_args()
    torch.set_num_threads(1)  # FAISS follows torch's thread count (NearestItemSettings.threads=None)
    backends = [(label, s) for label, s in BACKENDS if label in args.backends]
    print(f"\nNearest-item lookups ({args.items} items, {args.dim}-d, batches of {args.batch} uniform queries, 1 thread)")
    print(f"{'items':>10} {'backend':<12}{'build s':>9}{'lookups/s':>12}{'recall_u':>10}{'recall_n':>10}")
    results = [row for n in args.sizes for row in measure(n, args, backends)]

    from mlflow.tracking import MlflowClient

    from actlab.tracking import ensure_experiment

    client = MlflowClient(args.tracking_uri)
    run = client.create_run(ensure_experiment(args.tracking_uri, "benchmarks"), run_name="nearest_item_lookup",
                            tags={"actlab.kind": "benchmark", "items": args.items, "batch": str(args.batch)})
    for row in results:
        name = f"{row['backend'].replace('/', '_')}_{row['items']}"
        for key in ("lookups_per_s", "build_s", "recall_uniform", "recall_near"):
            if key in row:
                client.log_metric(run.info.run_id, f"{key}/{name}", row[key])
    client.set_terminated(run.info.run_id)


if __name__ == "__main__":
    main()
