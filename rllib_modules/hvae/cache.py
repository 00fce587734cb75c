"""Content-hash disk cache of trained action representations.

:func:`cached_representation` returns the :class:`TrainedRepresentation` of
``(kind, config, data spec, train ids, seed)``, training it only when no finished entry
exists. The key is the sha256 of the canonical JSON of::

    {"kind", "config": config.model_dump(), "data": data_spec,
     "train_ids": sorted ids, "seed", "code_version": CODE_VERSION}

and an entry is the directory ``<cache_dir>/hvae/<key>/`` holding ``model.pt`` (the state
dict), ``table.npy`` (``float32 (A, C)``), ``curves.json`` and ``meta.json`` (everything
hashed, plus the training metadata: throughput, wall times). Entries are written into a
temporary sibling directory and renamed into place, so readers never see a partial entry;
when two processes race on the same key both train and the first rename wins.

Bump :data:`CODE_VERSION` whenever a change to the models, the training loop or the
inference changes what a given key would produce.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rllib_modules.hvae import training as _training
from rllib_modules.hvae.config import HVAEConfig
from rllib_modules.hvae.training import LogFn, TrainedRepresentation

__all__ = ["CODE_VERSION", "cache_key", "cache_entry_dir", "cached_representation", "is_cached", "load_observations"]

#: Version of the code that produces cached entries; part of every key.
CODE_VERSION: int = 2
_FILES = ("model.pt", "table.npy", "curves.json", "meta.json")


def load_observations(data_spec: Mapping[str, Any]) -> np.ndarray:
    """Raw observations described by ``data_spec``.

    Supported: ``{"source": "gridworld_skills", "n_obs": 1024, "grid_size": 80, "seed": 0}``
    (missing keys take these defaults) -> ``envs.gridworld_skills.load_action_observations``.
    """
    source = data_spec.get("source", "gridworld_skills")
    if source != "gridworld_skills":
        raise ValueError(f"unknown observation source {source!r}; pass `observations=` explicitly")
    from envs.gridworld_skills.action_observations import load_action_observations

    return load_action_observations(
        n_obs=int(data_spec.get("n_obs", 1024)),
        grid_size=int(data_spec.get("grid_size", 80)),
        seed=int(data_spec.get("seed", 0)),
    )


def _key_payload(
    kind: str, config: HVAEConfig, data_spec: Mapping[str, Any], train_ids: Sequence[int] | np.ndarray, seed: int
) -> dict[str, Any]:
    return {
        "kind": kind,
        "config": config.model_dump(mode="json"),
        "data": dict(data_spec),
        "train_ids": sorted(int(i) for i in np.asarray(train_ids).ravel()),
        "seed": int(seed),
        "code_version": CODE_VERSION,
    }


def cache_key(
    kind: str, config: HVAEConfig, data_spec: Mapping[str, Any], train_ids: Sequence[int] | np.ndarray, seed: int
) -> str:
    """sha256 hex digest of the canonical JSON of everything that determines the result."""
    blob = json.dumps(_key_payload(kind, config, data_spec, train_ids, seed), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def cache_entry_dir(cache_dir: str | Path, key: str) -> Path:
    return Path(cache_dir).expanduser() / "hvae" / key


def is_cached(cache_dir: str | Path, key: str) -> bool:
    """Whether a finished entry for ``key`` is in ``cache_dir`` (all files present, its meta names ``key``).

    Cheap (no model is loaded): for planning. :func:`cached_representation` still falls back to
    training when an entry that looks finished fails to load.
    """
    entry = cache_entry_dir(cache_dir, key)
    if not all((entry / name).is_file() for name in _FILES):
        return False
    try:
        return json.loads((entry / "meta.json").read_text()).get("key") == key
    except (OSError, ValueError):
        return False


def _load(entry: Path, key: str, kind: str, config: HVAEConfig) -> TrainedRepresentation | None:
    try:
        meta = json.loads((entry / "meta.json").read_text())
        if meta.get("key") != key:
            return None
        state = torch.load(entry / "model.pt", map_location="cpu", weights_only=True)
        table = np.load(entry / "table.npy", allow_pickle=False)
        curves = json.loads((entry / "curves.json").read_text())
    except (OSError, ValueError, KeyError, RuntimeError, EOFError, pickle.UnpicklingError):
        return None  # corrupt or foreign entry: retrain and overwrite
    return TrainedRepresentation(kind=kind, config=config, model_state=state, table=table, curves=curves, meta=meta["train"])


def _store(entry: Path, result: TrainedRepresentation, payload: dict[str, Any], key: str) -> None:
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = entry.parent / f".tmp-{key[:16]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        torch.save(result.model_state, tmp / "model.pt")
        np.save(tmp / "table.npy", np.asarray(result.table, dtype=np.float32), allow_pickle=False)
        (tmp / "curves.json").write_text(json.dumps(result.curves))
        (tmp / "meta.json").write_text(json.dumps({**payload, "key": key, "train": result.meta}, indent=1))
        if entry.exists():  # a corrupt entry (a valid one is returned before training)
            shutil.rmtree(entry, ignore_errors=True)
        try:
            os.rename(tmp, entry)
        except OSError:
            if not (entry / "meta.json").is_file():  # not a lost race: a real failure
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def cached_representation(
    kind: str,
    config: HVAEConfig,
    data_spec: Mapping[str, Any],
    train_ids: Sequence[int] | np.ndarray,
    seed: int,
    cache_dir: str | Path,
    observations: np.ndarray | torch.Tensor | None = None,
    log_fn: LogFn | None = None,
    device: str | torch.device = "cpu",
) -> tuple[TrainedRepresentation, bool]:
    """``(result, hit)``: the cached representation, or a freshly trained and stored one.

    ``data_spec`` (JSON-serialisable) names the observations and is part of the key;
    ``observations`` are loaded from it with :func:`load_observations` unless given (a
    caller passing them is responsible for their matching ``data_spec``). ``device`` is where a
    miss trains; it is not part of the key (a GPU-trained entry serves CPU runs and the other
    way round; ``meta.json`` records it).
    """
    key = cache_key(kind, config, data_spec, train_ids, seed)
    entry = cache_entry_dir(cache_dir, key)
    if (entry / "meta.json").is_file():
        cached = _load(entry, key, kind, config)
        if cached is not None:
            return cached, True
    if observations is None:
        observations = load_observations(data_spec)
    result = _training.train_representation(kind, config, observations, train_ids, seed, log_fn=log_fn, device=device)
    _store(entry, result, _key_payload(kind, config, data_spec, train_ids, seed), key)
    return result, False
