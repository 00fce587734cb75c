"""Load a spec file, apply ``--set`` overrides, validate, and expand grid × seeds into trials.

Every problem becomes one :class:`SpecProblem` line naming the file, the field and the fix;
nothing here starts Ray or touches the tracking store.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from actlab import registry
from actlab.spec.errors import SpecError, SpecProblem
from actlab.spec.models import sweep_spec_model, variant_models

SECTIONS_WITH_VARIANTS = ("algorithm", "env")


@dataclass(frozen=True)
class TrialSpec:
    """One trial: a fully resolved, self-contained spec (``seeds == [seed]``, ``grid == {}``)."""

    spec: dict[str, Any]
    seed: int
    grid_point: dict[str, Any]
    config_key: str
    trial_name: str
    #: The run whose weights this trial starts from (``init_from``), resolved before Ray starts:
    #: ``{"run_id", "run_name", "path"}``; see :mod:`actlab.init_from`.
    init_from: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "seed": self.seed,
            "grid_point": self.grid_point,
            "config_key": self.config_key,
            "trial_name": self.trial_name,
            "init_from": self.init_from,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrialSpec":
        return cls(**data)


@dataclass
class Sweep:
    """A validated sweep: the spec as written (plus overrides) and its expanded trials."""

    file: str
    spec: BaseModel
    trials: list[TrialSpec]
    overrides: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- overrides


def parse_override(text: str) -> tuple[str, Any]:
    """``dotted.path=value`` -> (path, YAML-parsed value)."""
    if "=" not in text:
        raise SpecError.single("", "--set", f"'{text}' is not of the form dotted.path=value (e.g. stop.env_steps=2000)")
    path, raw_value = text.split("=", 1)
    path = path.strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_./-]+)*", path):
        raise SpecError.single("", "--set", f"'{path}' is not a dotted field path (e.g. algorithm.config.lr)")
    try:
        value = yaml.safe_load(raw_value) if raw_value.strip() else None
    except yaml.YAMLError as exc:
        raise SpecError.single("", f"--set {path}", f"value '{raw_value}' is not valid YAML ({exc.problem}); quote it")
    return path, value


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``path == "a.b.c"``, creating sections as needed.

    Grid keys such as ``env.name`` contain a ``/``-free dotted path; only the last component
    may hold dots of its own when it is a top-level grid key, which we do not support.
    """
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict):
            prefix = ".".join(parts[: i + 1])
            raise SpecError.single("", path, f"'{prefix}' is a value, not a section; set '{prefix}' itself")
    node[parts[-1]] = value


# ----------------------------------------------------------------------------- errors


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside ``Optional[M]`` / ``M``; None for anything else."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _unwrap_model(arg)
        if found is not None:
            return found
    return None


def _model_at(path: list[str], raw: dict[str, Any]) -> type[BaseModel] | None:
    """The model that owns the *last* element of ``path`` (for did-you-mean hints)."""
    parents = path[:-1]
    if len(parents) >= 2 and parents[0] in SECTIONS_WITH_VARIANTS and parents[1] == "config":
        name = (raw.get(parents[0]) or {}).get("name")
        model = variant_models().get((parents[0], name)) if isinstance(name, str) else None
        rest = parents[2:]
    else:
        model, rest = sweep_spec_model(), parents
    for part in rest:
        if model is None or part not in model.model_fields:
            return None
        model = _unwrap_model(model.model_fields[part].annotation)
    return model


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def _display_loc(loc: tuple[Any, ...]) -> list[str]:
    """Pydantic loc -> spec path, dropping discriminated-union tags (``algorithm.<tag>.config``)."""
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] in SECTIONS_WITH_VARIANTS:
        known = {name for (section, name) in variant_models() if section == parts[0]}
        if parts[1] in known:
            parts = [parts[0]] + parts[2:]
    return parts


def _known_names(section: str) -> list[str]:
    return sorted(registry.algorithms() if section == "algorithm" else registry.envs())


