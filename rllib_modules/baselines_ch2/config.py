"""Typed settings of the Ch.2 policy baselines (thesis §2.5.3), trained with PPO like ``utility-ppo``.

The PPO hyperparameters, the representation stage and the network width / trunk settings
are those of :class:`~rllib_modules.utility.config.UtilityPPOConfig` (same defaults, T-AppA
Tables A.3/A.4), so a spec's shared ``algorithm.config`` is valid for ``utility-ppo``,
``nearest-neighbor`` and ``continuous-output`` alike. The two fields that configure the
utility network f_ν (``utility_uses_state``, ``utility_activation``) do not apply to the
baselines: a non-default value is an error rather than a silent no-op.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from rllib_modules.utility.config import UtilityPPOConfig

__all__ = ["Ch2BaselinePPOConfig", "ContinuousOutputPPOConfig", "NearestNeighborPPOConfig"]


class Ch2BaselinePPOConfig(UtilityPPOConfig):
    """``UtilityPPOConfig`` minus the utility-network fields (shared base of the baselines)."""

    _UTILITY_ONLY: ClassVar[tuple[str, ...]] = ("utility_uses_state", "utility_activation")
    #: Algorithm name, for error messages.
    algorithm_name: ClassVar[str] = "ch2-baseline"

    @model_validator(mode="after")
    def _no_utility_fields(self) -> "Ch2BaselinePPOConfig":
        # Non-default values only: resolved specs (re-validated per trial) list every field.
        given = [
            name for name in self._UTILITY_ONLY if getattr(self, name) != type(self).model_fields[name].default
        ]
        if given:
            raise ValueError(
                f"{', '.join(given)}: configures the utility network f_ν of utility-ppo and does not "
                f"apply to {self.algorithm_name}"
            )
        return self


class NearestNeighborPPOConfig(Ch2BaselinePPOConfig):
    """PPO with a discrete policy over the fixed training actions (thesis §2.5.3, Nearest-Neighbor)."""

    algorithm_name: ClassVar[str] = "nearest-neighbor"

    def module_model_config(self) -> dict[str, Any]:
        """Network options of :class:`~rllib_modules.baselines_ch2.nearest_neighbor.NearestNeighborRLModule`
        (the builder adds the training actions' ids and representations)."""
        from rllib_modules.baselines_ch2.nearest_neighbor import NearestNeighborOptions

        return NearestNeighborOptions(
            hidden_size=self.hidden_size, state_activation=self.state_activation, init=self.init
        ).to_model_config()


class ContinuousOutputPPOConfig(Ch2BaselinePPOConfig):
    """PPO with a Gaussian policy in representation space (thesis §2.5.3; Dulac-Arnold et al. 2015)."""

    algorithm_name: ClassVar[str] = "continuous-output"

    initial_log_std: float = Field(
        0.0,
        ge=-5.0,
        le=2.0,
        description=(
            "Initial log standard deviation of the Gaussian over representation space (a learned, "
            "state-independent vector, as in the thesis' PPO code base's DiagGaussian, which starts at "
            "0). The thesis does not state it."
        ),
    )

    def module_model_config(self) -> dict[str, Any]:
        """Options of :class:`~rllib_modules.baselines_ch2.continuous_output.ContinuousOutputRLModule`."""
        from rllib_modules.baselines_ch2.continuous_output import ContinuousOutputOptions

        return ContinuousOutputOptions(
            hidden_size=self.hidden_size,
            state_activation=self.state_activation,
            init=self.init,
            initial_log_std=self.initial_log_std,
        ).to_model_config()
