"""OKB: the Option Keyboard Basis (Alegre et al., "Constructing an Optimal Behavior Basis for the
Option Keyboard"; digest in ``shared/spec/ALGORITHMS.md`` §5).

So far this package holds the linear-support geometry, :mod:`rllib_modules.okb.linear_support`
(corner weights, Def. F.1; RemoveDominated; the App. B linear -> convex transform; uniform
test weights; SFOLS' optimistic corner priority). It registers nothing yet: the algorithms
(``okb``, ``okb-uniform``, ``sfols``, ``sip``, ``gpi``, ``dqn``) are added by later steps.
"""

from __future__ import annotations