def _problem_text(err: dict[str, Any], path: list[str], raw: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _model_at(path, raw)
        known = sorted(model.model_fields) if model is not None else []
        listing = f"known fields: {', '.join(known)}" if known else "remove it"
        return f"unknown field; {_did_you_mean(path[-1], known)}{listing}"
    if kind in ("union_tag_invalid", "literal_error") and len(path) == 2 and path[1] == "name" or (
        kind == "union_tag_invalid" and len(path) == 1
    ):
        section = path[0]
        given = (raw.get(section) or {}).get("name")
        known = _known_names(section)
        noun = "algorithm" if section == "algorithm" else "environment"
        return f"unknown {noun} '{given}'; {_did_you_mean(str(given), known)}known: {', '.join(known)} (see `actlab list`)"
    if kind == "union_tag_not_found":
        return f"missing 'name'; set {path[0]}.name to one of: {', '.join(_known_names(path[0]))}"
    if kind == "missing":
        return "required field is missing; add it"
    message = err["msg"].removeprefix("Value error, ")
    given = err.get("input")
    shown = json.dumps(given, default=str) if not isinstance(given, dict) else "{...}"
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{message} (got {shown})"


def _problems_from_validation(
    exc: ValidationError, raw: dict[str, Any], file: str, origin: dict[str, str]
) -> list[SpecProblem]:
    """Turn pydantic errors into spec problems; ``origin`` maps spec paths to where they came from."""
    problems = []
    for err in exc.errors():
        path = _display_loc(err["loc"])
        dotted = ".".join(path) if path else "(top level)"
        text = _problem_text(err, path, raw)
        for source_path, label in origin.items():
            if dotted == source_path or dotted.startswith(source_path + ".") or source_path.startswith(dotted + "."):
                text = f"{text} [from {label}]"
                break
        problems.append(SpecProblem(file, dotted, text))
    return problems


# ----------------------------------------------------------------------------- naming


def _short_value(value: Any) -> str:
    if isinstance(value, dict):
        for label_key in ("name", "experiment"):  # an env/algorithm section; an init_from source
            if label_key in value and len(value) == 1:
                return str(value[label_key]).removeprefix("actlab/")
        if "name" in value:  # a whole section: its name, plus what else it sets (e.g. its config)
            name = str(value["name"]).removeprefix("actlab/")
            rest = {k: v for k, v in value.items() if k != "name" and v not in ({}, None)}
            return f"{name}.{_short_value(rest)}" if rest else name
        if "experiment" in value:
            digest = hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:6]
            return f"{value['experiment']}.{digest}"
        compact = "+".join(f"{k}={_short_value(v)}" for k, v in value.items()) or "defaults"
        if len(compact) <= 48:  # e.g. an ablation's changed fields: approximate_surrogates=false
            return compact
        return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:6]
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value.removeprefix("actlab/")
    return json.dumps(value, default=str)


def config_key(grid_point: dict[str, Any]) -> str:
    """Short, human-readable key of a grid point (without seed); ``default`` if no grid."""
    if not grid_point:
        return "default"
    lasts = [p.split(".")[-1] for p in grid_point]
    parts = []
    for path, value in grid_point.items():
        short = path.split(".")[-1]
        if lasts.count(short) > 1:
            short = ".".join(path.split(".")[-2:])
        parts.append(f"{short}={_short_value(value)}")
    return ",".join(parts)


def trial_name(algorithm: str, env: str, key: str, seed: int) -> str:
    """``<algorithm>-<env>-<short grid key>-s<seed>`` (DESIGN.md), filesystem-safe."""
    name = f"{algorithm}-{env.removeprefix('actlab/')}-{key}-s{seed}"
    name = re.sub(r"[^A-Za-z0-9_.=,+-]", "_", name)
    if len(name) > 120:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[:100]}-{digest}-s{seed}"
    return name


# ----------------------------------------------------------------------------- loading


def read_spec_file(path: str | Path) -> dict[str, Any]:
    file = str(path)
    p = Path(path)
    if not p.is_file():
        raise SpecError.single(file, "", "file not found; check the path (specs live in tune_specs/)")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise SpecError.single(file, "", f"{where}invalid YAML ({getattr(exc, 'problem', exc)}); fix the syntax")
    if not isinstance(data, dict):
        raise SpecError.single(file, "", "a spec is a YAML mapping with keys name, algorithm, env, stop, ...")
    return data


