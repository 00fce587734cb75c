"""``actlab report``: aggregate the trial runs of an experiment into tables and curves.

Reads only MLflow (see the MLflow contract in DESIGN.md): one run per trial tagged
``actlab.kind=trial`` with ``actlab.algorithm``, ``actlab.env``, ``actlab.config`` (grid
point without the seed), ``actlab.seed`` and ``actlab.sweep``; metrics logged with
``step = env_steps``. A *configuration* is ``(algorithm, env, config)``; its seeds are
the replicates that means and confidence intervals are taken over.

What a report contains:

* per configuration and metric, the final value of each seed (the value logged at the
  largest env step), their mean and a 95% percentile-bootstrap CI of the mean;
* a fixed-width table of those (one block per metric group, e.g. ``eval/test``);
* one learning-curve PNG per metric: mean over seeds and bootstrap band on a common
  env-step grid; a run that continued an earlier one (``init_from.module: continue``)
  is drawn with its source's history first, from env step 0;
* ``per_seed.csv``: the final value of every metric for every trial run (one row per
  run), for per-seed tables and for analyses the summary does not make;
* optionally (``by_step``), the mean and CI at every env step the seeds logged, as a table
  and ``by_step.csv``: for metrics logged a few times per run, such as OKB's ``basis/*``
  once per basis iteration, this is the per-iteration table a paper figure plots;
* ``summary.csv`` / ``summary.txt`` and the PNGs in ``out_dir``, and optionally one new
  MLflow run ``report-<timestamp>`` (``actlab.kind=report``) holding them as artifacts.
  Existing runs are only read, never modified; report runs are skipped when reading.

Several experiments can be reported together (seeds run in batches under different names):
their trial runs are pooled by configuration, and a warning names every parameter in which
the pooled runs of one configuration differ, so that unlike runs are not averaged unnoticed.
"""

from __future__ import annotations

import csv
import difflib
import fnmatch
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from mlflow.entities import Experiment, Param, Run, ViewType
from mlflow.entities.lifecycle_stage import LifecycleStage
from mlflow.tracking import MlflowClient

from actlab.reporting.plots import Curve, plot_curves
from actlab.reporting.stats import (
    CONFIDENCE,
    MeanCI,
    bootstrap_mean_ci,
    clean_history,
    derive_rng,
    interpolate_to_grid,
    mean_ci,
)

__all__ = [
    "ConfigKey",
    "Report",
    "ReportError",
    "StepRow",
    "SummaryRow",
    "build_report",
    "default_metric",
    "format_table",
    "run_history",
]

# Tag names of the MLflow contract (DESIGN.md). Spelled out here rather than imported so
# that the report depends on the contract, not on the runner's implementation.
TAG_SPEC = "actlab.spec"
TAG_ALGORITHM = "actlab.algorithm"
TAG_ENV = "actlab.env"
TAG_SEED = "actlab.seed"
TAG_SWEEP = "actlab.sweep"
TAG_CONFIG = "actlab.config"
TAG_KIND = "actlab.kind"
#: A run that continued another run's training (``init_from.module: continue``) names it here.
TAG_INIT_FROM_RUN = "actlab.init_from_run"
TAG_INIT_FROM_MODULE = "actlab.init_from_module"
KIND_TRIAL = "trial"
KIND_REPORT = "report"
#: Config key of a sweep without a grid (see the runner's short grid key).
DEFAULT_CONFIG = "default"
#: Tag of a report run that pooled several experiments: their names, comma-separated.
TAG_REPORT_EXPERIMENTS = "actlab.report_experiments"
#: Run params that differ between the seeds of one configuration by design (or that do not
#: change what is learnt), so they are not reported as a configuration mismatch.
_PARAMS_NOT_COMPARED = frozenset({"seed", "seeds", "name", "description"})
_PARAM_PREFIXES_NOT_COMPARED = ("checkpoint.", "resources.", "versions.")
#: Parameters named per configuration in a mismatch warning (the rest are counted).
_MISMATCHES_NAMED = 4

#: MLflow's page size limit for search_runs.
_PAGE_SIZE = 1000
#: Metrics per table block; more are split over several blocks to keep lines < ~140 chars.
_METRICS_PER_BLOCK = 3
#: Order of metric groups and evaluation splits in tables and files.
_GROUP_ORDER = {"train": 0, "eval": 1, "best": 2}
_SPLIT_ORDER = {"train": 0, "validation": 1, "test": 2}
_LEAF_ORDER = {"return_mean": 0, "success_rate": 1}


class ReportError(RuntimeError):
    """A report cannot be built (unknown experiment, no finished runs, unknown metric…)."""


@dataclass(frozen=True, order=True)
class ConfigKey:
    """A configuration: the runs that differ only in their seed."""

    algorithm: str
    env: str
    config: str

    def label(self, fields: Sequence[str] = ("algorithm", "env", "config")) -> str:
        """Human-readable label made of the given fields (those that vary in a report)."""
        parts = [getattr(self, name) for name in fields]
        return " | ".join(parts) if parts else self.config


