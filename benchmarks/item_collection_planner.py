"""Reference scores for Item Collection's non-linear sequential task (OKB §5, Q3): what "solving" it means.

The task (envs/item_collection, ``task: sequential``): collect all items of one type before any of
the other, within the episode's ``max_steps`` (50). It is hard to score a learned meta-policy without
knowing what is reachable in 50 steps, so this script plays two reference policies that see the whole
grid (the learned agents see only the egocentric item map):

- ``planner``: for each possible first type, walk by breadth-first search on the torus to the nearest
  item of the type that is due, around items of the other type while they would be violations
  (through them only if no other path exists); the better of the two first types is kept.
- ``random``: uniformly random moves.

Run::

    .venv/bin/python benchmarks/item_collection_planner.py --episodes 200

and read the table: mean return (max 10), success rate (all 10 items, no violation) and mean violations.
A learned meta-policy "solves" the task in the README's sense when it gets close to the planner.
"""

from __future__ import annotations

import argparse
import copy
from collections import deque

import numpy as np

from envs.item_collection.env import MOVES, ItemCollectionEnv

EMPTY = -1


def first_move_towards(cells_NN: np.ndarray, start: tuple[int, int], target: int, avoid: int | None) -> int | None:
    """The first action of a shortest torus path from ``start`` to a cell holding ``target``, not passing
    through cells holding ``avoid``; None when no such path exists."""
    n = cells_NN.shape[0]
    first: dict[tuple[int, int], int] = {start: -1}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        for a, (dr, dc) in enumerate(MOVES):
            nxt = ((cell[0] + dr) % n, (cell[1] + dc) % n)
            if nxt in first:
                continue
            kind = int(cells_NN[nxt])
            if avoid is not None and kind == avoid:
                continue
            first[nxt] = a if cell == start else first[cell]
            if kind == target:
                return first[nxt]
            queue.append(nxt)
    return None


def play_planner(env: ItemCollectionEnv, first_type: int) -> tuple[float, bool, int]:
    """One episode of the planner from the env's current state, committing to ``first_type``."""
    ret, success, violations = 0.0, False, 0
    for _ in range(env.config.max_steps):
        remaining = env._remaining_D
        due = first_type if remaining[first_type] > 0 else int(np.argmax(remaining))
        other = None if remaining[first_type] == 0 else 1 - first_type
        action = first_move_towards(env._cell_type_NN, env._agent, due, other)
        if action is None:
            action = first_move_towards(env._cell_type_NN, env._agent, due, None)
        _, reward, terminated, truncated, info = env.step(action)
        ret += reward
        violations += int(info["violation"])
        success |= bool(info["success"])
        if terminated or truncated:
            break
    return ret, success, violations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    env = ItemCollectionEnv(task="sequential")
    if env.d != 2:
        raise SystemExit("the planner is written for two item types")
    rng = np.random.default_rng(args.seed)
    rows: dict[str, list[tuple[float, bool, int]]] = {"planner": [], "random": []}
    for episode in range(args.episodes):
        env.reset(seed=args.seed * 100_003 + episode)
        outcomes = []
        for first_type in (0, 1):
            trial = copy.deepcopy(env)
            outcomes.append(play_planner(trial, first_type))
        rows["planner"].append(max(outcomes, key=lambda o: o[0]))
        env.reset(seed=args.seed * 100_003 + episode)
        ret, success, violations = 0.0, False, 0
        for _ in range(env.config.max_steps):
            _, reward, terminated, truncated, info = env.step(int(rng.integers(4)))
            ret, violations = ret + reward, violations + int(info["violation"])
            success |= bool(info["success"])
            if terminated or truncated:
                break
        rows["random"].append((ret, success, violations))

    print(f"Item Collection, sequential task, {args.episodes} episodes of at most {env.config.max_steps} steps")
    print(f"{'policy':<10} {'return':>8} {'success':>8} {'violations':>11}")
    for name, outcomes in rows.items():
        r, s, v = (np.mean([o[i] for o in outcomes]) for i in range(3))
        print(f"{name:<10} {r:>8.2f} {s:>8.2f} {v:>11.2f}")


if __name__ == "__main__":
    main()
