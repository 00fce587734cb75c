"""MLflow tracking: the contract of DESIGN.md, written from the Tune driver only.

One MLflow run per trial, named ``<algorithm>-<env>-<short grid key>-s<seed>``, tagged
``actlab.spec / algorithm / env / seed / sweep / config / git_sha / trial_id / kind``;
params are the fully resolved trial spec flattened plus package versions; metrics use
``env_steps`` as step. All writes happen in the driver (a Tune callback), so a SQLite store
on the driver's machine is enough even on a cluster, and there is a single writer.

On ``--resume`` or a retried trial, the callback finds the trial's existing run by its
``actlab.trial_id`` tag and appends to it; results of iterations already logged are
skipped (by training iteration), so no trial is duplicated and no history is rewritten.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from actlab.spec.errors import SpecError

TRACKED_PACKAGES = ("actlab", "ray", "torch", "gymnasium", "numpy", "mlflow", "pydantic")
RESERVED_RESULT_KEYS = {"env_steps", "iteration", "train_time_s"}


def resolve_tracking_uri(uri: str, base_dir: Path | None = None) -> str:
    """Make a relative ``sqlite:///file.db`` absolute (Tune workers and jobs change cwd)."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        path = (base_dir or Path.cwd()) / uri[len(prefix):]
        return prefix + str(path.resolve())
    return uri


