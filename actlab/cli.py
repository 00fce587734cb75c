"""The ``actlab`` command line (DESIGN.md, "CLI contract").

Every user error (bad spec, unknown name, unreachable store, impossible resources) is one
line per problem on stderr and exit code 1, before any Ray process starts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from actlab import PROJECT_ROOT
from actlab.spec.errors import SpecError

SPECS_DIR = PROJECT_ROOT / "tune_specs"


def _fail(lines: Sequence[str]) -> int:
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    return 1


def cmd_validate(args: argparse.Namespace) -> int:
    from actlab.runner.sweep import checked_trial_specs, describe_pretraining
    from actlab.spec import load_sweep

    failed: list[str] = []
    for path in args.specs:
        try:
            sweep = load_sweep(path, args.set)
            # what only the algorithm's builder knows, as `actlab run` checks it before Ray starts
            trial_specs = checked_trial_specs(sweep, path)
            sources = _describe_init_sources(sweep, path, args.tracking_uri)
        except SpecError as exc:
            failed.extend(str(p) for p in exc.problems)
            continue
        points = len(sweep.trials) // max(len(sweep.spec.seeds), 1)  # type: ignore[attr-defined]
        print(f"ok {path}: {len(sweep.trials)} trial(s) = {points} grid point(s) x {len(sweep.spec.seeds)} seed(s)")  # type: ignore[attr-defined]
        pretraining = describe_pretraining(trial_specs, [t.seed for t in sweep.trials])
        if pretraining:
            print(pretraining.replace("[actlab] ", "   "))
        if sources:
            print("   " + sources)
    return _fail(failed) if failed else 0


def _describe_init_sources(sweep: Any, path: str, tracking_uri: str | None) -> str | None:
    """Find the source runs of the trials with ``init_from``, as ``actlab run`` does before Ray starts."""
    from actlab.init_from import resolve_init_sources
    from actlab.tracking import check_tracking_store, resolve_tracking_uri

    if not any(t.spec.get("init_from") for t in sweep.trials):
        return None
    field = "--tracking-uri" if tracking_uri else "tracking.uri"
    uri = resolve_tracking_uri(tracking_uri or sweep.spec.tracking.uri)
    if uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///"):]).exists():
        raise SpecError.single(path, field, f"init_from needs the runs in {uri}, which does not exist; pass --tracking-uri")
    check_tracking_store(uri, field, path)
    resolved = [t.init_from for t in resolve_init_sources(sweep.trials, uri, path) if t.init_from]
    modes = Counter(source["module"] for source in resolved)
    what = {"continue": "continue their source runs"}
    parts = [f"{n} trial(s) {what.get(mode, f'start from the {mode} module of their source runs')}" for mode, n in sorted(modes.items())]
    return "init_from: " + "; ".join(parts) + f" (all found in {uri})"


def cmd_run(args: argparse.Namespace) -> int:
    from actlab.runner.sweep import run_sweep
    from actlab.spec import load_sweep

    if args.resume and args.set:
        return _fail(["--resume continues a sweep exactly as it was started; drop the --set options"])
    try:
        sweep = load_sweep(args.spec, args.set)
        return run_sweep(
            sweep,
            tracking_uri=args.tracking_uri,
            address=args.address,
            resume=args.resume is not None,
            resume_id=args.resume if isinstance(args.resume, str) else None,
            dashboard=args.dashboard,
            verbose=args.verbose,
            allow_pending=args.allow_pending,
        )
    except SpecError as exc:
        return _fail([str(p) for p in exc.problems])


def cmd_submit(args: argparse.Namespace) -> int:
    from actlab.spec import load_sweep
    from actlab.submit import submit_sweep

    try:
        load_sweep(args.spec, args.set)  # fail here, not on the cluster
    except SpecError as exc:
        return _fail([str(p) for p in exc.problems])
    return submit_sweep(
        spec_path=Path(args.spec),
        address=args.address,
        overrides=args.set,
        tracking_uri=args.tracking_uri,
        project_root=PROJECT_ROOT,
        follow=not args.no_follow,
        auth_token=args.auth_token,
    )


def cmd_report(args: argparse.Namespace) -> int:
    from actlab.report import ReportError, build_report, format_table
    from actlab.spec.models import DEFAULT_TRACKING_URI
    from actlab.tracking import resolve_tracking_uri

    uri = resolve_tracking_uri(args.tracking_uri or DEFAULT_TRACKING_URI)
    try:
        report = build_report(
            args.experiment,
            uri,
            Path(args.out) if args.out else Path("reports") / "+".join(dict.fromkeys(args.experiment)),
            sweep=args.sweep,
            metrics=args.metric or None,
            log_to_mlflow=not args.no_log,
            include_running=args.include_running,
            by_step=args.by_step,
        )
    except ReportError as exc:
        return _fail([str(exc)])
    print(format_table(report))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from actlab import registry

    if args.what == "algorithms":
        rows = [(name, e.description) for name, e in sorted(registry.algorithms().items())]
    elif args.what == "envs":
        rows = [(name, e.description) for name, e in sorted(registry.envs().items())]
    else:
        import yaml

        rows = []
        for path in sorted(SPECS_DIR.glob("*.yaml")):
            try:
                desc = (yaml.safe_load(path.read_text()) or {}).get("description", "")
            except yaml.YAMLError:
                desc = "(invalid YAML)"
            rows.append((str(path.relative_to(PROJECT_ROOT)), str(desc).strip().splitlines()[0] if desc else ""))
    width = max((len(r[0]) for r in rows), default=0)
    for name, desc in rows:
        print(f"{name:<{width}}  {desc}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from actlab.spec import sweep_spec_model

    print(json.dumps(sweep_spec_model().model_json_schema(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="actlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def add_set(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--set", action="append", default=[], metavar="PATH=VALUE",
            help="override a spec field by dotted path; the value is parsed as YAML (repeatable)",
        )

    p = sub.add_parser("validate", help="validate spec files")
    p.add_argument("specs", nargs="+")
    add_set(p)
    p.add_argument("--tracking-uri", help="MLflow store holding init_from's source runs (default: the spec's)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="run a sweep (local Ray by default)")
    p.add_argument("spec")
    add_set(p)
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: the spec's, sqlite:///mlruns.db)")
    p.add_argument("--address", help="Ray cluster address to join (default: a local Ray; RAY_ADDRESS is honoured)")
    p.add_argument(
        "--resume", nargs="?", const=True, default=None, metavar="SWEEP_ID",
        help="continue the newest interrupted sweep of this spec (or SWEEP_ID)",
    )
    p.add_argument("--dashboard", action="store_true", help="start Ray's dashboard (bound to 127.0.0.1)")
    p.add_argument("--verbose", action="store_true", help="forward worker logs to this terminal")
    p.add_argument(
        "--allow-pending", action="store_true",
        help="skip the resource check (autoscaling clusters that will grow to fit the trials)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("submit", help="run a sweep as a Ray job on a cluster")
    p.add_argument("spec")
    add_set(p)
    p.add_argument("--address", required=True, help="Ray job server, e.g. http://127.0.0.1:8265")
    p.add_argument("--tracking-uri", help="MLflow tracking URI reachable from the cluster")
    p.add_argument("--no-follow", action="store_true", help="return after submitting instead of following logs")
    p.add_argument(
        "--auth-token",
        help="the cluster's Ray auth token (default: RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token)",
    )
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("report", help="aggregate finished runs of one or more MLflow experiments")
    p.add_argument(
        "experiment",
        nargs="+",
        help="experiment name; several names pool their runs (e.g. seeds run in batches under different names)",
    )
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default sqlite:///mlruns.db)")
    p.add_argument("--out", help="directory for the table and plots (default: reports/EXPERIMENT[+EXPERIMENT...])")
    p.add_argument("--metric", action="append", help="metric or pattern to report, e.g. 'eval/*/success_rate' (repeatable)")
    p.add_argument("--include-running", action="store_true", help="also aggregate runs that are still RUNNING")
    p.add_argument("--sweep", help="only runs of this sweep id")
    p.add_argument("--no-log", action="store_true", help="do not log the report as an MLflow run")
    p.add_argument(
        "--by-step",
        action="store_true",
        help="also tabulate mean [CI] at every env step the seeds logged (e.g. OKB's basis/* once per iteration)",
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("list", help="list registered algorithms, environments or specs")
    p.add_argument("what", choices=["algorithms", "envs", "specs"])
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("schema", help="print the JSON Schema of sweep specs")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from actlab.registry import UnknownNameError

    try:
        return int(args.func(args))
    except UnknownNameError as exc:
        return _fail([str(exc)])
    except KeyboardInterrupt:
        print("\n[actlab] interrupted; continue later with: actlab run SPEC --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
