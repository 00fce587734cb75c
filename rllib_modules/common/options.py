"""``model_config`` <-> typed module options (frozen dataclasses), shared by the RLModules.

RLlib merges its ``DefaultModelConfig`` fields into every module's ``model_config``, so
options are read leniently (unknown keys ignored) and written back as a plain dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

__all__ = ["ModelOptionsMixin"]

_T = TypeVar("_T", bound="ModelOptionsMixin")


class ModelOptionsMixin:
    """Mixin for a ``@dataclass(frozen=True)`` of module options."""

    @classmethod
    def from_model_config(cls: type[_T], model_config: Any) -> _T:
        if model_config is None:
            return cls()
        if not isinstance(model_config, Mapping):  # a DefaultModelConfig dataclass
            model_config = vars(model_config)
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in model_config.items() if k in names})

    def to_model_config(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]
