"""Trials run by worker processes reach MLflow like in-process ones: a parent run per worker, a run per trial."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.tracking.conftest import SMALL_SPACE, prepare_workdir


def autocnn(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        [sys.executable, "-m", "autocnn", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def test_workers_trials_and_a_joining_worker_are_tracked(tmp_path: Path, mlflow_template: Path):
    from mlflow import MlflowClient

    from autocnn.core.study import load_study

    workdir = prepare_workdir(tmp_path / "runs", mlflow_template)
    space = tmp_path / "small.yaml"
    space.write_text(SMALL_SPACE)
    searched = autocnn(
        "search",
        "--space",
        str(space),
        "--dataset",
        "digits",
        "--workers",
        "2",
        "--max-trials",
        "4",
        "--no-retrain",
        "--no-report",
        "-q",
        "--workdir",
        str(workdir),
        cwd=tmp_path,
    )
    assert searched.returncode == 0, searched.stderr[-3000:]
    joined = autocnn(
        "worker", "--study", "small_digits", "--max-trials", "5", "--workdir", str(workdir), cwd=tmp_path
    )
    assert joined.returncode == 0, joined.stderr[-3000:]

    study = load_study("small_digits", workdir=workdir)
    trained = {record.number: record for record in study.trials() if record.status == "complete"}
    assert len(trained) == 5
    client = MlflowClient(tracking_uri=f"sqlite:///{workdir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("small_digits")
    runs = client.search_runs([experiment.experiment_id])
    by_kind: dict[str, list] = {}
    for run in runs:
        by_kind.setdefault(run.data.tags.get("kind", ""), []).append(run)
    assert len(by_kind["search"]) == 1
    workers = {run.info.run_id: run for run in by_kind["worker"]}
    assert len(workers) == 3  # two started by --workers 2, one joined from another shell
    assert all(run.info.run_name.startswith("worker ") for run in workers.values())
    trial_runs = {int(run.data.tags["trial"]): run for run in by_kind["trial"]}
    assert sorted(trial_runs) == sorted(trained)
    for number, run in trial_runs.items():
        assert run.data.tags["mlflow.parentRunId"] in workers
        assert run.data.tags["state"] == "complete"
        assert run.data.params["block1.filters"] == str(trained[number].config.model.blocks[0].filters)
        history = client.get_metric_history(run.info.run_id, "val_accuracy")
        assert [point.step for point in history] == [1, 2]
        assert history[-1].value == trained[number].metrics["val_accuracy"]
    joining_parent = trial_runs[max(trial_runs)].data.tags["mlflow.parentRunId"]
    assert workers[joining_parent].info.status == "FINISHED"
