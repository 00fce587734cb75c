"""OKB: the Option Keyboard Basis (Alegre et al., "Constructing an Optimal Behavior Basis for the
Option Keyboard"; digest in ``shared/spec/ALGORITHMS.md`` §5).

So far this package holds the linear-support geometry, :mod:`rllib_modules.okb.linear_support`
(corner weights, Def. F.1; RemoveDominated; the App. B linear -> convex transform; uniform
test weights; SFOLS' optimistic corner priority), and the learning components, pure PyTorch
(``nn.Module``s and functions, no Ray) for later RLModules and Learners:

- :mod:`rllib_modules.okb.successor_features`: the USFA ensemble ψ(s, a, w) (App. F: 10 members,
  4 × 256, LeakyReLU, LayerNorm) and its TD target (min over 2 random members of ψ·w) and loss;
- :mod:`rllib_modules.okb.gpi`: batched GPI over base policies (Eq. 3) and the USFA's GPI policy;
- :mod:`rllib_modules.okb.option_keyboard`: the meta-policy ω(s, w) → unit z, its critic
  ψ^ω(s, z, w), TrainOK's exploration and losses (Alg. 3), acting by GPI(s, z; Π) (Eq. 7);
- :mod:`rllib_modules.okb.optimality`: the mean positive advantage of Eq. 21 and task selection.

The algorithms are :mod:`rllib_modules.okb.basis` (OKB Alg. 1, OK-LS Alg. 2, TrainOK Alg. 3,
SFOLS, fixed GPI) run by :class:`rllib_modules.okb.algorithm.BasisConstruction` with the
:class:`~rllib_modules.okb.module.OKBRLModule` and :class:`~rllib_modules.okb.learner.OKBLearner`.
Importing this package registers ``okb``, ``okb-uniform``, ``sfols``, ``sip`` and ``gpi``
(``dqn`` is RLlib's own DQN, :mod:`rllib_modules.dqn`). Meta-policies for non-linear rewards
(OKB §5 Q3) are in :mod:`rllib_modules.okb.reward_meta`.
"""

from __future__ import annotations

from actlab.registry import AlgorithmEntry, register_algorithm
from rllib_modules.okb.algorithm import BasisConstruction, BasisConstructionConfig
from rllib_modules.okb.build import build_basis_construction
from rllib_modules.okb.config import BasisSettings, FixedGPISettings, OKBUniformSettings, SFOLSSettings, SIPSettings

__all__ = ["BasisConstruction", "BasisConstructionConfig", "BasisSettings", "build_basis_construction"]

_ENTRIES = (
    (
        "okb",
        BasisSettings,
        "OKB (Alegre et al., Alg. 1): base policies at the corner weight with the largest mean positive "
        "advantage (Eq. 21), a meta-policy trained by OK-LS (Alg. 2) and TrainOK (Alg. 3); acts with the OK.",
    ),
    ("okb-uniform", OKBUniformSettings, "OKB-Uniform: OKB with the next base task drawn uniformly from the simplex."),
    (
        "sfols",
        SFOLSSettings,
        "SFOLS (Alegre et al. 2022): base policies at SFOLS' corner weights, GPI acting, the whole budget on base policies.",
    ),
    (
        "sip",
        SIPSettings,
        "SIP (Alver & Precup 2021): one base policy per reward feature and a DQN meta-policy over a discrete "
        "weight set acting by GPI, for the env's own reward (OKB §5: Item Collection).",
    ),
    ("gpi", FixedGPISettings, "Fixed GPI: base policies at fixed tasks (default: the unit vectors), GPI acting at each fixed weight."),
)
for _name, _settings, _description in _ENTRIES:
    register_algorithm(
        AlgorithmEntry(name=_name, description=_description, config_model=_settings, build=build_basis_construction)  # type: ignore[arg-type]
    )
