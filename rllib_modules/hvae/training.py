"""Training the action-representation models (Algorithm 1, stage 1) and inferring the table.

Three levels, from the most to the least packaged:

- :func:`train_representation` trains a model on the given (train) action ids for
  ``config.train_steps`` steps and returns a :class:`TrainedRepresentation` with the
  ``(A, C)`` table of **all** actions (Algorithm 1: c_i = mean of q_phi(c | O_i)), the
  per-step curves and the throughput;
- :class:`RepresentationTrainer` is the same loop one step at a time (``trainer.step()``),
  for a caller that owns the loop (e.g. an RLlib Learner's pretraining stage);
- :func:`build_model`, :func:`make_optimizer`, :class:`ActionBatchSampler`,
  ``model.loss(obs_BNTS, kl_scale)`` and :func:`infer_representations` are the pieces.

Determinism: for a fixed ``seed`` the initial weights (drawn inside
``torch.random.fork_rng``, so the global RNG is left untouched), the batches and the
reparameterisation noise (a dedicated ``torch.Generator``) are fixed; on CPU with a fixed
thread count the results are bitwise reproducible.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from rllib_modules.hvae.config import HVAEConfig
from rllib_modules.hvae.flat_vae import FlatVAE
from rllib_modules.hvae.hvae import HVAE

__all__ = [
    "RepresentationKind",
    "REPRESENTATION_KINDS",
    "build_model",
    "make_optimizer",
    "kl_scale",
    "ActionBatchSampler",
    "infer_representations",
    "RepresentationTrainer",
    "TrainedRepresentation",
    "train_representation",
]

RepresentationKind = Literal["hvae", "vae"]
REPRESENTATION_KINDS: tuple[str, ...] = ("hvae", "vae")
_MODELS: dict[str, type[nn.Module]] = {"hvae": HVAE, "vae": FlatVAE}

Model = HVAE | FlatVAE
LogFn = Callable[[int, dict[str, float]], None]


def build_model(kind: str, config: HVAEConfig, seed: int | None = None) -> Model:
    """A fresh ``"hvae"`` or ``"vae"`` model; weights drawn from ``seed`` if given (global RNG untouched)."""
    if kind not in _MODELS:
        raise ValueError(f"unknown representation kind {kind!r}; expected one of {REPRESENTATION_KINDS}")
    if seed is None:
        return _MODELS[kind](config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _MODELS[kind](config)


def make_optimizer(model: nn.Module, config: HVAEConfig) -> torch.optim.Optimizer:
    """RAdam at ``config.lr`` (T §2.4.3, T-AppA Table A.4)."""
    return torch.optim.RAdam(model.parameters(), lr=config.lr)


def kl_scale(step: int, config: HVAEConfig) -> float:
    """KL warm-up factor at (0-based) gradient step ``step``: linear 0 -> 1, or 1 without warm-up."""
    if config.kl_warmup_steps <= 0:
        return 1.0
    return min(1.0, (step + 1) / config.kl_warmup_steps)


def _as_tensor(observations: np.ndarray | torch.Tensor) -> torch.Tensor:
    """A tensor view of the observations (copied only if not contiguous or read-only)."""
    if isinstance(observations, torch.Tensor):
        return observations
    arr = np.ascontiguousarray(observations)
    if not arr.flags.writeable:
        arr = arr.copy()
    return torch.from_numpy(arr)


class ActionBatchSampler:
    """Batches of ``(B, n, T, S)`` observations of training actions.

    Actions are visited epoch-wise (a fresh random permutation of ``action_ids``, cut into
    batches of ``batch_size``; the last partial batch is topped up from the next
    permutation, so every batch has exactly ``min(batch_size, len(action_ids))``
    actions). For each action a fresh random subset of ``obs_per_action`` of its
    observations is drawn without replacement.
    """

    def __init__(
        self,
        observations: np.ndarray | torch.Tensor,
        action_ids: Sequence[int] | np.ndarray,
        batch_size: int,
        obs_per_action: int,
        generator: torch.Generator,
    ) -> None:
        self.observations = _as_tensor(observations)
        self.action_ids = torch.tensor(np.asarray(action_ids, dtype=np.int64))
        if self.action_ids.numel() < 2:
            raise ValueError("need at least 2 training actions (q_phi's batch-norm)")
        if int(self.action_ids.min()) < 0 or int(self.action_ids.max()) >= self.observations.shape[0]:
            raise ValueError("action ids out of range of the observations")
        self.batch_size = min(batch_size, self.action_ids.numel())
        self.obs_per_action = min(obs_per_action, self.observations.shape[1])
        self.generator = generator
        self._queue = torch.empty(0, dtype=torch.int64)
        self.epochs = 0

    def next_ids(self) -> torch.Tensor:
        while self._queue.numel() < self.batch_size:
            perm = self.action_ids[torch.randperm(self.action_ids.numel(), generator=self.generator)]
            self._queue = torch.cat([self._queue, perm])
            self.epochs += 1
        ids, self._queue = self._queue[: self.batch_size], self._queue[self.batch_size :]
        return ids

    def sample(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(ids_B, obs_BNTS)`` for the next gradient step."""
        ids = self.next_ids()
        n_total = self.observations.shape[1]
        if self.obs_per_action == n_total:
            return ids, self.observations[ids]
        obs_idx = torch.rand(ids.numel(), n_total, generator=self.generator).argsort(dim=1)[:, : self.obs_per_action]
        return ids, self.observations[ids.unsqueeze(1), obs_idx]


