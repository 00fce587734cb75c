"""Tune callbacks of a sweep: MLflow tracking and a compact progress line."""

from __future__ import annotations

import sys
import time
from typing import Any

from ray.tune import Callback

from actlab.tracking import MLflowTrackingCallback


class MLflowCallback(MLflowTrackingCallback, Callback):
    """The MLflow contract (see :mod:`actlab.tracking`) as a Tune callback."""


class ProgressCallback(Callback):
    """Prints ``trials done / running / pending`` and the best metric so far.

    At most one line every ``every_s`` seconds, plus one per finished or failed trial, so a
    researcher watching a sweep sees it move without a wall of tables.
    """

    def __init__(self, metric: str, total: int, every_s: float = 15.0, stream: Any = None):
        self.metric = metric
        self.total = total
        self.every_s = every_s
        self.stream = stream
        self._started = time.monotonic()
        self._last_print = 0.0
        self._best: tuple[float, str] | None = None
        self._steps: dict[str, int] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["stream"] = None
        return state

    def _print(self, trials: list[Any], note: str = "") -> None:
        counts: dict[str, int] = {}
        for t in trials:
            counts[t.status] = counts.get(t.status, 0) + 1
        done = counts.get("TERMINATED", 0)
        elapsed = time.monotonic() - self._started
        best = f" | best {self.metric}={self._best[0]:.3f} ({self._best[1]})" if self._best else ""
        steps = sum(self._steps.values())
        line = (
            f"[actlab {elapsed/60:5.1f} min] trials {done}/{self.total} done, {counts.get('RUNNING', 0)} running, "
            f"{counts.get('PENDING', 0)} pending, {counts.get('ERROR', 0)} errored | {steps:,} env steps{best}"
        )
        print(line + (f" | {note}" if note else ""), file=self.stream or sys.stdout, flush=True)
        self._last_print = time.monotonic()

    def on_trial_result(self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any], **info: Any) -> None:
        self._steps[trial.trial_id] = int(result.get("env_steps", 0))
        value = result.get(self.metric)
        if isinstance(value, (int, float)) and (self._best is None or value > self._best[0]):
            self._best = (float(value), trial.config["trial"]["trial_name"])
        if time.monotonic() - self._last_print >= self.every_s:
            self._print(trials)

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._print(trials, f"finished {trial.config['trial']['trial_name']}")

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        where = getattr(trial, "error_file", None) or getattr(trial, "local_path", "")
        self._print(trials, f"FAILED {trial.config['trial']['trial_name']} (see {where})")

    def on_experiment_end(self, trials: list[Any], **info: Any) -> None:
        self._print(trials, "sweep ended")