@dataclass(frozen=True)
class SummaryRow:
    """Mean and CI over seeds of one metric's final value for one configuration."""

    algorithm: str
    env: str
    config: str
    metric: str
    n: int
    mean: float
    lo: float
    hi: float
    #: Seeds (``actlab.seed`` tags) that contributed, in ascending order.
    seeds: tuple[str, ...]

    @property
    def key(self) -> ConfigKey:
        """The configuration this row belongs to."""
        return ConfigKey(self.algorithm, self.env, self.config)


@dataclass(frozen=True)
class StepRow:
    """Mean and CI over seeds of one metric at one logged env step, for one configuration."""

    algorithm: str
    env: str
    config: str
    metric: str
    step: float
    n: int
    mean: float
    lo: float
    hi: float

    @property
    def key(self) -> ConfigKey:
        """The configuration this row belongs to."""
        return ConfigKey(self.algorithm, self.env, self.config)


@dataclass
class Report:
    """Everything ``build_report`` computed and wrote."""

    #: The experiment's name; the names joined by `` + `` when several were pooled.
    experiment: str
    #: Id of the (first) experiment, where the report run is logged.
    experiment_id: str
    sweep: str | None
    out_dir: Path
    #: One row per (configuration, metric) that has at least one seed, sorted.
    rows: list[SummaryRow]
    configurations: list[ConfigKey]
    #: Metrics in the table, in display order.
    metrics: list[str]
    #: Metrics curves were drawn for (one PNG each, unless no configuration's seeds share
    #: an env-step range; see ``warnings``).
    curve_metrics: list[str]
    #: Trial runs aggregated (after filtering and de-duplication).
    n_runs: int
    n_boot: int
    seed: int
    #: Files written to ``out_dir`` (summary.csv, summary.txt, per_seed.csv, PNGs).
    files: list[Path] = field(default_factory=list)
    #: The MLflow run holding the artifacts, when ``log_to_mlflow``.
    report_run_id: str | None = None
    #: Things a researcher should know (pooled sweeps, duplicate seeds, skipped curves).
    warnings: list[str] = field(default_factory=list)
    #: Every experiment reported, in the order given.
    experiments: list[str] = field(default_factory=list)
    #: With ``by_step``: per configuration, metric and logged env step, in that order.
    step_rows: list[StepRow] = field(default_factory=list)

    def row(self, key: ConfigKey, metric: str) -> SummaryRow | None:
        """The row of ``metric`` for configuration ``key``, if any seed logged it."""
        for row in self.rows:
            if row.key == key and row.metric == metric:
                return row
        return None


@dataclass(frozen=True)
class _Trial:
    """What the report needs from one trial run (read once from search_runs)."""

    run_id: str
    key: ConfigKey
    seed: str
    sweep: str | None
    status: str
    start_time: int
    #: Latest value per metric, i.e. the value at the largest step (MLflow's run.data.metrics).
    finals: dict[str, float]
    #: The run this one continued (``init_from.module: continue``), whose history comes first.
    continues: str | None = None
    #: The run's params (its resolved config), to find pooled runs that differ.
    params: dict[str, str] = field(default_factory=dict)


def default_metric(name: str) -> bool:
    """Whether ``name`` is reported when no metrics are requested.

    Every ``best/*`` and ``eval/*`` metric plus the training return and success rate;
    method-specific diagnostics (losses, KL terms…) only on request.
    """
    return name.startswith(("best/", "eval/")) or name in ("train/return_mean", "train/success_rate")


