"""Lazy package attributes (PEP 562), so that registering an env family stays cheap.

``import envs`` registers every family on every RLlib worker; families that wrap heavy third-party
packages (mo-gymnasium pulls scipy.stats and pygame, highway-env pandas and pygame) import them
only when their env class is first used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, attributes: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``attributes[name]`` (a module path) on first access."""

    def __getattr__(name: str) -> Any:
        if name in attributes:
            return getattr(importlib.import_module(attributes[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
