"""Choosing the tracker and its store; --no-tracking writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocnn.errors import ConfigError
from autocnn.tracking import (
    MLflowTracker,
    NoTracker,
    Tracker,
    default_artifact_root,
    make_tracker,
    resolve_tracking_uri,
)


def test_disabled_tracking_gives_a_tracker_that_records_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://example:5000")
    tracker = make_tracker(workdir=tmp_path, tracking_uri="sqlite:///x.db", enabled=False, register_name="m")
    assert isinstance(tracker, NoTracker) and isinstance(tracker, Tracker)
    assert tracker.location is None


def test_explicit_uri_wins_over_the_environment_which_wins_over_the_workdir(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    default = make_tracker(workdir=tmp_path / "runs", tracking_uri=None, enabled=True, register_name=None)
    assert isinstance(default, MLflowTracker)
    assert default.tracking_uri == f"sqlite:///{(tmp_path / 'runs' / 'mlflow.db').resolve()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    from_env = make_tracker(workdir=tmp_path, tracking_uri=None, enabled=True, register_name="cnn")
    assert isinstance(from_env, MLflowTracker)
    assert from_env.tracking_uri == "http://tracking.example:5000" and from_env.register_name == "cnn"
    explicit = make_tracker(
        workdir=tmp_path, tracking_uri="postgresql://u:pw@db/mlflow", enabled=True, register_name=None
    )
    assert isinstance(explicit, MLflowTracker)
    assert explicit.tracking_uri == "postgresql://u:pw@db/mlflow"
    assert explicit.location == "postgresql://u:***@db/mlflow"
    assert "pw" not in repr(explicit)


def test_a_db_path_is_an_sqlite_store_and_anything_else_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_tracking_uri("elsewhere/track.db", workdir="runs") == (
        f"sqlite:///{(tmp_path / 'elsewhere' / 'track.db').resolve()}"
    )
    with pytest.raises(ConfigError, match=r"`tracking_uri` 'nonsense' is neither a URI"):
        resolve_tracking_uri("nonsense", workdir="runs")
    with pytest.raises(ConfigError, match="`register_name` must be a model name"):
        make_tracker(workdir="runs", tracking_uri=None, enabled=True, register_name=" ")


def test_artifacts_stay_beside_the_store_or_in_the_workdir(tmp_path):
    workdir = tmp_path / "runs"
    assert (
        default_artifact_root(f"sqlite:///{tmp_path}/a/mlflow.db", workdir=workdir)
        == tmp_path / "a/mlartifacts"
    )
    assert default_artifact_root("postgresql://u@db/x", workdir=workdir) == workdir / "mlartifacts"
    assert default_artifact_root("http://server:5000", workdir=workdir) is None


def test_no_tracking_writes_no_mlflow_file(tmp_path, monkeypatch, small_space):
    from autocnn.core.session import search

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    workdir = tmp_path / "runs"
    tracker = make_tracker(workdir=workdir, tracking_uri=None, enabled=False, register_name="cnn")
    study = search(
        small_space, dataset="digits", workdir=workdir, max_trials=1, retrain=False, callbacks=[tracker]
    )
    assert [record.status for record in study.trials()] == ["complete"]
    written = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*"))
    assert not [name for name in written if "mlflow" in name or "mlruns" in name or "mlartifacts" in name], (
        written
    )
    assert list(cwd.iterdir()) == []
    assert (workdir / "studies.db").is_file()  # the search itself did run here
    assert not Path(workdir / "mlflow.db").exists()
