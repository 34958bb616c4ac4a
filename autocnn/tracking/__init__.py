"""Trackers record a search (runs, trials, metrics, the final model); MLflow, or nothing.

MLflow is imported only when a tracker starts recording, so importing this package is cheap.

Example:
    >>> from autocnn.tracking import make_tracker
    >>> tracker = make_tracker(workdir="autocnn_runs", tracking_uri=None, enabled=True)  # doctest: +SKIP
    >>> autocnn.search("quick", callbacks=[tracker])  # doctest: +SKIP

"""

from __future__ import annotations

from autocnn.tracking._base import NoTracker, Tracker
from autocnn.tracking._mlflow import MLflowTracker, RegisteredModel
from autocnn.tracking._resolve import (
    ARTIFACTS_DIR,
    MLFLOW_DB,
    default_artifact_root,
    default_tracking_uri,
    make_tracker,
    resolve_tracking_uri,
)
from autocnn.tracking._ui import DEFAULT_HOST, DEFAULT_PORT, ui_command

__all__ = [
    "ARTIFACTS_DIR",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MLFLOW_DB",
    "MLflowTracker",
    "NoTracker",
    "RegisteredModel",
    "Tracker",
    "default_artifact_root",
    "default_tracking_uri",
    "make_tracker",
    "resolve_tracking_uri",
    "ui_command",
]
