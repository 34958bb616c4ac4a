"""Shared set-up of the tracking tests: tiny spaces, a pre-made MLflow store, one tracked search."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PASSWORD = "s3cret"
SECRET_COMMAND = (
    f"autocnn search --storage postgresql://u:{PASSWORD}@h/db --tracking-uri http://me:{PASSWORD}@x"
)

# 1 conv block of 4-8 filters, 2 epochs; two seeds first: one too deep for 8x8 digits (rejected,
# never trained) and one whose loss explodes (failed); then random trials.
TRACKED_SPACE = """
name: tracked
model:
  blocks:
    count: 1
    filters: [4, 8]
    kernel_size: 3
    pooling: [max, none]
  head:
    pooling: flatten
    dense_layers: 0
training:
  optimizer: adam
  learning_rate: [1.0e-2, 2.0e-2]
  batch_size: 128
  epochs: 2
search:
  algorithm: random
  pruner: none
  max_trials: 3
seeds:
  - name: too_deep
    model: {blocks: [{filters: 4}, {filters: 4}, {filters: 4}, {filters: 4}]}
  - name: exploding
    model: {blocks: [{filters: 4, pooling: none}]}
    training: {optimizer: sgd, learning_rate: 10.0, l2: 1.0, batch_size: 32, epochs: 2}
"""

SMALL_SPACE = """
name: small
model:
  blocks: {count: 1, filters: [4, 8], kernel_size: 3, pooling: max}
  head: {pooling: flatten, dense_layers: 0}
training: {optimizer: adam, learning_rate: 1.0e-2, batch_size: 128, epochs: 2}
search: {algorithm: random, pruner: none, max_trials: 2}
"""


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow SQLite store, made once: creating its tables takes ~6 s; copying it, nothing."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


def prepare_workdir(workdir: Path, template: Path) -> Path:
    """Put a copy of the empty store where the default tracker looks for it."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, workdir / "mlflow.db")
    return workdir


@pytest.fixture
def workdir(tmp_path: Path, mlflow_template: Path) -> Path:
    return prepare_workdir(tmp_path / "runs", mlflow_template)


@pytest.fixture
def small_space(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_SPACE)
    return path


@dataclass
class TrackedSearch:
    """One finished, tracked search (with rejected, failed and complete trials and a registered model)."""

    workdir: Path
    cwd: Path
    study: Any
    tracker: Any
    client: Any
    experiment_id: str
    tracking_uri: str

    def runs(self) -> list[Any]:
        return list(self.client.search_runs([self.experiment_id], order_by=["attributes.start_time ASC"]))

    def parent(self) -> Any:
        return self.client.get_run(self.tracker.parent_run_id)

    def trial_runs(self) -> dict[int, Any]:
        return {
            int(run.data.tags["trial"]): run for run in self.runs() if run.data.tags.get("kind") == "trial"
        }


@pytest.fixture(scope="session")
def tracked(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> TrackedSearch:
    """Run one tracked search from an empty folder (to see that nothing lands in the current folder)."""
    from mlflow import MlflowClient

    from autocnn.core.session import search
    from autocnn.tracking import make_tracker

    root = tmp_path_factory.mktemp("tracked")
    workdir = prepare_workdir(root / "runs", mlflow_template)
    space = root / "tracked.yaml"
    space.write_text(TRACKED_SPACE)
    cwd = root / "cwd"
    cwd.mkdir()
    previous = Path.cwd()
    saved_env = os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.chdir(cwd)
    try:
        tracker = make_tracker(workdir=workdir, tracking_uri=None, enabled=True, register_name="digits-cnn")
        study = search(
            space,
            dataset="digits",
            workdir=workdir,
            study="tracked_digits",
            retrain=True,
            callbacks=[tracker],
            command_line=SECRET_COMMAND,
        )
    finally:
        os.chdir(previous)
        if saved_env is not None:
            os.environ["MLFLOW_TRACKING_URI"] = saved_env
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("tracked_digits")
    assert experiment is not None, "the study's experiment was not created"
    return TrackedSearch(
        workdir=workdir,
        cwd=cwd,
        study=study,
        tracker=tracker,
        client=client,
        experiment_id=experiment.experiment_id,
        tracking_uri=uri,
    )
