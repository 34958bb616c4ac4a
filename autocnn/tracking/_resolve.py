"""Choose the MLflow store: an explicit URI, else ``MLFLOW_TRACKING_URI``, else the work directory's."""

from __future__ import annotations

import os
from pathlib import Path

from autocnn.core.storage import sqlite_path
from autocnn.errors import ConfigError
from autocnn.tracking._base import NoTracker, Tracker

MLFLOW_DB = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"


def default_tracking_uri(workdir: str | Path) -> str:
    """Return the default MLflow store of a work directory: ``sqlite:///<workdir>/mlflow.db`` (absolute).

    Example:
        >>> default_tracking_uri("/runs")
        'sqlite:////runs/mlflow.db'

    """
    return f"sqlite:///{(Path(workdir) / MLFLOW_DB).resolve()}"


def default_artifact_root(tracking_uri: str, *, workdir: str | Path) -> Path | None:
    """Return where new experiments keep their artifacts, or None to let a tracking server decide.

    An SQLite store keeps them beside its database file (``<workdir>/mlartifacts`` for the default
    store); another database store in ``<workdir>/mlartifacts``, never in ``./mlruns``.
    """
    if is_server_uri(tracking_uri):
        return None
    database = sqlite_path(tracking_uri)
    folder = database.parent if database is not None else Path(workdir)
    return (folder / ARTIFACTS_DIR).resolve()


def resolve_tracking_uri(tracking_uri: str | None, *, workdir: str | Path) -> str:
    """Return ``tracking_uri`` if given, else ``$MLFLOW_TRACKING_URI``, else the work directory's store.

    A plain path to a ``.db`` file is accepted as an SQLite store.
    """
    chosen = tracking_uri or os.environ.get(TRACKING_URI_ENV) or ""
    if not chosen.strip():
        return default_tracking_uri(workdir)
    chosen = chosen.strip()
    if "://" in chosen or chosen.startswith("databricks"):
        return chosen
    path = Path(chosen)
    if path.suffix in (".db", ".sqlite", ".sqlite3"):
        return f"sqlite:///{path.resolve()}"
    raise ConfigError(
        f"`tracking_uri` {chosen!r} is neither a URI (sqlite:///path/mlflow.db, http://host:5000, "
        "postgresql://user@host/db) nor a file ending in .db"
    )


def is_server_uri(tracking_uri: str) -> bool:
    """Return whether ``tracking_uri`` names a tracking server (http, https, databricks)."""
    return tracking_uri.startswith(("http://", "https://", "databricks"))


def make_tracker(
    *,
    workdir: str | Path,
    tracking_uri: str | None = None,
    enabled: bool = True,
    register_name: str | None = None,
) -> Tracker:
    """Return the tracker a search should use.

    Disabled: a :class:`NoTracker` (nothing is written). Otherwise an :class:`MLflowTracker` on
    ``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else ``sqlite:///<workdir>/mlflow.db`` with
    artifacts in ``<workdir>/mlartifacts``. With ``register_name`` the retrained best model is
    registered in the Model Registry under that name.

    Example:
        >>> make_tracker(workdir="autocnn_runs", tracking_uri=None, enabled=False)
        NoTracker()

    """
    from autocnn.tracking._mlflow import MLflowTracker

    if not enabled:
        return NoTracker()
    if register_name is not None and not register_name.strip():
        raise ConfigError("`register_name` must be a model name such as 'digits-cnn'; got an empty name")
    return MLflowTracker(
        tracking_uri=resolve_tracking_uri(tracking_uri, workdir=workdir), register_name=register_name
    )
