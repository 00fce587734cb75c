"""Tests of ``actlab report`` against a real MLflow SQLite store with hand-made trial runs.

Runs are written by hand following the MLflow contract (DESIGN.md), with known metric
histories, so every number the report prints can be checked against a hand computation.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from mlflow.entities import Metric, Param, ViewType
from mlflow.tracking import MlflowClient

from actlab.report import ConfigKey, ReportError, build_report, format_table
from actlab.reporting.stats import (
    bootstrap_mean_ci,
    clean_history,
    derive_rng,
    interpolate_to_grid,
    mean_ci,
)

EXPERIMENT = "gridworld-entropy"
ALGO = "ppo"
ENV = "actlab/GridWorld-v0"
CONFIGS = ("entropy_coeff=0.01", "entropy_coeff=0.1")
SEEDS = (0, 1, 2)
N_BOOT = 2000  # enough for stable percentiles, keeps the tests fast


# --------------------------------------------------------------------------- fixtures


@dataclass
class Store:
    """A tracking store with an experiment whose trial runs have known finals."""

    uri: str
    client: MlflowClient
    experiment_id: str
    root: Path
    #: (config, metric) -> finals in seed order.
    finals: dict[tuple[str, str], list[float]]


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated MLflow database, created once: migrations take about a second."""
    path = tmp_path_factory.mktemp("template") / "mlruns.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


def _store(empty_db: Path, root: Path) -> tuple[str, MlflowClient]:
    """A fresh copy of the empty database under ``root``."""
    db = root / "mlruns.db"
    shutil.copy(empty_db, db)
    uri = f"sqlite:///{db}"
    return uri, MlflowClient(uri)


def _log_trial(
    client: MlflowClient,
    experiment_id: str,
    config: str,
    seed: int,
    history: dict[str, list[tuple[int, float]]],
    status: str = "FINISHED",
    sweep: str = "sweep-1",
    kind: str | None = "trial",
    algorithm: str = ALGO,
    params: dict[str, str] | None = None,
) -> str:
    """Create one trial run following the contract; ``history`` maps metric -> [(env_steps, value)]."""
    tags = {
        "actlab.spec": "gridworld",
        "actlab.algorithm": algorithm,
        "actlab.env": ENV,
        "actlab.seed": str(seed),
        "actlab.sweep": sweep,
        "actlab.config": config,
        "actlab.git_sha": "0" * 40,
    }
    if kind is not None:
        tags["actlab.kind"] = kind
    run = client.create_run(experiment_id, run_name=f"{algorithm}-gridworld-{config}-s{seed}", tags=tags)
    run_id = run.info.run_id
    metrics = [
        Metric(key, value, 1_700_000_000_000 + i, step)
        for key, points in history.items()
        for i, (step, value) in enumerate(points)
    ]
    logged = {"algorithm.config.lr": "0.0003", "seed": str(seed), **(params or {})}
    client.log_batch(run_id, metrics=metrics, params=[Param(k, v) for k, v in logged.items()])
    if status != "RUNNING":
        client.set_terminated(run_id, status)
    return run_id


def _history(config_index: int, seed: int) -> dict[str, list[tuple[int, float]]]:
    """Known histories: each seed logs at slightly different env steps, as real runs do."""
    steps = [1000 + 10 * seed, 2000 + 10 * seed, 3000 + 5 * seed]
    base = 10.0 * (config_index + 1)
    ret = [base * (k + 1) + seed for k in range(3)]
    success = [min(1.0, 0.2 * (k + 1) + 0.1 * seed + 0.1 * config_index) for k in range(3)]
    return {
        "train/return_mean": list(zip(steps, ret)),
        "eval/test/success_rate": list(zip(steps, success)),
        "eval/validation/return_mean": list(zip(steps, [r - 1.0 for r in ret])),
        "best/test/success_rate": [(steps[-1], success[-1])],
        "ppo/policy_loss": list(zip(steps, [0.5, 0.4, 0.3])),
    }


