"""Reusable RLlib (new API stack) callbacks shared by the method packages."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from ray.rllib.callbacks.callbacks import RLlibCallback

__all__ = ["SuccessRateCallback", "SUCCESS_RATE_METRIC"]

#: Metric name under ``result["env_runners"]``.
SUCCESS_RATE_METRIC = "success_rate"


class SuccessRateCallback(RLlibCallback):
    """Logs the training success rate from ``info[success_key]`` at episode end.

    Success (e.g. reaching the Grid World goal) is the headline metric of thesis Ch.2
    (§2.5), so it is logged next to ``episode_return_mean``. It runs on the EnvRunners
    and shows up as ``result["env_runners"]["success_rate"]``.

    The flag is read from the *last* info of the episode, i.e. the info returned together
    with the final observation. Episodes whose last info lacks the key are not counted,
    so envs without a notion of success simply produce no metric.

    The window matches RLlib's own ``episode_return_mean`` (``metrics_num_episodes_for_
    smoothing`` split over the EnvRunners), so the two metrics average the same episodes;
    without a window, ``reduce="mean"`` would become an EMA with a long memory.

    Subclass and override :attr:`success_key` for an env with another key.
    """

    success_key: ClassVar[str] = "success"

    def on_episode_end(
        self,
        *,
        episode: Any,
        env_runner: Any = None,
        metrics_logger: Any = None,
        **kwargs: Any,
    ) -> None:
        if metrics_logger is None or not hasattr(episode, "get_infos"):
            return  # multi-agent episodes have per-agent infos; not handled here
        try:
            last_info = episode.get_infos(-1)
        except (IndexError, KeyError):
            return
        if not isinstance(last_info, dict) or self.success_key not in last_info:
            return
        metrics_logger.log_value(
            SUCCESS_RATE_METRIC,
            float(bool(last_info[self.success_key])),
            reduce="mean",
            window=_smoothing_window(env_runner),
        )


def _smoothing_window(env_runner: Any) -> int:
    """Per-EnvRunner window so that the merged window equals RLlib's episode window."""
    config = getattr(env_runner, "config", None)
    episodes = getattr(config, "metrics_num_episodes_for_smoothing", 100)
    runners = getattr(config, "num_env_runners", 0) or 1
    return max(1, int(math.ceil(episodes / runners)))