def build_report(
    experiment: str | Sequence[str],
    tracking_uri: str,
    out_dir: Path,
    sweep: str | None = None,
    metrics: list[str] | None = None,
    log_to_mlflow: bool = True,
    n_boot: int = 10000,
    seed: int = 0,
    *,
    include_running: bool = False,
    curve_metrics: list[str] | None = None,
    max_curve_points: int = 200,
    curve_n_boot: int = 2000,
    max_workers: int = 8,
    by_step: bool = False,
) -> Report:
    """Aggregate an experiment's trial runs into a table, ``summary.csv`` and curve PNGs.

    Args:
        experiment: MLflow experiment name (``tracking.experiment`` of the spec), or several
            names whose trial runs are pooled (e.g. seeds 0-2 and 3-5 run as two sweeps under
            different names). A (configuration, seed) present in more than one is counted
            once (the latest finished run), and parameters in which a configuration's pooled
            runs differ are named in the warnings.
        tracking_uri: MLflow tracking URI, e.g. ``sqlite:///mlruns.db`` or ``http://host:5000``.
        out_dir: Directory for the files (created; existing files of the same name are replaced).
        sweep: Only runs tagged ``actlab.sweep=<sweep>``; by default all sweeps are pooled.
        metrics: Metric names or shell-style patterns (``eval/*/success_rate``); default:
            see :func:`default_metric`. A name or pattern matching nothing is an error.
        log_to_mlflow: Create one ``report-<timestamp>`` run in the experiment with the files.
        n_boot: Bootstrap resamples per interval.
        seed: Seed of the bootstrap; each (configuration, metric) draws from its own stream
            derived from it, so intervals do not depend on what else is in the report.
        include_running: Also aggregate RUNNING trials (their latest values), e.g. to peek at
            a sweep in progress.
        curve_metrics: Metrics (names or patterns) to draw curves for; default: the table's
            metrics except ``best/*``, which hold a selected checkpoint's values and are not
            meaningful as a function of env steps.
        max_curve_points: At most this many env-step grid points per curve (the figure is
            under 1000 pixels wide; more points only cost bootstrap time).
        curve_n_boot: Resamples for the curves' bands, ``min(n_boot, curve_n_boot)``. Bands
            are a visual aid computed at every grid point; with 2000 resamples their Monte
            Carlo error is far below a line's width, and a 10k-resample band for hundreds
            of runs would dominate the report's run time. The table always uses ``n_boot``.
        max_workers: Threads fetching metric histories (one MLflow call per run and metric;
            threads hide the latency of a remote tracking server; on SQLite they neither
            help nor hurt much).
        by_step: Also compute :attr:`Report.step_rows`, the mean and CI at every env step the
            seeds logged (a row's ``n`` counts the seeds that logged that step), and write
            ``by_step.csv``. Meant for metrics logged a few times per run, e.g. OKB's
            ``basis/mean_normalised_return`` once per basis iteration.

    Raises:
        ReportError: unknown experiment, no finished trial runs, or requested metrics that
            no run logged.
    """
    if n_boot < 1:
        raise ReportError(f"n_boot must be >= 1, got {n_boot}")
    names = [experiment] if isinstance(experiment, str) else list(dict.fromkeys(experiment))
    if not names:
        raise ReportError("no experiment given; name at least one MLflow experiment")
    label = " + ".join(names)
    client = MlflowClient(tracking_uri=tracking_uri)
    # Every name is checked before anything is read, so a typo in the third name is reported
    # as such rather than as a report of the first two.
    exps = [_get_experiment(client, name, tracking_uri) for name in names]
    warnings: list[str] = []
    if len(exps) > 1:
        warnings.append(f"runs of {len(exps)} experiments are pooled ({', '.join(names)})")

    candidates = [t for exp in exps for t in _iter_trial_runs(client, exp.experiment_id, sweep)]
    statuses = {"FINISHED", "RUNNING"} if include_running else {"FINISHED"}
    trials = [t for t in candidates if t.status in statuses]
    if not trials:
        raise ReportError(_no_runs_message(label, sweep, candidates, include_running, client, exps))
    trials = _deduplicate(trials, warnings)
    if sweep is None:
        sweeps = sorted({t.sweep for t in trials if t.sweep})
        if len(sweeps) > 1:
            warnings.append(
                f"runs of {len(sweeps)} sweeps are pooled ({', '.join(sweeps)}); pass a sweep to report one"
            )

    available = sorted({name for t in trials for name in t.finals}, key=_metric_sort_key)
    selected = _select_metrics(available, metrics, what="metrics")
    if not selected:
        raise ReportError(
            f"experiment {label!r}: the runs log none of the default metrics "
            f"(best/*, eval/*, train/return_mean, train/success_rate); "
            f"pass metrics explicitly, available: {', '.join(available) or 'none'}"
        )
    if curve_metrics is None:
        curved = [m for m in selected if not m.startswith("best/")]
    else:
        curved = _select_metrics(available, curve_metrics, what="curve_metrics")

    by_key: dict[ConfigKey, list[_Trial]] = defaultdict(list)
    for trial in trials:
        by_key[trial.key].append(trial)
    keys = sorted(by_key, key=_config_sort_key)
    for key in keys:
        by_key[key].sort(key=lambda t: _seed_sort_key(t.seed))
    warnings.extend(_config_mismatches(by_key, keys))

    rows = _summarise(by_key, keys, selected, n_boot, seed, warnings)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = Report(
        experiment=label,
        experiment_id=exps[0].experiment_id,
        sweep=sweep,
        out_dir=out_dir,
        rows=rows,
        configurations=keys,
        metrics=selected,
        curve_metrics=curved,
        n_runs=len(trials),
        n_boot=n_boot,
        seed=seed,
        warnings=warnings,
        experiments=names,
    )
    report.files.append(_write_csv(rows, out_dir / "summary.csv"))
    report.files.append(_write_per_seed_csv(by_key, keys, selected, out_dir / "per_seed.csv"))
    histories = _fetch_histories(client, trials, sorted(set(curved) | (set(selected) if by_step else set())), max_workers)
    if by_step:
        report.step_rows = _summarise_by_step(by_key, keys, selected, histories, n_boot, seed)
        report.files.append(_write_step_csv(report.step_rows, out_dir / "by_step.csv"))
    if curved:
        label_fields = _varying_fields(keys)
        for metric in curved:
            curves = _curves(
                by_key, keys, metric, histories, label_fields, min(n_boot, curve_n_boot), seed, max_curve_points, warnings
            )
            if not curves:
                continue
            title = f"{label}" + (f" (sweep {sweep})" if sweep else "") + f": {metric}"
            report.files.append(plot_curves(curves, metric, out_dir / _curve_filename(metric), title, CONFIDENCE))
    # Written last so that its warnings include the curve warnings.
    summary_txt = out_dir / "summary.txt"
    summary_txt.write_text(format_table(report, footer=False) + "\n", encoding="utf-8")
    report.files.insert(1, summary_txt)

    if log_to_mlflow:
        report.report_run_id = _log_report_run(client, report, include_running)
    return report


