"""Why does an OKB-family run act as it does at the start of an episode? GPI's action values at s0.

Restores one checkpoint of an ``okb`` / ``okb-uniform`` / ``sfols`` / ``gpi`` trial (the trial
directory's ``params.json`` holds the fully resolved spec, so the same algorithm is rebuilt) and,
for every test task w of the run, prints

- GPI's value of each action at the first initial state, ``max_j ψ_j(s0, a)·w`` (OKB Eq. 3),
- GPI's greedy action and the action the run's policy plays (the OK once ω is trained),
- the gap between the best action and the last action (Minecart's actions are MINE, LEFT, RIGHT,
  ACCELERATE, BRAKE, NONE).

On Minecart this is the measurement behind the README's "Where exactly" paragraph: at laptop
budgets the six actions' values at the base lie within ~0.004-0.03 of each other, so the first
decision (turn in place, brake, or ACCELERATE out of the base) is set by estimation noise, and a
policy that turns or idles at the base scores the idle return (−0.237 normalised).

Run:  .venv/bin/python benchmarks/okb_start_state_values.py actlab_results/<sweep>/<trial>/checkpoint_000004
(the checkpoint directory written by ``actlab run`` with ``checkpoint.interval``; ~10 s).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="a trial's checkpoint_NNNNNN directory")
    args = parser.parse_args()

    from rllib_modules.okb.build import restore_trial_checkpoint

    algo, trial = restore_trial_checkpoint(args.checkpoint)
    spec = trial["spec"]
    try:
        loop, module = algo.basis_loop, algo.get_module()
        print(f"{spec['algorithm']['name']} seed {trial['seed']}, iteration {loop.state.iteration}, base tasks:")
        print(np.round(loop.state.base_weights, 3))
        w_MD = torch.as_tensor(loop.test_w_MD, dtype=torch.float32)
        s0_MS = loop.initial_obs_XS[:1].expand(len(w_MD), -1)
        q_MA = torch.einsum("mjad,md->mja", module.base_sfs(s0_MS), w_MD).max(dim=1).values
        played_M = module.act(s0_MS, w_MD)
        print(f"{'task w':>22} | GPI value of each action at s0 {'':>20} | GPI a* | played | best - last")
        for m in range(len(w_MD)):
            q_A = q_MA[m].numpy()
            print(
                f"{np.array2string(loop.test_w_MD[m], precision=2):>22} | {np.array2string(q_A, precision=4):>50} | "
                f"{int(q_A.argmax()):>6} | {int(played_M[m]):>6} | {q_A.max() - q_A[-1]:.4f}"
            )
    finally:
        algo.stop()


if __name__ == "__main__":
    main()