def check_tracking_store(uri: str, field: str = "tracking.uri", file: str = "") -> None:
    """Fail fast, with one clear line, if the tracking store cannot be used."""
    if uri.startswith("file:") or "://" not in uri and not uri.startswith("databricks"):
        raise SpecError.single(
            file, field,
            f"'{uri}' is a file store, which MLflow 3 no longer supports; use sqlite:///mlruns.db or http://HOST:PORT",
        )
    if uri.startswith("sqlite:///"):
        path = Path(uri[len("sqlite:///"):])
        if not path.parent.is_dir():
            raise SpecError.single(file, field, f"directory '{path.parent}' of the SQLite store does not exist; create it")
        if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise SpecError.single(file, field, f"SQLite store '{path}' is not writable; fix permissions or pick another path")
    elif not uri.startswith(("http://", "https://", "postgresql", "mysql", "databricks")):
        raise SpecError.single(file, field, f"unsupported tracking URI '{uri}'; use sqlite:///PATH.db or http://HOST:PORT")
    from mlflow.tracking import MlflowClient

    saved = {k: os.environ.get(k) for k in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT")}
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "10"
    try:
        # Also creates/migrates a new SQLite schema once, before trials could race on it.
        MlflowClient(uri).search_experiments(max_results=1)
    except Exception as exc:  # noqa: BLE001 - any failure here means "cannot track"
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise SpecError.single(
            file, field,
            f"cannot use the MLflow tracking store '{uri}' ({reason}); start the server or pass --tracking-uri sqlite:///mlruns.db",
        )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def git_sha(project_root: Path) -> str:
    """HEAD of the project checkout (+``-dirty``), or ``ACTLAB_GIT_SHA`` inside a Ray job."""
    if os.environ.get("ACTLAB_GIT_SHA"):
        return os.environ["ACTLAB_GIT_SHA"]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project_root, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=project_root, capture_output=True, text=True, timeout=10,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    out = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not-installed"
    return out


def all_distributions() -> str:
    """``pip freeze``-like listing of the environment, logged as an artifact."""
    dists = sorted({f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()}, key=str.lower)
    return "\n".join(dists) + "\n"


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """Nested dict -> ``{"a.b.c": "value"}`` with JSON-encoded leaves (MLflow params)."""
    out: dict[str, str] = {}
    if isinstance(data, dict) and data:
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
    else:
        out[prefix.rstrip(".")] = data if isinstance(data, str) else json.dumps(data)
    return out


def ensure_experiment(uri: str, name: str) -> str:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(name)
    if exp is None:
        return client.create_experiment(name)
    if exp.lifecycle_stage == "deleted":
        client.restore_experiment(exp.experiment_id)
    return exp.experiment_id


def finished_trial_runs(uri: str, experiment: str, sweep_id: str) -> int:
    """How many trial runs of sweep ``sweep_id`` MLflow has as ``FINISHED``."""
    from mlflow.tracking import MlflowClient

    runs = MlflowClient(uri).search_runs(
        [ensure_experiment(uri, experiment)],
        filter_string=f"tags.`actlab.sweep` = '{sweep_id}' and tags.`actlab.kind` = 'trial' and attributes.status = 'FINISHED'",
        max_results=10_000,
    )
    return len(runs)


class MLflowTrackingCallback:
    """Tune callback that writes the MLflow contract. Built by :func:`make_tracking_callback`."""

    def __init__(self, uri: str, experiment: str, sweep_id: str, git_sha: str, spec_file: str):
        self.uri = uri
        self.experiment = experiment
        self.sweep_id = sweep_id
        self.git_sha = git_sha
        self.spec_file = spec_file
        self._client: Any = None
        self._experiment_id: str | None = None
        self._runs: dict[str, str] = {}  # trial_id -> run_id
        self._last_iteration: dict[str, int] = {}  # run_id -> last training iteration logged
        self._pending: dict[str, list[Any]] = {}  # run_id -> async log operations in flight
        self._ended: set[str] = set()  # runs set FINISHED/FAILED by this process

    def __getstate__(self) -> dict[str, Any]:  # Tune pickles callbacks with the experiment state
        state = dict(self.__dict__)
        state["_client"] = None
        state["_pending"] = {}
        return state

    @property
    def client(self) -> Any:
        if self._client is None:
            from mlflow.tracking import MlflowClient

            self._client = MlflowClient(self.uri)
            self._experiment_id = ensure_experiment(self.uri, self.experiment)
        return self._client

    # -- Tune hooks -----------------------------------------------------------------

    def run_for_trial(self, trial: Any) -> str:
        if trial.trial_id in self._runs:
            return self._runs[trial.trial_id]
        client = self.client
        found = client.search_runs(
            [self._experiment_id],
            filter_string=f"tags.`actlab.trial_id` = '{trial.trial_id}' and tags.`actlab.sweep` = '{self.sweep_id}'",
            max_results=1,
        )
        if found:
            run_id = found[0].info.run_id
            # Iterations, not env steps: a trial re-run from a checkpoint can sample a slightly
            # different number of env steps for the same iteration.
            history = client.get_metric_history(run_id, "iteration")
            self._last_iteration[run_id] = int(max((m.value for m in history), default=0))
            if found[0].info.status != "RUNNING":
                client.update_run(run_id, status="RUNNING")
        else:
            run_id = self._create_run(trial)
            self._last_iteration[run_id] = 0
        self._runs[trial.trial_id] = run_id
        return run_id

    def _create_run(self, trial: Any) -> str:
        t = trial.config["trial"]
        spec = t["spec"]
        tags = {
            "mlflow.runName": t["trial_name"],
            "actlab.kind": "trial",
            "actlab.spec": spec["name"],
            "actlab.spec_file": self.spec_file,
            "actlab.algorithm": spec["algorithm"]["name"],
            "actlab.env": spec["env"]["name"],
            "actlab.seed": str(t["seed"]),
            "actlab.sweep": self.sweep_id,
            "actlab.config": t["config_key"],
            "actlab.grid_point": json.dumps(t["grid_point"], sort_keys=True),
            "actlab.git_sha": self.git_sha,
            "actlab.trial_id": trial.trial_id,
        }
        if t.get("init_from"):
            tags["actlab.init_from_run"] = t["init_from"]["run_id"]
            tags["actlab.init_from_path"] = t["init_from"]["path"]
            tags["actlab.init_from_module"] = t["init_from"].get("module", "best")
        run = self.client.create_run(self._experiment_id, run_name=t["trial_name"], tags=tags)
        run_id = run.info.run_id
        params = flatten({k: v for k, v in spec.items() if k not in ("grid", "tracking")})
        params["seed"] = str(t["seed"])
        params.update({f"versions.{k}": v for k, v in package_versions().items()})
        self._log_params(run_id, params)
        with tempfile.TemporaryDirectory() as tmp:
            import yaml

            Path(tmp, "resolved_spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
            Path(tmp, "environment.txt").write_text(all_distributions())
            self.client.log_artifacts(run_id, tmp)
        return run_id

    def _log_params(self, run_id: str, params: dict[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(k[:250], str(v)[:6000]) for k, v in params.items()]
        for i in range(0, len(items), 100):
            self.client.log_batch(run_id, params=items[i : i + 100])

    def on_trial_start(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self.run_for_trial(trial)

    def on_trial_restore(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self.run_for_trial(trial)

    def link_pretraining(self, run_id: str, info: dict[str, Any]) -> str:
        """The pretraining run of ``info["key"]`` (created once per key), tagged on ``run_id``.

        A stage trained once and reused from the cache by many trials appears once in
        MLflow; each RL run points at it with ``actlab.pretraining_run_id``.
        """
        from mlflow.entities import Metric, Param

        key = str(info["key"])
        found = self.client.search_runs(
            [self._experiment_id],
            filter_string=f"tags.`actlab.kind` = 'pretraining' and tags.`actlab.pretraining_key` = '{key}'",
            max_results=1,
        )
        if found:
            pre_id = found[0].info.run_id
        else:
            name = f"pretrain-{info.get('source', 'stage')}-{key[:10]}"
            pre = self.client.create_run(
                self._experiment_id,
                run_name=name,
                tags={
                    "actlab.kind": "pretraining",
                    "actlab.pretraining_key": key,
                    "actlab.sweep": self.sweep_id,
                    "actlab.git_sha": self.git_sha,
                    "actlab.cache_hit_at_creation": str(bool(info.get("cache_hit"))),
                },
            )
            pre_id = pre.info.run_id
            meta_file = Path(info.get("dir", "")) / "meta.json"
            stage_config = json.loads(meta_file.read_text()).get("config", {}) if meta_file.exists() else {}
            params = flatten({"source": info.get("source"), "kind": info.get("kind"), "seed": info.get("seed"),
                              "n_train_actions": info.get("n_train_actions"), "config": stage_config})
            self._log_params(pre_id, params)
            curves_file = Path(info.get("dir", "")) / "curves.json"
            if curves_file.exists():
                curves = json.loads(curves_file.read_text())
                steps = curves.get("step") or list(range(len(next(iter(curves.values()), []))))
                now = int(time.time() * 1000)
                points = [
                    Metric(f"pretraining/{name}", float(v), now, int(step))
                    for name, values in curves.items() if name != "step"
                    for step, v in zip(steps, values)
                ]
                for i in range(0, len(points), 1000):
                    self.client.log_batch(pre_id, metrics=points[i : i + 1000])
            for path in info.get("artifacts", []):
                if Path(path).exists():
                    self.client.log_artifact(pre_id, path)
            self.client.set_terminated(pre_id, "FINISHED")
        self.client.set_tag(run_id, "actlab.pretraining_run_id", pre_id)
        self.client.set_tag(run_id, "actlab.pretraining_key", key)
        return pre_id

    def on_trial_result(self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any], **info: Any) -> None:
        from mlflow.entities import Metric

        run_id = self.run_for_trial(trial)
        if isinstance(result.get("actlab/pretraining"), str):  # trial.pretraining_report, JSON-encoded
            self.link_pretraining(run_id, json.loads(result["actlab/pretraining"]))
        if isinstance(result.get("actlab/init_reinit"), str):  # a JSON list of parameter names
            self.client.set_tag(run_id, "actlab.init_reinit", result["actlab/init_reinit"])
        step = int(result.get("env_steps", 0))
        iteration = int(result.get("iteration", 0))
        if iteration <= self._last_iteration.get(run_id, 0):
            return  # a retried/resumed trial re-reporting iterations MLflow already has
        self._last_iteration[run_id] = iteration
        now = int(time.time() * 1000)
        metrics = [
            Metric(key, float(value), now, step)
            for key, value in result.items()
            if "/" in key and isinstance(value, (int, float)) and not isinstance(value, bool)
        ]
        metrics.append(Metric("iteration", float(result.get("iteration", 0)), now, step))
        # Asynchronous: the Tune controller waits for callbacks before it hands the next
        # result to a trial, so a synchronous SQLite write would stall training.
        pending = self._pending.setdefault(run_id, [])
        for i in range(0, len(metrics), 500):
            pending.append(self.client.log_batch(run_id, metrics=metrics[i : i + 500], synchronous=False))

    def _flush(self, run_id: str) -> None:
        for operation in self._pending.pop(run_id, []):
            operation.wait()

    def _finish(self, trial: Any, status: str) -> None:
        run_id = self.run_for_trial(trial)
        self._flush(run_id)
        checkpoint = getattr(trial, "checkpoint", None)
        if checkpoint is not None:
            self.client.set_tag(run_id, "actlab.checkpoint", str(checkpoint.path))
            self.client.set_tag(run_id, "actlab.best_checkpoint", str(Path(checkpoint.path) / "best_module"))
        self.client.set_terminated(run_id, status=status)
        self._ended.add(run_id)

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._finish(trial, "FINISHED")

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._finish(trial, "FAILED")

    def on_experiment_end(self, trials: list[Any], **info: Any) -> None:
        """Flush pending metrics; mark the runs of trials that did not end (Ctrl-C) ``KILLED``.

        Tune calls this on an interrupted sweep too. Without it, an interrupted trial's run
        would stay ``RUNNING`` in MLflow forever; ``actlab run SPEC --resume`` sets it back to
        ``RUNNING`` and continues it (:meth:`run_for_trial`).
        """
        for run_id in list(self._pending):
            self._flush(run_id)
        for run_id in set(self._runs.values()) - self._ended:
            # A restored callback's state can predate a run's end: only a run still RUNNING is cut short.
            if self.client.get_run(run_id).info.status == "RUNNING":
                self.client.set_terminated(run_id, status="KILLED")
