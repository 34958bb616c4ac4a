"""Serve optuna-dashboard on a work directory's studies until Ctrl-C or SIGTERM (``autocnn dashboard``)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import TextIO

from autocnn._dashboard_server import STORAGE_VARIABLE
from autocnn._serve import check_port_free, display_host, serve_until_stopped, warn_if_exposed
from autocnn.core.storage import DEFAULT_WORKDIR, STUDIES_FILE, mask_secrets, open_storage, sqlite_path
from autocnn.errors import ConfigError, MissingExtraError

DEFAULT_PORT = 8080
READY_TIMEOUT_S = 60.0


def dashboard_command(
    *,
    study: str | None = None,
    storage: str | None = None,
    workdir: str | Path = DEFAULT_WORKDIR,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    ready_timeout: float = READY_TIMEOUT_S,
    out: TextIO | None = None,
) -> int:
    """Serve optuna-dashboard on the studies of ``storage`` (default ``<workdir>/studies.db``).

    Prints the dashboard's address and a link to each study (only ``study`` if given) once it
    answers; Ctrl-C or SIGTERM stops it, a normal end (exit code 0). MissingExtraError without
    optuna-dashboard; ConfigError for a missing storage, an unknown study or a taken port.

    Example:
        >>> dashboard_command(workdir="autocnn_runs")  # doctest: +SKIP
        optuna-dashboard of autocnn_runs/studies.db: http://127.0.0.1:8080/dashboard  (Ctrl-C to stop)

    """
    out = out or sys.stdout
    if importlib.util.find_spec("optuna_dashboard") is None:
        raise MissingExtraError("optuna-dashboard is not installed; run: pip install 'autocnn[dashboard]'")
    if not 1 <= port <= 65535:
        raise ConfigError(f"The 'port' parameter must be between 1 and 65535; got {port} instead.")
    url, names = _studies(storage, workdir=Path(workdir))
    if study is not None and study not in names:
        known = ", ".join(sorted(names)) or "none"
        raise ConfigError(f"no study named {study!r} in {mask_secrets(url)}; studies there: {known}")
    warn_if_exposed(host, what="optuna-dashboard")
    check_port_free(host, port, what="optuna-dashboard")
    address = f"http://{display_host(host)}:{port}"
    shown = {name: number for name, number in names.items() if study is None or name == study}

    def say_where() -> None:
        where = sqlite_path(url) or mask_secrets(url)
        print(f"optuna-dashboard of {where}: {address}/dashboard  (Ctrl-C to stop)", file=out, flush=True)
        for name, number in sorted(shown.items()):
            print(f"  study {name}: {address}/dashboard/studies/{number}", file=out, flush=True)

    return serve_until_stopped(
        [sys.executable, "-m", "autocnn._dashboard_server", host, str(port)],
        env={**os.environ, STORAGE_VARIABLE: url},
        probe_url=f"{address}/api/studies",
        what="optuna-dashboard",
        ready_timeout=ready_timeout,
        on_ready=say_where,
        out=out,
    )


def _studies(storage: str | None, *, workdir: Path) -> tuple[str, dict[str, int]]:
    """Return the storage URL and its studies' names with their ids (the dashboard's page numbers)."""
    from autocnn.core.storage import resolve_storage_url

    if storage is None or storage == "":
        database = workdir / STUDIES_FILE
        if not database.is_file():
            raise ConfigError(
                f"no studies in {workdir}: {database} does not exist. Run `autocnn search` first, "
                "or choose the studies with `workdir` or `storage`"
            )
    url = resolve_storage_url(storage, workdir=workdir)
    opened = open_storage(url, heartbeat=False)
    names = [summary.study_name for summary in opened.get_all_studies()]
    return url, {name: int(opened.get_study_id_from_name(name)) for name in names}