@torch.no_grad()
def infer_representations(
    model: nn.Module,
    observations_ANTS: np.ndarray | torch.Tensor,
    obs_per_action: int | None = None,
    batch_actions: int | None = None,
) -> np.ndarray:
    """``float32 (A, C)`` representations of every action, batched, in eval mode.

    HVAE: the posterior mean of q_phi(c | O); flat VAE: the mean of E_q[z | o]. Uses the
    first ``obs_per_action`` observations of each action (default: the config's
    ``inference_obs_per_action``, else all). The model's train/eval mode is restored.
    """
    config: HVAEConfig = model.config  # type: ignore[assignment]
    device = next(model.parameters()).device
    obs = _as_tensor(observations_ANTS)
    k = obs_per_action if obs_per_action is not None else config.inference_obs_per_action
    if k is not None:
        obs = obs[:, :k]
    step = batch_actions or config.inference_batch_actions
    was_training = model.training
    model.eval()
    try:
        chunks = [
            model.represent(obs[i : i + step].to(device)).cpu()  # type: ignore[operator]
            for i in range(0, obs.shape[0], step)
        ]
    finally:
        model.train(was_training)
    return torch.cat(chunks).numpy().astype(np.float32)


@dataclass
class TrainedRepresentation:
    """Result of :func:`train_representation` (also what the cache stores)."""

    kind: str
    config: HVAEConfig
    model_state: dict[str, torch.Tensor]
    table: np.ndarray
    """``float32 (A, C)``: representation of every action (train and held-out)."""
    curves: dict[str, list[float]]
    """Per-step training metrics: ``step``, ``loss``, ``elbo``, ``recon_ll``, ``kl_z``, ``kl_c``, ..."""
    meta: dict[str, Any] = field(default_factory=dict)
    """``obs_per_s`` (training throughput), ``train_wall_s``, ``infer_wall_s``, ``seed``, ..."""

    def build_model(self) -> Model:
        """The trained model (eval mode)."""
        model = build_model(self.kind, self.config)
        model.load_state_dict(self.model_state)
        return model.eval()


