"""Action-representation models of thesis Ch.2: the HVAE (§2.4.1) and the flat VAE (§2.5.3).

Pure PyTorch (no RLlib): stage 1 of Algorithm 1, to be plugged into a Learner's
pretraining stage. Public API:

- :class:`HVAEConfig` (pydantic; T-AppA Tables A.3/A.4 defaults);
- models :class:`HVAE` and :class:`FlatVAE`: ``model.loss(obs_BNTS, kl_scale) -> (loss,
  metrics)``, ``model.represent(obs_BNTS) -> (B, C)``, ``model(obs_BNTS)`` (all
  intermediate distributions), ``model.elbo_terms(output) -> ELBOTerms``;
- :func:`build_model`, :func:`make_optimizer`, :func:`kl_scale`, :class:`ActionBatchSampler`,
  :class:`RepresentationTrainer` (one step at a time), :func:`train_representation`
  (the whole stage) -> :class:`TrainedRepresentation`, :func:`infer_representations`;
- :func:`cached_representation` (content-hash disk cache of trained representations);
- plots: :func:`tsne`, :func:`tsne_plot`, :func:`curves_plot`; Grid World labels
  :func:`net_displacement`, :func:`displacement_quadrant`.

Observations are raw states ``(A, N, T, S)`` (Grid World: ``envs.gridworld_skills.
load_action_observations()``, int16 ``(1024, 1024, 6, 2)``); the config's ``data_type``
(``"xy"`` / ``"one_hot"``) decides the featurisation.
"""

from rllib_modules.hvae.cache import (
    CODE_VERSION,
    cache_entry_dir,
    cache_key,
    cached_representation,
    is_cached,
    load_observations,
)
from rllib_modules.hvae.config import THESIS_GRIDWORLD_TRAIN_STEPS, DataType, HVAEConfig
from rllib_modules.hvae.elbo import ELBOTerms, elbo_loss, reconstruction_log_likelihood
from rllib_modules.hvae.flat_vae import FlatVAE, FlatVAEOutput
from rllib_modules.hvae.hvae import HVAE, HVAEOutput, hvae_elbo_terms
from rllib_modules.hvae.plots import curves_plot, displacement_quadrant, net_displacement, tsne, tsne_plot
from rllib_modules.hvae.training import (
    REPRESENTATION_KINDS,
    ActionBatchSampler,
    RepresentationKind,
    RepresentationTrainer,
    TrainedRepresentation,
    build_model,
    infer_representations,
    kl_scale,
    make_optimizer,
    train_representation,
)

__all__ = [
    "CODE_VERSION",
    "REPRESENTATION_KINDS",
    "THESIS_GRIDWORLD_TRAIN_STEPS",
    "ActionBatchSampler",
    "DataType",
    "ELBOTerms",
    "FlatVAE",
    "FlatVAEOutput",
    "HVAE",
    "HVAEConfig",
    "HVAEOutput",
    "RepresentationKind",
    "RepresentationTrainer",
    "TrainedRepresentation",
    "build_model",
    "cache_entry_dir",
    "cache_key",
    "cached_representation",
    "curves_plot",
    "displacement_quadrant",
    "elbo_loss",
    "hvae_elbo_terms",
    "infer_representations",
    "is_cached",
    "kl_scale",
    "load_observations",
    "make_optimizer",
    "net_displacement",
    "reconstruction_log_likelihood",
    "train_representation",
    "tsne",
    "tsne_plot",
]
