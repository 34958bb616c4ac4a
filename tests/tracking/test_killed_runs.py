"""MLflow runs a killed search left RUNNING are closed when the study resumes."""

from __future__ import annotations

import subprocess

from mlflow import MlflowClient

from autocnn.core.study import load_study
from tests.search.test_cli_search import SLOW_SPACE, autocnn, start, wait_for_running_trial, wait_for_trials


def test_runs_left_running_by_kill_9_are_closed_as_killed_on_resume(tmp_path, workdir):
    space = tmp_path / "slow.yaml"
    space.write_text(SLOW_SPACE)
    command = autocnn(
        "search", "--dataset", "digits", "--space", str(space), "--no-retrain", workdir=workdir, tracking=True
    )
    process = start(command)
    wait_for_trials(workdir, "slow_digits", 1, process=process)
    lost = wait_for_running_trial(workdir, "slow_digits")
    process.kill()
    process.wait(timeout=30)
    client = MlflowClient(tracking_uri=f"sqlite:///{workdir / 'mlflow.db'}")
    (experiment,) = [e for e in client.search_experiments() if e.name == "slow_digits"]

    def running() -> dict[str, str]:
        runs = client.search_runs([experiment.experiment_id], filter_string="attributes.status = 'RUNNING'")
        return {run.info.run_id: run.info.run_name for run in runs}

    left = running()
    assert sorted(left.values())[-1] == f"trial {lost}" and any(
        name.startswith("search ") for name in left.values()
    )
    finished = len([r for r in load_study("slow_digits", workdir=workdir).trials() if r.status == "complete"])
    resumed = subprocess.run(
        [*command, "--max-trials", str(finished + 2)],
        capture_output=True,
        text=True,
        cwd=workdir.parent,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert running() == {}
    for run_id in left:
        run = client.get_run(run_id)
        assert run.info.status == "KILLED"
        assert (
            run.data.tags["reason"].startswith("its process (")
            and "ended while it ran" in run.data.tags["reason"]
        )
