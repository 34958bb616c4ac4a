"""Serve the MLflow UI on a work directory's store until Ctrl-C or SIGTERM (``autocnn ui``)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import TextIO

from autocnn._system import processes
from autocnn.core.storage import DEFAULT_WORKDIR, mask_secrets, sqlite_path
from autocnn.errors import ConfigError
from autocnn.tracking._resolve import (
    MLFLOW_DB,
    default_artifact_root,
    is_server_uri,
    resolve_tracking_uri,
)

DEFAULT_PORT = 5000
DEFAULT_HOST = "127.0.0.1"
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 10.0
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def ui_command(
    *,
    workdir: str | Path = DEFAULT_WORKDIR,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    tracking_uri: str | None = None,
    ready_timeout: float = READY_TIMEOUT_S,
    out: TextIO | None = None,
) -> int:
    """Serve the MLflow UI on the work directory's store; return the exit code once it stops.

    The store is ``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else ``<workdir>/mlflow.db``.
    ``mlflow server`` runs with one worker, bound to ``host`` (loopback by default); the URL is
    printed once the UI answers. Ctrl-C or SIGTERM stops the server and all its processes; that is
    a normal end (exit code 0). ConfigError if the store does not exist or the port is taken.

    Example:
        >>> ui_command(workdir="autocnn_runs", port=5000)  # doctest: +SKIP
        MLflow UI of autocnn_runs/mlflow.db: http://127.0.0.1:5000  (Ctrl-C to stop)

    """
    out = out or sys.stdout
    if not 1 <= port <= 65535:
        raise ConfigError(f"The 'port' parameter must be between 1 and 65535; got {port} instead.")
    uri = resolve_tracking_uri(tracking_uri, workdir=workdir)
    if is_server_uri(uri):
        print(f"{mask_secrets(uri)} is an MLflow tracking server already: open it in a browser.", file=out)
        return 0
    database = sqlite_path(uri)
    if database is not None and not database.is_file():
        raise ConfigError(
            f"no MLflow records in {workdir}: {database} does not exist. Run `autocnn search` first "
            f"(it tracks into {Path(workdir) / MLFLOW_DB} unless told not to), or choose the "
            "store with `workdir` or `tracking_uri`"
        )
    if host not in _LOOPBACK:
        print(
            f"warning: the UI will listen on {host} without a password: anyone who can reach this "
            "machine can read the runs (the default, 127.0.0.1, serves only this machine)",
            file=sys.stderr,
            flush=True,
        )
    _check_port_free(host, port)
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
        "--uvicorn-opts",
        "--no-access-log",
    ]
    artifacts = default_artifact_root(uri, workdir=workdir)
    if artifacts is not None:
        command += ["--artifacts-destination", artifacts.as_uri()]
    url = f"http://{_display_host(host)}:{port}"
    env = dict(os.environ)
    # the store goes by environment, so that a password in its URI does not show in `ps`
    env["MLFLOW_BACKEND_STORE_URI"] = env["MLFLOW_REGISTRY_STORE_URI"] = uri
    # background job workers (7 processes) serve GenAI features only; they slow the start down
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    previous = _install_sigterm_handler()
    process: subprocess.Popen[bytes] | None = None
    try:
        process = subprocess.Popen(command, start_new_session=True, env=env)
        if not _wait_until_ready(process, url, timeout=ready_timeout):
            if process.poll() is None:
                print(
                    f"error: the MLflow UI did not answer at {url} within {ready_timeout:g} s",
                    file=sys.stderr,
                )
                return 1
            print(
                f"error: the MLflow server stopped at start (exit code {process.returncode})", file=sys.stderr
            )
            return process.returncode or 1
        where = database if database is not None else mask_secrets(uri)
        print(f"MLflow UI of {where}: {url}  (Ctrl-C to stop)", file=out, flush=True)
        for name, link in study_links(url):
            print(f"  study {name}: {link}", file=out, flush=True)
        code = process.wait()
        print(f"the MLflow server stopped on its own (exit code {code})", file=sys.stderr if code else out)
        return code
    except KeyboardInterrupt:
        print("stopping the MLflow UI", file=out, flush=True)
        return 0
    finally:
        if process is not None:
            stop_process_group(process)
        _restore_sigterm_handler(previous)


def study_links(url: str, *, limit: int = 20) -> list[tuple[str, str]]:
    """Return ``(experiment name, runs page URL)`` for the experiments a running server shows.

    The links open the runs table directly (MLflow 3's UI otherwise opens on its GenAI overview).
    The empty ``Default`` experiment is left out; a failure to list gives no links.
    """
    request = urllib.request.Request(
        f"{url}/api/2.0/mlflow/experiments/search?max_results={limit + 1}",
        headers={"Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            experiments = json.loads(response.read().decode("utf-8")).get("experiments", [])
    except (OSError, ValueError):
        return []
    links = []
    for experiment in experiments:
        name, number = str(experiment.get("name", "")), str(experiment.get("experiment_id", ""))
        if not number or (name == "Default" and number == "0"):
            continue
        links.append((name, f"{url}/#/experiments/{number}/runs?workflowType=machine_learning"))
    return links[:limit]


def stop_process_group(process: subprocess.Popen[bytes], *, timeout: float = STOP_TIMEOUT_S) -> None:
    """Stop ``process`` and every process of its group: SIGTERM, then SIGKILL after ``timeout`` s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and group_members(process.pid):
            process.poll()  # reap the leader as soon as it exits
            time.sleep(0.1)
        if not group_members(process.pid):
            break
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass


def group_members(pgid: int) -> list[int]:
    """Return the live (not zombie) processes of process group ``pgid``."""
    if not Path("/proc").is_dir():  # no procfs: ask the kernel whether the group has any member
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    return [entry.pid for entry in processes() if entry.group == pgid and entry.state != "Z"]


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigError(
                f"cannot serve the MLflow UI on {host}:{port} ({error.strerror or error}); "
                "choose another `port`"
            ) from None


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _install_sigterm_handler() -> object:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _on_sigterm)


def _restore_sigterm_handler(previous: object) -> None:
    if previous is None or threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]
