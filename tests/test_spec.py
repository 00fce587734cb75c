"""Spec validation: every malformed input is one clear line naming file, field and fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actlab.cli import main
from actlab.runner.resources import ClusterCapacity, check_trial_resources
from actlab.spec import SpecError, load_sweep, parse_override
from tests.conftest import MINIMAL_SPEC, SPECS


def problems(path: Path, overrides: list[str] | None = None) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_sweep(path, overrides)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("spec", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_specs_are_valid(spec: Path) -> None:
    sweep = load_sweep(spec)
    assert sweep.trials


def test_quickstart_expands_grid_times_seeds() -> None:
    sweep = load_sweep(SPECS / "quickstart.yaml")
    assert len(sweep.trials) == 4
    keys = {(t.config_key, t.seed) for t in sweep.trials}
    assert keys == {("entropy_coeff=0.01", 0), ("entropy_coeff=0.01", 1), ("entropy_coeff=0.05", 0), ("entropy_coeff=0.05", 1)}
    trial = next(t for t in sweep.trials if t.config_key == "entropy_coeff=0.05" and t.seed == 1)
    assert trial.trial_name == "utility-ppo-GridWorldSkills-v0-entropy_coeff=0.05-s1"
    # The trial spec is fully resolved (defaults filled in) and self-contained.
    assert trial.spec["algorithm"]["config"]["entropy_coeff"] == 0.05
    assert trial.spec["seeds"] == [1] and trial.spec["grid"] == {}
    assert trial.spec["algorithm"]["config"]["clip_param"] == 0.1
    assert load_sweep_from_dict_roundtrip(trial.spec)


def load_sweep_from_dict_roundtrip(spec: dict) -> bool:
    from actlab.spec import validate_raw

    return validate_raw(json.loads(json.dumps(spec)), "roundtrip").name == spec["name"]  # type: ignore[attr-defined]


def test_misspelled_algorithm_hyperparameter_has_did_you_mean(write_spec) -> None:
    path = write_spec(MINIMAL_SPEC.replace("name: utility-ppo", "name: utility-ppo\n  config:\n    entropy_coef: 0.1"))
    (line,) = problems(path)
    assert line.startswith(f"{path}: algorithm.config.entropy_coef: unknown field")
    assert "did you mean 'entropy_coeff'?" in line


def test_misspelled_env_field_and_top_level_key(write_spec) -> None:
    text = MINIMAL_SPEC.replace(
        "name: actlab/GridWorldSkills-v0", "name: actlab/GridWorldSkills-v0\n  config:\n    max_skill: 5"
    ) + "seed: [0]\n"
    lines = problems(write_spec(text))
    assert len(lines) == 2
    assert any("env.config.max_skill: unknown field; did you mean 'max_skills'?" in line for line in lines)
    assert any(": seed: unknown field; did you mean 'seeds'?" in line for line in lines)


def test_unknown_algorithm_and_environment(write_spec) -> None:
    text = MINIMAL_SPEC.replace("utility-ppo", "utility-pp").replace("GridWorldSkills-v0", "GridWorldSkill-v0")
    lines = problems(write_spec(text))
    assert any("algorithm" in line and "unknown algorithm 'utility-pp'; did you mean 'utility-ppo'?" in line for line in lines)
    assert any("unknown environment 'actlab/GridWorldSkill-v0'; did you mean 'actlab/GridWorldSkills-v0'?" in line for line in lines)


def test_wrong_type_and_range(write_spec) -> None:
    text = MINIMAL_SPEC.replace("env_steps: 1000", "env_steps: -5") + "seeds: [0, 0]\n"
    lines = problems(write_spec(text))
    assert any("stop.env_steps: Input should be greater than 0 (got -5)" in line for line in lines)
    assert any("seeds: seeds must be unique" in line for line in lines)


def test_missing_required_sections(write_spec) -> None:
    path = write_spec("name: t\nalgorithm: {name: utility-ppo}\nenv: {name: actlab/GridWorldSkills-v0}\n")
    assert problems(path) == [f"{path}: stop: required field is missing; add it"]


def test_impossible_env_configuration(write_spec) -> None:
    text = MINIMAL_SPEC.replace(
        "name: actlab/GridWorldSkills-v0", "name: actlab/GridWorldSkills-v0\n  config:\n    split: test\n    m: 300"
    )
    (line,) = problems(write_spec(text))
    assert "env.config" in line and "m=300 exceeds the 256 skills of the 'test' split" in line


def test_grid_paths_are_validated_per_combination(write_spec) -> None:
    text = MINIMAL_SPEC + "grid:\n  algorithm.config.entropy_coef: [0.1]\n  env.config.m: [10, 'many']\n"
    lines = problems(write_spec(text))
    assert any(
        "algorithm.config.entropy_coef: unknown field; did you mean 'entropy_coeff'?" in line
        and "[from grid 'algorithm.config.entropy_coef'" in line
        for line in lines
    )
    assert any("env.config.m" in line and "[from grid 'env.config.m' = many]" in line for line in lines)


def test_grid_can_vary_algorithm_and_env_names(write_spec) -> None:
    text = MINIMAL_SPEC + "grid:\n  algorithm.name: [utility-ppo, nope]\n"
    lines = problems(write_spec(text))
    assert any("unknown algorithm 'nope'" in line and "grid 'algorithm.name'" in line for line in lines)
    ok = write_spec(MINIMAL_SPEC + "grid:\n  env.name: [actlab/GridWorldSkills-v0]\n  env.config.m: [5, 10]\n", "ok.yaml")
    sweep = load_sweep(ok)
    assert [t.config_key for t in sweep.trials] == ["name=GridWorldSkills-v0,m=5", "name=GridWorldSkills-v0,m=10"]


def test_grid_over_whole_sections_labels_each_by_name_and_config(write_spec) -> None:
    """Ablations that mix algorithms and configs (ch4_ablations.yaml) get distinct trial names."""
    text = MINIMAL_SPEC + (
        "grid:\n  algorithm:\n    - {name: utility-ppo}\n    - {name: utility-ppo, config: {entropy_coeff: 0.0}}\n"
        "    - {name: nearest-neighbor, config: {}}\n"
    )
    sweep = load_sweep(write_spec(text))
    assert [t.config_key for t in sweep.trials] == [
        "algorithm=utility-ppo", "algorithm=utility-ppo.config=entropy_coeff=0", "algorithm=nearest-neighbor",
    ]


def test_set_overrides_parse_yaml_and_are_checked(write_spec) -> None:
    path = write_spec(MINIMAL_SPEC)
    sweep = load_sweep(path, ["seeds=[3, 4]", "stop.env_steps=2000", "grid={env.config.m: [5, 7]}"])
    assert sorted({t.seed for t in sweep.trials}) == [3, 4] and len(sweep.trials) == 4
    # YAML 1.1 reads 2e3 as a string; the model refuses it and names the --set.
    (line,) = problems(path, ["stop.env_steps=2e3"])
    assert "stop.env_steps: Input should be a valid integer" in line and "[from --set stop.env_steps]" in line
    sweep = load_sweep(path, ["stop.env_steps=2000", "algorithm.config.lr=3e-4"])
    assert sweep.trials[0].spec["algorithm"]["config"]["lr"] == 3e-4
    (line,) = problems(path, ["algorithm.config.lrr=0.1"])
    assert "algorithm.config.lrr: unknown field; did you mean 'lr'?" in line and "[from --set algorithm.config.lrr]" in line
    (line,) = problems(path, ["stop.env_steps.x=1"])
    assert "'stop.env_steps' is a value, not a section" in line
    with pytest.raises(SpecError, match="not of the form dotted.path=value"):
        parse_override("stop.env_steps")
    assert parse_override("grid={}") == ("grid", {})


def test_evaluation_sets_and_selection_are_checked(write_spec) -> None:
    text = MINIMAL_SPEC + "evaluation:\n  sets: {heldout: {split: tset}}\n  select_on: validation\n"
    lines = problems(write_spec(text))
    assert any("evaluation.sets.heldout.split" in line for line in lines)
    assert any("evaluation.select_on: 'validation' is not an evaluation set; use one of: heldout" in line for line in lines)


def test_invalid_yaml_and_missing_file(write_spec, tmp_path: Path) -> None:
    (line,) = problems(write_spec("name: [unclosed\n"))
    assert "line 2" in line and "invalid YAML" in line
    (line,) = problems(tmp_path / "nope.yaml")
    assert "file not found" in line
    (line,) = problems(write_spec("- a list\n", "list.yaml"))
    assert "a spec is a YAML mapping" in line


def test_resource_check_names_the_fix() -> None:
    laptop = ClusterCapacity(total_cpus=2, total_gpus=0, node_cpus=2, node_gpus=0, where="this machine")
    check_trial_resources([[{"CPU": 1}, {"CPU": 1}]], laptop, "f.yaml")
    with pytest.raises(SpecError) as info:
        check_trial_resources([[{"CPU": 1}, {"CPU": 1}, {"CPU": 1}]], laptop, "f.yaml")
    (line,) = [str(p) for p in info.value.problems]
    assert "a trial needs 3 CPUs" in line and "has 2" in line and "resources.env_runners" in line
    with pytest.raises(SpecError, match="gpus_per_trial=0"):
        check_trial_resources([[{"CPU": 1, "GPU": 1}]], laptop, "f.yaml")


# ---------------------------------------------------------------------------- CLI


def test_cli_validate_reports_one_line_per_problem(write_spec, capsys) -> None:
    bad = write_spec(MINIMAL_SPEC.replace("env_steps: 1000", "env_step: 1000"))
    assert main(["validate", str(SPECS / "quickstart.yaml"), str(bad)]) == 1
    out, err = capsys.readouterr()
    assert "ok " in out and "quickstart.yaml: 4 trial(s)" in out
    lines = err.strip().splitlines()
    assert lines and all(line.startswith(f"error: {bad}: ") for line in lines)
    assert "Traceback" not in err


def test_cli_run_fails_before_ray_starts(write_spec, capsys, tmp_path: Path, monkeypatch) -> None:
    import ray

    monkeypatch.chdir(tmp_path)  # the default store sqlite:///mlruns.db is relative to the cwd

    bad = write_spec(MINIMAL_SPEC.replace("utility-ppo", "utlity-ppo"))
    assert main(["run", str(bad)]) == 1
    # Each section is valid on its own; the pair is not (OKB's family needs reward features).
    assert main(["run", str(write_spec(MINIMAL_SPEC.replace("utility-ppo", "okb"), "okb.yaml"))]) == 1
    assert main(["run", str(SPECS / "quickstart.yaml"), "--set", "resources.env_runners=5"]) == 1
    uri = f"sqlite:///{tmp_path}/missing_dir/db.sqlite"
    assert main(["run", str(SPECS / "quickstart.yaml"), "--tracking-uri", uri]) == 1
    assert main(["run", str(SPECS / "quickstart.yaml"), "--tracking-uri", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert "unknown algorithm 'utlity-ppo'" in err
    assert "algorithm.name: 'okb' cannot run on env 'actlab/GridWorldSkills-v0'" in err and "no reward features" in err
    assert "a trial needs 6 CPUs" in err
    assert "missing_dir' of the SQLite store does not exist" in err
    assert "cannot use the MLflow tracking store 'http://127.0.0.1:9'" in err
    assert "Traceback" not in err
    assert not ray.is_initialized()


def test_cli_schema_and_list(capsys) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "algorithm" in schema["properties"] and schema["additionalProperties"] is False
    assert main(["list", "algorithms"]) == 0
    assert "utility-ppo" in capsys.readouterr().out
    assert main(["list", "envs"]) == 0
    assert "actlab/GridWorldSkills-v0" in capsys.readouterr().out
    assert main(["list", "specs"]) == 0
    assert "tune_specs/quickstart.yaml" in capsys.readouterr().out