class RepresentationTrainer:
    """The training loop of :func:`train_representation`, one gradient step per :meth:`step`."""

    def __init__(
        self,
        kind: str,
        config: HVAEConfig,
        observations: np.ndarray | torch.Tensor,
        train_ids: Sequence[int] | np.ndarray,
        seed: int,
        device: str | torch.device = "cpu",
    ) -> None:
        self.kind = kind
        self.config = config
        self.seed = int(seed)
        self.device = torch.device(device)
        self.model = build_model(kind, config, seed=self.seed).to(self.device)
        self.model.train()
        self.optimizer = make_optimizer(self.model, config)
        # Batches are drawn on the CPU, the reparameterisation noise on the model's device.
        self.sample_generator = torch.Generator().manual_seed(self.seed + 1)
        self.noise_generator = torch.Generator(device=self.device).manual_seed(self.seed + 2)
        self.sampler = ActionBatchSampler(
            observations, train_ids, config.batch_size, config.obs_per_action, self.sample_generator
        )
        self.steps_done = 0
        self.observations_seen = 0
        self.train_wall_s = 0.0

    def step(self) -> dict[str, float]:
        """One gradient step on a fresh batch; returns its metrics as floats."""
        started = time.perf_counter()
        _, obs_BNTS = self.sampler.sample()
        obs_BNTS = obs_BNTS.to(self.device, non_blocking=True)
        scale = kl_scale(self.steps_done, self.config)
        loss, metrics = self.model.loss(obs_BNTS, kl_scale=scale, generator=self.noise_generator)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip_value is not None:
            torch.nn.utils.clip_grad_value_(self.model.parameters(), self.config.grad_clip_value)
        self.optimizer.step()
        self.train_wall_s += time.perf_counter() - started
        self.steps_done += 1
        self.observations_seen += obs_BNTS.shape[0] * obs_BNTS.shape[1]
        out = {key: float(value) for key, value in metrics.items()}
        out["kl_scale"] = scale
        return out

    @property
    def obs_per_s(self) -> float:
        """Training throughput: observations per second of training-step wall time."""
        return self.observations_seen / self.train_wall_s if self.train_wall_s > 0 else 0.0

    def representations(self, observations_ANTS: np.ndarray | torch.Tensor) -> np.ndarray:
        return infer_representations(self.model, observations_ANTS)


def train_representation(
    kind: str,
    config: HVAEConfig,
    observations: np.ndarray | torch.Tensor,
    train_ids: Sequence[int] | np.ndarray,
    seed: int,
    log_fn: LogFn | None = None,
    log_every: int = 50,
    device: str | torch.device = "cpu",
) -> TrainedRepresentation:
    """Train ``kind`` (``"hvae"`` / ``"vae"``) on ``train_ids`` and infer all actions' representations.

    ``observations``: raw ``(A, N, T, S)`` observations of **all** actions (Grid World:
    ``load_action_observations()``); only rows ``train_ids`` are trained on (pass train +
    test ids for an "oracle" representation). ``log_fn(step, metrics)`` is called every
    ``log_every`` steps and at the last step. ``device`` is where the model trains (the
    returned state dict is on the CPU); results are reproducible per device.
    """
    trainer = RepresentationTrainer(kind, config, observations, train_ids, seed, device=device)
    curves: dict[str, list[float]] = {}
    for i in range(config.train_steps):
        metrics = trainer.step()
        curves.setdefault("step", []).append(float(i + 1))
        for key, value in metrics.items():
            curves.setdefault(key, []).append(value)
        if log_fn is not None and ((i + 1) % log_every == 0 or i + 1 == config.train_steps):
            log_fn(i + 1, {**metrics, "obs_per_s": trainer.obs_per_s})
    started = time.perf_counter()
    table = trainer.representations(observations)
    infer_wall_s = time.perf_counter() - started
    trainer.model.eval()
    state = {k: v.detach().cpu().clone() for k, v in trainer.model.state_dict().items()}
    meta = {
        "kind": kind,
        "seed": int(seed),
        "train_steps": config.train_steps,
        "n_train_actions": int(np.asarray(train_ids).size),
        "n_actions": int(table.shape[0]),
        "n_obs": int(_as_tensor(observations).shape[1]),
        "epochs": trainer.sampler.epochs,
        "obs_per_s": trainer.obs_per_s,
        "train_wall_s": trainer.train_wall_s,
        "infer_wall_s": infer_wall_s,
        "device": str(trainer.device),
    }
    return TrainedRepresentation(kind=kind, config=config, model_state=state, table=table, curves=curves, meta=meta)