@pytest.fixture
def store(empty_db: Path, tmp_path: Path) -> Store:
    """2 configurations x 3 seeds finished, plus runs the report must ignore."""
    uri, client = _store(empty_db, tmp_path)
    exp_id = client.create_experiment(EXPERIMENT, artifact_location=(tmp_path / "artifacts").as_uri())
    finals: dict[tuple[str, str], list[float]] = {}
    for ci, config in enumerate(CONFIGS):
        for seed in SEEDS:
            hist = _history(ci, seed)
            _log_trial(client, exp_id, config, seed, hist)
            for metric, points in hist.items():
                finals.setdefault((config, metric), []).append(points[-1][1])
    # Must be ignored: a failed trial, a running trial, and a non-trial run.
    _log_trial(client, exp_id, CONFIGS[0], 3, {"train/return_mean": [(1000, 999.0)]}, status="FAILED")
    _log_trial(client, exp_id, CONFIGS[0], 4, {"train/return_mean": [(1000, 777.0)]}, status="RUNNING")
    _log_trial(client, exp_id, CONFIGS[0], 5, {"train/return_mean": [(1000, 555.0)]}, kind="pretrain")
    return Store(uri=uri, client=client, experiment_id=exp_id, root=tmp_path, finals=finals)


def _naive_percentile_bootstrap(values: list[float], idx: np.ndarray, q_lo: float, q_hi: float) -> tuple[float, float]:
    """Textbook percentile bootstrap with explicit loops (independent of the implementation)."""
    n = len(values)
    means = []
    for row in idx:
        total = 0.0
        for i in row:
            total += values[i]
        means.append(total / n)
    means.sort()

    def percentile(q: float) -> float:
        # Linear interpolation between closest ranks ("linear" / type 7).
        pos = q / 100.0 * (len(means) - 1)
        low = int(np.floor(pos))
        high = min(low + 1, len(means) - 1)
        return means[low] + (means[high] - means[low]) * (pos - low)

    return percentile(q_lo), percentile(q_hi)


# --------------------------------------------------------------------------- unit: stats


def test_interpolate_to_grid_matches_hand_values() -> None:
    a = (np.array([0.0, 10.0, 20.0]), np.array([0.0, 1.0, 2.0]))
    b = (np.array([5.0, 15.0, 25.0]), np.array([10.0, 20.0, 30.0]))
    grid, matrix = interpolate_to_grid([a, b])
    # Only [max first, min last] = [5, 20] is covered by both; grid = union of steps in it.
    np.testing.assert_array_equal(grid, [5.0, 10.0, 15.0, 20.0])
    np.testing.assert_allclose(matrix[0], [0.5, 1.0, 1.5, 2.0])
    np.testing.assert_allclose(matrix[1], [10.0, 15.0, 20.0, 25.0])


def test_interpolate_to_grid_thins_and_handles_disjoint_ranges() -> None:
    steps = np.arange(0.0, 1001.0)
    grid, matrix = interpolate_to_grid([(steps, 2.0 * steps)], max_points=11)
    np.testing.assert_array_equal(grid, np.linspace(0.0, 1000.0, 11))
    np.testing.assert_allclose(matrix[0], 2.0 * grid)
    grid, matrix = interpolate_to_grid([(np.array([0.0, 1.0]), np.zeros(2)), (np.array([2.0, 3.0]), np.zeros(2))])
    assert grid.size == 0 and matrix.shape == (2, 0)