def evaluation_sets(spec: BaseModel) -> dict[str, dict[str, Any]]:
    """The spec's evaluation sets (name -> env-config overrides), else the environment's own."""
    sets = spec.evaluation.sets  # type: ignore[attr-defined]
    return sets if sets is not None else registry.get_env(spec.env.name).eval_sets  # type: ignore[attr-defined]


def _semantic_problems(spec: BaseModel, file: str) -> list[SpecProblem]:
    """Checks that need the registry: evaluation sets and checkpoint selection."""
    problems: list[SpecProblem] = []
    env_entry = registry.get_env(spec.env.name)  # type: ignore[attr-defined]
    evaluation = spec.evaluation  # type: ignore[attr-defined]
    sets = evaluation_sets(spec)
    base_env_config = spec.env.config.model_dump()  # type: ignore[attr-defined]
    for set_name, overrides in sets.items():
        try:
            env_entry.config_model.model_validate({**base_env_config, **overrides})
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                problems.append(
                    SpecProblem(file, f"evaluation.sets.{set_name}.{loc}", err["msg"].removeprefix("Value error, "))
                )
    select_on = evaluation.select_on
    if select_on not in (None, "auto") and select_on not in sets:
        problems.append(
            SpecProblem(
                file,
                "evaluation.select_on",
                f"'{select_on}' is not an evaluation set; use one of: {', '.join(sets) or '(none)'} or null",
            )
        )
    if evaluation.metric == "success_rate" and env_entry.success_key is None:
        problems.append(
            SpecProblem(file, "evaluation.metric", f"{env_entry.name} reports no success; use return_mean")
        )
    return problems


def validate_raw(raw: dict[str, Any], file: str, origin: dict[str, str] | None = None) -> BaseModel:
    """Validate one raw spec dict; raise :class:`SpecError` with every problem."""
    model = sweep_spec_model()
    try:
        spec = model.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(_problems_from_validation(exc, raw, file, origin or {}))
    problems = _semantic_problems(spec, file)
    if problems:
        raise SpecError(problems)
    return spec


def load_sweep(path: str | Path, overrides: list[str] | None = None) -> Sweep:
    """Read, override, validate and expand a sweep spec. Raises :class:`SpecError`."""
    file = str(path)
    overrides = list(overrides or [])
    raw = read_spec_file(path)
    origin: dict[str, str] = {}
    for text in overrides:
        opath, value = parse_override(text)
        try:
            set_path(raw, opath, value)
        except SpecError as exc:
            raise SpecError([SpecProblem(file, f"--set {opath}", p.message) for p in exc.problems])
        origin[opath] = f"--set {opath}"

    base = validate_raw(raw, file, origin)
    grid: dict[str, list[Any]] = base.grid  # type: ignore[attr-defined]
    seeds: list[int] = base.seeds  # type: ignore[attr-defined]

    problems: list[SpecProblem] = []
    trials: list[TrialSpec] = []
    paths = list(grid)
    for values in itertools.product(*(grid[p] for p in paths)):
        point = dict(zip(paths, values))
        combo = copy.deepcopy(raw)
        combo["grid"] = {}
        combo_origin = dict(origin)
        for gpath, gvalue in point.items():
            try:
                set_path(combo, gpath, copy.deepcopy(gvalue))
            except SpecError as exc:
                problems.extend(SpecProblem(file, f"grid.{gpath}", p.message) for p in exc.problems)
                break
            combo_origin[gpath] = f"grid '{gpath}' = {_short_value(gvalue)}"
        else:
            try:
                resolved = validate_raw(combo, file, combo_origin)
            except SpecError as exc:
                problems.extend(exc.problems)
                continue
            key = config_key(point)
            for seed in seeds:
                spec_dict = resolved.model_dump(mode="json")
                spec_dict["seeds"] = [seed]
                trials.append(
                    TrialSpec(
                        spec=spec_dict,
                        seed=seed,
                        grid_point=point,
                        config_key=key,
                        trial_name=trial_name(resolved.algorithm.name, resolved.env.name, key, seed),  # type: ignore[attr-defined]
                    )
                )
    if problems:
        raise SpecError(problems)
    names = [t.trial_name for t in trials]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SpecError.single(file, "grid", f"grid points give identical trial names {duplicates}; make the values distinct")
    return Sweep(file=file, spec=base, trials=trials, overrides=overrides)
