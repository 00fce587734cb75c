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

It registers nothing yet: the algorithms (``okb``, ``okb-uniform``, ``sfols``, ``sip``, ``gpi``,
``dqn``) are added by later steps.
"""

from __future__ import annotations
