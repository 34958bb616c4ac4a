"""Serve the MLflow UI on a work directory's store until Ctrl-C or SIGTERM (``autocnn ui``)."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import TextIO

from autocnn._serve import check_port_free, display_host, serve_until_stopped, warn_if_exposed
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
    warn_if_exposed(host, what="the MLflow UI")
    check_port_free(host, port, what="the MLflow UI")
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
    url = f"http://{display_host(host)}:{port}"
    env = dict(os.environ)
    # the store goes by environment, so that a password in its URI does not show in `ps`
    env["MLFLOW_BACKEND_STORE_URI"] = env["MLFLOW_REGISTRY_STORE_URI"] = uri
    # background job workers (7 processes) serve GenAI features only; they slow the start down
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    where = database if database is not None else mask_secrets(uri)

    def say_where() -> None:
        print(f"MLflow UI of {where}: {url}  (Ctrl-C to stop)", file=out, flush=True)
        for name, link in study_links(url):
            print(f"  study {name}: {link}", file=out, flush=True)

    return serve_until_stopped(
        command,
        env=env,
        probe_url=f"{url}/health",
        what="the MLflow UI",
        ready_timeout=ready_timeout,
        on_ready=say_where,
        out=out,
    )


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
