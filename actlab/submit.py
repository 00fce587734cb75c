"""``actlab submit``: run a sweep as a Ray job on a (remote) cluster.

The job runs exactly what ``actlab run`` runs locally: the project root is uploaded as the
job's ``working_dir`` (it becomes the cwd of the entrypoint and of every Tune/RLlib worker,
so ``actlab``, ``envs`` and ``rllib_modules`` import from it), and the entrypoint is
``python -m actlab run <spec> [--set ...] [--tracking-uri ...]``. Inside the job
``RAY_ADDRESS`` is set, so the runner joins the cluster with ``ray.init()`` instead of
starting a local Ray.

Exit codes of :func:`submit_sweep` (also those of ``actlab submit``):

* ``0``   the job SUCCEEDED (or, with ``follow=False``, it was accepted);
* ``1``   the job FAILED or was STOPPED (its status message is printed);
* ``2``   nothing was submitted: bad address, job server unreachable, authentication
  failed, spec outside the project, upload rejected; one line on stderr says why;
* ``130`` interrupted with Ctrl-C while following; the job keeps running on the cluster
  and the command to stop it is printed.

Token authentication (Ray 2.60). A cluster started by ``ray start``/``ray.init`` with
``RAY_AUTH_MODE=token`` (or with a token present) rejects job-server requests without
``Authorization: Bearer <token>`` (HTTP 401 "Missing authentication token", 403
"Invalid authentication token"). Ray's own client adds that header only when the
*submitting* process runs with ``RAY_AUTH_MODE=token``; we instead ask the server
(``GET /api/authentication_mode``, public) whether it wants a token and, if so, send one
ourselves, looked up in Ray's order: ``auth_token`` argument (``--auth-token``), then
``RAY_AUTH_TOKEN``, then the file named by ``RAY_AUTH_TOKEN_PATH``, then
``~/.ray/auth_token``. A local token is therefore never sent to a cluster that did not ask
for one. On the head, ``ray get-auth-token`` prints the cluster's token.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import secrets
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Paths never uploaded with the working dir (gitwildmatch patterns relative to the project
#: root). Ray already honours ``.gitignore``; these are repeated so that an upload stays small
#: (Ray's limit is the gRPC message size, 512 MiB, and every node downloads the package) even
#: with ``RAY_RUNTIME_ENV_IGNORE_GITIGNORE=1`` or a checkout without our ``.gitignore``.
UPLOAD_EXCLUDES: tuple[str, ...] = (
    "/.venv/",
    "/venv/",
    "/.git/",
    "mlruns.db",
    "*.db-journal",
    "/mlruns/",
    "/mlartifacts/",
    "/actlab_results/",
    "/reports/",
    "__pycache__/",
    "*.pyc",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    "/.cache/",
    "/build/",
    "/dist/",
    "*.egg-info/",
    "/.whl/",
)

#: Environment variables every job gets: unbuffered output so that followed logs arrive as
#: they are printed, not in 8 KiB blocks when the driver exits.
BASE_ENV_VARS: dict[str, str] = {"PYTHONUNBUFFERED": "1"}

#: Ray's environment variables that would silently replace ``address`` inside
#: ``JobSubmissionClient`` (ray.dashboard.utils.get_address_for_submission_client).
_ADDRESS_ENV_VARS: tuple[str, ...] = ("RAY_API_SERVER_ADDRESS", "RAY_ADDRESS")

#: Seconds to wait for the job server to answer the pre-flight requests.
CONNECT_TIMEOUT_S = 15.0

README_HINT = "see cluster/README.md"


class SubmitError(Exception):
    """A problem that prevents submission; ``str()`` is the one line shown to the user."""


# --------------------------------------------------------------------------- helpers


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)


def _note(message: str) -> None:
    print(f"[actlab] {message}", file=sys.stderr, flush=True)


def normalize_address(address: str) -> str:
    """``http(s)://HOST:PORT`` of the job server, without trailing slashes.

    Anything else (a bare ``HOST:PORT``, a GCS address, ``ray://``) is refused: Ray would
    treat it as a cluster bootstrap address and try to join the cluster from this machine,
    which hangs or fails obscurely from a laptop.
    """
    addr = (address or "").strip().rstrip("/")
    if not addr.startswith(("http://", "https://")):
        raise SubmitError(
            f"--address must be the Ray job server URL, e.g. http://127.0.0.1:8265 (got '{address}'); "
            f"{README_HINT}"
        )
    return addr


def is_relative_sqlite_uri(uri: str) -> bool:
    """``sqlite:///rel/path.db`` (three slashes + relative path), not ``sqlite:////abs``."""
    prefix = "sqlite:///"
    return uri.startswith(prefix) and not uri[len(prefix):].startswith("/")


def absolutize_sqlite_uri(uri: str, base_dir: Path | None = None) -> str:
    """Turn a relative SQLite tracking URI into an absolute one, relative to ``base_dir``.

    ``sqlite:///mlruns.db`` means "mlruns.db in the cwd"; inside a job the cwd is a
    temporary copy of the working dir, so the store would vanish with it. A query string
    (``?timeout=30``) is kept. Other URIs are returned unchanged.
    """
    if not is_relative_sqlite_uri(uri):
        return uri
    rest = uri[len("sqlite:///"):]
    path_part, sep, query = rest.partition("?")
    path = ((base_dir or Path.cwd()) / path_part).resolve()
    return f"sqlite:///{path}{sep}{query}"


def resolve_auth_token(explicit: str | None = None) -> tuple[str | None, str]:
    """The token to send and where it came from (for messages), in Ray's lookup order."""
    if explicit:
        return explicit.strip(), "--auth-token"
    env_token = os.environ.get("RAY_AUTH_TOKEN", "").strip()
    if env_token:
        return env_token, "RAY_AUTH_TOKEN"
    token_path = os.environ.get("RAY_AUTH_TOKEN_PATH", "").strip()
    if token_path:
        path = Path(token_path).expanduser()
        try:
            return path.read_text().strip() or None, f"RAY_AUTH_TOKEN_PATH={path}"
        except OSError as exc:
            raise SubmitError(f"cannot read the Ray auth token file RAY_AUTH_TOKEN_PATH={path}: {exc.strerror}")
    default = Path.home() / ".ray" / "auth_token"
    if default.is_file():
        try:
            return default.read_text().strip() or None, str(default)
        except OSError:
            return None, ""
    return None, ""


@contextlib.contextmanager
def _without_env(names: tuple[str, ...]) -> Iterator[None]:
    """Temporarily remove environment variables (restored afterwards)."""
    saved = {n: os.environ.pop(n) for n in names if n in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def build_entrypoint(spec_rel: str, overrides: list[str], tracking_uri: str | None) -> str:
    """Shell command run by the job; every argument is quoted (values may hold spaces, [ ], {})."""
    argv = ["python", "-m", "actlab", "run", spec_rel]
    for item in overrides:
        argv += ["--set", item]
    if tracking_uri:
        argv += ["--tracking-uri", tracking_uri]
    return shlex.join(argv)


def build_runtime_env(
    project_root: Path, extra: dict[str, Any] | None = None, git_sha: str | None = None
) -> dict[str, Any]:
    """Runtime env of the job: working dir, excludes and env vars, merged with ``extra``.

    ``extra``'s ``env_vars`` and ``excludes`` are merged into ours (theirs win on
    conflicts); any other key replaces ours.
    """
    env_vars = dict(BASE_ENV_VARS)
    if git_sha and git_sha != "unknown":
        # The uploaded working dir has no .git, so the runner cannot find HEAD there.
        env_vars["ACTLAB_GIT_SHA"] = git_sha
    runtime_env: dict[str, Any] = {
        "working_dir": str(project_root),
        "excludes": list(UPLOAD_EXCLUDES),
        "env_vars": env_vars,
    }
    for key, value in (extra or {}).items():
        if key == "env_vars":
            runtime_env["env_vars"] = {**env_vars, **{k: str(v) for k, v in dict(value).items()}}
        elif key == "excludes":
            runtime_env["excludes"] = list(UPLOAD_EXCLUDES) + [e for e in value if e not in UPLOAD_EXCLUDES]
        else:
            runtime_env[key] = value
    return runtime_env


def _spec_relative_path(spec_path: Path, project_root: Path) -> str:
    """Spec path relative to the project root: only the project root is uploaded."""
    spec_abs = (spec_path if spec_path.is_absolute() else Path.cwd() / spec_path).resolve()
    root = project_root.resolve()
    if not spec_abs.is_file():
        raise SubmitError(f"spec file '{spec_path}' does not exist")
    try:
        rel = spec_abs.relative_to(root)
    except ValueError:
        raise SubmitError(
            f"spec '{spec_path}' is outside the project root {root}, which is all that is uploaded; "
            f"copy it into {root / 'tune_specs'}"
        ) from None
    for pattern in ("/.venv/", "/actlab_results/", "/reports/", "/.git/"):
        if ("/" + rel.as_posix()).startswith(pattern):
            raise SubmitError(f"spec '{rel}' is in an excluded directory ({pattern.strip('/')}); move it to tune_specs/")
    return rel.as_posix()


def _spec_settings(spec_path: Path, overrides: list[str]) -> tuple[str, str]:
    """The spec's (tracking URI, checkpoint storage path) after overrides, defaults included."""
    from actlab.spec import load_sweep
    from actlab.spec.errors import SpecError

    try:
        sweep: Any = load_sweep(spec_path, overrides)
    except SpecError as exc:
        raise SubmitError("; ".join(str(p) for p in exc.problems)) from None
    return str(sweep.spec.tracking.uri), str(sweep.spec.checkpoint.storage_path)


def storage_note(storage_path: str) -> str | None:
    """A warning when Tune's results would stay inside the job's temporary working dir."""
    if "://" in storage_path or Path(storage_path).is_absolute():
        return None
    return (
        f"checkpoint.storage_path '{storage_path}' is relative: checkpoints stay in the job's working dir on the "
        f"head (not copied back, gone when Ray cleans it up) and a multi-node cluster needs a directory every node "
        f"mounts; pass --set checkpoint.storage_path=/shared/path/actlab_results ({README_HINT})"
    )


def plan_tracking_uri(
    tracking_uri: str | None, spec_uri: str, base_dir: Path | None = None
) -> tuple[str | None, str | None]:
    """Which ``--tracking-uri`` the job gets, and a note for the user (or ``None``).

    A relative SQLite path would resolve inside the job's temporary working dir and be
    lost, so it is made absolute *on this machine*. That is only right when the head node
    sees this filesystem (a local cluster, or a shared mount); a real cluster should log to
    an MLflow server (``--tracking-uri http://...``).
    """
    effective = tracking_uri or spec_uri
    if is_relative_sqlite_uri(effective):
        absolute = absolutize_sqlite_uri(effective, base_dir)
        note = (
            f"tracking URI {effective} is relative; the job logs to {absolute} instead. This only works when "
            f"the head node shares this filesystem (e.g. a local cluster); on a real cluster pass "
            f"--tracking-uri http://<mlflow-server>:5000 ({README_HINT})"
        )
        return absolute, note
    return tracking_uri, None


def _git_sha(project_root: Path) -> str | None:
    try:
        from actlab.tracking import git_sha
    except ImportError:  # pragma: no cover - tracking is part of the package
        return None
    return git_sha(project_root)


def _check_job_server(address: str, auth_token: str | None) -> tuple[dict[str, str], str]:
    """Pre-flight: reachability and authentication, with a timeout and clear messages.

    Ray's client uses ``requests`` without a timeout (a firewalled host hangs for minutes)
    and reports auth problems as a multi-line exception; this turns both into one line.
    Returns the HTTP headers to use for every request and where the token came from.
    """
    import requests

    unreachable = (
        f"cannot reach the Ray job server at {address}: is the head running and the dashboard port "
        f"(8265) tunnelled, e.g. ssh -L 8265:localhost:8265 HEAD? {README_HINT}"
    )
    try:
        r = requests.get(f"{address}/api/authentication_mode", timeout=CONNECT_TIMEOUT_S)
    except requests.exceptions.RequestException:
        raise SubmitError(unreachable) from None
    mode = "unknown"
    if r.status_code == 200:
        with contextlib.suppress(ValueError, AttributeError):
            mode = str(r.json().get("authentication_mode", "unknown"))

    token: str | None = None
    source = ""
    if mode != "disabled":
        # "token", or an older server that does not say: send what we have.
        token, source = resolve_auth_token(auth_token)
        if token is None and mode == "token":
            raise SubmitError(
                f"the Ray cluster at {address} requires an authentication token and none was found; run "
                f"`ray get-auth-token` on the head and pass it with --auth-token or RAY_AUTH_TOKEN "
                f"(or RAY_AUTH_TOKEN_PATH / ~/.ray/auth_token); {README_HINT}"
            )
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        r = requests.get(f"{address}/api/version", headers=headers, timeout=CONNECT_TIMEOUT_S)
    except requests.exceptions.RequestException:
        raise SubmitError(unreachable) from None
    if r.status_code in (401, 403):
        why = "was rejected" if token else "is required"
        raise SubmitError(
            f"authentication to the Ray job server at {address} failed (HTTP {r.status_code}: {r.text.strip()}): "
            f"the token {why}{f' (from {source})' if source else ''}; use the cluster's token from "
            f"`ray get-auth-token` on the head via --auth-token or RAY_AUTH_TOKEN; {README_HINT}"
        )
    if r.status_code != 200:
        raise SubmitError(
            f"{address} answered HTTP {r.status_code} to /api/version: is it the Ray dashboard/job port "
            f"(default 8265)? {README_HINT}"
        )
    try:
        version = r.json().get("ray_version")
    except ValueError:
        raise SubmitError(f"{address} is not a Ray job server (unexpected reply to /api/version)") from None
    import ray

    if version and version != ray.__version__:
        _note(f"warning: the cluster runs Ray {version}, this machine Ray {ray.__version__}; pin the same version")
    return headers, (source if token else "")


def _quiet_ray_client_loggers() -> None:
    """Silence Ray's per-file packaging chatter and websocket INFO lines (we print our own).

    ``ray.dashboard.modules.job.sdk`` sets its own level to INFO at import, so this must run
    after the import. Warnings (e.g. a large file in the upload) still come through.
    """
    import logging

    for name in (
        "ray.dashboard.modules.job.sdk",
        "ray.dashboard.modules.dashboard_sdk",
        "ray._private.runtime_env.packaging",
        "ray._private.runtime_env.working_dir",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Ray warns that .git/.venv "are now ignored by default": we exclude them on purpose.
    logging.getLogger("ray._private.runtime_env.working_dir").setLevel(logging.ERROR)


def _default_job_id(spec_rel: str) -> str:
    stem = Path(spec_rel).stem.replace("_", "-")
    return f"actlab-{stem}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def _stop_hint(job_id: str, address: str, token_source: str) -> str:
    """The ``ray job stop`` command; Ray's CLI sends its token only with RAY_AUTH_MODE=token."""
    prefix = ""
    if token_source:
        prefix = "RAY_AUTH_MODE=token "
        if token_source == "--auth-token":
            prefix += "RAY_AUTH_TOKEN=<token> "
    return f"{prefix}ray job stop {shlex.quote(job_id)} --address {shlex.quote(address)}"


async def _follow_logs(client: Any, job_id: str) -> None:
    """Print the job's output as it arrives (ends when the job reaches a terminal state)."""
    async for chunk in client.tail_job_logs(job_id):
        sys.stdout.write(chunk)
        sys.stdout.flush()


def _wait_terminal(client: Any, job_id: str, timeout_s: float = 60.0) -> Any:
    """The job's final :class:`JobDetails` (the log stream may close before the status flips)."""
    deadline = time.monotonic() + timeout_s
    info = client.get_job_info(job_id)
    while not info.status.is_terminal() and time.monotonic() < deadline:
        time.sleep(0.5)
        info = client.get_job_info(job_id)
    return info


# --------------------------------------------------------------------------- entry point


def submit_sweep(
    spec_path: Path,
    address: str,
    overrides: list[str],
    tracking_uri: str | None,
    project_root: Path,
    follow: bool = True,
    job_id: str | None = None,
    runtime_env_extra: dict | None = None,
    auth_token: str | None = None,
) -> int:
    """Submit ``actlab run <spec>`` as a Ray job and (by default) follow it to the end.

    Args:
        spec_path: the sweep spec; must lie inside ``project_root`` (only that is uploaded).
        address: the job server, ``http://HOST:8265`` (through an SSH tunnel or
            ``kubectl port-forward`` for a remote cluster). Wins over ``RAY_ADDRESS``.
        overrides: ``--set PATH=VALUE`` items, passed on unchanged.
        tracking_uri: MLflow URI the job logs to (default: the spec's). A relative SQLite
            path is made absolute on this machine, with a note (see :func:`plan_tracking_uri`).
        project_root: the repository root (with ``pyproject.toml``), uploaded as working dir.
        follow: stream the job's logs and wait for it; ``False`` returns once submitted.
        job_id: submission id (default ``actlab-<spec>-<time>-<rand>``); must be unused.
        runtime_env_extra: merged into the runtime env (``env_vars``/``excludes`` merged,
            other keys replaced), e.g. ``{"env_vars": {"MLFLOW_TRACKING_TOKEN": ...}}``.
        auth_token: the cluster's token (``--auth-token``); default ``RAY_AUTH_TOKEN``,
            ``RAY_AUTH_TOKEN_PATH``, ``~/.ray/auth_token``, sent only if the cluster asks.

    Returns:
        The exit code: 0 succeeded, 1 failed/stopped, 2 not submitted, 130 interrupted.
    """
    try:
        addr = normalize_address(address)
        project_root = project_root.resolve()
        spec_rel = _spec_relative_path(Path(spec_path), project_root)
        spec_uri, storage_path = _spec_settings(Path(spec_path), overrides)
        job_tracking_uri, note = plan_tracking_uri(tracking_uri, spec_uri)
    except SubmitError as exc:
        _err(str(exc))
        return 2
    except KeyboardInterrupt:
        _err("interrupted before anything was submitted")
        return 130
    notes = tuple(n for n in (note, storage_note(storage_path)) if n)
    return submit_entrypoint(
        address=addr,
        entrypoint=build_entrypoint(spec_rel, list(overrides), job_tracking_uri),
        project_root=project_root,
        job_id=job_id or _default_job_id(spec_rel),
        runtime_env_extra=runtime_env_extra,
        auth_token=auth_token,
        follow=follow,
        metadata={"actlab.spec": spec_rel},
        notes=notes,
    )


def submit_entrypoint(
    address: str,
    entrypoint: str,
    project_root: Path,
    job_id: str | None = None,
    runtime_env_extra: dict | None = None,
    auth_token: str | None = None,
    follow: bool = True,
    metadata: dict[str, str] | None = None,
    notes: tuple[str, ...] = (),
) -> int:
    """Submit any shell ``entrypoint`` with the project as working dir; same exit codes.

    The generic half of :func:`submit_sweep` (also what the cluster test uses to check log
    following and exit codes with a trivial script). ``notes`` are printed once the job
    server has answered, so that an unreachable server gives a single error line.
    """
    try:
        addr = normalize_address(address)
        headers, token_source = _check_job_server(addr, auth_token)
    except SubmitError as exc:
        _err(str(exc))
        return 2
    except KeyboardInterrupt:
        _err("interrupted before anything was submitted")
        return 130
    for note in notes:
        _note(note)

    from ray.exceptions import AuthenticationError
    from ray.job_submission import JobSubmissionClient

    _quiet_ray_client_loggers()
    project_root = project_root.resolve()
    runtime_env = build_runtime_env(project_root, runtime_env_extra, _git_sha(project_root))
    submission_id = job_id or f"actlab-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    meta = {**(metadata or {}), "actlab.entrypoint": entrypoint[:500]}
    try:
        with _without_env(_ADDRESS_ENV_VARS):
            client = JobSubmissionClient(addr, headers=headers)
        _note(f"uploading {project_root} and submitting job {submission_id} to {addr}")
        client.submit_job(
            entrypoint=entrypoint,
            submission_id=submission_id,
            runtime_env=runtime_env,
            metadata=meta,
        )
    except AuthenticationError as exc:
        _err(f"authentication to the Ray job server at {addr} failed: {str(exc).splitlines()[0]}; {README_HINT}")
        return 2
    except (ConnectionError, OSError) as exc:
        _err(f"cannot reach the Ray job server at {addr} ({exc}); {README_HINT}")
        return 2
    except (RuntimeError, ValueError) as exc:
        # e.g. a duplicate submission id, or a working dir over Ray's upload size limit.
        _err(f"the job server at {addr} refused the job: {str(exc).splitlines()[0][:500]}")
        return 2
    except KeyboardInterrupt:
        _err(f"interrupted while submitting; check whether job {submission_id} exists: ray job list --address {addr}")
        return 130

    stop = _stop_hint(submission_id, addr, token_source)
    _note(f"job {submission_id}: {entrypoint}")
    _note(f"dashboard: {addr}/#/jobs/{submission_id}")
    if not follow:
        _note(f"submitted; follow with: ray job logs {shlex.quote(submission_id)} --follow --address {addr}")
        _note(f"stop with:   {stop}")
        return 0
    try:
        info = _follow_to_end(client, submission_id)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        _note(f"stopped following; job {submission_id} keeps running on the cluster. Stop it with:\n    {stop}")
        return 130
    return _report_outcome(info, submission_id, addr)


def _follow_to_end(client: Any, submission_id: str) -> Any:
    """Stream the logs, then wait for a terminal status; returns the final job details."""
    try:
        asyncio.run(_follow_logs(client, submission_id))
    except (RuntimeError, OSError) as exc:
        # The log stream can drop (proxy timeouts, tunnel hiccups); the job is unaffected.
        _note(f"log stream ended early ({str(exc).splitlines()[0][:200]}); waiting for the job's status")
    info = _wait_terminal(client, submission_id, timeout_s=60.0)
    while not info.status.is_terminal():  # the stream closed early: keep polling quietly
        time.sleep(5.0)
        info = client.get_job_info(submission_id)
    return info


def _report_outcome(info: Any, submission_id: str, addr: str) -> int:
    """Print the job's final status; 0 if it SUCCEEDED, else 1."""
    status = str(getattr(info.status, "value", info.status))
    took = ""
    if info.start_time and info.end_time:
        took = f" in {(info.end_time - info.start_time) / 1000:.0f} s"
    if status == "SUCCEEDED":
        _note(f"job {submission_id} SUCCEEDED{took}")
        return 0
    message = (info.message or "").split(", last available logs")[0]  # the logs were just shown
    message = " ".join(message.split())[:1000]
    _err(f"job {submission_id} {status}{took}: {message or 'no status message'}")
    logs = f"ray job logs {shlex.quote(submission_id)} --address {addr}"
    if info.driver_exit_code is not None:
        _note(f"driver exit code {info.driver_exit_code}; full logs: {logs}")
    return 1
