"""Sweep specs: schema, loading, validation and grid × seed expansion."""

from actlab.spec.errors import SpecError, SpecProblem
from actlab.spec.loading import Sweep, TrialSpec, load_sweep, parse_override, validate_raw
from actlab.spec.models import DEFAULT_TRACKING_URI, sweep_spec_model

__all__ = [
    "DEFAULT_TRACKING_URI",
    "SpecError",
    "SpecProblem",
    "Sweep",
    "TrialSpec",
    "load_sweep",
    "parse_override",
    "sweep_spec_model",
    "validate_raw",
]
