"""The basis-construction loop: OKB (Alg. 1), OK-LS (Alg. 2), TrainOK (Alg. 3), SFOLS, fixed GPI.

Written CleanRL-style, one outer iteration per :meth:`BasisLoop.iteration` call, so the whole
method reads top to bottom. Acting uses :class:`~rllib_modules.okb.module.OKBRLModule`; gradient
steps go through :class:`~rllib_modules.okb.learner.OKBLearner`; the geometry is
:mod:`~rllib_modules.okb.linear_support`. One iteration spends ``iteration_env_steps``:

``okb`` / ``okb-uniform`` (Alg. 1)::

    NewPolicy(w_next)                 base_budget_fraction of the budget (first call: w_0 = uniform)
    OK-LS(ω, Ψ^OK, W^sup, Π)          the rest, split over ok_ls_iterations TrainOK calls
    evaluate the OK on the test tasks
    C = CornerW(Ψ^base) ∪ CornerW(Ψ^OK) minus tasks already learned, kept if MPA(w) > threshold (Eq. 21)
    w_next = argmax_C MPA  (okb)  |  w ~ Uniform(𝒲)  (okb-uniform)

``sfols``: NewPolicy(w_next) on the whole budget, GPI evaluation, then the corner weight of
Ψ^base with the largest optimistic improvement (SFOLS' priority). ``gpi``: NewPolicy at each of
``fixed_tasks`` in turn.

Choices where the paper is silent (ALGORITHMS.md §5.3–§5.5), documented here:

- **SF vectors.** ψ^{π_j} = mean over ``sf_vector_states`` initial states of ψ(s0, π_j(s0), w_j)
  (USFA); an OK policy's ψ^{π^OK_ω(·, w)} = mean of the critic ψ^ω(s0, ω(s0, w), w). All base SF
  vectors are re-estimated every iteration (the shared USFA keeps learning).
- **CornerW(∅)** = the simplex extrema (unit vectors), so OK-LS starts from W^sup = {e_1..e_d}.
- **Set difference** of weights within ``corner_atol`` (max-norm); tasks already in Π (or ever
  learned) are not candidates again, since an approximate critic almost never gives MPA = 0.
- **Leftover budget.** When OK-LS finds no new corner weight before its last call, the remaining
  TrainOK calls still run on W^sup (refining ω); once the basis is complete (C empty), every
  later iteration spends its budget the same way (OK-LS for okb, NewPolicy refinement over the
  existing tasks for GPI methods), so all methods use equal interactions.
- **NewPolicy's behaviour** is ε-greedy on π_w (``new_policy_behavior="task"``) or on GPI over
  Π ∪ {π_w} at w (``"gpi"``, as the authors' GPI-LS code); its USFA batches label a
  ``sf_new_task_fraction`` of the rows with w (the authors' code: half) and draw the rest uniformly
  from all base tasks (None: all rows uniformly).
- **NewPolicy's ε-greedy** decays once over the run's first ``epsilon_decay_steps`` interactions
  (``epsilon_schedule="global"``, as the authors' GPI-LS code on Minecart) or restarts per base
  policy (``"per_policy"``).
- **TrainOK's buffer** persists across the TrainOK calls of one OK-LS run and is cleared when Π
  changes (its z → action mapping is Π's).
- **SIP's meta-policy** holds each weight choice as an option until a reward feature fires, the
  episode ends or ``choice_max_steps`` pass (``choice_termination="feature"``; SMDP DQN rows), in
  training and in the ``task/*`` evaluation alike; ``"step"`` re-chooses every step.
- **RemoveDominated** keeps the newest base policy (a noisy estimate must not delete what was just
  learned); removed tasks stay "visited".
- **Returns** are discounted with the run's γ, ``Σ_t γ^t w·φ_t`` from the reset state; the
  normalised return is ``(J_w − lo_w) / (hi_w − lo_w)`` with ``hi_w``/``lo_w`` the best/worst
  ``w·ψ`` of the environment's reference SF vectors (e.g. Minecart's Pareto front from
  MO-Gymnasium) when the environment provides ``reference_sf_vectors(gamma)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import gymnasium as gym
import numpy as np
import torch

from rllib_modules.okb.config import BasisSettings
from rllib_modules.okb.learner import OKBLearner
from rllib_modules.okb.linear_support import corner_priority, corner_weights, non_dominated_indices, uniform_simplex_weights
from rllib_modules.okb.module import OKBRLModule
from rllib_modules.okb.optimality import ok_mean_positive_advantages, select_task
from rllib_modules.okb.replay import FeatureReplay
from rllib_modules.okb.reward_meta import HeldChoices

__all__ = ["BasisLoop", "BasisState", "default_test_partitions", "normalised_returns", "run_lockstep"]

#: ``(act(obs_BS, active) -> actions_B, observe(i, info) or None)``: one chunk's acting in evaluation.
EpisodePolicy = tuple[Callable[[torch.Tensor, list[int]], torch.Tensor], Callable[[int, dict[str, Any]], None] | None]


def default_test_partitions(d: int) -> int:
    """Das-Dennis partitions giving 10-36 test tasks: d=2: 9 (10 tasks), 3: 4 (15), 4: 3 (20), else 2."""
    return {1: 1, 2: 9, 3: 4, 4: 3}.get(d, 2)


def normalised_returns(returns_M: np.ndarray, w_MD: np.ndarray, reference_ND: np.ndarray) -> np.ndarray:
    """``(J_w − lo_w) / (hi_w − lo_w)`` per test task; ``hi``/``lo`` over the reference SF vectors.

    A task on which every reference vector has the same value scores 1 when ``J_w`` reaches it.
    """
    values_MN = w_MD @ reference_ND.T
    hi_M, lo_M = values_MN.max(axis=1), values_MN.min(axis=1)
    span_M = hi_M - lo_M
    flat_M = span_M < 1e-9
    out_M = (returns_M - lo_M) / np.where(flat_M, 1.0, span_M)
    return np.where(flat_M, (returns_M >= hi_M - 1e-6).astype(float), out_M)


def _flat(obs: Any) -> np.ndarray:
    return np.asarray(obs, dtype=np.float32).reshape(-1)


def run_lockstep(
    envs: list[gym.Env],
    seeds: list[int],
    act: Callable[[torch.Tensor, list[int]], np.ndarray],
    on_step: Callable[[int, float, dict[str, Any]], None],
) -> None:
    """One episode in each env, all in lock-step: ``act(obs_BS, active)`` chooses the actions of the
    envs still running (indices ``active``) in one batch; ``on_step(i, reward, info)`` sees every step."""
    obs = [_flat(env.reset(seed=seed)[0]) for env, seed in zip(envs, seeds)]
    active = list(range(len(envs)))
    while active:
        actions_B = act(torch.as_tensor(np.stack([obs[i] for i in active])), active)
        still = []
        for j, i in enumerate(active):
            next_obs, reward, terminated, truncated, info = envs[i].step(int(actions_B[j]))
            on_step(i, float(reward), info)
            if not (terminated or truncated):
                obs[i] = _flat(next_obs)
                still.append(i)
        active = still


def _contains(weights_KD: np.ndarray, w_D: np.ndarray, atol: float) -> bool:
    return bool(len(weights_KD)) and bool((np.abs(weights_KD - w_D).max(axis=1) <= atol).any())


def _minus(candidates_CD: np.ndarray, known_KD: np.ndarray, atol: float) -> np.ndarray:
    keep = [w for w in candidates_CD if not _contains(known_KD, w, atol)]
    return np.asarray(keep, dtype=np.float64).reshape(-1, candidates_CD.shape[1])


@dataclass
class BasisState:
    """What the loop carries between iterations (checkpointed with the Algorithm)."""

    d: int
    iteration: int = 0
    base_weights: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    base_sf: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    visited: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    support: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    ok_sf: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    next_task: np.ndarray | None = None
    converged: bool = False

    def __post_init__(self) -> None:
        for name in ("base_weights", "base_sf", "visited", "support", "ok_sf"):
            if getattr(self, name).size == 0:
                setattr(self, name, np.zeros((0, self.d)))


class _Collector:
    """One env, stepped by whatever acting rule a phase passes in; episodes continue across calls
    of the same phase and restart when a phase begins."""

    def __init__(self, env: gym.Env, seed: int) -> None:
        self.env = env
        self._seed = seed
        self._episodes = 0
        self.obs: np.ndarray | None = None
        self.finished_returns: list[float] = []
        self._ret = 0.0

    def reset(self) -> np.ndarray:
        self.obs = _flat(self.env.reset(seed=self._seed * 1_000_003 + self._episodes)[0])
        self._episodes += 1
        self._ret = 0.0
        return self.obs

    def step(self, action: int, w_D: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, bool]:
        """Returns ``(obs, phi, next_obs, terminated, episode_ended)`` and starts a new episode if it ended.

        The episode return tracked for training metrics is ``Σ w·φ``, or the env's reward when
        ``w_D`` is None (``self.reward`` holds the last step's env reward)."""
        if self.obs is None:
            self.reset()
        obs = self.obs
        next_obs, reward, terminated, truncated, info = self.env.step(int(action))
        next_obs = _flat(next_obs)
        phi = np.asarray(info["features"], dtype=np.float32)
        self.reward = float(reward)
        self._ret += float(reward) if w_D is None else float(phi @ w_D)
        ended = bool(terminated or truncated)
        if ended:
            self.finished_returns.append(self._ret)
            self.reset()
        else:
            self.obs = next_obs
        return obs, phi, next_obs, bool(terminated), ended


class BasisLoop:
    """OKB and its GPI baselines, one outer iteration per :meth:`iteration` (see the module docstring)."""

    def __init__(
        self,
        settings: BasisSettings,
        make_env: Callable[[], gym.Env],
        learner: OKBLearner,
        *,
        gamma: float,
        seed: int,
    ) -> None:
        self.cfg = settings
        self.learner = learner
        self.module: OKBRLModule = learner.okb_module
        self.gamma = float(gamma)
        self.seed = int(seed)
        self.rng = np.random.default_rng(seed)
        self.torch_rng = torch.Generator().manual_seed(seed)
        env = make_env()
        self.d = int(env.unwrapped.d)
        self.obs_dim = self.module.obs_dim
        self.num_actions = self.module.num_actions
        self.collector = _Collector(env, seed)
        self.base_replay = FeatureReplay(settings.replay_capacity, self.obs_dim, self.d, seed=seed)
        self.ok_replay = (
            FeatureReplay(settings.replay_capacity, self.obs_dim, self.d, z_dim=self.d, seed=seed + 1)
            if settings.option_keyboard
            else None
        )
        # Initial states for SF-vector estimates (ψ^π = E_{S0}[...]).
        probe = make_env()
        self.initial_obs_XS = torch.as_tensor(
            np.stack(
                [
                    _flat(probe.reset(seed=10_000_019 * (seed + 1) + i)[0])
                    for i in range(settings.sf_vector_states)
                ]
            )
        )
        partitions = settings.test_partitions or default_test_partitions(self.d)
        self.test_w_MD = uniform_simplex_weights(self.d, n_partitions=partitions)
        self.eval_envs = [make_env() for _ in range(len(self.test_w_MD))]
        reference = getattr(probe.unwrapped, "reference_sf_vectors", None)
        self.reference_ND = None if reference is None else np.asarray(reference(self.gamma), dtype=np.float64)
        self.state = BasisState(d=self.d)
        initial = np.asarray(settings.initial_task or [1.0 / self.d] * self.d, dtype=np.float64)
        self.state.next_task = self.fixed_tasks()[0] if settings.task_selection == "fixed" else initial / initial.sum()
        self.reward_replay = FeatureReplay(settings.replay_capacity, self.obs_dim, 1, z_dim=self.d, seed=seed + 2)
        self.meta_env_steps = 0
        self._sf_credit = 0.0
        self._ok_credit = 0.0
        self.env_steps = 0

    # --- NewPolicy (§5, App. F) ------------------------------------------------------------------
    def new_policy(self, w_D: np.ndarray, steps: int, tasks_KD: np.ndarray) -> dict[str, float]:
        """ε-greedy on ``π_w`` for ``steps`` env steps; USFA updates on tasks drawn from ``tasks_KD``."""
        cfg = self.cfg
        tasks = torch.as_tensor(tasks_KD, dtype=torch.float32)
        w_1D = torch.as_tensor(w_D, dtype=torch.float32).unsqueeze(0)
        self.collector.reset()
        losses: list[float] = []
        for t in range(steps):
            epsilon = self.base_epsilon(t, steps)
            if self.rng.random() < epsilon:
                action = int(self.rng.integers(self.num_actions))
            else:
                obs_1S = torch.from_numpy(self.collector.obs).unsqueeze(0)
                if cfg.new_policy_behavior == "gpi":  # GPI over Π ∪ {π_w}: tasks holds w and the earlier tasks
                    action = int(self.module.gpi_actions(obs_1S, w_1D, tasks)[0])
                else:
                    action = int(self.module.base_actions(obs_1S, w_1D)[0])
            obs, phi, next_obs, terminated, _ = self.collector.step(action, w_D)
            self.base_replay.add(obs, action, phi, next_obs, terminated)
            self.env_steps += 1
            if len(self.base_replay) < max(cfg.learning_starts, cfg.batch_size):
                continue
            self._sf_credit += cfg.sf_updates_per_step
            while self._sf_credit >= 1.0:
                self._sf_credit -= 1.0
                losses.append(
                    self.learner.sf_update(self.base_replay.sample(cfg.batch_size), tasks, self.gamma, new_task_D=w_1D[0])
                )
        return {"sf_loss": float(np.mean(losses)) if losses else float("nan")}

    def base_epsilon(self, t: int, steps: int) -> float:
        """ε at step ``t`` of a NewPolicy call of ``steps`` steps (``epsilon_schedule``)."""
        cfg = self.cfg
        if cfg.epsilon_schedule == "global":
            progress = self.env_steps / cfg.epsilon_decay_steps
        else:
            progress = t / max(1, int(steps * cfg.epsilon_decay_fraction))
        return cfg.epsilon_start + (cfg.epsilon_end - cfg.epsilon_start) * min(1.0, progress)

    # --- TrainOK (Alg. 3) --------------------------------------------------------------------------
    def train_ok(self, support_KD: np.ndarray, steps: int) -> dict[str, float]:
        cfg = self.cfg
        assert self.ok_replay is not None and self.module.keyboard is not None
        support = torch.as_tensor(support_KD, dtype=torch.float32)
        self.collector.reset()
        w_D = support_KD[self.rng.integers(len(support_KD))]
        critic_losses: list[float] = []
        for _ in range(steps):
            obs_1S = torch.from_numpy(self.collector.obs).unsqueeze(0)
            w_1D = torch.as_tensor(w_D, dtype=torch.float32).unsqueeze(0)
            actions_B, z_BD = self.module.ok_actions(obs_1S, w_1D, explore=True, generator=self.torch_rng)
            obs, phi, next_obs, terminated, ended = self.collector.step(int(actions_B[0]), w_D)
            self.ok_replay.add(obs, int(actions_B[0]), phi, next_obs, terminated, z=z_BD[0].numpy())
            self.env_steps += 1
            if ended:  # Alg. 3 line 11: a new task for the new episode
                w_D = support_KD[self.rng.integers(len(support_KD))]
            if len(self.ok_replay) < cfg.batch_size:
                continue
            self._ok_credit += cfg.meta_updates_per_step
            while self._ok_credit >= 1.0:
                self._ok_credit -= 1.0
                critic_loss, _ = self.learner.ok_update(self.ok_replay.sample(cfg.batch_size), support, self.gamma)
                critic_losses.append(critic_loss)
        with torch.no_grad():
            self.module.ok_ready.fill_(True)
        return {"ok_critic_loss": float(np.mean(critic_losses)) if critic_losses else float("nan")}

    # --- SF vectors ----------------------------------------------------------------------------
    @torch.no_grad()
    def base_sf_vectors(self, base_KD: np.ndarray) -> np.ndarray:
        """ψ^{π_j} = mean_{s0} ψ(s0, π_j(s0), w_j) for each base task."""
        if len(base_KD) == 0:
            return np.zeros((0, self.d))
        s_XS = self.initial_obs_XS
        out = []
        for w_D in base_KD:
            w_XD = torch.as_tensor(w_D, dtype=torch.float32).expand(len(s_XS), -1)
            psi_XAD = self.module.usfa.act_sfs(s_XS, w_XD)
            a_X = self.module.usfa.greedy_actions(s_XS, w_XD)
            out.append(psi_XAD[torch.arange(len(s_XS)), a_X].mean(dim=0).double().numpy())
        return np.stack(out)

    @torch.no_grad()
    def rollout_sf_vectors(self, base_KD: np.ndarray, episodes: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """``(sf_KD, length_K)``: each base policy's SF vector *measured*, the discounted feature
        sum Σ_t γ^t φ_t of its greedy rollouts (mean over ``episodes`` evaluation seeds), and the mean
        episode length.

        :meth:`base_sf_vectors` is what the algorithms use (the USFA's estimate); comparing the two
        tells an estimate the geometry can trust from one it cannot (e.g. a greedy policy that
        idles at the start state while ψ predicts ore; README, "Why the idle drops").
        """
        K = len(base_KD)
        sf_EKD = np.zeros((episodes, K, self.d))
        length_EK = np.zeros((episodes, K))
        w_KD = torch.as_tensor(np.asarray(base_KD), dtype=torch.float32).reshape(K, self.d)
        chunk = len(self.eval_envs)
        for episode in range(episodes):
            for start in range(0, K, chunk):
                ks = list(range(start, min(K, start + chunk)))
                discount = np.ones(len(ks))

                def on_step(i: int, reward: float, info: dict[str, Any], episode: int = episode, ks=ks, discount=discount) -> None:
                    sf_EKD[episode, ks[i]] += discount[i] * np.asarray(info["features"], dtype=np.float64)
                    length_EK[episode, ks[i]] += 1
                    discount[i] *= self.gamma

                seeds = [3_000_017 * (self.seed + 1) + 1000 * episode + k for k in ks]
                run_lockstep(
                    self.eval_envs[: len(ks)],
                    seeds,
                    lambda obs_BS, active, ks=ks: self.module.base_actions(obs_BS, w_KD[[ks[i] for i in active]]).numpy(),
                    on_step,
                )
        return sf_EKD.mean(axis=0), length_EK.mean(axis=0)

    def base_value_check(self, episodes: int) -> dict[str, float]:
        """The basis' values on their own tasks, estimated (``st.base_sf``, what the geometry uses) and
        measured (:meth:`rollout_sf_vectors`): means over Π of w_j·ψ^{π_j}, and the mean episode length."""
        st = self.state
        measured_KD, length_K = self.rollout_sf_vectors(st.base_weights, episodes=episodes)
        return {
            "base_estimated_value": float(np.mean(np.sum(st.base_weights * st.base_sf, axis=1))),
            "base_measured_value": float(np.mean(np.sum(st.base_weights * measured_KD, axis=1))),
            "base_episode_length": float(np.mean(length_K)),
        }

    @torch.no_grad()
    def ok_sf_vectors(self, support_KD: np.ndarray) -> np.ndarray:
        """ψ^{π^OK_ω(·, w)} = mean_{s0} ψ^ω(s0, ω(s0, w), w) for each support task (the critic's estimate)."""
        assert self.module.keyboard is not None
        s_XS = self.initial_obs_XS
        out = []
        for w_D in support_KD:
            w_XD = torch.as_tensor(w_D, dtype=torch.float32).expand(len(s_XS), -1)
            out.append(self.module.keyboard.critic_values(s_XS, w_XD).mean(dim=0).double().numpy())
        return np.stack(out) if out else np.zeros((0, self.d))

    # --- OK-LS (Alg. 2) ------------------------------------------------------------------------
    def ok_ls(self) -> dict[str, float]:
        cfg, st = self.cfg, self.state
        self.ok_replay.clear()  # TrainOK's data is Π's: start afresh when Π has changed
        new_corners = 0
        stats: dict[str, float] = {}
        for _ in range(cfg.ok_ls_iterations):
            corners = _minus(corner_weights(st.ok_sf), st.support, cfg.corner_atol)
            new_corners += len(corners)
            if len(corners):
                st.support = np.concatenate([st.support, corners])
            stats = self.train_ok(st.support, cfg.ok_steps_per_call)
            psi_KD = self.ok_sf_vectors(st.support)
            st.ok_sf = psi_KD[non_dominated_indices(psi_KD, margin_atol=cfg.sf_margin)] if len(psi_KD) else psi_KD
        return {**stats, "ok_ls_new_corners": float(new_corners), "support_size": float(len(st.support))}

    def fixed_tasks(self) -> np.ndarray:
        """task_selection 'fixed': the base tasks in order (default: the unit vectors)."""
        return np.asarray(self.cfg.fixed_tasks or np.eye(self.d), dtype=np.float64)

    # --- candidate tasks -------------------------------------------------------------------------
    def _candidates(self) -> np.ndarray:
        st = self.state
        corners = corner_weights(st.base_sf)
        if self.cfg.option_keyboard and len(st.ok_sf):
            corners = np.concatenate([corners, corner_weights(st.ok_sf)])
        unique: list[np.ndarray] = []
        for w in corners:
            if not _contains(np.asarray(unique).reshape(-1, self.d), w, self.cfg.corner_atol):
                unique.append(w)
        return _minus(np.asarray(unique).reshape(-1, self.d), st.visited, self.cfg.corner_atol)

    def choose_next_task(self) -> dict[str, float]:
        """Alg. 1 lines 8-14 (okb), or the baseline's rule; sets ``state.next_task`` or ``converged``."""
        cfg, st = self.cfg, self.state
        info: dict[str, float] = {}
        if len(st.base_weights) >= cfg.max_base_policies:
            st.next_task, st.converged = None, True
            return info
        if cfg.task_selection == "uniform":
            st.next_task = self.rng.dirichlet(np.ones(self.d))
            return info
        if cfg.task_selection == "fixed":
            tasks = self.fixed_tasks()
            st.next_task = tasks[st.iteration + 1] if st.iteration + 1 < len(tasks) else None
            st.converged = st.next_task is None
            return info
        candidates_CD = self._candidates()
        info["num_corner_weights"] = float(len(candidates_CD))
        if len(candidates_CD) == 0:
            st.next_task, st.converged = None, True
            return info
        if cfg.task_selection == "sfols":
            priority_C = np.array([corner_priority(w, st.base_sf, st.visited) for w in candidates_CD])
            info["max_priority"] = float(priority_C.max())
            mask_C = priority_C > cfg.sfols_min_priority
            info["num_candidates"] = float(mask_C.sum())
            best = int(np.argmax(np.where(mask_C, priority_C, -np.inf))) if mask_C.any() else None
        else:  # "mpa": Eq. 21 on base-policy experience
            batch = self.base_replay.sample(cfg.mpa_samples)
            keyboard = self.module.keyboard
            mpa_C = ok_mean_positive_advantages(
                keyboard.critic,
                keyboard.meta_policy,
                batch["obs"],
                batch["phi"],
                batch["next_obs"],
                torch.as_tensor(candidates_CD, dtype=torch.float32),
                self.gamma,
                terminated_B=batch["terminated"],
            )
            mask, best = select_task(mpa_C, cfg.mpa_threshold)
            info["num_candidates"] = float(mask.sum())
            info["max_mpa"] = float(mpa_C.max())
        if best is None:
            st.next_task, st.converged = None, True
        else:
            st.next_task = candidates_CD[best]
        return info

    # --- one outer iteration ---------------------------------------------------------------------
    def basis_complete(self) -> bool:
        st = self.state
        return st.converged or (self.cfg.task_selection != "fixed" and st.iteration >= self.cfg.basis_iterations)

    def iteration(self) -> dict[str, float]:
        """One outer iteration; with target 'env_reward' and a complete basis, one meta-policy iteration."""
        if self.cfg.target == "env_reward" and self.basis_complete():
            return self.reward_iteration()
        return self.basis_iteration()

    def basis_iteration(self) -> dict[str, float]:
        cfg, st = self.cfg, self.state
        steps_before = self.env_steps
        metrics: dict[str, float] = {}
        started = time.perf_counter()
        if st.next_task is not None:
            w_D = np.asarray(st.next_task, dtype=np.float64)
            tasks_KD = np.concatenate([st.base_weights, w_D[None]])
            metrics.update(self.new_policy(w_D, cfg.base_steps, tasks_KD))
            st.visited = np.concatenate([st.visited, w_D[None]])
            st.base_weights = tasks_KD
            metrics.update({f"learned_w_{i}": float(x) for i, x in enumerate(w_D)})
        else:  # complete basis: the base share refines the existing base policies (equal interactions)
            metrics.update(self.new_policy(st.base_weights[-1], cfg.base_steps, st.base_weights))
        metrics["time_new_policy_s"] = time.perf_counter() - started
        st.base_sf = self.base_sf_vectors(st.base_weights)
        if cfg.remove_dominated and len(st.base_weights) > 1:
            keep = set(non_dominated_indices(st.base_sf, margin_atol=cfg.sf_margin).tolist()) | {len(st.base_weights) - 1}
            order = sorted(keep)
            metrics["removed_base_policies"] = float(len(st.base_weights) - len(order))
            st.base_weights, st.base_sf = st.base_weights[order], st.base_sf[order]
        self.module.set_base_weights(st.base_weights)
        if cfg.option_keyboard:
            started = time.perf_counter()
            metrics.update(self.ok_ls())
            metrics["time_ok_ls_s"] = time.perf_counter() - started
        started = time.perf_counter()
        metrics.update(self.evaluate())
        if cfg.base_rollout_episodes > 0:
            metrics.update(self.base_value_check(cfg.base_rollout_episodes))
        metrics["time_evaluate_s"] = time.perf_counter() - started
        metrics["num_base_policies"] = float(len(st.base_weights))
        metrics.update(self.choose_next_task())
        metrics["converged"] = float(st.converged)
        if st.next_task is not None:
            metrics.update({f"next_w_{i}": float(x) for i, x in enumerate(st.next_task)})
        st.iteration += 1
        metrics["iteration_env_steps"] = float(self.env_steps - steps_before)
        return metrics

    # --- the env's own reward (rllib_modules.okb.reward_meta) -----------------------------------------
    def reward_iteration(self) -> dict[str, float]:
        """``iteration_env_steps`` of meta-policy learning for the env's reward over the fixed basis, then
        a greedy evaluation; 'none' (GPI lines) spends the budget refining the base policies instead."""
        cfg, st = self.cfg, self.state
        steps_before = self.env_steps
        started = time.perf_counter()
        metrics: dict[str, float] = {}
        if cfg.reward_meta == "none":
            metrics.update(self.new_policy(st.base_weights[-1], cfg.iteration_env_steps, st.base_weights))
        else:
            metrics.update(self.train_reward_meta(cfg.iteration_env_steps))
            self.meta_env_steps += cfg.iteration_env_steps
        metrics["time_train_s"] = time.perf_counter() - started
        metrics["task/meta_env_steps"] = float(self.meta_env_steps)
        metrics.update(self.evaluate_reward())
        metrics["num_base_policies"] = float(len(st.base_weights))
        st.iteration += 1
        metrics["iteration_env_steps"] = float(self.env_steps - steps_before)
        return metrics

    def train_reward_meta(self, steps: int) -> dict[str, float]:
        cfg = self.cfg
        module = self.module
        self.collector.reset()
        losses: list[float] = []
        if module.reward_policy is not None:
            self._train_reward_ok(steps, losses)
        else:
            self._train_weight_choice(steps, losses)
        with torch.no_grad():
            module.reward_ready.fill_(True)
        return {"reward_meta_loss": float(np.mean(losses)) if losses else float("nan")}

    def _reward_meta_updates(self, update: Callable[[dict[str, torch.Tensor], float], float], losses: list[float]) -> None:
        """The meta-policy's gradient steps owed after one env step (``meta_updates_per_step``)."""
        if len(self.reward_replay) < self.cfg.batch_size:
            return
        self._ok_credit += self.cfg.meta_updates_per_step
        while self._ok_credit >= 1.0:
            self._ok_credit -= 1.0
            losses.append(update(self.reward_replay.sample(self.cfg.batch_size), self.gamma))

    def _train_reward_ok(self, steps: int, losses: list[float]) -> None:
        """ω(s) → z for the env's reward, Alg. 3 with the reward as a 1-d feature (a new z every step)."""
        for _ in range(steps):
            obs_1S = torch.from_numpy(self.collector.obs).unsqueeze(0)
            actions_B, z_BD = self.module.reward_meta_actions(obs_1S, explore=True, generator=self.torch_rng)
            obs, _, next_obs, terminated, _ = self.collector.step(int(actions_B[0]), None)
            reward_1 = np.array([self.collector.reward], dtype=np.float32)
            self.reward_replay.add(obs, int(actions_B[0]), reward_1, next_obs, terminated, z=z_BD[0].numpy())
            self.env_steps += 1
            self._reward_meta_updates(self.learner.reward_ok_update, losses)

    def _train_weight_choice(self, steps: int, losses: list[float]) -> None:
        """SIP's DQN over the weight choices, ε-greedy; each choice is held as an option and stored as one
        SMDP row ``(s, k, Σ γ^i r_i, s', terminated, τ)`` when it ends (``choice_termination``), or, with
        ``choice_learning: intra_option``, as one row ``(s, k, r, s', terminated, continues)`` per step."""
        cfg, module = self.cfg, self.module
        held = HeldChoices(1, cfg.choice_max_steps if cfg.choice_termination == "feature" else 1)
        intra_option = cfg.choice_learning == "intra_option"
        no_z = np.zeros(self.d, dtype=np.float32)
        start_obs, option_return, discount, duration = self.collector.obs, 0.0, 1.0, 0
        for t in range(steps):
            progress = min(1.0, (self.meta_env_steps + t) / cfg.choice_epsilon_steps)
            epsilon = cfg.epsilon_start + (cfg.epsilon_end - cfg.epsilon_start) * progress
            obs_1S = torch.from_numpy(self.collector.obs).unsqueeze(0)
            if held.needs_choice(0):
                start_obs, option_return, discount, duration = self.collector.obs, 0.0, 1.0, 0
            proposal_1 = module.weight_choice(obs_1S, epsilon=epsilon, generator=self.torch_rng).numpy()
            k_1 = held.pick([0], proposal_1)
            action = int(module.choice_actions(obs_1S, torch.from_numpy(k_1))[0])
            obs, phi, next_obs, terminated, ended = self.collector.step(action, None)
            option_return += discount * self.collector.reward
            discount *= self.gamma
            duration += 1
            held.observe(0, phi, ended)
            if intra_option:
                reward_1 = np.array([self.collector.reward], dtype=np.float32)
                self.reward_replay.add(obs, int(k_1[0]), reward_1, next_obs, terminated, z=no_z, continues=not held.needs_choice(0))
            elif held.needs_choice(0):
                reward_1 = np.array([option_return], dtype=np.float32)
                self.reward_replay.add(start_obs, int(k_1[0]), reward_1, next_obs, terminated, z=no_z, duration=duration)
            self.env_steps += 1
            self._reward_meta_updates(self.learner.choice_update, losses)

    @torch.no_grad()
    def _run_episodes(self, make_policy: Callable[[], EpisodePolicy], episodes: int, seed: int) -> tuple[float, float]:
        """Mean undiscounted env return and success rate over ``episodes`` lock-step episodes, run in
        chunks of ``len(eval_envs)``; ``make_policy()`` gives each chunk a fresh ``(act, observe)``:
        ``act(obs_BS, active)`` chooses the actions of the running envs, ``observe(i, info)`` (or None)
        sees every step of env ``i``."""
        returns = np.zeros(episodes)
        successes = np.zeros(episodes, dtype=bool)
        for done in range(0, episodes, len(self.eval_envs)):
            envs = self.eval_envs[: episodes - done]
            act, observe = make_policy()

            def on_step(i: int, reward: float, info: dict[str, Any], done: int = done, observe=observe) -> None:
                returns[done + i] += reward
                successes[done + i] |= bool(info.get("success", False))
                if observe is not None:
                    observe(i, info)

            seeds = [seed + done + i for i in range(len(envs))]
            run_lockstep(envs, seeds, lambda obs_BS, active, act=act: act(obs_BS, active).numpy(), on_step)
        return float(returns.mean()), float(successes.mean())

    def _held_choice_policy(self) -> EpisodePolicy:
        """SIP's greedy acting for one chunk of evaluation episodes, choices held as options."""
        cfg, module = self.cfg, self.module
        held = HeldChoices(len(self.eval_envs), cfg.choice_max_steps if cfg.choice_termination == "feature" else 1)

        def act(obs_BS: torch.Tensor, active: list[int]) -> torch.Tensor:
            k_B = held.pick(active, module.weight_choice(obs_BS).numpy())
            return module.choice_actions(obs_BS, torch.from_numpy(k_B))

        def observe(i: int, info: dict[str, Any]) -> None:
            # An env whose episode ended leaves the chunk, so only the features end options here.
            held.observe(i, np.asarray(info["features"]), episode_ended=False)

        return act, observe

    def evaluate_reward(self) -> dict[str, float]:
        """Greedy return on the env's own reward: the meta-policy's, or each GPI line's ('none')."""
        cfg, module = self.cfg, self.module
        seed = 5_000_011 * (self.seed + 1)
        if cfg.reward_meta != "none":
            if cfg.reward_meta == "discrete":
                make_policy = self._held_choice_policy
            else:
                def make_policy() -> EpisodePolicy:
                    return (lambda obs_BS, active: module.reward_meta_actions(obs_BS)[0]), None
            ret, success = self._run_episodes(make_policy, cfg.task_eval_episodes, seed)
            return {"task/return_mean": ret, "task/success_rate": success}
        out: dict[str, float] = {}
        for k, w_D in enumerate(module.choice_weights):
            def make_policy(w_D: torch.Tensor = w_D) -> EpisodePolicy:
                return (lambda obs_BS, active: module.gpi_actions(obs_BS, w_D.expand(len(obs_BS), -1))), None
            ret, success = self._run_episodes(make_policy, cfg.task_eval_episodes, seed)
            out[f"task/gpi_return_w{k}"] = ret
            out[f"task/gpi_success_w{k}"] = success
        out["task/return_mean"] = max(v for key, v in out.items() if key.startswith("task/gpi_return"))
        return out

    # --- evaluation on the test tasks --------------------------------------------------------------
    @torch.no_grad()
    def test_task_returns(self, act: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> np.ndarray:
        """``returns_M``: discounted return of ``act(obs_BS, w_BD)`` on every test task, all in lock-step."""
        w_MD = self.test_w_MD
        w_MD_t = torch.as_tensor(w_MD, dtype=torch.float32)
        M = len(w_MD)
        returns_EM = np.zeros((self.cfg.eval_episodes, M))
        for episode in range(self.cfg.eval_episodes):
            discount_M = np.ones(M)

            def on_step(m: int, reward: float, info: dict[str, Any], episode: int = episode) -> None:
                returns_EM[episode, m] += discount_M[m] * float(np.asarray(info["features"]) @ w_MD[m])
                discount_M[m] *= self.gamma

            seeds = [7_000_003 * (self.seed + 1) + 1000 * episode + m for m in range(M)]
            run_lockstep(self.eval_envs, seeds, lambda obs_BS, active: act(obs_BS, w_MD_t[active]).numpy(), on_step)
        return returns_EM.mean(axis=0)

    def evaluate(self, compare_gpi_guard: bool | None = None) -> dict[str, float]:
        """The run's policy on the test tasks (``mean_return``, ``mean_normalised_return``).

        With an option keyboard whose ω is trained, GPI over the same Π (the OK with z = w) is
        evaluated too, as ``gpi_mean_return`` / ``gpi_mean_normalised_return``: it tells a drop of
        the OK's return caused by ω (TrainOK) apart from one caused by the base policies (NewPolicy).
        With ``compare_gpi_guard`` (default: the config's ``ok_gpi_guard``) so are the OK without
        and with the GPI guard (``omega_*``, ``guarded_*``; the run's own policy is one of them), so
        one run compares the two on the same basis without paying for it when the guard is off.
        """
        out: dict[str, float] = {}
        module = self.module
        policies: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {"": module.act}
        if module.keyboard is not None and bool(module.ok_ready):
            policies["gpi_"] = module.gpi_actions
        if compare_gpi_guard is None:
            compare_gpi_guard = self.cfg.ok_gpi_guard
        own_variant = None
        if "gpi_" in policies and compare_gpi_guard:
            # The run's own policy is one of the two variants: evaluate each once and copy.
            own_variant = "guarded_" if self.cfg.ok_gpi_guard else "omega_"
            del policies[""]
            policies["omega_"] = lambda obs_BS, w_BD: module.ok_actions(obs_BS, w_BD, gpi_guard=False)[0]
            policies["guarded_"] = lambda obs_BS, w_BD: module.ok_actions(obs_BS, w_BD, gpi_guard=True)[0]
        for prefix, act in policies.items():
            returns_M = self.test_task_returns(act)
            out[f"{prefix}mean_return"] = float(returns_M.mean())
            if self.reference_ND is not None:
                normalised_M = normalised_returns(returns_M, self.test_w_MD, self.reference_ND)
                out[f"{prefix}mean_normalised_return"] = float(normalised_M.mean())
        if own_variant is not None:
            out.update({key[len(own_variant) :]: v for key, v in list(out.items()) if key.startswith(own_variant)})
        return out

    def train_returns(self) -> list[float]:
        returns, self.collector.finished_returns = self.collector.finished_returns, []
        return returns

    # --- checkpointing ---------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "env_steps": self.env_steps,
            "meta_env_steps": self.meta_env_steps,
            "rng": self.rng.bit_generator.state,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.state = state["state"]
        self.env_steps = int(state["env_steps"])
        self.meta_env_steps = int(state.get("meta_env_steps", 0))
        self.rng.bit_generator.state = state["rng"]
