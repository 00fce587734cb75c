"""Pieces shared by the method packages: slot masking, MLPs, callbacks, Learners, env hand-off."""

from rllib_modules.common.callbacks import SUCCESS_RATE_METRIC, SuccessRateCallback
from rllib_modules.common.env import rllib_env
from rllib_modules.common.masking import masked_logits, valid_slots
from rllib_modules.common.mlp import ACTIVATIONS, Activation, InitScheme, init_linear_layers_, make_mlp
from rllib_modules.common.ppo_learner import ADAM_EPS_KEY, AdamEpsPPOTorchLearner

__all__ = [
    "ACTIVATIONS",
    "ADAM_EPS_KEY",
    "Activation",
    "AdamEpsPPOTorchLearner",
    "InitScheme",
    "SUCCESS_RATE_METRIC",
    "SuccessRateCallback",
    "init_linear_layers_",
    "make_mlp",
    "rllib_env",
    "masked_logits",
    "valid_slots",
]