def test_clean_history_sorts_keeps_last_value_per_step_and_drops_nan() -> None:
    # Logging order: a resumed trial re-logs step 20 with a new value.
    steps, values = clean_history([10, 20, 30, 20, 40], [1.0, 2.0, 3.0, 2.5, float("nan")])
    np.testing.assert_array_equal(steps, [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(values, [1.0, 2.5, 3.0])


def test_bootstrap_matches_naive_loop() -> None:
    values = [0.1, 0.4, 0.35, 0.9, 0.55]
    lo, hi = bootstrap_mean_ci(values, 3000, np.random.default_rng(123))
    idx = np.random.default_rng(123).integers(0, len(values), size=(3000, len(values)))
    naive_lo, naive_hi = _naive_percentile_bootstrap(values, idx, 2.5, 97.5)
    assert float(lo) == pytest.approx(naive_lo, abs=1e-12)
    assert float(hi) == pytest.approx(naive_hi, abs=1e-12)


def test_curve_bootstrap_equals_pointwise_bootstrap() -> None:
    # A curve's band at each grid point is the scalar bootstrap with the same resamples.
    matrix = np.array([[0.0, 1.0, 5.0], [2.0, 1.5, 4.0], [4.0, 3.0, 1.0], [1.0, 0.0, 2.0]])
    lo, hi = bootstrap_mean_ci(matrix, 1000, np.random.default_rng(7))
    for j in range(matrix.shape[1]):
        lo_j, hi_j = bootstrap_mean_ci(matrix[:, j], 1000, np.random.default_rng(7))
        assert lo[j] == pytest.approx(float(lo_j), abs=1e-12)
        assert hi[j] == pytest.approx(float(hi_j), abs=1e-12)


def test_ci_properties() -> None:
    rng = np.random.default_rng(0)
    single = mean_ci([0.42], 1000, rng)
    assert (single.mean, single.lo, single.hi, single.n) == (0.42, 0.42, 0.42, 1)
    identical = mean_ci([3.0, 3.0, 3.0], 1000, rng)
    assert identical.lo == identical.mean == identical.hi == 3.0
    # More seeds with the same spread -> narrower interval.
    few = mean_ci([0.0, 1.0] * 2, 4000, np.random.default_rng(1))
    many = mean_ci([0.0, 1.0] * 20, 4000, np.random.default_rng(1))
    assert few.lo <= few.mean <= few.hi and many.lo <= many.mean <= many.hi
    assert many.hi - many.lo < few.hi - few.lo


# --------------------------------------------------------------------------- build_report


def test_report_means_and_cis(store: Store) -> None:
    report = build_report(EXPERIMENT, store.uri, store.root / "out", log_to_mlflow=False, n_boot=N_BOOT, seed=3)
    assert report.n_runs == 6
    assert report.configurations == [ConfigKey(ALGO, ENV, c) for c in CONFIGS]
    # Defaults: best/*, eval/*, train/return_mean; not the method's diagnostics.
    assert report.metrics == [
        "train/return_mean",
        "eval/validation/return_mean",
        "eval/test/success_rate",
        "best/test/success_rate",
    ]
    for config in CONFIGS:
        for metric in report.metrics:
            row = report.row(ConfigKey(ALGO, ENV, config), metric)
            assert row is not None
            finals = store.finals[(config, metric)]
            assert row.n == 3 and row.seeds == ("0", "1", "2")
            assert row.mean == np.mean(finals)
            assert min(finals) <= row.lo <= row.mean <= row.hi <= max(finals)
            # The documented stream: one Generator per (seed, algorithm, env, config, metric).
            lo, hi = bootstrap_mean_ci(finals, N_BOOT, derive_rng(3, ALGO, ENV, config, metric))
            assert (row.lo, row.hi) == (pytest.approx(float(lo)), pytest.approx(float(hi)))
    # Hand check of one final: config 0, train/return_mean finals are 30, 31, 32.
    assert report.row(ConfigKey(ALGO, ENV, CONFIGS[0]), "train/return_mean").mean == 31.0


def test_report_is_reproducible(store: Store) -> None:
    a = build_report(EXPERIMENT, store.uri, store.root / "a", log_to_mlflow=False, n_boot=N_BOOT, seed=0)
    b = build_report(EXPERIMENT, store.uri, store.root / "b", log_to_mlflow=False, n_boot=N_BOOT, seed=0)
    assert a.rows == b.rows


def test_bootstrap_streams_depend_on_seed_and_labels() -> None:
    # With 3 seeds the 95% interval is almost surely [min, max] whatever the seed, so seed
    # dependence is checked on more values.
    values = np.linspace(0.0, 1.0, 12) ** 2
    ci = lambda rng: tuple(float(x) for x in bootstrap_mean_ci(values, 500, rng))  # noqa: E731
    assert ci(derive_rng(0, "a", "m")) == ci(derive_rng(0, "a", "m"))
    assert ci(derive_rng(0, "a", "m")) != ci(derive_rng(1, "a", "m"))
    assert ci(derive_rng(0, "a", "m")) != ci(derive_rng(0, "b", "m"))


def test_summary_csv_and_table(store: Store) -> None:
    report = build_report(EXPERIMENT, store.uri, store.root / "out", log_to_mlflow=False, n_boot=N_BOOT)
    with (store.root / "out" / "summary.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(CONFIGS) * len(report.metrics)
    first = next(r for r in rows if r["config"] == CONFIGS[1] and r["metric"] == "eval/test/success_rate")
    assert float(first["mean"]) == np.mean(store.finals[(CONFIGS[1], "eval/test/success_rate")])
    assert int(first["n"]) == 3 and first["seeds"] == "0;1;2"
    assert float(first["lo"]) <= float(first["mean"]) <= float(first["hi"])

    table = format_table(report)
    for config in CONFIGS:
        assert config in table
    for group in ("[train]", "[eval/validation]", "[eval/test]", "[best/test]"):
        assert group in table
    # Algorithm and env are shared by all configurations: in the header, not as columns.
    assert f"algorithm: {ALGO}, env: {ENV}" in table
    assert "31.00 [30.00, 32.00]" in table  # config 0 train/return_mean over seeds 30, 31, 32
    assert (store.root / "out" / "summary.txt").read_text().startswith("actlab report")


def test_per_seed_csv_has_every_runs_finals(store: Store) -> None:
    report = build_report(EXPERIMENT, store.uri, store.root / "out", log_to_mlflow=False, n_boot=N_BOOT)
    assert store.root / "out" / "per_seed.csv" in report.files
    with (store.root / "out" / "per_seed.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    # The 6 finished trials only (not the failed, running or non-trial runs), in config then seed order.
    assert [(r["config"], r["seed"]) for r in rows] == [(c, str(s)) for c in CONFIGS for s in SEEDS]
    assert list(rows[0])[5:] == report.metrics
    for ci, config in enumerate(CONFIGS):
        for seed in SEEDS:
            row = next(r for r in rows if r["config"] == config and r["seed"] == str(seed))
            for metric, points in _history(ci, seed).items():
                if metric in report.metrics:
                    assert float(row[metric]) == points[-1][1]
            assert store.client.get_run(row["run_id"]).data.tags["actlab.seed"] == str(seed)


def test_learning_curve_pngs(store: Store) -> None:
    report = build_report(EXPERIMENT, store.uri, store.root / "out", log_to_mlflow=False, n_boot=N_BOOT)
    names = {p.name for p in report.files}
    expected = {
        "curves_train_return_mean.png",
        "curves_eval_validation_return_mean.png",
        "curves_eval_test_success_rate.png",
    }
    assert expected <= names
    assert not any(n.startswith("curves_best") for n in names)  # best/* are not curves
    for name in expected:
        data = (store.root / "out" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 10_000


def test_report_run_logged_and_ignored_next_time(store: Store) -> None:
    first = build_report(EXPERIMENT, store.uri, store.root / "r1", sweep="sweep-1", n_boot=N_BOOT)
    assert first.report_run_id is not None
    run = store.client.get_run(first.report_run_id)
    assert run.info.run_name.startswith("report-")
    assert run.info.status == "FINISHED"
    assert run.data.tags["actlab.kind"] == "report"
    assert run.data.tags["actlab.sweep"] == "sweep-1"
    artifacts = {a.path for a in store.client.list_artifacts(first.report_run_id)}
    assert {"summary.csv", "summary.txt", "per_seed.csv", "curves_train_return_mean.png"} <= artifacts
    assert artifacts == {p.name for p in first.files}

    second = build_report(EXPERIMENT, store.uri, store.root / "r2", n_boot=N_BOOT)
    assert second.n_runs == first.n_runs == 6
    assert second.rows == first.rows
    reports = store.client.search_runs([store.experiment_id], "tags.`actlab.kind` = 'report'")
    assert len(reports) == 2


def test_trial_runs_unchanged(store: Store) -> None:
    def snapshot() -> dict[str, tuple]:
        runs = store.client.search_runs([store.experiment_id], "", ViewType.ALL, max_results=1000)
        out = {}
        for r in runs:
            if r.data.tags.get("actlab.kind") == "report":
                continue
            histories = {
                k: sorted((m.step, m.value, m.timestamp) for m in store.client.get_metric_history(r.info.run_id, k))
                for k in r.data.metrics
            }
            out[r.info.run_id] = (
                r.info.status,
                r.info.end_time,
                r.info.lifecycle_stage,
                dict(r.data.tags),
                dict(r.data.params),
                histories,
                [a.path for a in store.client.list_artifacts(r.info.run_id)],
            )
        return out

    before = snapshot()
    build_report(EXPERIMENT, store.uri, store.root / "out", n_boot=N_BOOT)
    assert snapshot() == before


def test_single_seed_collapses_and_says_so(empty_db: Path, tmp_path: Path) -> None:
    uri, client = _store(empty_db, tmp_path)
    exp_id = client.create_experiment("solo", artifact_location=(tmp_path / "artifacts").as_uri())
    _log_trial(client, exp_id, "default", 0, _history(0, 0))
    _log_trial(client, exp_id, "lr=0.001", 0, _history(1, 0))
    _log_trial(client, exp_id, "lr=0.001", 1, _history(1, 1))
    report = build_report("solo", uri, tmp_path / "out", log_to_mlflow=False, n_boot=N_BOOT)
    row = report.row(ConfigKey(ALGO, ENV, "default"), "train/return_mean")
    assert (row.n, row.mean, row.lo, row.hi) == (1, 30.0, 30.0, 30.0)
    assert "30.00 (n=1, no CI)" in format_table(report)
    # Single-seed curves are still drawn (band collapses to the line).
    assert (tmp_path / "out" / "curves_train_return_mean.png").exists()

    # best/* curves on request: "default" logged it once (a point); the two seeds of
    # "lr=0.001" logged it at different single steps, so no common range exists.
    report = build_report(
        "solo", uri, tmp_path / "best", curve_metrics=["best/*"], log_to_mlflow=False, n_boot=N_BOOT
    )
    assert (tmp_path / "best" / "curves_best_test_success_rate.png").exists()
    assert any("disjoint env-step ranges" in w and "lr=0.001" in w for w in report.warnings)


def test_metric_selection_patterns_and_unknown_metric(store: Store) -> None:
    report = build_report(
        EXPERIMENT, store.uri, store.root / "out", metrics=["eval/*/success_rate", "ppo/policy_loss"],
        log_to_mlflow=False, n_boot=N_BOOT,
    )
    assert report.metrics == ["eval/test/success_rate", "ppo/policy_loss"]
    assert report.row(ConfigKey(ALGO, ENV, CONFIGS[0]), "ppo/policy_loss").mean == pytest.approx(0.3)
    with pytest.raises(ReportError, match="no run logged 'eval/test/return_max'.*available metrics"):
        build_report(EXPERIMENT, store.uri, store.root / "x", metrics=["eval/test/return_max"], log_to_mlflow=False)


def test_sweep_filter_and_duplicate_seeds(store: Store) -> None:
    # A second sweep re-runs seed 0 of config 0 with a different outcome.
    _log_trial(store.client, store.experiment_id, CONFIGS[0], 0, {"train/return_mean": [(3000, 100.0)]}, sweep="sweep-2")
    only2 = build_report(EXPERIMENT, store.uri, store.root / "s2", sweep="sweep-2", log_to_mlflow=False, n_boot=N_BOOT)
    assert only2.n_runs == 1 and only2.row(ConfigKey(ALGO, ENV, CONFIGS[0]), "train/return_mean").mean == 100.0
    only1 = build_report(EXPERIMENT, store.uri, store.root / "s1", sweep="sweep-1", log_to_mlflow=False, n_boot=N_BOOT)
    assert only1.n_runs == 6 and not only1.warnings
    pooled = build_report(EXPERIMENT, store.uri, store.root / "all", log_to_mlflow=False, n_boot=N_BOOT)
    # The newer run replaces seed 0 instead of counting twice.
    row = pooled.row(ConfigKey(ALGO, ENV, CONFIGS[0]), "train/return_mean")
    assert row.n == 3 and row.mean == np.mean([100.0, 31.0, 32.0])
    assert any("repeat a (configuration, seed)" in w for w in pooled.warnings)
    assert any("2 sweeps are pooled" in w for w in pooled.warnings)


def test_include_running(empty_db: Path, tmp_path: Path) -> None:
    uri, client = _store(empty_db, tmp_path)
    exp_id = client.create_experiment("live", artifact_location=(tmp_path / "artifacts").as_uri())
    _log_trial(client, exp_id, "default", 0, _history(0, 0), status="RUNNING")
    _log_trial(client, exp_id, "default", 1, _history(0, 1), status="FAILED")
    with pytest.raises(ReportError, match=r"no finished trial runs \(found 1 FAILED, 1 RUNNING\).*include_running"):
        build_report("live", uri, tmp_path / "out", log_to_mlflow=False)
    report = build_report("live", uri, tmp_path / "out", log_to_mlflow=False, include_running=True, n_boot=N_BOOT)
    assert report.n_runs == 1


def test_unknown_experiment_lists_existing(store: Store) -> None:
    with pytest.raises(ReportError) as err:
        build_report("gridworld-entropie", store.uri, store.root / "out", log_to_mlflow=False)
    message = str(err.value)
    assert "'gridworld-entropie' does not exist" in message
    assert "Did you mean 'gridworld-entropy'" in message
    assert "Existing experiments:" in message and "'Default'" in message


def test_experiment_without_trials(store: Store) -> None:
    store.client.create_experiment("empty", artifact_location=(store.root / "empty").as_uri())
    with pytest.raises(ReportError, match="'empty' has no trial runs"):
        build_report("empty", store.uri, store.root / "out", log_to_mlflow=False)
    with pytest.raises(ReportError, match="sweeps in this experiment: sweep-1"):
        build_report(EXPERIMENT, store.uri, store.root / "out", sweep="nope", log_to_mlflow=False)



# --------------------------------------------------------------------------- pooling and by-step


def test_pooled_experiments_count_each_seed_once_and_name_unlike_runs(store: Store) -> None:
    exp2 = store.client.create_experiment("gridworld-entropy-more", artifact_location=(store.root / "a2").as_uri())
    for seed in (3, 4):
        _log_trial(store.client, exp2, CONFIGS[0], seed, _history(0, seed), sweep="sweep-2")
    # Seed 0 again, later: replaces the first experiment's seed 0 instead of counting twice.
    _log_trial(store.client, exp2, CONFIGS[0], 0, {"train/return_mean": [(3000, 100.0)]}, sweep="sweep-2")
    # Config 1 gains a seed whose learning rate differs: pooled, but named in a warning.
    _log_trial(store.client, exp2, CONFIGS[1], 7, _history(1, 7), sweep="sweep-2", params={"algorithm.config.lr": "0.001"})

    report = build_report([EXPERIMENT, "gridworld-entropy-more"], store.uri, store.root / "pool", n_boot=N_BOOT)
    assert report.experiment == "gridworld-entropy + gridworld-entropy-more"
    assert report.experiments == [EXPERIMENT, "gridworld-entropy-more"]
    assert report.experiment_id == store.experiment_id
    row0 = report.row(ConfigKey(ALGO, ENV, CONFIGS[0]), "train/return_mean")
    finals0 = [100.0, 31.0, 32.0] + [_history(0, s)["train/return_mean"][-1][1] for s in (3, 4)]
    assert row0.seeds == ("0", "1", "2", "3", "4") and row0.mean == pytest.approx(np.mean(finals0))
    row1 = report.row(ConfigKey(ALGO, ENV, CONFIGS[1]), "train/return_mean")
    assert row1.seeds == ("0", "1", "2", "7")
    assert any("2 experiments are pooled" in w for w in report.warnings)
    assert any("repeat a (configuration, seed)" in w for w in report.warnings)
    mismatch = [w for w in report.warnings if "besides the seed" in w]
    # Only config 1 differs (in lr); the seed param, which always differs, is not reported.
    assert len(mismatch) == 1 and CONFIGS[1] in mismatch[0]
    assert "algorithm.config.lr (0.0003, 0.001)" in mismatch[0] and "seed (" not in mismatch[0]
    run = store.client.get_run(report.report_run_id)
    assert run.info.experiment_id == store.experiment_id
    assert run.data.tags["actlab.report_experiments"] == "gridworld-entropy,gridworld-entropy-more"
    # One experiment alone is unaffected by the other's runs.
    alone = build_report(EXPERIMENT, store.uri, store.root / "alone", log_to_mlflow=False, n_boot=N_BOOT)
    assert alone.n_runs == 6 and not alone.warnings


def test_pooled_experiments_with_an_unknown_name_fail_before_reading(store: Store) -> None:
    with pytest.raises(ReportError, match="'gridworld-entropie' does not exist.*Did you mean 'gridworld-entropy'"):
        build_report([EXPERIMENT, "gridworld-entropie"], store.uri, store.root / "out")
    # Nothing was logged: no report run in the existing experiment.
    assert not store.client.search_runs([store.experiment_id], "tags.`actlab.kind` = 'report'")
    with pytest.raises(ReportError, match="no experiment given"):
        build_report([], store.uri, store.root / "out")


def _iteration_store(empty_db: Path, root: Path) -> tuple[str, MlflowClient, dict[int, list[float]]]:
    """OKB-like runs: one value per basis iteration at 10k, 20k, 30k env steps; seed 3 stops after 20k."""
    uri, client = _store(empty_db, root)
    exp_id = client.create_experiment("basis", artifact_location=(root / "artifacts").as_uri())
    values = {0: [-1.0, 0.2, 0.3], 1: [0.5, 0.1, 0.4], 2: [-0.2, 0.3, 0.35], 3: [0.0, 0.25]}
    for seed, vals in values.items():
        hist = {"basis/mean_normalised_return": [(10_000 * (k + 1), v) for k, v in enumerate(vals)]}
        status = "FINISHED"
        _log_trial(client, exp_id, "default", seed, hist, status=status, algorithm="okb")
    return uri, client, values


def test_by_step_table_against_hand_means(empty_db: Path, tmp_path: Path) -> None:
    uri, _, values = _iteration_store(empty_db, tmp_path)
    metric = "basis/mean_normalised_return"
    report = build_report("basis", uri, tmp_path / "out", metrics=[metric], log_to_mlflow=False, n_boot=N_BOOT, by_step=True)
    assert [(r.step, r.n) for r in report.step_rows] == [(10_000, 4), (20_000, 4), (30_000, 3)]
    for k, row in enumerate(report.step_rows):
        at_k = [vals[k] for vals in values.values() if len(vals) > k]
        assert row.mean == pytest.approx(np.mean(at_k))
        rng = derive_rng(0, "okb", ENV, "default", metric, "step", repr(float(10_000 * (k + 1))))
        expected = mean_ci(at_k, N_BOOT, rng)
        assert (row.lo, row.hi) == (pytest.approx(expected.lo), pytest.approx(expected.hi))
        assert min(at_k) <= row.lo <= row.mean <= row.hi <= max(at_k)
    with (tmp_path / "out" / "by_step.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["env_steps"], r["n"]) for r in rows] == [("10000", "4"), ("20000", "4"), ("30000", "3")]
    assert float(rows[0]["mean"]) == pytest.approx(np.mean([-1.0, 0.5, -0.2, 0.0]))
    table = format_table(report)
    assert "[basis] by env step" in table and "by_step.csv" in table
    # Each step's row carries its own seed count; the final-value table uses each seed's
    # last value (seed 3's is its 20k value).
    step_lines = table.split("by env step")[1].splitlines()
    assert [line.split()[1:3] for line in step_lines if line.startswith("default")] == [
        ["10000", "4"], ["20000", "4"], ["30000", "3"]
    ]
    assert report.row(ConfigKey("okb", ENV, "default"), metric).mean == pytest.approx(np.mean([0.3, 0.4, 0.35, 0.25]))
    # Without by_step nothing of it is computed or written.
    plain = build_report("basis", uri, tmp_path / "plain", metrics=[metric], log_to_mlflow=False, n_boot=N_BOOT)
    assert plain.step_rows == [] and not (tmp_path / "plain" / "by_step.csv").exists()


def test_cli_reports_several_experiments_by_step(empty_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from actlab.cli import main

    uri, client, _ = _iteration_store(empty_db, tmp_path)
    exp2 = client.create_experiment("basis-more", artifact_location=(tmp_path / "a2").as_uri())
    _log_trial(client, exp2, "default", 4, {"basis/mean_normalised_return": [(10_000, 0.1)]}, algorithm="okb")
    out = tmp_path / "cli"
    code = main(["report", "basis", "basis-more", "--tracking-uri", uri, "--out", str(out), "--no-log",
                 "--metric", "basis/*", "--by-step"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "experiment 'basis + basis-more'" in printed and "by env step" in printed
    assert (out / "by_step.csv").exists()
    # Five seeds logged 10k (four from 'basis', one from 'basis-more'), four logged 20k.
    step_rows = [line.split()[:3] for line in printed.split("by env step")[1].splitlines() if line.startswith("default")]
    assert step_rows[:2] == [["default", "10000", "5"], ["default", "20000", "4"]]
