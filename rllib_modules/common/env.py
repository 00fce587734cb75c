"""Handing actlab environments to RLlib so that every Ray process can create them."""

from __future__ import annotations

from ray.tune.registry import register_env

from actlab.registry import EnvCreator

__all__ = ["rllib_env"]


def rllib_env(env_id: str) -> str:
    """Register ``EnvCreator(env_id)`` in Ray's env registry; return the name to pass to
    ``config.environment(env=...)``.

    Why not ``environment(env=EnvCreator(env_id))``: in ray 2.60
    ``Algorithm._get_env_id_and_creator`` accepts only a string or an env *class* and
    raises "is an invalid env specifier" for a callable instance. Why not the bare gym id:
    remote EnvRunners have not imported ``envs``, so gymnasium does not know the id there.
    Ray's registry stores the pickled creator in the cluster's KV store (under the current
    job; registrations made before ``ray.init`` are flushed on init), and the EnvRunners
    call it, which imports the plugin packages before ``gym.make``.

    Registering again (another trial, a rebuilt config) overwrites the same value.
    Caveat: a config built under one Ray session and then used after ``ray.shutdown`` and a
    new ``ray.init`` must be rebuilt (the registry is per job).
    """
    register_env(env_id, EnvCreator(env_id))
    return env_id
