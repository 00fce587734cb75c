"""Small MLP builders and the initialisation used by the thesis' PPO code base.

The thesis (T-AppA §D.1) trains with the PPO implementation of Kostrikov (2018), whose
networks use orthogonal weight initialisation with zero biases: gain sqrt(2) for the
tanh state and critic trunks, and gain 0.01 for the layers of the action-scoring head
(so the initial policy is close to uniform over the available actions).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "Activation", "InitScheme", "make_mlp", "init_linear_layers_", "SQRT2"]

Activation = Literal["tanh", "relu", "elu", "gelu"]
InitScheme = Literal["orthogonal", "torch"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}

SQRT2 = math.sqrt(2.0)


def make_mlp(
    in_dim: int,
    hidden_sizes: Sequence[int],
    activation: Activation,
    out_dim: int | None = None,
) -> nn.Sequential:
    """``Linear -> act`` for each hidden size, then an optional linear output layer.

    The thesis counts *linear layers*: a "2-layer MLP, tanh" is
    ``Linear-Tanh-Linear-Tanh`` (``hidden_sizes=[H, H]``), and the utility head's
    "2-layer MLP, ReLU -> 1 logit" is ``Linear-ReLU-Linear(1)``
    (``hidden_sizes=[H], out_dim=1``), matching the thesis code base.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation '{activation}'; known: {sorted(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    dim = in_dim
    for size in hidden_sizes:
        layers += [nn.Linear(dim, size), ACTIVATIONS[activation]()]
        dim = size
    if out_dim is not None:
        layers.append(nn.Linear(dim, out_dim))
    return nn.Sequential(*layers)


@torch.no_grad()
def init_linear_layers_(module: nn.Module, gain: float, scheme: InitScheme = "orthogonal") -> None:
    """Orthogonal init (given gain, zero bias) of every ``nn.Linear`` inside ``module``.

    ``scheme="torch"`` keeps PyTorch's default init (an ablation switch; no-op here).
    """
    if scheme == "torch":
        return
    if scheme != "orthogonal":
        raise ValueError(f"unknown init scheme '{scheme}'")
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.orthogonal_(layer.weight, gain=gain)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