def format_table(report: Report, footer: bool = True) -> str:
    """Fixed-width table of a report, for a terminal.

    One block per metric group (``train``, ``eval/validation``, ``best/test``…) with at most
    three metrics each, so lines stay readable however many metrics there are. Algorithm
    and env columns appear only when they differ between configurations (otherwise they are
    in the header). Each cell is ``mean [lo, hi]``; a configuration with a single seed shows
    its value with ``(n=1, no CI)``; a metric some seeds lack shows its own ``(n=k)``.
    """
    keys = report.configurations
    label_fields = _varying_fields(keys)
    header_fields = [f for f in ("algorithm", "env") if f not in label_fields]
    scope = f"experiment {report.experiment!r}" + (f", sweep {report.sweep!r}" if report.sweep else "")
    lines = [
        f"actlab report: {scope}",
        f"{report.n_runs} runs, {len(keys)} configurations; "
        f"final value per seed, mean [{CONFIDENCE:.0%} bootstrap CI over seeds, {report.n_boot} resamples]",
    ]
    if header_fields and keys:
        lines.append(", ".join(f"{f}: {getattr(keys[0], f)}" for f in header_fields))
    by_cell = {(row.key, row.metric): row for row in report.rows}
    id_fields = [f for f in ("algorithm", "env") if f in label_fields] + ["config"]

    for group, metrics in _blocks(report.metrics):
        table: list[list[str]] = []
        head = [*id_fields, "n", *(m.rsplit("/", 1)[-1] for m in metrics)]
        decimals = [_decimals([by_cell[(k, m)] for k in keys if (k, m) in by_cell]) for m in metrics]
        for key in keys:
            cells = [by_cell.get((key, m)) for m in metrics]
            n = max((c.n for c in cells if c is not None), default=0)
            row = [getattr(key, f) for f in id_fields] + [str(n)]
            row += [_cell(c, n, d) for c, d in zip(cells, decimals)]
            table.append(row)
        lines += ["", f"[{group}]", *_fixed_width([head, *table], numeric_from=len(id_fields))]
    lines += _step_blocks(report, id_fields)

    if report.warnings:
        lines += ["", "warnings:", *(f"  - {w}" for w in report.warnings)]
    if footer:
        lines += ["", f"files in {report.out_dir}:", *(f"  {p.name}" for p in report.files)]
        if report.report_run_id:
            lines.append(f"MLflow report run: {report.report_run_id} (experiment id {report.experiment_id})")
    return "\n".join(lines)


def _step_blocks(report: Report, id_fields: list[str]) -> list[str]:
    """The ``by_step`` tables: one block per metric group, one row per configuration and step."""
    if not report.step_rows:
        return []
    by_cell = {(row.key, row.metric, row.step): row for row in report.step_rows}
    lines: list[str] = []
    for group, metrics in _blocks(report.metrics):
        decimals = [_decimals([r for r in report.step_rows if r.metric == m]) for m in metrics]
        table: list[list[str]] = []
        for key in report.configurations:
            steps = sorted({r.step for r in report.step_rows if r.key == key and r.metric in metrics})
            for step in steps:
                cells = [by_cell.get((key, m, step)) for m in metrics]
                n = max((c.n for c in cells if c is not None), default=0)
                row = [getattr(key, f) for f in id_fields] + [f"{step:g}", str(n)]
                table.append(row + [_cell(c, n, d) for c, d in zip(cells, decimals)])
        if table:
            head = [*id_fields, "env_steps", "n", *(m.rsplit("/", 1)[-1] for m in metrics)]
            lines += ["", f"[{group}] by env step", *_fixed_width([head, *table], numeric_from=len(id_fields))]
    return lines


# --------------------------------------------------------------------------- reading MLflow


def _get_experiment(client: MlflowClient, name: str, tracking_uri: str) -> Experiment:
    """The active experiment ``name``, or a ReportError listing the existing ones."""
    exp = client.get_experiment_by_name(name)
    if exp is not None and exp.lifecycle_stage != LifecycleStage.DELETED:
        return exp
    names = sorted(e.name for e in _iter_experiments(client))
    close = difflib.get_close_matches(name, names, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    state = "is deleted" if exp is not None else "does not exist"
    listing = ", ".join(repr(n) for n in names) if names else "none"
    raise ReportError(
        f"experiment {name!r} {state} in tracking store {tracking_uri}.{hint} Existing experiments: {listing}"
    )


def _iter_experiments(client: MlflowClient) -> Iterator[Experiment]:
    """All active experiments, following pagination."""
    token: str | None = None
    while True:
        page = client.search_experiments(view_type=ViewType.ACTIVE_ONLY, max_results=_PAGE_SIZE, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def _iter_trial_runs(client: MlflowClient, experiment_id: str, sweep: str | None) -> Iterator[_Trial]:
    """Trial runs of the experiment (any status), skipping report runs and untagged runs.

    The sweep is filtered by the store (one tag filter, per the contract); the kind is
    checked here because runs written without ``actlab.kind`` but with the grouping tags
    (e.g. by an older runner) are still trials, and a store-side tag filter drops them.
    """
    filter_string = ""
    if sweep is not None and "'" not in sweep:
        filter_string = f"tags.`{TAG_SWEEP}` = '{sweep}'"
    token: str | None = None
    while True:
        page = client.search_runs(
            [experiment_id],
            filter_string=filter_string,
            run_view_type=ViewType.ACTIVE_ONLY,
            max_results=_PAGE_SIZE,
            page_token=token,
        )
        for run in page:
            trial = _as_trial(run)
            if trial is not None and (sweep is None or trial.sweep == sweep):
                yield trial
        token = page.token
        if not token:
            return


def _as_trial(run: Run) -> _Trial | None:
    """The trial view of a run, or None for report runs and runs without actlab tags."""
    tags = run.data.tags
    kind = tags.get(TAG_KIND)
    if kind is not None and kind != KIND_TRIAL:
        return None
    if TAG_ALGORITHM not in tags or TAG_ENV not in tags:
        return None
    key = ConfigKey(tags[TAG_ALGORITHM], tags[TAG_ENV], tags.get(TAG_CONFIG) or DEFAULT_CONFIG)
    return _Trial(
        run_id=run.info.run_id,
        key=key,
        # A run without a seed tag is its own replicate (never de-duplicated against another).
        seed=tags.get(TAG_SEED, f"run:{run.info.run_id[:8]}"),
        sweep=tags.get(TAG_SWEEP),
        status=run.info.status,
        start_time=run.info.start_time or 0,
        finals=dict(run.data.metrics),
        continues=_continued_run(tags),
        params=dict(run.data.params),
    )


def _continued_run(tags: dict[str, str]) -> str | None:
    return tags.get(TAG_INIT_FROM_RUN) if tags.get(TAG_INIT_FROM_MODULE) == "continue" else None


#: Longest chain of continued runs followed back (a guard against a tag cycle).
_MAX_LINEAGE = 100


def run_history(client: MlflowClient, run_id: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, values)`` of ``metric`` over a run's whole training, cleaned (:func:`clean_history`).

    A run that continued another one (``init_from.module: continue``) starts at the source's
    last env step; its curve is the source's history followed by its own, back to the first
    run of the chain. The sources may sit in other experiments; they are only read.
    """
    return _chain_history(client, _lineage(client, run_id, _continued_run(client.get_run(run_id).data.tags)), metric)


def _lineage(client: MlflowClient, run_id: str, continues: str | None) -> list[str]:
    """``run_id`` and the runs it continued, newest first."""
    chain = [run_id]
    while continues is not None and continues not in chain and len(chain) < _MAX_LINEAGE:
        chain.append(continues)
        continues = _continued_run(client.get_run(continues).data.tags)
    return chain


def _chain_history(client: MlflowClient, chain: list[str], metric: str) -> tuple[np.ndarray, np.ndarray]:
    steps: list[float] = []
    values: list[float] = []
    for run_id in reversed(chain):  # oldest first: a step logged by two runs keeps the later run's value
        # Logging order (timestamp, then the store's order) decides which value wins for a
        # step logged twice, e.g. by a trial resumed from a checkpoint.
        history = sorted(client.get_metric_history(run_id, metric), key=lambda m: m.timestamp)
        steps.extend(m.step for m in history)
        values.extend(m.value for m in history)
    return clean_history(steps, values)


def _deduplicate(trials: list[_Trial], warnings: list[str]) -> list[_Trial]:
    """One run per (configuration, seed): a re-run seed would otherwise count twice.

    Keeps the finished run over a running one, then the most recently started.
    """
    best: dict[tuple[ConfigKey, str], _Trial] = {}
    dropped = 0
    for trial in trials:
        slot = (trial.key, trial.seed)
        current = best.get(slot)
        if current is None:
            best[slot] = trial
            continue
        dropped += 1
        rank = lambda t: (t.status == "FINISHED", t.start_time)  # noqa: E731
        if rank(trial) > rank(current):
            best[slot] = trial
    if dropped:
        warnings.append(
            f"{dropped} run(s) repeat a (configuration, seed) already present; the latest finished run of each is used"
        )
    return list(best.values())


def _no_runs_message(
    experiment: str,
    sweep: str | None,
    candidates: list[_Trial],
    include_running: bool,
    client: MlflowClient,
    exps: list[Experiment],
) -> str:
    """Why there is nothing to report, and what to try."""
    scope = f"experiment {experiment!r}" + (f" (sweep {sweep!r})" if sweep else "")
    wanted = "finished or running" if include_running else "finished"
    if candidates:
        counts: dict[str, int] = defaultdict(int)
        for trial in candidates:
            counts[trial.status] += 1
        found = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        hint = "" if include_running or "RUNNING" not in counts else "; running trials are reported with include_running=True"
        return f"{scope} has no {wanted} trial runs (found {found}){hint}"
    if sweep is not None:
        sweeps = sorted({t.sweep for e in exps for t in _iter_trial_runs(client, e.experiment_id, None) if t.sweep})
        where = "this experiment" if len(exps) == 1 else "these experiments"
        return f"{scope} has no trial runs; sweeps in {where}: {', '.join(sweeps) or 'none'}"
    return f"{scope} has no trial runs (runs tagged {TAG_KIND}={KIND_TRIAL} with {TAG_ALGORITHM} and {TAG_ENV})"


def _select_metrics(available: list[str], requested: list[str] | None, what: str) -> list[str]:
    """Metrics matching ``requested`` names or patterns, in display order (default set if None)."""
    if requested is None:
        return [m for m in available if default_metric(m)]
    chosen: set[str] = set()
    missing: list[str] = []
    for pattern in requested:
        matched = [m for m in available if fnmatch.fnmatchcase(m, pattern)]
        if not matched:
            missing.append(pattern)
        chosen.update(matched)
    if missing:
        raise ReportError(
            f"{what}: no run logged {', '.join(repr(m) for m in missing)}; available metrics: {', '.join(available)}"
        )
    return sorted(chosen, key=_metric_sort_key)


def _fetch_histories(
    client: MlflowClient, trials: list[_Trial], metrics: list[str], max_workers: int
) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """``(run_id, metric) -> (steps, values)`` cleaned histories, fetched concurrently.

    Only pairs the run actually logged are requested (known from its latest metrics), so
    the number of calls is the number of curves' data series, not runs x metrics.
    """
    jobs = [(t.run_id, m) for t in trials for m in metrics if m in t.finals]
    # Runs that continued earlier runs draw their sources' histories first (one chain per trial).
    lineages = {t.run_id: _lineage(client, t.run_id, t.continues) for t in trials}

    def fetch(job: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
        run_id, metric = job
        return _chain_history(client, lineages[run_id], metric)

    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        results = list(pool.map(fetch, jobs))
    return dict(zip(jobs, results))


# --------------------------------------------------------------------------- statistics


def _summarise(
    by_key: dict[ConfigKey, list[_Trial]],
    keys: list[ConfigKey],
    metrics: list[str],
    n_boot: int,
    seed: int,
    warnings: list[str],
) -> list[SummaryRow]:
    """Mean and bootstrap CI of the final values, per configuration and metric."""
    rows: list[SummaryRow] = []
    non_finite = 0
    for key in keys:
        for metric in metrics:
            pairs = [(t.seed, t.finals[metric]) for t in by_key[key] if metric in t.finals]
            finite = [(s, v) for s, v in pairs if math.isfinite(v)]
            non_finite += len(pairs) - len(finite)
            if not finite:
                continue
            ci: MeanCI = mean_ci([v for _, v in finite], n_boot, derive_rng(seed, *_stream(key, metric)))
            rows.append(
                SummaryRow(
                    algorithm=key.algorithm,
                    env=key.env,
                    config=key.config,
                    metric=metric,
                    n=ci.n,
                    mean=ci.mean,
                    lo=ci.lo,
                    hi=ci.hi,
                    seeds=tuple(s for s, _ in finite),
                )
            )
    if non_finite:
        warnings.append(f"{non_finite} final value(s) are NaN or infinite and are left out of the means")
    return rows


def _config_mismatches(by_key: dict[ConfigKey, list[_Trial]], keys: list[ConfigKey]) -> list[str]:
    """One warning per configuration whose runs differ in a parameter other than the seed.

    Runs of one grid point differ only in their seed when they come from one sweep; pooled
    sweeps or experiments may have changed a default in between, and averaging those runs
    would mix two methods under one label.
    """
    warnings: list[str] = []
    for key in keys:
        trials = by_key[key]
        if len(trials) < 2:
            continue
        names = sorted({n for t in trials for n in t.params if _compared_param(n)})
        differing = []
        for name in names:
            values = sorted({t.params.get(name, "<unset>") for t in trials})
            if len(values) > 1:
                differing.append(f"{name} ({', '.join(values)})")
        if differing:
            shown = "; ".join(differing[:_MISMATCHES_NAMED])
            more = f"; and {len(differing) - _MISMATCHES_NAMED} more" if len(differing) > _MISMATCHES_NAMED else ""
            warnings.append(
                f"{key.label()}: its {len(trials)} runs differ in {len(differing)} parameter(s) besides the seed: "
                f"{shown}{more}; they are averaged as one configuration (report them separately if that is wrong)"
            )
    return warnings


def _compared_param(name: str) -> bool:
    return name not in _PARAMS_NOT_COMPARED and not name.startswith(_PARAM_PREFIXES_NOT_COMPARED)


def _summarise_by_step(
    by_key: dict[ConfigKey, list[_Trial]],
    keys: list[ConfigKey],
    metrics: list[str],
    histories: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]],
    n_boot: int,
    seed: int,
) -> list[StepRow]:
    """Mean and bootstrap CI at every env step any seed logged, per configuration and metric.

    Unlike the curves, nothing is interpolated: a step's row averages the seeds that logged
    exactly that step (its ``n``). Each (configuration, metric, step) has its own random stream.
    """
    rows: list[StepRow] = []
    for key in keys:
        for metric in metrics:
            at_step: dict[float, list[float]] = defaultdict(list)
            for trial in by_key[key]:
                steps, values = histories.get((trial.run_id, metric), (np.empty(0), np.empty(0)))
                for step, value in zip(steps.tolist(), values.tolist()):
                    at_step[step].append(value)
            for step in sorted(at_step):
                rng = derive_rng(seed, *_stream(key, metric), "step", repr(step))
                ci = mean_ci(at_step[step], n_boot, rng)
                rows.append(StepRow(key.algorithm, key.env, key.config, metric, step, ci.n, ci.mean, ci.lo, ci.hi))
    return rows


def _curves(
    by_key: dict[ConfigKey, list[_Trial]],
    keys: list[ConfigKey],
    metric: str,
    histories: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]],
    label_fields: Sequence[str],
    n_boot: int,
    seed: int,
    max_points: int,
    warnings: list[str],
) -> list[Curve]:
    """Mean curve and CI band per configuration, on the env-step range all its seeds cover."""
    curves: list[Curve] = []
    for key in keys:
        series = [histories[(t.run_id, metric)] for t in by_key[key] if (t.run_id, metric) in histories]
        series = [s for s in series if s[0].size > 0]
        if not series:
            continue
        grid, matrix = interpolate_to_grid(series, max_points=max_points)
        if grid.size == 0:
            warnings.append(f"{metric}: the seeds of {key.label()} cover disjoint env-step ranges; no curve drawn")
            continue
        lo, hi = bootstrap_mean_ci(matrix, n_boot, derive_rng(seed, *_stream(key, metric), "curve"))
        mean = matrix.mean(axis=0)
        curves.append(
            Curve(
                label=key.label(label_fields),
                steps=grid,
                mean=mean,
                lo=np.minimum(lo, mean),
                hi=np.maximum(hi, mean),
                n_seeds=len(series),
            )
        )
    return curves


def _stream(key: ConfigKey, metric: str) -> tuple[str, str, str, str]:
    """Labels of the random stream of one (configuration, metric)."""
    return (key.algorithm, key.env, key.config, metric)


# --------------------------------------------------------------------------- output


def _write_csv(rows: list[SummaryRow], path: Path) -> Path:
    """``summary.csv``: one row per configuration x metric (mean, lo, hi, n, seeds)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["algorithm", "env", "config", "metric", "n", "mean", "lo", "hi", "seeds"])
        for r in rows:
            writer.writerow([r.algorithm, r.env, r.config, r.metric, r.n, repr(r.mean), repr(r.lo), repr(r.hi), ";".join(r.seeds)])
    return path


def _write_per_seed_csv(
    by_key: dict[ConfigKey, list[_Trial]], keys: list[ConfigKey], metrics: list[str], path: Path
) -> Path:
    """``per_seed.csv``: one row per trial run (configuration, seed, run id) with the final
    value of each reported metric; empty where the run did not log it."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["algorithm", "env", "config", "seed", "run_id", *metrics])
        for key in keys:
            for t in by_key[key]:
                values = [repr(t.finals[m]) if m in t.finals else "" for m in metrics]
                writer.writerow([key.algorithm, key.env, key.config, t.seed, t.run_id, *values])
    return path


def _write_step_csv(rows: list[StepRow], path: Path) -> Path:
    """``by_step.csv``: one row per configuration x metric x logged env step."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["algorithm", "env", "config", "metric", "env_steps", "n", "mean", "lo", "hi"])
        for r in rows:
            writer.writerow([r.algorithm, r.env, r.config, r.metric, f"{r.step:g}", r.n, repr(r.mean), repr(r.lo), repr(r.hi)])
    return path


def _log_report_run(client: MlflowClient, report: Report, include_running: bool) -> str:
    """Create the ``report-<timestamp>`` run with the report's files as artifacts."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    tags = {
        TAG_KIND: KIND_REPORT,
        # Shown as the run's description in the MLflow UI.
        "mlflow.note.content": "```\n" + format_table(report, footer=False) + "\n```",
    }
    if report.sweep is not None:
        tags[TAG_SWEEP] = report.sweep
    if len(report.experiments) > 1:
        tags[TAG_REPORT_EXPERIMENTS] = ",".join(report.experiments)
    run = client.create_run(report.experiment_id, run_name=f"report-{stamp}", tags=tags)
    run_id = run.info.run_id
    try:
        params = {
            "n_boot": report.n_boot,
            "seed": report.seed,
            "sweep": report.sweep or "",
            "include_running": include_running,
            "n_runs": report.n_runs,
            "n_configurations": len(report.configurations),
            "experiments": ",".join(report.experiments),
            "by_step": bool(report.step_rows),
        }
        client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])
        for path in report.files:
            client.log_artifact(run_id, str(path))
    except Exception:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    return run_id


def _curve_filename(metric: str) -> str:
    """``eval/test/success_rate`` -> ``curves_eval_test_success_rate.png``."""
    return "curves_" + re.sub(r"[^A-Za-z0-9.-]+", "_", metric).strip("_") + ".png"


def _metric_sort_key(name: str) -> tuple[int, int, str, int, str]:
    """train/*, then eval/<split>/* (train, validation, test, then tasks), then best/*, then others."""
    parts = name.split("/")
    group = _GROUP_ORDER.get(parts[0], len(_GROUP_ORDER)) if len(parts) > 1 else len(_GROUP_ORDER)
    split = parts[1] if len(parts) > 2 else ""
    leaf = parts[-1]
    return (group, _SPLIT_ORDER.get(split, len(_SPLIT_ORDER)), split, _LEAF_ORDER.get(leaf, len(_LEAF_ORDER)), name)


def _config_sort_key(key: ConfigKey) -> tuple[str, str, list[tuple[str, int, float, str]]]:
    """Algorithm, env, then grid values in numeric order (``lr=1e-4`` before ``lr=3e-4`` before ``lr=1e-3``)."""
    items = []
    for part in key.config.split(","):
        name, _, value = part.partition("=")
        try:
            items.append((name, 0, float(value), value))
        except ValueError:
            items.append((name, 1, 0.0, value))
    return (key.algorithm, key.env, items)


def _seed_sort_key(seed: str) -> tuple[int, float, str]:
    """Numeric seeds in numeric order, then anything else."""
    try:
        return (0, float(seed), seed)
    except ValueError:
        return (1, 0.0, seed)


def _varying_fields(keys: Iterable[ConfigKey]) -> list[str]:
    """Fields of ConfigKey that take more than one value (always including ``config``)."""
    keys = list(keys)
    fields = [f for f in ("algorithm", "env") if len({getattr(k, f) for k in keys}) > 1]
    return [*fields, "config"]


def _blocks(metrics: list[str]) -> list[tuple[str, list[str]]]:
    """Metrics grouped by prefix (``eval/test``), each group cut into blocks of a few metrics."""
    groups: dict[str, list[str]] = {}
    for metric in metrics:
        groups.setdefault(metric.rsplit("/", 1)[0] if "/" in metric else "other", []).append(metric)
    blocks: list[tuple[str, list[str]]] = []
    for group, names in groups.items():
        for start in range(0, len(names), _METRICS_PER_BLOCK):
            suffix = " (cont.)" if start else ""
            blocks.append((group + suffix, names[start : start + _METRICS_PER_BLOCK]))
    return blocks


def _decimals(rows: Sequence[SummaryRow | StepRow]) -> int:
    """Decimals for a column: about four significant digits of its largest magnitude."""
    scale = max((abs(v) for r in rows for v in (r.mean, r.lo, r.hi)), default=0.0)
    if scale >= 1000:
        return 0
    if scale >= 100:
        return 1
    if scale >= 10:
        return 2
    return 3


def _cell(row: SummaryRow | StepRow | None, n_block: int, decimals: int) -> str:
    """``mean [lo, hi]``, with the seed count when it differs from the block's n."""
    if row is None:
        return "-"
    value = f"{row.mean:.{decimals}f}"
    if row.n == 1:
        return f"{value} (n=1, no CI)"
    text = f"{value} [{row.lo:.{decimals}f}, {row.hi:.{decimals}f}]"
    return text if row.n == n_block else f"{text} (n={row.n})"


def _fixed_width(table: list[list[str]], numeric_from: int) -> list[str]:
    """Align columns: identifiers left-aligned, numbers from column ``numeric_from`` right-aligned."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for row in table:
        cells = [c.ljust(w) if i < numeric_from else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return lines
